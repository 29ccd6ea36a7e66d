package dataverse

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Resilience, on top of azcore's retry policy (runtime.NewRetryPolicy):
//
//   - 429 Too Many Requests is retried for every method: a throttled request
//     was not executed. The wait is the response's Retry-After.
//   - 502, 503, 504 (or ClientOptions.Retry.StatusCodes) and connection
//     errors are retried only for idempotent requests: GET, PUT, DELETE,
//     PATCH (Dataverse only accepts PATCH on a keyed record, so repeating it
//     converges), a $batch made only of GETs. A POST that creates a record
//     or runs an action is never repeated after such a failure, because it
//     may have been executed.
//   - Everything else is returned at once.
//   - Cancelling the context stops the wait immediately (azcore).
//   - ClientOptions.MaxRetryWait bounds the sum of all waits of one call.
//
// azcore's ShouldRetry hook only sees the response, so each call stores a
// *callState in its request context (readable from resp.Request) and the
// per-try attemptPolicy marks transport errors of non-idempotent requests
// as non-retriable (azcore checks that before ShouldRetry).

// defaultTransientStatusCodes are retried for idempotent requests.
var defaultTransientStatusCodes = []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}

// retrySettings is the Client's resolved retry configuration.
type retrySettings struct {
	azcore     policy.RetryOptions // handed to azcore's retry policy
	retryDelay time.Duration       // resolved like azcore resolves them,
	maxDelay   time.Duration       // for the wait estimate in backoff
	transient  []int
	maxWait    time.Duration // < 0: no waiting at all
}

func newRetrySettings(o policy.RetryOptions, maxWait time.Duration) retrySettings {
	s := retrySettings{azcore: o, transient: o.StatusCodes}
	if s.transient == nil {
		s.transient = defaultTransientStatusCodes
	}
	switch {
	case maxWait == 0:
		s.maxWait = DefaultMaxRetryWait
	case maxWait < 0:
		s.maxWait = -1
	default:
		s.maxWait = maxWait
	}
	if s.azcore.MaxRetryDelay == 0 {
		// azcore's default cap is 60 s and it gives up on a longer
		// Retry-After; Dataverse asks for longer waits when a client keeps
		// pushing, so the cap follows the total budget instead.
		s.azcore.MaxRetryDelay = DefaultMaxRetryWait
		if s.maxWait > 0 {
			s.azcore.MaxRetryDelay = s.maxWait
		}
	}
	switch d := s.azcore.RetryDelay; {
	case d == 0:
		s.retryDelay = 800 * time.Millisecond // azcore's default
	case d > 0:
		s.retryDelay = d
	}
	s.maxDelay = s.azcore.MaxRetryDelay
	if s.maxDelay < 0 {
		s.maxDelay = math.MaxInt64 // azcore: negative means no cap
	}
	s.azcore.StatusCodes = nil // ShouldRetry decides
	if s.azcore.ShouldRetry == nil {
		s.azcore.ShouldRetry = s.shouldRetry
	}
	return s
}

// callState is the per-call retry bookkeeping, stored in the context of
// every request the Client sends. Tries of one call run one after the
// other, so it needs no lock.
type callState struct {
	idempotent bool
	start      time.Time // start of the first try
	tries      int32
}

type callStateKey struct{}

func withCallState(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, callStateKey{}, st)
}

func callStateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

// isIdempotentMethod reports whether repeating a request with this method
// cannot change the outcome.
func isIdempotentMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodPatch:
		return true
	}
	return false
}

// attemptPolicy runs once per try, before the bearer-token policy.
func (c *Client) attemptPolicy(req *policy.Request) (*http.Response, error) {
	st := callStateFrom(req.Raw().Context())
	if st == nil {
		// A request built outside this package: judge by method.
		st = &callState{idempotent: isIdempotentMethod(req.Raw().Method)}
	}
	if st.tries == 0 {
		st.start = time.Now()
	}
	st.tries++
	resp, err := req.Next()
	if err != nil {
		var nr interface{ NonRetriable() }
		if errors.As(err, &nr) || req.Raw().Context().Err() != nil {
			return resp, err
		}
		if !st.idempotent {
			return resp, &notRetriedError{err: err, reason: "the request is not idempotent and may have been executed"}
		}
		if !c.retry.mayWait(st, c.retry.backoff(st.tries)) {
			return resp, &notRetriedError{err: err, reason: "the retry budget (ClientOptions.MaxRetryWait) is spent"}
		}
		return resp, err
	}
	if resp.Request == nil {
		resp.Request = req.Raw() // shouldRetry reads the call state through it
	}
	return resp, nil
}

// shouldRetry is azcore's RetryOptions.ShouldRetry for Dataverse.
func (s retrySettings) shouldRetry(resp *http.Response, err error) bool {
	if err != nil {
		// attemptPolicy already turned errors that must not be retried into
		// non-retriable ones, which azcore never hands to ShouldRetry.
		return true
	}
	var st *callState
	if resp.Request != nil {
		st = callStateFrom(resp.Request.Context())
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
	case slices.Contains(s.transient, resp.StatusCode):
		if st == nil || !st.idempotent {
			return false
		}
	default:
		return false
	}
	if st == nil {
		return true
	}
	wait := retryAfter(resp.Header)
	if wait <= 0 {
		wait = s.backoff(st.tries)
	}
	return s.mayWait(st, wait)
}

// mayWait reports whether waiting wait more keeps the call within budget.
func (s retrySettings) mayWait(st *callState, wait time.Duration) bool {
	if s.maxWait < 0 {
		return false
	}
	return time.Since(st.start)+wait <= s.maxWait
}

// backoff is the longest delay azcore's exponential backoff can choose
// before try+1: (2^try - 1) × RetryDelay × 1.3 (its jitter), capped.
func (s retrySettings) backoff(try int32) time.Duration {
	if try >= 62 {
		return s.maxDelay
	}
	d := float64(int64(1)<<try-1) * float64(s.retryDelay) * 1.3
	if d > float64(s.maxDelay) {
		return s.maxDelay
	}
	return time.Duration(d)
}

// retryAfter is the wait the response's Retry-After header asks for (see
// parseRetryAfter), 0 when it has none.
func retryAfter(h http.Header) time.Duration {
	return parseRetryAfter(h.Get("Retry-After"), time.Now())
}

// notRetriedError marks a transport error that must not be retried and
// says why; azcore's retry policy stops on errors with NonRetriable().
type notRetriedError struct {
	err    error
	reason string
}

// Error implements error.
func (e *notRetriedError) Error() string {
	return e.err.Error() + " (not retried: " + e.reason + ")"
}

// Unwrap returns the transport error.
func (e *notRetriedError) Unwrap() error { return e.err }

// NonRetriable is azcore's marker method (errorinfo.NonRetriable).
func (e *notRetriedError) NonRetriable() {}
