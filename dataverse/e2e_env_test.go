package dataverse_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// The end-to-end tests run the client against a real emulator over HTTPS: the emulator reads the
// protocol with its own parser and writer, so nothing here shares a codec with the client.

// e2eEnv is one emulator with an azidentity credential and a dataverse.Client for its seeded app.
type e2eEnv struct {
	emu    *emulator.Emulator
	cred   azcore.TokenCredential
	client *dataverse.Client
	// wire sees every request the client's pipeline sends to the Web API (not token requests).
	wire *wireLog
	// waits records the client's waits between retries, which it does not take (unless the
	// setup asked for real waits); wire adds each request to its sequence as it is answered.
	waits *sleepLog
}

// sleepLog replaces a client's wait between retries: it records each wait, in order with the
// requests the wire log sees, and returns at once (with the context's error when it is done).
type sleepLog struct {
	mu     sync.Mutex
	waits  []time.Duration
	events []string
}

func (s *sleepLog) sleep(ctx context.Context, d time.Duration) error {
	s.add("wait "+d.String(), d)
	return ctx.Err()
}

func (s *sleepLog) add(event string, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if wait >= 0 {
		s.waits = append(s.waits, wait)
	}
	s.events = append(s.events, event)
}

// durations returns the waits so far.
func (s *sleepLog) durations() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// take returns the waits and answered requests ("GET WhoAmI 429") so far, in order, and forgets
// them.
func (s *sleepLog) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.events
	s.events, s.waits = nil, nil
	return e
}

// e2eSetup changes how newE2E builds its environment.
type e2eSetup struct {
	emulator *emulator.Options
	// client adjusts the client options before the client is made.
	client func(*dataverse.ClientOptions)
	// realWaits makes the client really wait between retries, for an emulator that checks
	// whether the client came back before Retry-After elapsed.
	realWaits bool
}

// newE2E starts an emulator for tb (closed at cleanup) and returns a credential and a client for the
// seeded application user, which holds the System Administrator role.
func newE2E(tb testing.TB, setup *e2eSetup) *e2eEnv {
	tb.Helper()
	if setup == nil {
		setup = &e2eSetup{}
	}
	var emuOpts emulator.Options
	if setup.emulator != nil {
		emuOpts = *setup.emulator
	}
	if emuOpts.Logger == nil {
		// A failed test shows the emulator's log (a 500's cause above all).
		emuOpts.Logger = emulatortest.Logger(tb)
	}
	emu, err := emulator.New(&emuOpts)
	if err != nil {
		tb.Fatalf("start emulator: %v", err)
	}
	tb.Cleanup(func() {
		// Closing the clients' idle connections first lets Close return at once; otherwise the
		// server's graceful shutdown waits about a second for the kept-alive HTTP/2 connections.
		emu.HTTPClient().CloseIdleConnections()
		emu.Close()
	})
	env := &e2eEnv{emu: emu, cred: newSecretCredential(tb, emu), wire: &wireLog{next: emu.HTTPClient()}, waits: &sleepLog{}}
	env.wire.observe = func(r wireRequest) { env.waits.add(fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status), -1) }
	opts := &dataverse.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: env.wire}}
	if setup.client != nil {
		setup.client(opts)
	}
	env.client = newClient(tb, emu, env.cred, opts)
	if !setup.realWaits {
		dataverse.SetRetrySleep(env.client, env.waits.sleep)
	}
	return env
}

// newSecretCredential is the seeded app's client-secret credential, pointed at the emulator as
// an application would point it at Entra ID.
func newSecretCredential(tb testing.TB, emu *emulator.Emulator) azcore.TokenCredential {
	tb.Helper()
	creds := emu.Credentials()
	return appSecretCredential(tb, emu, creds.TenantID, creds.ClientID, creds.ClientSecret)
}

// appSecretCredential is the client-secret credential of the app clientID in tenantID, pointed
// at emu.
func appSecretCredential(tb testing.TB, emu *emulator.Emulator, tenantID, clientID, secret string) azcore.TokenCredential {
	tb.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret,
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions: azcore.ClientOptions{
				Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: emu.AuthorityHost()},
				Transport: emu.HTTPClient(),
			},
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		tb.Fatalf("credential: %v", err)
	}
	return cred
}

// newClient is a client for emu with cred; a nil opts sends through emu.HTTPClient().
func newClient(tb testing.TB, emu *emulator.Emulator, cred azcore.TokenCredential, opts *dataverse.ClientOptions) *dataverse.Client {
	tb.Helper()
	if opts == nil {
		opts = &dataverse.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: emu.HTTPClient()}}
	}
	c, err := dataverse.NewClient(emu.OrgURL(), cred, opts)
	if err != nil {
		tb.Fatalf("NewClient: %v", err)
	}
	return c
}

// token returns an access token of env's credential for the emulator's Web API.
func (env *e2eEnv) token(tb testing.TB) string {
	tb.Helper()
	tok, err := env.cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{env.emu.OrgURL() + "/.default"}})
	if err != nil {
		tb.Fatalf("GetToken: %v", err)
	}
	return tok.Token
}

// wireRequest is what wireLog keeps of one request.
type wireRequest struct {
	Method string
	// Path is the URL path below /api/data/v9.2/, e.g. "$batch" or "contacts(…)".
	Path   string
	Query  string
	Header http.Header
	// Status is the response status, or 0 when the transport failed.
	Status int
	// Operations is the number of operations in a $batch request body.
	Operations int
}

// wireLog is a policy.Transporter that records the Web API requests passing through it.
type wireLog struct {
	next policy.Transporter
	// observe, when set, sees each recorded request as its response arrives.
	observe func(wireRequest)
	mu      sync.Mutex
	reqs    []wireRequest
}

// Do implements policy.Transporter.
func (w *wireLog) Do(req *http.Request) (*http.Response, error) {
	ops := 0
	if strings.HasSuffix(req.URL.Path, "/$batch") && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		// Every operation is an application/http part with this header; change sets are not.
		ops = bytes.Count(body, []byte("\r\nContent-Transfer-Encoding: binary\r\n"))
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := w.next.Do(req)
	if _, rest, ok := strings.Cut(req.URL.Path, "/api/data/v9.2/"); ok {
		r := wireRequest{Method: req.Method, Path: rest, Query: req.URL.RawQuery, Header: req.Header.Clone(), Operations: ops}
		if resp != nil {
			r.Status = resp.StatusCode
		}
		w.mu.Lock()
		w.reqs = append(w.reqs, r)
		w.mu.Unlock()
		if w.observe != nil {
			w.observe(r)
		}
	}
	return resp, err
}

// take returns the requests recorded since the last take and forgets them.
func (w *wireLog) take() []wireRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.reqs
	w.reqs = nil
	return r
}

// count returns how many of the requests recorded since the last take have method and path.
func (w *wireLog) count(method, path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, r := range w.reqs {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}
