package dataverse

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// headerDOPHint is the service's recommended degree of parallelism, on every response, in Go's
// canonical form so that reading it costs no allocation.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests
const headerDOPHint = "X-Ms-Dop-Hint"

// throttledResponse is a 429 kept to be answered again without sending (see callState.throttle).
type throttledResponse struct {
	status int
	header http.Header
	body   []byte
	pauses bool // a request-count or execution-time 429: the Governor paused
	req    *http.Request
}

// response rebuilds the 429.
func (t *throttledResponse) response() *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(t.status) + " " + http.StatusText(t.status),
		StatusCode:    t.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        t.header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(t.body)),
		ContentLength: int64(len(t.body)),
		Request:       t.req,
	}
}

// governPolicy runs once per try, after the bearer-token policy (so the Authorization header
// names the application user): it takes the wait shouldRetry decided for the call, then passes
// the request through the application user's Governor (pause, admission), sends it, and tells
// the Governor what came back: x-ms-dop-hint, a throttle, a success.
func (c *Client) governPolicy(req *policy.Request) (*http.Response, error) {
	ctx := req.Raw().Context()
	st := callStateFrom(ctx)
	if st == nil {
		st = &callState{ctx: ctx} // never for this package's requests (see attemptPolicy)
	}
	if st.replay != nil {
		// The lean first try was admitted, sent and told to the Governor
		// already: the transport answers this try with its outcome (lean.go).
		return req.Next()
	}
	seen, waitedOut := st.pauseGen, st.pauseWaited
	st.pauseWaited = false
	if d := st.wait; d > 0 {
		st.wait = 0
		if st.jitter {
			j := c.retry.jitter(d)
			if dl, ok := st.ctx.Deadline(); !ok || time.Now().Add(d+j).Before(dl) {
				d += j
			}
		}
		if err := c.retry.sleep(st.ctx, d); err != nil {
			return nil, err
		}
		st.waited += d
	}
	if c.govOff {
		st.gov = nil
		return req.Next()
	}
	g := c.governorOf(req.Raw().Header.Get("Authorization"))
	st.gov = g
	// The call's context, not the try's: a pause or a queue longer than
	// Retry.TryTimeout is waited out.
	a, err := g.admit(st.ctx, c.retry, &st.waited, seen, waitedOut)
	if err != nil {
		var pe *pauseError
		if t := st.throttle; t != nil && errors.As(err, &pe) {
			// The pause outlasts the deadline: the call ends with the service's last
			// answer, as shouldRetry would have ended it, not with a timeout.
			return t.response(), nil
		}
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		// The try's timeout passed while the request waited: it was not
		// sent, so it is retried whatever its method (see attemptPolicy).
		g.release()
		return nil, &notSentError{err: err}
	}
	resp, err := req.Next()
	g.release()
	if err != nil {
		return resp, err
	}
	hint := 0
	if v := resp.Header[headerDOPHint]; len(v) > 0 {
		hint, _ = strconv.Atoi(v[0]) // a hint that is not a number is ignored, as the ServiceClient does
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		st.throttle = c.throttled(g, a, resp, hint)
		return resp, nil
	}
	st.throttle = nil
	g.answered(hint, resp.StatusCode < http.StatusInternalServerError)
	return resp, nil
}

// throttled tells g about a 429 and returns it, kept.
func (c *Client) throttled(g *Governor, a admission, resp *http.Response, hint int) *throttledResponse {
	body, _ := runtime.Payload(resp) // error bodies are read (and bounded) already
	t := &throttledResponse{status: resp.StatusCode, header: resp.Header.Clone(), body: body, req: resp.Request}
	switch throttleCode(body) {
	case CodeThrottledConcurrentRequests:
		g.concurrencyThrottled(a, hint)
	case CodeThrottledRequestCount:
		g.requestThrottles.Add(1)
		g.pause(retryAfter(resp.Header), hint)
		t.pauses = true
	case CodeThrottledExecutionTime:
		g.executionTimeThrottles.Add(1)
		g.pause(retryAfter(resp.Header), hint)
		t.pauses = true
	default:
		g.answered(hint, false) // a 429 of another kind: only the hint is news
	}
	return t
}

// throttleCode is the error code of a 429's Dataverse error envelope, "" when there is none.
func throttleCode(body []byte) string {
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return ""
	}
	return env.Error.Code
}

// notSentError is a try that ended (its Retry.TryTimeout passed) while the request waited for
// the Governor: nothing was sent, so even a request that is not idempotent may be retried.
type notSentError struct{ err error }

// Error implements error.
func (e *notSentError) Error() string {
	return e.err.Error() + " (the request waited for the service's throttling and was not sent)"
}

// Unwrap returns the context's error.
func (e *notSentError) Unwrap() error { return e.err }
