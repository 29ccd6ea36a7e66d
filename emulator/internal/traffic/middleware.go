package traffic

import (
	"context"
	"fmt"
	"github.com/d365s2s/d365/emulator/internal/caller"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Wrap returns next behind the fault rules, the service protection limits and the request log.
// Wrap the emulator's whole handler: requests under the admin prefix pass straight through;
// every other request is identified, checked against the fault rules (in order), metered when
// it is an authenticated Web API request, served, and logged.
func (c *Controller) Wrap(next http.Handler) http.Handler {
	m := &middleware{c: c, next: next}
	m.identified = c.identity(http.HandlerFunc(m.serveIdentified))
	return m
}

type middleware struct {
	c    *Controller
	next http.Handler
	// identified is the caller-identity middleware in front of serveIdentified: the request
	// reaches the fault rules and limits with its caller in its context.
	identified http.Handler
}

// transit is the per-request state the middleware keeps beside the exchange.
type transit struct {
	start        time.Time     // on the emulator's clock: the log's time, fault windows
	began        time.Duration // on the monotonic clock: the log's duration
	caller       caller.Caller // as the identity middleware put it, tenant resolved
	outcome      string
	limit        limitKind
	faults       []string
	answered     bool   // the response (or its absence) is the traffic package's doing
	code         string // the error code of a response the traffic package wrote
	admitted     bool
	verdict      verdict
	handlerStart time.Duration // monotonic
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := m.c
	if strings.HasPrefix(r.URL.Path, c.adminPrefix) {
		m.next.ServeHTTP(w, r)
		return
	}
	ex := &exchange{Context: r.Context(), w: w}
	ex.start, ex.began = c.now(), c.since()
	r = r.WithContext(ex)
	if len(r.Header.Values("Authorization")) > 1 {
		defer m.finish(ex, r)
		refuseAmbiguousAuthorization(ex, r)
		return
	}
	// The body arrives before anything is metered: a slow sender holds no concurrent slot and
	// spends no execution time while it trickles in.
	if !c.bufferBody(ex, w, r) {
		defer m.finish(ex, r)
		return
	}
	defer m.finish(ex, r)
	m.identified.ServeHTTP(w, r)
}

// serveIdentified applies the fault rules and limits to a request the identity middleware has
// identified, and serves it. r's context carries the caller and, beneath it, the exchange.
func (m *middleware) serveIdentified(w http.ResponseWriter, r *http.Request) {
	c := m.c
	ex, ok := r.Context().Value(exchangeKey{}).(*exchange)
	if !ok {
		panic("traffic: the identity middleware replaced the request context instead of deriving from it")
	}
	ex.caller, _ = caller.FromContext(r.Context())
	if ex.caller.TenantID != "" && c.resolveTenant != nil && !isGUID(ex.caller.TenantID) {
		ex.caller.TenantID = c.resolveTenant(ex.caller.TenantID)
	}
	api := strings.HasPrefix(r.URL.Path, apiPrefix)
	if api {
		c.setDOPHint(w.Header()) // on every Web API response, refusals and injected faults included
	}

	var slow fired
	if rules := c.faults.snapshot(); len(rules) > 0 {
		var answered bool
		if slow, answered = m.injectFaults(ex, w, r, rules); answered {
			return
		}
	}

	if cfg := c.limiter.cfg.Load(); api && ex.caller.AppID != "" && !cfg.off() {
		v := c.limiter.admit(cfg, ex.caller, c.since())
		setRateHeaders(w.Header(), v)
		if v.rejected != limitNone {
			c.refuse(ex, v)
			return
		}
		ex.admitted, ex.verdict = true, v
		ex.handlerStart = c.since()
	}
	// A latency rule makes the service slow, not the network: the request waits after
	// admission, so it holds one of the caller's concurrent slots and its wait counts towards
	// the combined execution time, as a slow request does in Dataverse.
	if slow.delay > 0 {
		waitInjectedDelay(ex, r, slow)
	}
	m.next.ServeHTTP(ex, r)
}

// waitInjectedDelay waits out the latency rules that fired. When the client goes away first, it
// aborts the handler (http.ErrAbortHandler, re-raised by finish after logging): returning
// normally would let net/http send an empty 200 that a client racing its own cancellation could
// still read as the answer.
func waitInjectedDelay(ex *exchange, r *http.Request, f fired) {
	if err := sleep(r.Context(), f.delay); err != nil {
		ex.answered = true
		ex.outcome = OutcomeCancelled
		ex.internal = fmt.Sprintf("the client went away during an injected delay of %v (fault rule %s)",
			f.delay, strings.Join(f.delayIDs, ", "))
		panic(http.ErrAbortHandler)
	}
}

// injectFaults applies the fault rules and reports whether the request has been answered (or
// abandoned) without the next handler. When only latency rules fired, it returns them
// unapplied: the caller waits after admission (see ServeHTTP). A delay before a terminal answer
// is waited here, since that request never reaches the service.
func (m *middleware) injectFaults(ex *exchange, w http.ResponseWriter, r *http.Request, rules []*faultState) (slow fired, answered bool) {
	c := m.c
	ri := reqInfo{method: r.Method, path: r.URL.Path, caller: ex.caller, now: ex.start}
	ri.api = strings.HasPrefix(ri.path, apiPrefix)
	if ri.api {
		ri.table = tableOf(ri.path)
		ri.delta = hasDeltaToken(r)
	} else {
		ri.token = caller.IsTokenPath(ri.path)
		if ri.token {
			ri.tenantSegment, _, _ = strings.Cut(ri.path[1:], "/")
		}
	}
	f := c.evaluate(rules, &ri)
	ex.faults = f.ids()
	if f.terminal == nil {
		if f.delay > 0 {
			ex.internal = fmt.Sprintf("delayed %v by fault rule %s", f.delay, strings.Join(f.delayIDs, ", "))
		}
		return f, false
	}
	if f.delay > 0 {
		waitInjectedDelay(ex, r, f)
	}
	ex.answered = true
	if k := f.terminal.rule.Action.Kind; k == ActionDrop || (k == ActionTokenEndpointDown && f.terminal.rule.Action.Drop) {
		ex.outcome = OutcomeDropped
	}
	c.respond(w, r, ex, &ri, f.terminal)
	return fired{}, true
}

// refuse answers 429 for the limit v names.
func (c *Controller) refuse(ex *exchange, v verdict) {
	code, msg := v.cfg.message(v.rejected)
	ex.answered, ex.limit, ex.code = true, v.rejected, code
	ex.internal = msg
	switch {
	case v.early:
		ex.internal = fmt.Sprintf("%s The caller came back %v after the limit was reached, before the Retry-After it had been told elapsed (early return %d of this refusal period), so this Retry-After grew by %d s to %d s.",
			msg, time.Duration(v.sinceBlocked).Round(time.Millisecond), v.strikes, min(v.strikes, maxHammerPenalty), v.retryAfter)
	case v.inFlight:
		ex.internal = fmt.Sprintf("%s The limit had been reached %v before this request arrived, too soon for its sender to have read a Retry-After, so it was refused with the time left (%d s) and the wait did not grow.",
			msg, time.Duration(v.sinceBlocked).Round(time.Millisecond), v.retryAfter)
	}
	writeDataverseError(ex, http.StatusTooManyRequests, code, msg, v.retryAfter)
}

// finish releases the caller's slot, logs the request and re-raises a handler's panic.
func (m *middleware) finish(ex *exchange, r *http.Request) {
	p := recover()
	c := m.c
	end := c.since()
	if ex.admitted {
		c.limiter.release(ex.verdict, end-ex.handlerStart, end)
	}
	if p != nil && ex.outcome == "" {
		ex.outcome = OutcomeAborted
	}
	c.record(ex, r, end-ex.began)
	if p != nil {
		panic(p)
	}
}

// record adds the request, which lasted took, to the log and the logger.
func (c *Controller) record(ex *exchange, r *http.Request, took time.Duration) {
	e := LogEntry{
		Time:     ex.start,
		Method:   r.Method,
		Path:     r.URL.Path,
		query:    logQuery(r),
		Status:   ex.status,
		Outcome:  ex.outcome,
		TenantID: ex.caller.TenantID,
		AppID:    ex.caller.AppID,
		Duration: took,
		Limit:    ex.limit.String(),
		Faults:   ex.faults,
	}
	if e.Status == 0 && e.Outcome == "" {
		e.Status = http.StatusOK // the handler wrote nothing; net/http sends 200
	}
	if ex.answered {
		e.Reason, e.Code = ex.internal, ex.code
		if e.Code == "" && e.Status >= 400 {
			_, e.Code = reasonFromBody(ex.body)
		}
	} else if e.Refused() {
		var bodyReason string
		if e.Status >= 400 {
			bodyReason, e.Code = reasonFromBody(ex.body)
		}
		switch p := ex.reason.Load(); {
		case p != nil:
			e.Reason = clip(*p)
		case e.Status == http.StatusUnauthorized && ex.caller.Refusal != "":
			// The Web API refused the caller the identity middleware could not authenticate.
			e.Reason = clip(ex.caller.Refusal)
		case bodyReason != "":
			e.Reason = bodyReason
		case e.Outcome == OutcomeAborted && r.Context().Err() != nil:
			// The Web API aborts a request whose client went away while it was served.
			e.Reason = "the client went away before the answer was complete; the handler aborted the request"
		case e.Outcome == OutcomeAborted:
			e.Reason = "the handler aborted the request before completing its response"
		case e.Status >= 400:
			e.Reason = fallbackReason(e.Status, ex.Header())
		default:
			e.Reason = ex.internal // a latency fault on a request that then succeeded
		}
	}
	e = c.log.add(e)

	// Every request is logged at Info, served or refused: the line is what `d365 emulator -v`
	// promises, and a served request is as much part of a trace as a refusal.
	const level = slog.LevelInfo
	ctx := context.Background()
	if !c.logger.Enabled(ctx, level) {
		return
	}
	e = e.withQuery()
	attrs := []slog.Attr{
		slog.String("method", e.Method), slog.String("path", e.Path), slog.Int("status", e.Status),
		slog.Duration("duration", e.Duration),
	}
	if e.AppID != "" {
		attrs = append(attrs, slog.String("tenant", e.TenantID), slog.String("app", e.AppID))
	}
	if e.Outcome != "" {
		attrs = append(attrs, slog.String("outcome", e.Outcome))
	}
	if e.Reason != "" {
		attrs = append(attrs, slog.String("reason", e.Reason))
	}
	if e.Code != "" {
		attrs = append(attrs, slog.String("code", e.Code))
	}
	if e.Limit != "" {
		attrs = append(attrs, slog.String("limit", e.Limit))
	}
	if len(e.Faults) > 0 {
		attrs = append(attrs, slog.Any("faults", e.Faults))
	}
	c.logger.LogAttrs(ctx, level, "traffic: request", attrs...)
}
