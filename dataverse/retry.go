package dataverse

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/d365s2s/d365/internal/httpheader"
)

// Resilience, on top of azcore's retry policy (runtime.NewRetryPolicy):
//
//   - 429 Too Many Requests is retried for every method: a throttled request
//     was not executed. Throttled tries do not count against
//     Retry.MaxRetries: a throttled call is retried until its context's
//     deadline or ClientOptions.MaxRetryWait, so callers never see a 429
//     while they can wait.
//   - 502, 503, 504 (or ClientOptions.Retry.StatusCodes) and connection
//     errors are retried only for idempotent requests: GET, PUT, DELETE,
//     PATCH (Dataverse only accepts PATCH on a keyed record, so repeating it
//     converges), a $batch made only of GETs. A conditional PATCH converges
//     too, but its retry after a first try that ran is answered 412 (new
//     version, or record already created); UpdateOptions.IfMatch and
//     UpsertCreateOnly say how to read that. A POST that creates a record
//     or runs an action is never repeated after such a failure, because it
//     may have been executed. These count against Retry.MaxRetries.
//   - Everything else is returned at once.
//   - Cancelling the context stops the wait immediately, and a wait that
//     would end after the context's deadline is not started: the failure
//     (a 429 *ResponseError with its RetryAfter, a 503, a connection
//     error) is returned at once instead of "context deadline exceeded".
//   - ClientOptions.MaxRetryWait bounds the sum of all waits of one call.
//
// One place decides every wait, and one place takes it. azcore's retry
// policy runs the loop: it counts tries, rewinds request bodies, applies
// TryTimeout, honours NonRetriable errors and logs each try; its own delay
// is configured to nothing (1 ns) and its try count to unlimited. The
// decision is the Client's, in shouldRetry, which azcore calls after every
// failed try: it says whether to retry and how long the call must wait
// first (Retry-After read by httpheader.RetryAfter, the governor's pause,
// or exponential backoff with azcore's formula), checked against
// MaxRetries, MaxRetryWait and the deadline, and records it in the call
// state. The wait itself is taken by the governor policy (governPolicy) as
// the next try begins, together with the waits the Governor imposes on
// every request of the application user: a pause after a request-count or
// execution-time 429, and admission under the concurrency limit. So:
//
//   - a throttled call waits Retry-After: a request-count or execution-time
//     429 pauses every request of the application user (the Governor) and
//     the call resumes with the others, with jitter; a concurrency 429
//     lowers the Governor's limit and the call alone waits its Retry-After
//     plus jitter;
//   - a transient failure waits its Retry-After or the backoff, alone.
//
// One Retry-After parser serves the wait, the budget and ResponseError, a
// fractional or HTTP-date Retry-After is honoured exactly, and tests can
// replace the sleep (retrySettings.sleep) and the jitter.
//
// azcore's ShouldRetry hook only sees the response (or the error), so each
// call stores a *callState in its request context (readable from
// resp.Request), and the per-try attemptPolicy wraps transport errors with
// it, after marking those of non-idempotent requests as non-retriable
// (azcore checks that before ShouldRetry).

// defaultTransientStatusCodes are retried for idempotent requests.
var defaultTransientStatusCodes = []int{http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}

// Settings handed to azcore when the Client owns the waits: azcore then
// waits next to nothing between tries (the governor policy takes the wait
// shouldRetry decided), and never stops counting tries itself, since
// throttled tries do not count. (A zero RetryDelay would not do: azcore
// takes it for an overflow and waits MaxRetryDelay.)
const (
	azcoreRetryDelay    = time.Nanosecond
	azcoreMaxRetryDelay = time.Nanosecond
	azcoreMaxRetries    = math.MaxInt32 - 1
)

// retrySettings is the Client's resolved retry configuration.
type retrySettings struct {
	azcore     policy.RetryOptions // handed to azcore's retry policy
	own        bool                // the Client decides and waits (no Retry.ShouldRetry of the caller)
	maxRetries int32               // resolved like azcore resolves them
	retryDelay time.Duration
	maxDelay   time.Duration
	transient  []int
	maxWait    time.Duration // < 0: no waiting at all
	// sleep waits d or until ctx is done; tests replace it to see the
	// waits without taking them.
	sleep func(ctx context.Context, d time.Duration) error
	// jitter is the random delay added to a wait of d after which many
	// requests resume (resumeJitter); tests replace it to make waits exact.
	jitter func(d time.Duration) time.Duration
}

func newRetrySettings(o policy.RetryOptions, maxWait time.Duration) *retrySettings {
	s := &retrySettings{azcore: o, transient: o.StatusCodes, sleep: sleepContext, jitter: resumeJitter}
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
	switch n := o.MaxRetries; {
	case n == 0:
		s.maxRetries = 3 // azcore's default
	case n > 0:
		s.maxRetries = n
	}
	switch d := o.RetryDelay; {
	case d == 0:
		s.retryDelay = 800 * time.Millisecond // azcore's default
	case d > 0:
		s.retryDelay = d
	}
	switch d := o.MaxRetryDelay; {
	case d == 0:
		// azcore's default cap is 60 s and it gives up on a longer
		// Retry-After; Dataverse asks for longer waits when a client keeps
		// pushing, so the cap follows the total budget instead.
		s.maxDelay = DefaultMaxRetryWait
		if s.maxWait > 0 {
			s.maxDelay = s.maxWait
		}
	case d < 0:
		s.maxDelay = math.MaxInt64 // azcore: negative means no cap
	default:
		s.maxDelay = d
	}
	s.azcore.StatusCodes = nil // ShouldRetry decides
	if s.azcore.ShouldRetry == nil {
		s.own = true
		s.azcore.ShouldRetry = s.shouldRetry
		s.azcore.RetryDelay = azcoreRetryDelay
		s.azcore.MaxRetryDelay = azcoreMaxRetryDelay
		s.azcore.MaxRetries = azcoreMaxRetries
	} else if s.azcore.MaxRetryDelay == 0 {
		s.azcore.MaxRetryDelay = s.maxDelay
	}
	return s
}

// sleepContext waits d, or until ctx is done (then it returns ctx.Err()).
func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// callState is the per-call retry bookkeeping, stored in the context of
// every request the Client sends. Tries of one call run one after the
// other, so it needs no lock.
type callState struct {
	ctx        context.Context // the call's context: waits end with it, not with a try's timeout
	idempotent bool
	tries      int32
	throttled  int32         // tries answered 429: they do not count against MaxRetries
	waited     time.Duration // sum of the waits between tries so far
	// wait is what shouldRetry decided the call waits before its next try,
	// taken by governPolicy; jitter adds a resume jitter to it.
	wait   time.Duration
	jitter bool
	// gov is the Governor the last try passed (nil when disabled), and
	// throttle the last 429 it got, kept to be answered again when a pause
	// would outlast the context's deadline.
	gov      *Governor
	throttle *throttledResponse
	// pauseGen is the Governor's pause that wait covers, when pauseWaited.
	pauseGen    uint64
	pauseWaited bool
	// replay is the outcome of the call's lean first try, which answers the
	// pipeline's first try instead of sending it again, and header the
	// request header the pipeline sends then (lean.go).
	replay *leanReplay
	header http.Header
}

type callStateKey struct{}

// withCallState returns ctx carrying a new call state.
func withCallState(ctx context.Context, idempotent bool) context.Context {
	st := &callState{idempotent: idempotent}
	ctx = context.WithValue(ctx, callStateKey{}, st)
	st.ctx = ctx
	return ctx
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
	ctx := req.Raw().Context()
	st := callStateFrom(ctx)
	if st == nil {
		// A request built outside this package: judge by method.
		ctx = withCallState(ctx, isIdempotentMethod(req.Raw().Method))
		st = callStateFrom(ctx)
	}
	if err := st.ctx.Err(); err != nil {
		return nil, err // cancelled during the wait: the retry is not sent
	}
	st.tries++
	resp, err := req.Next()
	if err != nil && resp != nil && errors.Is(err, errSameToken) {
		return resp, nil // the 401 goes back to the caller as a ResponseError
	}
	if err != nil {
		// The call's context, not the try's: a try that ran out of
		// Retry.TryTimeout is retried like any transport error.
		var nr interface{ NonRetriable() }
		if errors.As(err, &nr) || st.ctx.Err() != nil {
			return resp, err
		}
		var ns *notSentError
		if !st.idempotent && !errors.As(err, &ns) {
			return resp, &notRetriedError{err: err, reason: "the request is not idempotent and may have been executed"}
		}
		return resp, &transportError{err: err, st: st}
	}
	if resp.Request == nil {
		resp.Request = req.Raw() // shouldRetry reads the call state through it
	}
	return resp, nil
}

// shouldRetry is azcore's RetryOptions.ShouldRetry for Dataverse: it
// decides whether the failed try is retried and how long the call waits
// first, and records the wait for governPolicy (see the comment at the top
// of the file). It never waits itself.
func (s *retrySettings) shouldRetry(resp *http.Response, err error) bool {
	var (
		st        *callState
		wait      time.Duration
		te        *transportError
		throttled bool
	)
	switch {
	case err != nil:
		if !errors.As(err, &te) {
			return false // not from a try of this client: nothing known to retry on
		}
		st = te.st
		wait = s.backoff(st.tries - st.throttled)
	case resp.StatusCode == http.StatusTooManyRequests:
		throttled = true
	case slices.Contains(s.transient, resp.StatusCode):
	default:
		return false
	}
	stateless := false // no call state: the wait is taken here (see below)
	if resp != nil && err == nil {
		if resp.Request != nil {
			st = callStateFrom(resp.Request.Context())
		}
		if st == nil {
			stateless = true
			// Not sent by attemptPolicy: judge by method, wait within this call.
			st = &callState{ctx: context.Background(), tries: 1}
			if resp.Request != nil {
				st.ctx = resp.Request.Context()
				st.idempotent = isIdempotentMethod(resp.Request.Method)
			}
		}
		if !throttled && !st.idempotent {
			return false
		}
		wait = retryAfter(resp.Header)
		if wait > s.maxDelay {
			return false // azcore's rule: a Retry-After over MaxRetryDelay is not waited for
		}
		if throttled {
			st.throttled++
			if st.gov != nil && st.throttle != nil && st.throttle.pauses {
				// The Governor paused every request of the application user;
				// this call waits that pause out (and the others with it).
				left, gen := st.gov.pauseLeft()
				wait = max(wait, left)
				st.pauseGen, st.pauseWaited = gen, true
			}
		}
		if wait <= 0 {
			n := st.tries - st.throttled
			if throttled {
				n = st.throttled
			}
			wait = s.backoff(n)
		}
	}
	if !throttled && st.tries-st.throttled > s.maxRetries {
		return false // that was the last try
	}
	if s.maxWait < 0 || st.waited+wait > s.maxWait {
		if te != nil {
			te.reason = "the retry budget (ClientOptions.MaxRetryWait) is spent"
		}
		return false
	}
	if deadline, ok := st.ctx.Deadline(); ok && time.Now().Add(wait).After(deadline) {
		// The retry could not be sent before the context ends: waiting
		// would only turn the service's answer (a 429 with its
		// Retry-After, a 503) into "context deadline exceeded".
		if te != nil {
			te.reason = "the context's deadline comes before the wait before a retry would end"
		}
		return false
	}
	st.wait, st.jitter = wait, throttled
	if resp != nil {
		// azcore would wait again for these; the wait is governPolicy's.
		for _, h := range []string{"Retry-After", "Retry-After-Ms", "X-Ms-Retry-After-Ms"} {
			resp.Header.Del(h)
		}
	}
	if stateless {
		// Every request of this package carries a call state; one whose
		// context a caller's policy replaced has none to carry the wait to
		// the next try, so it waits here, as it is decided.
		_ = s.sleep(st.ctx, wait)
	}
	return true
}

// backoff is azcore's exponential backoff before try+1:
// (2^try - 1) × RetryDelay × a jitter in [0.8, 1.3), capped at MaxRetryDelay.
func (s *retrySettings) backoff(try int32) time.Duration {
	if try >= 62 {
		return s.maxDelay
	}
	d := float64(int64(1)<<try-1) * float64(s.retryDelay) * (0.8 + rand.Float64()/2)
	if d >= float64(s.maxDelay) {
		return s.maxDelay
	}
	return time.Duration(d)
}

// retryAfter is the wait the response's Retry-After header asks for (see
// httpheader.RetryAfter), 0 when it has none.
func retryAfter(h http.Header) time.Duration {
	return httpheader.RetryAfter(h.Get("Retry-After"), time.Now())
}

// transportError is a connection error of an idempotent request, carrying
// the call state for shouldRetry. Its text is the error's, plus the reason
// when it was not retried.
type transportError struct {
	err    error
	st     *callState
	reason string
}

// Error implements error.
func (e *transportError) Error() string {
	if e.reason != "" {
		return e.err.Error() + " (not retried: " + e.reason + ")"
	}
	return e.err.Error()
}

// Unwrap returns the transport error.
func (e *transportError) Unwrap() error { return e.err }

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
