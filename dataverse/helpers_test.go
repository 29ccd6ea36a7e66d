package dataverse

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"
)

// testBasePath is where the fake Web API is mounted: a non-root path, so
// the tests catch any code that drops the org URL's path.
const testBasePath = "/org1/api/data/v9.2/"

// fakeCredential hands out static tokens: tokens[i] for the i-th call, the
// last one repeated.
type fakeCredential struct {
	mu     sync.Mutex
	tokens []string
	calls  int
	scopes [][]string
	err    error
}

func (f *fakeCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.scopes = append(f.scopes, append([]string(nil), o.Scopes...))
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	tok := "static-token"
	if len(f.tokens) > 0 {
		tok = f.tokens[min(f.calls, len(f.tokens))-1]
	}
	return azcore.AccessToken{Token: tok, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (f *fakeCredential) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// captured is one request as the server saw it.
type captured struct {
	Method   string
	Path     string // raw (escaped) path
	RawQuery string
	Header   http.Header
	Body     []byte
}

// fakeAPI is a TLS test server with the Web API mounted at testBasePath.
type fakeAPI struct {
	t      testing.TB
	srv    *httptest.Server
	cred   *fakeCredential
	client *Client

	mu       sync.Mutex
	requests []captured
	handler  http.HandlerFunc
	newConns atomic.Int32 // connections opened to the server
	// waits records the client's waits between retries, which it does not
	// take (see sleepLog).
	waits *sleepLog
}

// sleepLog replaces a client's wait between retries: it records each wait,
// in order with the events a test adds, and returns at once (with the
// context's error when the context is done, as the real wait does).
type sleepLog struct {
	mu     sync.Mutex
	waits  []time.Duration
	events []string
}

func (s *sleepLog) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	s.events = append(s.events, "wait "+d.String())
	return ctx.Err()
}

// event records something that happened, e.g. a request reaching the server.
func (s *sleepLog) event(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

// durations returns the waits so far.
func (s *sleepLog) durations() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// sequence returns the waits and events so far, in order.
func (s *sleepLog) sequence() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.events...)
}

// newFakeAPI starts a server that answers with handler and returns a
// client for it. The client's waits between retries are recorded in
// f.waits instead of taken, so tests stay fast and can check each wait.
func newFakeAPI(t testing.TB, handler http.HandlerFunc, opts *ClientOptions) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, handler: handler, cred: &fakeCredential{}, waits: &sleepLog{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, captured{
			Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Header: r.Header.Clone(), Body: body,
		})
		f.mu.Unlock()
		if !strings.HasPrefix(r.URL.Path, testBasePath) {
			t.Errorf("request outside the Web API base: %s %s", r.Method, r.URL)
			http.NotFound(w, r)
			return
		}
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		f.handler(w, r)
	})
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.newConns.Add(1)
		}
	}
	// Quiet "TLS handshake error … EOF" lines from connections the client
	// pool closes before use.
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	if opts == nil {
		opts = &ClientOptions{}
	}
	o := *opts
	o.Transport = f.srv.Client()
	c, err := NewClient(f.srv.URL+"/org1", f.cred, &o)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	c.retry.sleep = f.waits.sleep
	c.retry.jitter = noJitter
	f.client = c
	return f
}

// orgURL is the org URL the client was made with.
func (f *fakeAPI) orgURL() string { return f.srv.URL + "/org1" }

// base is the Web API base URL.
func (f *fakeAPI) base() string { return f.srv.URL + testBasePath }

func (f *fakeAPI) reqs() []captured {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]captured(nil), f.requests...)
}

// only returns the single request the server saw, failing otherwise.
func (f *fakeAPI) only() captured {
	f.t.Helper()
	rs := f.reqs()
	if len(rs) != 1 {
		f.t.Fatalf("server saw %d requests, want 1", len(rs))
	}
	return rs[0]
}

// writeJSON writes a JSON response with the Web API's content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	if s, ok := v.(string); ok {
		_, _ = io.WriteString(w, s)
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes a Dataverse error envelope.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message}})
}

var (
	idA = uuid.MustParse("7eb682f1-ca75-e511-80d4-00155d2a68d1")
	idB = uuid.MustParse("00000000-0000-0000-0000-000000000002")
)

// noJitter makes the waits of a fake API's client exact; TestResumeJitter checks the real one.
func noJitter(time.Duration) time.Duration { return 0 }

// abortResponse ends a handler whose client has gone without writing a
// response: the connection is cut. A handler that merely returned would send
// 200 with an empty body, and net/http's client can still read that answer
// after it cancelled the request (its TLS close_notify reaches the server,
// whose handler returns, before the client closes the socket), which on a
// loaded machine turned a timed-out try into a 200 the client decoded.
func abortResponse() {
	panic(http.ErrAbortHandler)
}
