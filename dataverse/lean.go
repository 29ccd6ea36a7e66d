package dataverse

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// The lean first try.
//
// Every request of a Client runs through its azcore pipeline (client.go):
// about ten policies, most of which have nothing to do for a plain GET when
// nothing logs or traces, yet cost about 12 µs of CPU and 34 allocations
// per call (docs/benchmarks.md, "Where the rest of a Retrieve goes"). So a
// GET or HEAD without a body, on a Client where nothing could tell the
// difference, sends its first try straight to the Client's transport (the
// same errorBodyLimiter-wrapped transport the pipeline ends in, so a
// caller's *http.Client or a debugging transport still sees it), carrying
// what the pipeline would have put on it: the access token the bearer
// policy holds, the telemetry User-Agent, and the Governor's admission and
// bookkeeping (governPolicy's, for a first try).
//
// A try that ends in anything but a success (2xx, or 304 for a
// conditional GET) is not judged here: the call goes on through the
// pipeline with its call state primed as the first try left it, and the
// pipeline's first try is answered with the lean try's response or error
// instead of being sent again (pipelineTransport). So the bearer policy
// sees the 401 and handles its challenge, shouldRetry decides the retry
// and its wait, governPolicy takes that wait, the body-download policy
// reads the error body and send builds the *ResponseError: exactly what
// happens to a try sent by the pipeline, without sending any request twice.
//
// The lean path is allowed (leanSettings, probed once by NewClient) only
// when the pipeline would add nothing a caller could see:
//
//   - no caller PerCallPolicies or PerRetryPolicies, and no
//     Retry.ShouldRetry of the caller (the Client decides the retries);
//   - no TracingProvider, or one whose tracer is disabled;
//   - azcore's log has no listener for EventRequest, EventResponse or
//     EventRetryPolicy (probeLogging: azcore offers no getter, and its
//     documentation asks for SetListener before clients are used);
//
// and per call (leanTry):
//
//   - the context carries none of the values azcore's policies read
//     (policy.WithHTTPHeader, WithRetryOptions, WithCaptureResponse, a
//     tracer of an enclosing SDK call: the keys probeLogging saw read);
//   - the bearer policy has obtained a token that it would still send
//     without refreshing it (leanToken in token.go).

// leanSettings is what NewClient found about a Client's pipeline; nil when
// the lean first try is not allowed.
type leanSettings struct {
	// userAgent is the User-Agent azcore's telemetry policy sends (as
	// captured by probeLogging), nil when telemetry is disabled: a shared
	// slice, never modified.
	userAgent []string
	// contextKeys are the context keys azcore's policies read: a context
	// carrying a value for one of them takes the pipeline.
	contextKeys []any
	// tryTimeout is ClientOptions.Retry.TryTimeout.
	tryTimeout time.Duration
}

// leanReplay is the outcome of a lean first try that the pipeline's first
// try is answered with (see pipelineTransport).
type leanReplay struct {
	resp *http.Response
	err  error
	sent *http.Request // the lean request, to tell a redirect's response
}

// errNilResponse is what azcore's transport policy reports for a transport
// that returned neither a response nor an error.
var errNilResponse = errors.New("received nil response")

// leanTry sends the first try of a GET or HEAD without a body straight to
// the transport, when the call may skip the pipeline (see the top of the
// file). h is the request's header, url its URL.
//
// It returns the response of a successful try (st nil), or a call state
// primed for the pipeline with the try's outcome to replay (resp nil), or
// neither when the call must take the pipeline from the start.
func (c *Client) leanTry(ctx context.Context, r *request, h http.Header, url string) (resp *http.Response, st *callState) {
	tok := c.cred.leanToken()
	if tok == nil || ctx.Err() != nil {
		return nil, nil
	}
	for _, k := range c.lean.contextKeys {
		if ctx.Value(k) != nil {
			return nil, nil
		}
	}
	callerUA, callerAuth := h["User-Agent"], h["Authorization"]
	if ua := c.lean.userAgent; ua != nil {
		if len(callerUA) > 0 && callerUA[0] != "" {
			// azcore's telemetry policy keeps a User-Agent set on the request, after its own.
			h["User-Agent"] = []string{ua[0] + " " + callerUA[0]}
		} else {
			h["User-Agent"] = ua
		}
	}
	h["Authorization"] = tok.authorization
	tryCtx, cancel := ctx, context.CancelFunc(nil)
	if d := c.lean.tryTimeout; d != 0 {
		tryCtx, cancel = context.WithTimeout(ctx, d)
	}
	req, err := http.NewRequestWithContext(tryCtx, r.method, url, nil)
	if err != nil {
		if cancel != nil {
			cancel()
		}
		restoreHeader(h, callerUA, callerAuth)
		return nil, nil // the pipeline reports it
	}
	req.Header = h
	if c.leanHook != nil {
		c.leanHook(req)
	}

	// governPolicy's work for a first try (no wait has been decided yet).
	var (
		waited   time.Duration
		gov      *Governor
		a        admission
		throttle *throttledResponse
	)
	if !c.govOff {
		gov = c.governorOf(tok.authorization[0])
		if a, err = gov.admit(ctx, c.retry, &waited, 0, false); err != nil {
			// The context ended, or a pause outlasts its deadline: the
			// pipeline ends the call the same way, at once. Nothing was
			// sent, so h is the caller's again.
			if cancel != nil {
				cancel()
			}
			restoreHeader(h, callerUA, callerAuth)
			return nil, nil
		}
	}
	if err := tryCtx.Err(); err != nil && gov != nil {
		gov.release()
		if cancel != nil {
			cancel()
		}
		st = c.primedState(ctx, r, h, callerUA, callerAuth, &leanReplay{err: &notSentError{err: err}})
		st.waited, st.gov = waited, gov
		return nil, st
	}
	resp, err = c.transport.Do(req)
	if gov != nil {
		gov.release()
	}
	switch {
	case err != nil && resp != nil:
		closeBody(resp) // azcore's transport policy drops such a response
		resp = nil
	case err == nil && resp == nil:
		err = errNilResponse
	case resp != nil && resp.Request == nil:
		resp.Request = req // as attemptPolicy does: decoding and errors name the request
	}
	if err == nil {
		if resp.StatusCode == http.StatusUnauthorized {
			c.cred.forgetLeanToken(tok)
		}
		if gov != nil {
			hint := 0
			if v := resp.Header[headerDOPHint]; len(v) > 0 {
				hint, _ = strconv.Atoi(v[0])
			}
			if resp.StatusCode == http.StatusTooManyRequests {
				throttle = c.throttled(gov, a, resp, hint)
			} else {
				gov.answered(hint, resp.StatusCode < http.StatusInternalServerError)
			}
		}
		if cancel != nil {
			resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 || (r.allow304 && resp.StatusCode == http.StatusNotModified) {
			return resp, nil
		}
	} else if cancel != nil {
		cancel()
	}
	st = c.primedState(ctx, r, h, callerUA, callerAuth, &leanReplay{resp: resp, err: err, sent: req})
	st.waited, st.gov, st.throttle = waited, gov, throttle
	return nil, st
}

// primedState returns the call state of a call that goes on through the
// pipeline after its lean first try (st.ctx carries it; replay, when not
// nil, answers the pipeline's first try), with the request header the
// pipeline sends: h as it was before leanTry, in a copy, since the lean
// request may still hold h.
func (c *Client) primedState(ctx context.Context, r *request, h http.Header, callerUA, callerAuth []string, replay *leanReplay) *callState {
	ph := h.Clone()
	restoreHeader(ph, callerUA, callerAuth)
	st := callStateFrom(withCallState(ctx, r.idempotent))
	st.header = ph
	st.replay = replay
	return st
}

// restoreHeader puts back the User-Agent and Authorization values h had
// before leanTry set its own.
func restoreHeader(h http.Header, ua, auth []string) {
	if ua == nil {
		delete(h, "User-Agent")
	} else {
		h["User-Agent"] = ua
	}
	if auth == nil {
		delete(h, "Authorization")
	} else {
		h["Authorization"] = auth
	}
}

// cancelOnClose cancels a try's timeout when the body is closed, as
// azcore's retry policy does for a response whose body is not read yet.
type cancelOnClose struct {
	ReadCloser interface {
		Read([]byte) (int, error)
		Close() error
	}
	cancel context.CancelFunc
}

// Read implements io.Reader.
func (b *cancelOnClose) Read(p []byte) (int, error) { return b.ReadCloser.Read(p) }

// Close implements io.Closer.
func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// pipelineTransport is the transport of a Client's pipeline: the
// errorBodyLimiter-wrapped transport, except for the first try of a call
// whose lean try failed, which it answers with that try's outcome (see the
// top of the file). It also drops the lean token a 401 answered, as the
// bearer policy drops its cached token.
type pipelineTransport struct {
	next *errorBodyLimiter
	cred *challengedCredential
}

// Do implements policy.Transporter.
func (t *pipelineTransport) Do(req *http.Request) (*http.Response, error) {
	if st := callStateFrom(req.Context()); st != nil && st.replay != nil {
		rp := st.replay
		st.replay = nil
		if rp.resp != nil {
			if rp.resp.Request == rp.sent {
				rp.resp.Request = req // the request as the pipeline sent it
			} else if rp.resp.Request != nil {
				// A redirect's response: its request, in the pipeline's context.
				rp.resp.Request = rp.resp.Request.WithContext(req.Context())
			}
		}
		return rp.resp, rp.err
	}
	resp, err := t.next.Do(req)
	if err == nil && resp != nil && resp.StatusCode == http.StatusUnauthorized {
		t.cred.forgetLeanAuthorization(req.Header.Get("Authorization"))
	}
	return resp, err
}

// dropReplay closes the response of a replay the pipeline never reached
// (the call ended before its first try was sent).
func (st *callState) dropReplay() {
	if rp := st.replay; rp != nil {
		st.replay = nil
		closeBody(rp.resp)
	}
}
