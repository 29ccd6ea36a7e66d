package dataverse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// leanClient is a fake API answering every contact GET with handler (nil:
// 200) and a Client counting its lean first tries.
func leanClient(t *testing.T, handler http.HandlerFunc, opts *ClientOptions) (*fakeAPI, *atomic.Int32) {
	t.Helper()
	if handler == nil {
		handler = func(w http.ResponseWriter, _ *http.Request) { okContact(w) }
	}
	f := newFakeAPI(t, handler, opts)
	var tries atomic.Int32
	f.client.leanHook = func(*http.Request) { tries.Add(1) }
	return f, &tries
}

func retrieveContact(ctx context.Context, c *Client) error {
	var got contact
	return c.Retrieve(ctx, "contacts", idA, &got, &RetrieveOptions{Select: []string{"fullname"}})
}

// TestLeanFirstTryOffWhileAzcoreLogs: with a listener for request,
// response or retry-policy events set before NewClient, every try of
// every GET runs in the pipeline and is logged; with none (or one for
// other events only) the second GET takes the lean first try. Not
// parallel: azcore's listener is process-wide.
func TestLeanFirstTryOffWhileAzcoreLogs(t *testing.T) {
	t.Cleanup(func() {
		azlog.SetListener(nil)
		azlog.SetEvents()
	})
	for _, tc := range []struct {
		name     string
		listener bool
		events   []azlog.Event // nil: all
		lean     bool
	}{
		{name: "no listener", lean: true},
		{name: "all events", listener: true},
		{name: "requests", listener: true, events: []azlog.Event{azlog.EventRequest}},
		{name: "responses", listener: true, events: []azlog.Event{azlog.EventResponse}},
		{name: "retry policy", listener: true, events: []azlog.Event{azlog.EventRetryPolicy}},
		{name: "long-running operations only", listener: true, events: []azlog.Event{azlog.EventLRO}, lean: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			lines := map[azlog.Event][]string{}
			azlog.SetListener(nil)
			if tc.listener {
				azlog.SetListener(func(ev azlog.Event, msg string) {
					if strings.Contains(msg, "logging-probe.invalid") {
						return
					}
					mu.Lock()
					lines[ev] = append(lines[ev], msg)
					mu.Unlock()
				})
			}
			azlog.SetEvents(tc.events...)
			var n atomic.Int32
			f, tries := leanClient(t, func(w http.ResponseWriter, _ *http.Request) {
				if n.Add(1) == 2 { // the second call's first try
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusServiceUnavailable)
					return
				}
				okContact(w)
			}, nil)
			if got := f.client.lean != nil; got != tc.lean {
				t.Fatalf("lean first try allowed: %t, want %t", got, tc.lean)
			}
			for i := range 2 {
				if err := retrieveContact(t.Context(), f.client); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			if want := map[bool]int32{true: 1, false: 0}[tc.lean]; tries.Load() != want {
				t.Errorf("lean first tries: %d, want %d", tries.Load(), want)
			}
			if len(f.reqs()) != 3 {
				t.Errorf("server saw %d requests, want 3 (a call, then a 503 and its retry)", len(f.reqs()))
			}
			mu.Lock()
			defer mu.Unlock()
			wants := func(ev azlog.Event) bool {
				return tc.listener && (tc.events == nil || slices.Contains(tc.events, ev))
			}
			// Every try of both calls is in the log of each event wanted.
			for ev, marker := range map[azlog.Event]string{
				azlog.EventRetryPolicy: "=====> Try=",
				azlog.EventRequest:     "==> OUTGOING REQUEST",
				azlog.EventResponse:    "==> REQUEST/RESPONSE",
			} {
				got := 0
				for _, l := range lines[ev] {
					if strings.Contains(l, marker) {
						got++
					}
				}
				want := 0
				if wants(ev) {
					want = 3
				}
				if got != want {
					t.Errorf("%s: %d lines with %q, want %d: %q", ev, got, marker, want, lines[ev])
				}
			}
		})
	}
}

// TestLeanFirstTryNotAllowed: caller policies, a tracer or a ShouldRetry of
// the caller keep every try in the pipeline, as do the context values
// azcore's policies read; those still work.
func TestLeanFirstTryNotAllowed(t *testing.T) {
	t.Parallel()
	noop := policyFunc(func(req *policy.Request) (*http.Response, error) { return req.Next() })
	rec := &spanRecorder{}
	for name, opts := range map[string]*ClientOptions{
		"per-call policy":  {ClientOptions: policy.ClientOptions{PerCallPolicies: []policy.Policy{noop}}},
		"per-retry policy": {ClientOptions: policy.ClientOptions{PerRetryPolicies: []policy.Policy{noop}}},
		"tracing":          {ClientOptions: policy.ClientOptions{TracingProvider: rec.provider()}},
		"ShouldRetry":      {ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{ShouldRetry: func(*http.Response, error) bool { return false }}}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, tries := leanClient(t, nil, opts)
			if f.client.lean != nil {
				t.Error("lean first try allowed")
			}
			for range 2 {
				if err := retrieveContact(t.Context(), f.client); err != nil {
					t.Fatal(err)
				}
			}
			if tries.Load() != 0 {
				t.Errorf("%d lean first tries, want 0", tries.Load())
			}
		})
	}
	t.Run("context values", func(t *testing.T) {
		t.Parallel()
		f, tries := leanClient(t, nil, nil)
		if err := retrieveContact(t.Context(), f.client); err != nil { // gets the token
			t.Fatal(err)
		}
		var captured *http.Response
		for _, c := range []context.Context{
			policy.WithCaptureResponse(t.Context(), &captured),
			policy.WithHTTPHeader(t.Context(), http.Header{"X-Test": {"from the context"}}),
			policy.WithRetryOptions(t.Context(), policy.RetryOptions{MaxRetries: -1}),
		} {
			if err := retrieveContact(c, f.client); err != nil {
				t.Fatal(err)
			}
		}
		if tries.Load() != 0 {
			t.Errorf("%d lean first tries, want 0", tries.Load())
		}
		if captured == nil || captured.StatusCode != http.StatusOK {
			t.Errorf("WithCaptureResponse captured %v", captured)
		}
		if got := f.reqs()[2].Header.Get("X-Test"); got != "from the context" {
			t.Errorf("WithHTTPHeader's header: %q", got)
		}
		if err := retrieveContact(t.Context(), f.client); err != nil {
			t.Fatal(err)
		}
		if tries.Load() != 1 {
			t.Errorf("%d lean first tries after, want 1", tries.Load())
		}
	})
}

// expiringCredential hands out tokens that expire (and may name a refresh
// time) relative to now.
type expiringCredential struct {
	expiresIn, refreshIn time.Duration
	calls                atomic.Int32
}

func (e *expiringCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	e.calls.Add(1)
	tok := azcore.AccessToken{Token: "tok", ExpiresOn: time.Now().Add(e.expiresIn)}
	if e.refreshIn != 0 {
		tok.RefreshOn = time.Now().Add(e.refreshIn)
	}
	return tok, nil
}

// TestLeanFirstTryTokenLifetime: the lean first try sends the bearer
// policy's token only while the policy itself would send it without
// getting a new one (more than 5 minutes before expiry, or before its
// RefreshOn); else the call takes the pipeline, whose bearer policy
// refreshes it.
func TestLeanFirstTryTokenLifetime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                 string
		expiresIn, refreshIn time.Duration
		lean                 bool
	}{
		{name: "an hour left", expiresIn: time.Hour, lean: true},
		{name: "six minutes left", expiresIn: 6 * time.Minute, lean: true},
		{name: "four minutes left", expiresIn: 4 * time.Minute},
		{name: "RefreshOn to come", expiresIn: 3 * time.Minute, refreshIn: time.Minute, lean: true},
		{name: "RefreshOn passed", expiresIn: time.Hour, refreshIn: -time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, tries := leanClient(t, nil, nil)
			cred := &expiringCredential{expiresIn: tc.expiresIn, refreshIn: tc.refreshIn}
			c, err := NewClient(f.orgURL(), cred, &ClientOptions{ClientOptions: policy.ClientOptions{Transport: f.srv.Client()}})
			if err != nil {
				t.Fatal(err)
			}
			c.leanHook = f.client.leanHook
			if err := retrieveContact(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			if tries.Load() != 0 {
				t.Errorf("the first call took the lean first try without a token")
			}
			for range 3 {
				if err := retrieveContact(t.Context(), c); err != nil {
					t.Fatal(err)
				}
			}
			// (Within its refresh window the bearer policy asks the
			// credential at most every 30 seconds, keeping the token.)
			wantTries := int32(0)
			if tc.lean {
				wantTries = 3
			}
			if tries.Load() != wantTries {
				t.Errorf("lean first tries %d, want %d", tries.Load(), wantTries)
			}
			for _, r := range f.reqs() {
				if r.Header.Get("Authorization") != "Bearer tok" {
					t.Errorf("sent %q", r.Header.Get("Authorization"))
				}
			}
		})
	}
}

// TestLeanTokenNeverPrinted: the token the lean first try keeps does not
// show when the Client or its credential wrapper is printed.
func TestLeanTokenNeverPrinted(t *testing.T) {
	t.Parallel()
	w := &challengedCredential{}
	w.keepLeanToken(azcore.AccessToken{Token: "secret-token-value", ExpiresOn: time.Now().Add(time.Hour)})
	for _, s := range []string{sprintAll(w.leanToken()), sprintAll(w)} {
		if strings.Contains(s, "secret-token-value") {
			t.Errorf("printed the token: %s", s)
		}
	}
}

func sprintAll(v any) string { return fmt.Sprintf("%v %+v %#v %s", v, v, v, v) }

// requestlessTransport answers from memory with a response that names no
// request, as a caller's policy.Transporter may.
type requestlessTransport struct{ status int }

func (t requestlessTransport) Do(*http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: t.status,
		Status:     http.StatusText(t.status),
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(strings.NewReader(`{"fullname":"Ada","error":{"code":"0x80040217","message":"gone"}}`)),
	}, nil
}

// TestLeanFirstTryResponseWithoutRequest: a transport's response without
// a Request is decoded, or reported, naming the request, as the pipeline
// does.
func TestLeanFirstTryResponseWithoutRequest(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusOK, http.StatusNotFound} {
		c, err := NewClient("https://org.example", &fakeCredential{}, &ClientOptions{ClientOptions: policy.ClientOptions{Transport: requestlessTransport{status: status}}})
		if err != nil {
			t.Fatal(err)
		}
		var tries atomic.Int32
		c.leanHook = func(*http.Request) { tries.Add(1) }
		for range 2 {
			err := retrieveContact(t.Context(), c)
			if status == http.StatusOK && err != nil {
				t.Fatalf("Retrieve: %v", err)
			}
			var re *ResponseError
			if status == http.StatusNotFound && (!errors.As(err, &re) || re.Path != "contacts(7eb682f1-ca75-e511-80d4-00155d2a68d1)" || re.Method != http.MethodGet) {
				t.Fatalf("Retrieve: %v, want a 404 naming GET contacts(…)", err)
			}
		}
		if tries.Load() != 1 {
			t.Errorf("%d lean first tries, want 1", tries.Load())
		}
	}
}
