package dataverse

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// failThen answers the first n requests with status (and Retry-After
// "0", so the test does not wait), then 204/200.
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
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != 503 {
		t.Errorf("error = %v, want the last 503", err)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var times []time.Time
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		n := len(times)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			writeError(w, 429, CodeThrottledConcurrentRequests, "Number of concurrent requests exceeded the limit of 52.")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}, nil)
	if err := createContact(f.client); err != nil {
		t.Fatalf("create after a 429 failed: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(times))
	}
	// A lower bound only: the retry cannot come before Retry-After.
	if gap := times[1].Sub(times[0]); gap < time.Second {
		t.Errorf("retried after %v, before Retry-After: 1", gap)
	}
}

func TestMaxRetryWaitBoundsTheWait(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "30")
		writeError(w, 429, CodeThrottledRequestCount, "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
	}, &ClientOptions{MaxRetryWait: 2 * time.Second})
	err := listContacts(f.client)
	if !IsThrottled(err) {
		t.Fatalf("error = %v, want 429", err)
	}
	var re *ResponseError
	errors.As(err, &re)
	if re.RetryAfter != 30*time.Second {
		t.Errorf("RetryAfter = %v, want 30s", re.RetryAfter)
	}
	if calls.Load() != 1 {
		t.Errorf("server saw %d requests; a 30 s Retry-After is over the 2 s budget, want 1", calls.Load())
	}
}

func TestCancellationStopsTheWait(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "60")
		writeError(w, 429, CodeThrottledRequestCount, "throttled")
		w.(http.Flusher).Flush()
		cancel() // the client is now waiting 60 s for its retry
	}, &ClientOptions{ClientOptions: clientOpts(policy.RetryOptions{MaxRetryDelay: 2 * time.Minute})})
	_, err := f.client.List(ctx, "contacts", nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if calls.Load() != 1 {
		t.Errorf("server saw %d requests, want 1", calls.Load())
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

func TestShouldRetryDecision(t *testing.T) {
	t.Parallel()
	s := newRetrySettings(policy.RetryOptions{RetryDelay: time.Second}, time.Minute)
	resp := func(status int, idempotent bool, retryAfter string, started time.Duration) *http.Response {
		ctx := withCallState(context.Background(), &callState{idempotent: idempotent, start: time.Now().Add(-started), tries: 1})
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://x/", nil)
		r := &http.Response{StatusCode: status, Header: http.Header{}, Request: req}
		if retryAfter != "" {
			r.Header.Set("Retry-After", retryAfter)
		}
		return r
	}
	tests := []struct {
		name string
		resp *http.Response
		want bool
	}{
		{"429 non-idempotent", resp(429, false, "5", 0), true},
		{"503 idempotent", resp(503, true, "", 0), true},
		{"503 non-idempotent", resp(503, false, "", 0), false},
		{"500 idempotent", resp(500, true, "", 0), false},
		{"404", resp(404, true, "", 0), false},
		{"429 over budget", resp(429, true, "61", 0), false},
		{"429 budget spent", resp(429, true, "5", 58*time.Second), false},
		{"no call state: 429 only", &http.Response{StatusCode: 429, Header: http.Header{}}, true},
		{"no call state: 503", &http.Response{StatusCode: 503, Header: http.Header{}}, false},
	}
	for _, tt := range tests {
		if got := s.shouldRetry(tt.resp, nil); got != tt.want {
			t.Errorf("%s: shouldRetry = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"": 0, "0": 0, "-1": 0, "7": 7 * time.Second, "1.5": 1500 * time.Millisecond, "soon": 0, "NaN": 0, "1e300": 0,
	} {
		h := http.Header{}
		if in != "" {
			h.Set("Retry-After", in)
		}
		if got := retryAfter(h); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
	h := http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}
	if got := retryAfter(h); got < 59*time.Minute || got > time.Hour {
		t.Errorf("retryAfter(HTTP date in an hour) = %v", got)
	}
}

func clientOpts(r policy.RetryOptions) policy.ClientOptions {
	return policy.ClientOptions{Retry: r}
}
