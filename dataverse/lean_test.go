package dataverse

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"
)

// leanCase is one outcome of a Retrieve's first try, run once with the lean
// first try and once through the pipeline alone (leanOutcome compares them).
type leanCase struct {
	name string
	// handler answers the n-th request of the call under test (n from 0).
	handler func(n int, w http.ResponseWriter, r *http.Request)
	// tokens the credential hands out in turn (nil: always "static-token").
	tokens []string
	opts   *ClientOptions
	// ctx returns the call's context; cancel, when set, is called by the
	// handler through leanRun.cancel.
	ctx func(t *testing.T) (context.Context, context.CancelFunc)
	// etag makes the Retrieve conditional.
	etag azcore.ETag
	// noLean: the lean try is not taken even on the lean Client.
	noLean bool
	// nextPipeline: the call after takes the pipeline (the service
	// rejected the token the bearer policy holds).
	nextPipeline bool
}

// leanOutcome is what a caller and the service can see of one call: the
// error, every request the server saw (headers included), the waits the
// client took, the Governor's counters, and the token and path of the next
// call.
type leanOutcome struct {
	Err       leanErr
	Requests  []leanRequest
	Waits     []string
	Gov       leanGov
	NextToken string
}

type leanErr struct {
	None                      bool
	Text                      string
	Status                    int
	Code, Method, Path        string
	RetryAfter                time.Duration
	Challenge                 bool
	Canceled, DeadlineExpired bool
	NotModified               bool
}

type leanRequest struct {
	Method, Path, Query string
	Header              http.Header
}

type leanGov struct {
	Sent, Concurrency, Requests, ExecutionTime int64
	Limit, Hint, InFlight                      int
	Paused                                     bool
}

// summarizeErr keeps what a caller can read from err, with the server's
// address (which differs between the two runs) replaced.
func summarizeErr(err error, srvURL string) leanErr {
	if err == nil {
		return leanErr{None: true}
	}
	s := leanErr{
		Text:            strings.ReplaceAll(err.Error(), srvURL, "SERVER"),
		Canceled:        errors.Is(err, context.Canceled),
		DeadlineExpired: errors.Is(err, context.DeadlineExceeded),
		NotModified:     errors.Is(err, ErrNotModified),
	}
	var re *ResponseError
	if errors.As(err, &re) {
		s.Status, s.Code, s.Method, s.Path, s.RetryAfter = re.StatusCode, re.Code, re.Method, re.Path, re.RetryAfter
		s.Challenge = re.Challenge != nil
		if re.RawResponse != nil && re.RawResponse.Request != nil {
			for k := range re.RawResponse.Request.Header {
				if isCredentialHeader(k) {
					s.Text += " [the kept request has " + k + "]"
				}
			}
		}
	}
	return s
}

// summarizeWait keeps a wait decided by a header (whole seconds) exactly,
// and calls azcore's randomised backoff "backoff".
func summarizeWait(d time.Duration) string {
	if r := d.Round(time.Second); r > 0 && (d-r).Abs() < time.Millisecond {
		return r.String()
	}
	return "backoff"
}

const leanPrimePath = "/accounts("

// runLeanCase runs tc on a fresh fake API: a first Retrieve of an account
// that gets the bearer policy its token, the call under test (a Retrieve
// of a contact) and a last Retrieve of the account.
func runLeanCase(t *testing.T, tc leanCase, lean bool) (out leanOutcome, leanTries int32, nextLean bool) {
	t.Helper()
	var n atomic.Int32
	var cancelCall atomic.Pointer[context.CancelFunc]
	hint := func(w http.ResponseWriter) { w.Header().Set("x-ms-dop-hint", "8") }
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		hint(w)
		if strings.Contains(r.URL.Path, leanPrimePath) {
			w.Header().Set("Connection", "close") // so the call under test opens its own connection
			writeJSON(w, http.StatusOK, `{"name":"Contoso"}`)
			return
		}
		i := int(n.Add(1)) - 1
		if tc.handler == nil {
			writeJSON(w, http.StatusOK, `{"fullname":"Ada"}`)
			return
		}
		tc.handler(i, w, r.WithContext(context.WithValue(r.Context(), leanCancelKey{}, cancelCall.Load())))
	}, tc.opts)
	f.cred.tokens = tc.tokens
	if !lean {
		f.client.lean = nil
	}
	var tries atomic.Int32
	f.client.leanHook = func(*http.Request) { tries.Add(1) }
	var account struct {
		Name string `json:"name"`
	}
	if err := f.client.Retrieve(t.Context(), "accounts", idB, &account, nil); err != nil || account.Name != "Contoso" {
		t.Fatalf("first Retrieve: %v, %+v", err, account)
	}
	primed := len(f.reqs())
	ctx, cancel := t.Context(), context.CancelFunc(func() {})
	if tc.ctx != nil {
		ctx, cancel = tc.ctx(t)
	}
	defer cancel()
	cancelCall.Store(&cancel)
	before := tries.Load()
	var got contact
	err := f.client.Retrieve(ctx, "contacts", idA, &got, &RetrieveOptions{Select: []string{"fullname"}, IfNoneMatch: tc.etag})
	leanTries = tries.Load() - before
	if err == nil && got.FullName != "Ada" {
		t.Errorf("decoded %+v", got)
	}
	out.Err = summarizeErr(err, f.srv.URL)
	for _, r := range f.reqs()[primed:] {
		out.Requests = append(out.Requests, leanRequest{Method: r.Method, Path: r.Path, Query: r.RawQuery, Header: r.Header})
	}
	for _, d := range f.waits.durations() {
		out.Waits = append(out.Waits, summarizeWait(d))
	}
	g, gerr := f.client.Governor(t.Context())
	if gerr != nil {
		t.Fatal(gerr)
	}
	s := g.Stats()
	out.Gov = leanGov{Sent: s.Sent, Concurrency: s.ConcurrencyThrottles, Requests: s.RequestThrottles,
		ExecutionTime: s.ExecutionTimeThrottles, Limit: s.Limit, Hint: s.DOPHint, InFlight: s.InFlight, Paused: s.Paused > 0}

	// The next call: which token, and whether it skipped the pipeline.
	before = tries.Load()
	if err := f.client.Retrieve(t.Context(), "accounts", idB, &account, nil); err != nil {
		t.Fatalf("last Retrieve: %v", err)
	}
	rs := f.reqs()
	out.NextToken = rs[len(rs)-1].Header.Get("Authorization")
	return out, leanTries, tries.Load() > before
}

type leanCancelKey struct{}

// cancelTheCall cancels the context of the call under test from a handler.
func cancelTheCall(r *http.Request) {
	if c, ok := r.Context().Value(leanCancelKey{}).(*context.CancelFunc); ok && c != nil {
		(*c)()
	}
}

// throttle writes a 429 with a Dataverse error code and Retry-After.
func throttle(w http.ResponseWriter, code string, retryAfter int) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	writeError(w, http.StatusTooManyRequests, code, "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
}

func okContact(w http.ResponseWriter) { writeJSON(w, http.StatusOK, `{"fullname":"Ada"}`) }

// TestLeanFirstTryMatchesThePipeline runs each outcome of a first try with
// the lean first try and through the pipeline alone, and requires the same
// result for the caller, the same requests on the wire (headers included),
// the same waits and the same Governor bookkeeping.
func TestLeanFirstTryMatchesThePipeline(t *testing.T) {
	t.Parallel()
	const dvChallenge = "Bearer authorization_uri=https://login.microsoftonline.com/tid/oauth2/authorize, resource_id=https://contoso.crm.dynamics.com/"
	// A CAE claims challenge: the claims are base64 of {"access_token":{"nbf":{"essential":true,"value":"1700000000"}}}.
	const caeChallenge = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTcwMDAwMDAwMCJ9fX0="`
	cases := []leanCase{
		{name: "200"},
		{name: "304 of a conditional GET", etag: `W/"42"`, handler: func(_ int, w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("If-None-Match") != `W/"42"` {
				okContact(w)
				return
			}
			w.WriteHeader(http.StatusNotModified)
		}},
		{name: "404", handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusNotFound, "0x80040217", "contact With Id = 7eb682f1 Does Not Exist")
		}},
		{name: "401 with a claims challenge", tokens: []string{"tok1", "tok2"}, handler: func(_ int, w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "Bearer tok1" {
				w.Header().Set("WWW-Authenticate", caeChallenge)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			okContact(w)
		}},
		{name: "401 with a Dataverse challenge", tokens: []string{"tok1", "tok2"}, handler: func(_ int, w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") == "Bearer tok1" {
				w.Header().Set("WWW-Authenticate", dvChallenge)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			okContact(w)
		}},
		{name: "401 that persists", nextPipeline: true, tokens: []string{"tok1", "tok2", "tok3"}, handler: func(_ int, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", dvChallenge)
			w.WriteHeader(http.StatusUnauthorized)
		}},
		{name: "429 for concurrent requests, then 200", handler: func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 0 {
				throttle(w, CodeThrottledConcurrentRequests, 2)
				return
			}
			okContact(w)
		}},
		{name: "429 for the number of requests, then 200", handler: func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 0 {
				throttle(w, CodeThrottledRequestCount, 3)
				return
			}
			okContact(w)
		}},
		{name: "429 for the execution time, then 200", handler: func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 0 {
				throttle(w, CodeThrottledExecutionTime, 4)
				return
			}
			okContact(w)
		}},
		{name: "503 then 200", handler: func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 0 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			okContact(w)
		}},
		{name: "connection reset then 200", handler: func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 0 {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					_ = conn.Close()
				}
				return
			}
			okContact(w)
		}},
		{name: "context cancelled before the call", noLean: true, ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx, cancel
		}},
		{name: "context cancelled during the first try", ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
			return context.WithCancel(t.Context())
		}, handler: func(n int, w http.ResponseWriter, r *http.Request) {
			cancelTheCall(r)
			<-r.Context().Done() // the client gave up the request
			abortResponse()
		}},
		{name: "deadline too short for Retry-After", ctx: func(t *testing.T) (context.Context, context.CancelFunc) {
			return context.WithTimeout(t.Context(), time.Minute)
		}, handler: func(n int, w http.ResponseWriter, _ *http.Request) {
			throttle(w, CodeThrottledRequestCount, 120)
		}},
		{name: "MaxRetryWait too short for Retry-After", opts: &ClientOptions{MaxRetryWait: time.Second}, handler: func(n int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
		}},
		{name: "TryTimeout, 200", opts: &ClientOptions{ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{TryTimeout: time.Minute}}}},
		{name: "TryTimeout passes, then 200", opts: &ClientOptions{ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{TryTimeout: 2 * time.Second}}}, // (long enough for the second try on a loaded machine)
			handler: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 0 {
					<-r.Context().Done() // the client gave the try up
					abortResponse()
				}
				okContact(w)
			}},
		{name: "telemetry with an application id", opts: &ClientOptions{ClientOptions: policy.ClientOptions{Telemetry: policy.TelemetryOptions{ApplicationID: "d365 import tool"}}}},
		{name: "telemetry disabled", opts: &ClientOptions{ClientOptions: policy.ClientOptions{Telemetry: policy.TelemetryOptions{Disabled: true}}}},
		{name: "governor disabled, 429 then 200", opts: &ClientOptions{Governor: GovernorOptions{Disabled: true}}, handler: func(n int, w http.ResponseWriter, _ *http.Request) {
			if n == 0 {
				throttle(w, CodeThrottledRequestCount, 2)
				return
			}
			okContact(w)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want, pipelineTries, _ := runLeanCase(t, tc, false)
			got, leanTries, nextLean := runLeanCase(t, tc, true)
			if pipelineTries != 0 {
				t.Errorf("the Client without the lean path took it %d times", pipelineTries)
			}
			if wantTries := int32(1); tc.noLean {
				if leanTries != 0 {
					t.Errorf("lean first tries: %d, want none", leanTries)
				}
			} else if leanTries != wantTries {
				t.Errorf("lean first tries: %d, want %d", leanTries, wantTries)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("lean outcome differs from the pipeline's (-pipeline +lean):\n%s", diff)
			}
			if nextLean == tc.nextPipeline {
				t.Errorf("the call after took the lean first try: %t, want %t (token %q)", nextLean, !tc.nextPipeline, got.NextToken)
			}
		})
	}
}
