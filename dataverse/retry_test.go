package dataverse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"
)

// failThen answers the first n requests with status, then 204/200.
func failThen(n int32, status int) (http.HandlerFunc, *atomic.Int32) {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			writeError(w, status, "0x80072322", "try again")
			return
		}
		if r.Method == http.MethodGet {
			writeJSON(w, 200, `{"value":[]}`)
			return
		}
		w.Header().Set("OData-EntityId", "https://x/contacts("+idA.String()+")")
		w.WriteHeader(http.StatusNoContent)
	}, &calls
}

func TestRetryClassification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int
		call      func(c *Client) error
		wantCalls int32
		wantOK    bool
	}{
		{"GET 503 is retried", 503, listContacts, 2, true},
		{"GET 502 is retried", 502, listContacts, 2, true},
		{"GET 504 is retried", 504, listContacts, 2, true},
		{"GET 500 is not retried", 500, listContacts, 1, false},
		{"POST create 503 is not retried", 503, createContact, 1, false},
		{"POST create 504 is not retried", 504, createContact, 1, false},
		{"POST create 429 is retried", 429, createContact, 2, true},
		{"GET 429 is retried", 429, listContacts, 2, true},
		{"PATCH update 503 is retried", 503, updateContact, 2, true},
		{"DELETE 503 is retried", 503, deleteContact, 2, true},
		{"GET 400 is not retried", 400, listContacts, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, calls := failThen(1, tt.status)
			f := newFakeAPI(t, h, nil)
			err := tt.call(f.client)
			if got := calls.Load(); got != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", got, tt.wantCalls)
			}
			if n := len(f.waits.durations()); n != int(tt.wantCalls)-1 {
				t.Errorf("the client waited %d times, want once before each retry", n)
			}
			if tt.wantOK && err != nil {
				t.Errorf("call failed: %v", err)
			}
			var re *ResponseError
			if !tt.wantOK && (!errors.As(err, &re) || re.StatusCode != tt.status) {
				t.Errorf("error = %v, want a %d ResponseError", err, tt.status)
			}
		})
	}
}

func listContacts(c *Client) error {
	_, err := c.List(context.Background(), "contacts", nil)
	return err
}

func createContact(c *Client) error {
	_, err := c.Create(context.Background(), "contacts", Record{"firstname": "A"}, nil)
	return err
}

func updateContact(c *Client) error {
	_, err := c.Update(context.Background(), "contacts", idA, Record{"firstname": "A"}, nil)
	return err
}

func deleteContact(c *Client) error {
	return c.Delete(context.Background(), "contacts", idA, nil)
}

func TestRetryGivesUpAfterMaxRetries(t *testing.T) {
	t.Parallel()
	h, calls := failThen(100, 503)
	f := newFakeAPI(t, h, &ClientOptions{ClientOptions: clientOpts(policy.RetryOptions{MaxRetries: 2})})
	err := listContacts(f.client)
	if got := calls.Load(); got != 3 {
		t.Errorf("server saw %d requests, want 1 + 2 retries", got)
	}
	if n := len(f.waits.durations()); n != 2 {
		t.Errorf("the client waited %d times, want 2: none after the last try", n)
	}
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != 503 {
		t.Errorf("error = %v, want the last 503", err)
	}
}

// TestRetryAfterIsHonoured: after a 429 (any method, a create included) the client waits exactly
// what Retry-After asks for — delay-seconds, a fraction, an HTTP date — before it sends the
// request again, and not longer than needed: the waits are recorded in order with the requests
// the server sees, never measured.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	inAnHour := func() string { return time.Now().Add(time.Hour).UTC().Format(http.TimeFormat) }
	tests := []struct {
		name       string
		retryAfter func() string
		call       func(*Client) error
		want       func(time.Duration) bool
		wantText   string
	}{
		{"seconds, POST create", func() string { return "1" }, createContact, func(d time.Duration) bool { return d == time.Second }, "1s"},
		{"seconds, GET", func() string { return "7" }, listContacts, func(d time.Duration) bool { return d == 7*time.Second }, "7s"},
		{"fraction", func() string { return "0.25" }, listContacts, func(d time.Duration) bool { return d == 250*time.Millisecond }, "250ms"},
		// An HTTP date an hour ahead: whole seconds, within the second it was written in.
		{"HTTP date", inAnHour, listContacts, func(d time.Duration) bool { return d%time.Second == 0 && d > time.Hour-2*time.Second && d <= time.Hour }, "about 1h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			var f *fakeAPI
			f = newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				f.waits.event(fmt.Sprintf("%s %d", r.Method, n))
				if n == 1 {
					w.Header().Set("Retry-After", tt.retryAfter())
					writeError(w, 429, CodeThrottledConcurrentRequests, "Number of concurrent requests exceeded the limit of 52.")
					return
				}
				if r.Method == http.MethodGet {
					writeJSON(w, 200, `{"value":[]}`)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}, &ClientOptions{MaxRetryWait: 2 * time.Hour})
			if err := tt.call(f.client); err != nil {
				t.Fatalf("call after a 429 failed: %v", err)
			}
			seq := f.waits.sequence()
			waits := f.waits.durations()
			if len(seq) != 3 || len(waits) != 1 || !strings.HasPrefix(seq[1], "wait ") || !strings.HasSuffix(seq[2], " 2") {
				t.Fatalf("sequence %q, want the request, one wait, the request again", seq)
			}
			if !tt.want(waits[0]) {
				t.Errorf("waited %v before the retry, want %s", waits[0], tt.wantText)
			}
		})
	}
}

// TestRetryWaitLimits: a Retry-After beyond ClientOptions.MaxRetryWait or Retry.MaxRetryDelay is
// not waited for (the 429 comes back at once with its Retry-After), and MaxRetryWait bounds the
// sum of all waits of one call.
func TestRetryWaitLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		opts       *ClientOptions
		wantCalls  int32
		wantWaits  []time.Duration
	}{
		{"over MaxRetryWait", "30", &ClientOptions{MaxRetryWait: 2 * time.Second}, 1, nil},
		{"over MaxRetryDelay", "30", &ClientOptions{ClientOptions: clientOpts(policy.RetryOptions{MaxRetryDelay: 10 * time.Second})}, 1, nil},
		{"negative MaxRetryWait: no waiting", "1", &ClientOptions{MaxRetryWait: -1}, 1, nil},
		{"budget spent by earlier waits", "2", &ClientOptions{MaxRetryWait: 5 * time.Second}, 3, []time.Duration{2 * time.Second, 2 * time.Second}},
		// Throttled tries do not count against MaxRetries: MaxRetryWait ends the retries.
		{"MaxRetries does not count 429s", "2", &ClientOptions{MaxRetryWait: 7 * time.Second, ClientOptions: clientOpts(policy.RetryOptions{MaxRetries: 1})}, 4, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				w.Header().Set("Retry-After", tt.retryAfter)
				writeError(w, 429, CodeThrottledRequestCount, "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
			}, tt.opts)
			err := listContacts(f.client)
			var re *ResponseError
			if !errors.As(err, &re) || re.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("error = %v, want the 429", err)
			}
			if want, _ := strconv.Atoi(tt.retryAfter); re.RetryAfter != time.Duration(want)*time.Second {
				t.Errorf("RetryAfter = %v, want %ss: the last response keeps its header", re.RetryAfter, tt.retryAfter)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", n, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantWaits, f.waits.durations()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCancellationStopsTheWait: a context cancelled while the client waits for Retry-After ends
// the call with the context's error, and the retry is not sent.
func TestCancellationStopsTheWait(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "60")
		writeError(w, 429, CodeThrottledRequestCount, "throttled")
	}, &ClientOptions{ClientOptions: clientOpts(policy.RetryOptions{MaxRetryDelay: 2 * time.Minute})})
	var waits []time.Duration
	f.client.retry.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		cancel() // the caller gives up during the wait
		<-ctx.Done()
		return ctx.Err()
	}
	_, err := f.client.List(ctx, "contacts", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if calls.Load() != 1 {
		t.Errorf("server saw %d requests, want 1: no retry after the cancelled wait", calls.Load())
	}
	if diff := cmp.Diff([]time.Duration{time.Minute}, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

// TestDeadlineBeforeTheWaitEndsReturnsTheFailure: when the context's deadline comes before the
// wait the service asked for (or the backoff) would end, the client does not wait only to fail
// with "context deadline exceeded": it returns the 429 or 503 at once, with its RetryAfter, so
// the caller can tell throttling from its own timeout. A deadline after the wait changes nothing.
func TestDeadlineBeforeTheWaitEndsReturnsTheFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		status         int
		retryAfter     string
		deadline       time.Duration
		opts           *ClientOptions
		call           func(context.Context, *Client) error
		wantCalls      int32
		wantRetryAfter time.Duration
	}{
		{"429 GET", 429, "60", 30 * time.Second, nil, listWithContext, 1, time.Minute},
		{"429 POST create", 429, "60", 30 * time.Second, nil, createWithContext, 1, time.Minute},
		{"503 GET with Retry-After", 503, "60", 30 * time.Second, nil, listWithContext, 1, time.Minute},
		{"503 GET, backoff of 48 to 78 s", 503, "", 30 * time.Second, &ClientOptions{ClientOptions: clientOpts(policy.RetryOptions{RetryDelay: time.Minute})}, listWithContext, 1, 0},
		// Throttled tries do not count against MaxRetries (3): the call is retried until the
		// retry budget (MaxRetryWait, here 5 s) would be passed.
		{"deadline after the wait: retried", 429, "1", time.Hour, &ClientOptions{MaxRetryWait: 5 * time.Second}, listWithContext, 6, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				writeError(w, tt.status, CodeThrottledRequestCount, "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
			}, tt.opts)
			ctx, cancel := context.WithTimeout(context.Background(), tt.deadline)
			defer cancel()
			err := tt.call(ctx, f.client)
			var re *ResponseError
			if !errors.As(err, &re) || re.StatusCode != tt.status {
				t.Fatalf("error = %v, want the %d *ResponseError", err, tt.status)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v wraps context.DeadlineExceeded; want the service's answer", err)
			}
			if IsThrottled(err) != (tt.status == 429) {
				t.Errorf("IsThrottled = %v for a %d", IsThrottled(err), tt.status)
			}
			if re.RetryAfter != tt.wantRetryAfter {
				t.Errorf("RetryAfter = %v, want %v", re.RetryAfter, tt.wantRetryAfter)
			}
			if n := calls.Load(); n != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", n, tt.wantCalls)
			}
			if w := f.waits.durations(); len(w) != int(tt.wantCalls)-1 {
				t.Errorf("the client waited %v, want one wait before each retry and none past the deadline", w)
			}
		})
	}
}

func listWithContext(ctx context.Context, c *Client) error {
	_, err := c.List(ctx, "contacts", nil)
	return err
}

func createWithContext(ctx context.Context, c *Client) error {
	_, err := c.Create(ctx, "contacts", Record{"firstname": "A"}, nil)
	return err
}

// TestSleepContext: the real wait ends when its context does (a test that hangs for an hour
// otherwise), and returns nil after a wait that was not interrupted.
func TestSleepContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepContext(cancelled, 1h) = %v, want context.Canceled", err)
	}
	if err := sleepContext(context.Background(), time.Microsecond); err != nil {
		t.Errorf("sleepContext(1µs) = %v", err)
	}
	if err := sleepContext(context.Background(), 0); err != nil {
		t.Errorf("sleepContext(0) = %v", err)
	}
}

// flakyTransport fails the first n requests with a connection error.
type flakyTransport struct {
	next  policy.Transporter
	n     int32
	calls atomic.Int32
}

func (f *flakyTransport) Do(req *http.Request) (*http.Response, error) {
	if f.calls.Add(1) <= f.n {
		return nil, errors.New("connection reset by peer")
	}
	return f.next.Do(req)
}

func TestConnectionErrorsRetriedOnlyWhenIdempotent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		call      func(*Client) error
		wantCalls int32
		wantOK    bool
	}{
		{"GET", listContacts, 2, true},
		{"DELETE", deleteContact, 2, true},
		{"POST create", createContact, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, _ := failThen(0, 0)
			f := newFakeAPI(t, h, nil)
			flaky := &flakyTransport{next: f.srv.Client(), n: 1}
			o := &ClientOptions{ClientOptions: clientOpts(policy.RetryOptions{RetryDelay: time.Millisecond})}
			o.Transport = flaky
			c, err := NewClient(f.orgURL(), f.cred, o)
			if err != nil {
				t.Fatal(err)
			}
			err = tt.call(c)
			if got := flaky.calls.Load(); got != tt.wantCalls {
				t.Errorf("transport saw %d requests, want %d", got, tt.wantCalls)
			}
			if tt.wantOK != (err == nil) {
				t.Errorf("error = %v, want success %v", err, tt.wantOK)
			}
			if !tt.wantOK && !strings.Contains(err.Error(), "not retried: the request is not idempotent") {
				t.Errorf("error %q does not say why it was not retried", err)
			}
		})
	}
}

func TestUnauthorizedGetsOneFreshTokenAndOneRetry(t *testing.T) {
	t.Parallel()
	challenge := "Bearer authorization_uri=https://login.microsoftonline.com/tid/oauth2/authorize, resource_id=https://contoso.crm.dynamics.com/"
	t.Run("second token accepted", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer tok2" {
				w.Header().Set("WWW-Authenticate", challenge)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			writeJSON(w, 200, `{"value":[]}`)
		}, nil)
		f.cred.tokens = []string{"tok1", "tok2"}
		if err := listContacts(f.client); err != nil {
			t.Fatalf("List failed: %v", err)
		}
		if n := len(f.reqs()); n != 2 {
			t.Errorf("server saw %d requests, want 2", n)
		}
		if n := f.cred.callCount(); n != 2 {
			t.Errorf("credential asked %d times, want 2", n)
		}
	})
	t.Run("persistent 401 is retried once only", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", challenge)
			w.WriteHeader(http.StatusUnauthorized)
		}, nil)
		f.cred.tokens = []string{"tok1", "tok2", "tok3"}
		err := createContact(f.client)
		if !IsUnauthorized(err) {
			t.Fatalf("error = %v, want 401", err)
		}
		if n := len(f.reqs()); n != 2 {
			t.Errorf("server saw %d requests, want 2", n)
		}
		for _, tok := range []string{"tok1", "tok2", "tok3"} {
			if strings.Contains(err.Error(), tok) {
				t.Errorf("error leaks token %s: %v", tok, err)
			}
		}
	})
	t.Run("the same token is not sent again", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", challenge)
			w.WriteHeader(http.StatusUnauthorized)
		}, nil)
		f.cred.tokens = []string{"cached"} // a credential that can only answer from its cache
		err := listContacts(f.client)
		var re *ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized || re.Challenge == nil {
			t.Fatalf("error = %v, want the 401 with its challenge", err)
		}
		if n := len(f.reqs()); n != 1 {
			t.Errorf("server saw %d requests, want 1: resending the rejected token is pointless", n)
		}
		if n := f.cred.callCount(); n != 2 {
			t.Errorf("credential asked %d times, want 2 (the first token, then once after the challenge)", n)
		}
	})
	t.Run("a TokenRefresher bypasses the cache", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer fresh" {
				w.Header().Set("WWW-Authenticate", challenge)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			writeJSON(w, 200, `{"value":[]}`)
		}, nil)
		cred := &refreshingCredential{cached: "stale", fresh: "fresh"}
		c, err := NewClient(f.orgURL(), cred, &ClientOptions{ClientOptions: policy.ClientOptions{Transport: f.srv.Client()}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			if err := listContacts(c); err != nil {
				t.Fatalf("call %d: %v, want success with the refreshed token", i, err)
			}
		}
		var auths []string
		for _, r := range f.reqs() {
			auths = append(auths, r.Header.Get("Authorization"))
		}
		if diff := cmp.Diff([]string{"Bearer stale", "Bearer fresh", "Bearer fresh"}, auths); diff != "" {
			t.Errorf("tokens sent (-want +got):\n%s", diff)
		}
		gets, refreshes, scopes := cred.counts()
		if gets != 2 || refreshes != 1 {
			t.Errorf("GetToken %d times, RefreshToken %d times; want 2 and 1", gets, refreshes)
		}
		if want := []string{f.orgURL() + "/.default"}; !slices.Equal(scopes, want) {
			t.Errorf("RefreshToken scopes %q, want %q", scopes, want)
		}
	})
	t.Run("a failed refresh is the call's error", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", challenge)
			w.WriteHeader(http.StatusUnauthorized)
		}, nil)
		cred := &refreshingCredential{cached: "stale", err: errors.New("AADSTS7000215: Invalid client secret provided")}
		c, err := NewClient(f.orgURL(), cred, &ClientOptions{ClientOptions: policy.ClientOptions{Transport: f.srv.Client()}})
		if err != nil {
			t.Fatal(err)
		}
		if err := listContacts(c); err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
			t.Fatalf("error = %v, want the refresher's error", err)
		}
		if n := len(f.reqs()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
	})
	t.Run("401 without challenge is not retried", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }, nil)
		if err := listContacts(f.client); !IsUnauthorized(err) {
			t.Fatalf("error = %v, want 401", err)
		}
		if n := len(f.reqs()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
	})
}

// refreshingCredential answers GetToken from a "cache" (always the same token) and RefreshToken
// with a fresh one or an error.
type refreshingCredential struct {
	cached, fresh string
	err           error

	mu              sync.Mutex
	gets, refreshes int
	scopes          []string
}

func (r *refreshingCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gets++
	if r.refreshes > 0 && r.err == nil {
		return azcore.AccessToken{Token: r.fresh, ExpiresOn: time.Now().Add(time.Hour)}, nil
	}
	return azcore.AccessToken{Token: r.cached, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (r *refreshingCredential) RefreshToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshes++
	r.scopes = o.Scopes
	if r.err != nil {
		return azcore.AccessToken{}, r.err
	}
	return azcore.AccessToken{Token: r.fresh, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (r *refreshingCredential) counts() (gets, refreshes int, scopes []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gets, r.refreshes, r.scopes
}

func TestTokenFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Error("no request may be sent without a token") }, nil)
	f.cred.err = errors.New("AADSTS7000215: Invalid client secret provided")
	err := listContacts(f.client)
	if err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("error = %v, want the credential's error", err)
	}
	if n := f.cred.callCount(); n != 1 {
		t.Errorf("credential asked %d times, want 1", n)
	}
}

// TestTryTimeoutIsRetried: a try that runs out of Retry.TryTimeout (the call's context still
// alive) is retried like a connection error, for an idempotent request.
func TestTryTimeoutIsRetried(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-r.Context().Done() // hang until the client gives the try up
			abortResponse()
		}
		writeJSON(w, 200, `{"value":[]}`)
	}, &ClientOptions{ClientOptions: clientOpts(policy.RetryOptions{
		// Long enough that, under the race detector, the retry reaches the server before its
		// own try times out in the pipeline (that try would be retried too, with another wait).
		TryTimeout: 250 * time.Millisecond,
	})})
	if err := listContacts(f.client); err != nil {
		t.Fatalf("List after a timed-out try: %v, want success on the retry", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
	if n := len(f.waits.durations()); n != 1 {
		t.Errorf("the client waited %d times, want once (backoff) before the retry", n)
	}
}

// TestCallerShouldRetryReplacesTheDecision: with Retry.ShouldRetry set, azcore decides and waits
// as for any client (here: a 500 is retried), and the client's own wait is not used.
func TestCallerShouldRetryReplacesTheDecision(t *testing.T) {
	t.Parallel()
	h, calls := failThen(1, http.StatusInternalServerError)
	f := newFakeAPI(t, h, &ClientOptions{ClientOptions: clientOpts(policy.RetryOptions{
		RetryDelay:  time.Microsecond,
		ShouldRetry: func(resp *http.Response, err error) bool { return err == nil && resp.StatusCode == 500 },
	})})
	if err := listContacts(f.client); err != nil {
		t.Fatalf("List after one 500: %v, want the caller's ShouldRetry to retry it", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
	if w := f.waits.durations(); len(w) != 0 {
		t.Errorf("the client's own wait ran (%v); azcore waits when the caller decides", w)
	}
}

func TestShouldRetryDecision(t *testing.T) {
	t.Parallel()
	s := newRetrySettings(policy.RetryOptions{RetryDelay: time.Second}, time.Minute)
	waits := &sleepLog{}
	s.sleep = waits.sleep
	states := map[*http.Response]*callState{}
	resp := func(status int, idempotent bool, retryAfter string, waited time.Duration) *http.Response {
		ctx := withCallState(context.Background(), idempotent)
		st := callStateFrom(ctx)
		st.tries, st.waited = 1, waited
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://x/", nil)
		r := &http.Response{StatusCode: status, Header: http.Header{}, Request: req}
		if retryAfter != "" {
			r.Header.Set("Retry-After", retryAfter)
		}
		states[r] = st
		return r
	}
	tests := []struct {
		name     string
		resp     *http.Response
		want     bool
		wantWait time.Duration // when want; 0 means a backoff of 0.8 to 1.3 s
	}{
		{"429 non-idempotent", resp(429, false, "5", 0), true, 5 * time.Second},
		{"503 idempotent", resp(503, true, "", 0), true, 0},
		{"503 idempotent with Retry-After", resp(503, true, "2", 0), true, 2 * time.Second},
		{"503 non-idempotent", resp(503, false, "", 0), false, 0},
		{"500 idempotent", resp(500, true, "", 0), false, 0},
		{"404", resp(404, true, "", 0), false, 0},
		{"429 over budget", resp(429, true, "61", 0), false, 0},
		{"429 budget spent", resp(429, true, "5", 58*time.Second), false, 0},
		{"no call state: 429 only", &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"3"}}}, true, 3 * time.Second},
		{"no call state: 503", &http.Response{StatusCode: 503, Header: http.Header{}}, false, 0},
		{"an error of another client", nil, false, 0},
	}
	for _, tt := range tests {
		before := len(waits.durations())
		var err error
		if tt.resp == nil {
			err = errors.New("connection reset")
		}
		if got := s.shouldRetry(tt.resp, err); got != tt.want {
			t.Errorf("%s: shouldRetry = %v, want %v", tt.name, got, tt.want)
		}
		// shouldRetry decides the wait and leaves it in the call state for governPolicy; only a
		// response without call state is waited for at once.
		w := waits.durations()[before:]
		if st := states[tt.resp]; st != nil {
			if len(w) != 0 {
				t.Errorf("%s: shouldRetry slept %v; the wait is governPolicy's", tt.name, w)
			}
			w = nil
			if st.wait > 0 {
				w = []time.Duration{st.wait}
			}
		}
		switch {
		case !tt.want && len(w) != 0:
			t.Errorf("%s: waited %v without retrying", tt.name, w)
		case tt.want && len(w) != 1:
			t.Errorf("%s: waited %v, want one wait", tt.name, w)
		case tt.want && tt.wantWait != 0 && w[0] != tt.wantWait:
			t.Errorf("%s: waited %v, want %v", tt.name, w[0], tt.wantWait)
		case tt.want && tt.wantWait == 0 && (w[0] < 800*time.Millisecond || w[0] >= 1300*time.Millisecond):
			t.Errorf("%s: backoff %v, want 0.8 to 1.3 × RetryDelay", tt.name, w[0])
		}
		if tt.want && tt.resp != nil && tt.resp.Header.Get("Retry-After") != "" {
			t.Errorf("%s: Retry-After left on a retried response; azcore would wait again", tt.name)
		}
	}
}

func clientOpts(r policy.RetryOptions) policy.ClientOptions {
	return policy.ClientOptions{Retry: r}
}
