package traffic

import (
	"context"
	"errors"
	"fmt"
	"github.com/d365s2s/d365/emulator/internal/caller"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/d365s2s/d365/emulator/internal/aadsts"
	"github.com/d365s2s/d365/emulator/internal/dverr"
)

// Defaults of injected bodies. Entra-shaped ones come from the token service's catalogue
// (package aadsts): a throttle is its TenantThrottlingError (90055), an outage its transient
// error (90033), both [unverified] there.
const (
	defaultDataverseCode   = dverr.CodeUnexpected // generic "unexpected" platform error
	defaultThrottleRetries = 1                    // seconds of Retry-After of a throttle action that gives none
)

// faultState is an added rule with its counters.
type faultState struct {
	rule    FaultRule
	idHash  uint64
	tenant  string       // Match.TenantID resolved to a GUID when Options.ResolveTenant knows it
	matched atomic.Int64 // calls that matched (and fell in the time window)
	fired   atomic.Int64 // calls this rule acted on
}

// faultSet holds the rules. Readers take an immutable snapshot; writers copy on write.
type faultSet struct {
	mu     sync.Mutex // serialises writers
	rules  atomic.Pointer[[]*faultState]
	nextID int
}

func (fs *faultSet) snapshot() []*faultState {
	if p := fs.rules.Load(); p != nil {
		return *p
	}
	return nil
}

// fired is what the fault rules decided for one request.
type fired struct {
	delay    time.Duration
	delayIDs []string
	terminal *faultState
}

// ids lists the rules that acted, latency first.
func (f *fired) ids() []string {
	if f.terminal == nil {
		return f.delayIDs
	}
	return append(f.delayIDs, f.terminal.rule.ID)
}

// reqInfo is what rules match on, computed once per request.
type reqInfo struct {
	tenantSegment string // the {tenant} of a token path, as written
	method        string
	path          string
	api           bool
	token         bool
	delta         bool // a Web API request with $deltatoken
	table         string
	caller        caller.Caller
	now           time.Time
}

// evaluate runs every rule against the request.
func (c *Controller) evaluate(rules []*faultState, ri *reqInfo) (f fired) {
	for _, fs := range rules {
		if !fs.matches(ri) {
			continue
		}
		n := fs.matched.Add(1)
		if !fs.selects(n, c.seed) {
			continue
		}
		if fs.rule.Action.Kind == ActionLatency {
			fs.fired.Add(1)
			f.delay += fs.rule.Action.Delay
			f.delayIDs = append(f.delayIDs, fs.rule.ID)
			continue
		}
		if f.terminal == nil {
			fs.fired.Add(1)
			f.terminal = fs
		}
	}
	return f
}

func (fs *faultState) matches(ri *reqInfo) bool {
	m := &fs.rule.Match
	if len(m.Methods) > 0 {
		ok := false
		for _, meth := range m.Methods {
			if meth == ri.method {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if m.PathPrefix != "" && !strings.HasPrefix(ri.path, m.PathPrefix) {
		return false
	}
	if m.Table != "" && (!ri.api || ri.table != m.Table) {
		return false
	}
	if fs.rule.Action.Kind == ActionTokenEndpointDown && !ri.token {
		return false
	}
	if fs.rule.Action.Kind == ActionExpireDeltaToken && !ri.delta {
		return false
	}
	if fs.tenant != "" && !strings.EqualFold(fs.tenant, ri.caller.TenantID) {
		return false
	}
	if m.AppID != "" && !strings.EqualFold(m.AppID, ri.caller.AppID) {
		return false
	}
	t := &fs.rule.Trigger
	if !t.From.IsZero() && ri.now.Before(t.From) {
		return false
	}
	if !t.Until.IsZero() && !ri.now.Before(t.Until) {
		return false
	}
	return true
}

// selects reports whether matching call n fires.
func (fs *faultState) selects(n int64, seed int64) bool {
	t := &fs.rule.Trigger
	first := int64(max(t.Nth, 1))
	switch {
	case n < first:
		return false
	case t.Count == 0 && t.Nth > 0:
		if n != first {
			return false
		}
	case t.Count > 0:
		if n >= first+int64(t.Count) {
			return false
		}
	}
	if t.Probability > 0 && t.Probability < 1 {
		return draw(seed, fs.idHash, n) < t.Probability
	}
	return true
}

// draw is a uniform number in [0, 1) that depends only on the seed, the rule and the call number
// (SplitMix64 finaliser), so concurrent requests of other rules cannot shift it.
func draw(seed int64, rule uint64, n int64) float64 {
	z := uint64(seed) ^ rule ^ (uint64(n) * 0x9e3779b97f4a7c15)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

func hashID(id string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()
}

// errClientGone reports a request cancelled while an injected delay was running.
var errClientGone = errors.New("client went away")

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return errClientGone
	}
}

// respond carries out a terminal action (every kind but latency).
func (c *Controller) respond(w http.ResponseWriter, r *http.Request, ex *exchange, ri *reqInfo, fs *faultState) {
	a := &fs.rule.Action
	id := fs.rule.ID
	switch a.Kind {
	case ActionExpireDeltaToken:
		respondExpiredDeltaToken(ex, id)
	case ActionDrop:
		ex.setInternalReason("fault rule " + id + ": dropped the connection without a response")
		dropConnection(w, r)
	case ActionTokenEndpointDown:
		if a.Drop {
			ex.setInternalReason("fault rule " + id + ": token endpoint down, dropped the connection")
			dropConnection(w, r)
			return
		}
		e := aadsts.Transient()
		c.entraOverrides(e, a, ri, http.StatusServiceUnavailable)
		ex.setInternalReason(fmt.Sprintf("fault rule %s: token endpoint down (AADSTS%d: %s)", id, e.Code, e.Message))
		aadsts.Write(ex, e, aadsts.NewTrace(r, ri.now), a.RetryAfter)
	case ActionError, ActionThrottle:
		status := a.Status
		retryAfter := a.RetryAfter
		if a.Kind == ActionThrottle {
			status = http.StatusTooManyRequests
			if retryAfter == 0 {
				retryAfter = defaultThrottleRetries
			}
		}
		if c.entraShaped(a, ri) {
			e := entraDefaults(status, id)
			c.entraOverrides(e, a, ri, status)
			ex.setInternalReason(fmt.Sprintf("fault rule %s: AADSTS%d: %s", id, e.Code, firstSentence(e.Message)))
			aadsts.Write(ex, e, aadsts.NewTrace(r, ri.now), retryAfter)
			return
		}
		if status == http.StatusUnauthorized && a.Code == "" && a.Message == "" {
			// Dataverse answers an unauthenticated request with an empty body and its challenge.
			ex.setInternalReason("fault rule " + id + ": 401 with an empty body")
			if retryAfter > 0 {
				ex.Header().Set("Retry-After", strconv.Itoa(retryAfter))
			}
			caller.WriteUnauthorized(ex, c.challenge)
			return
		}
		code, msg := c.dataverseDefaults(status, a.Code, id)
		if a.Code != "" {
			code = a.Code
		}
		if a.Message != "" {
			msg = a.Message
		}
		ex.setInternalReason("fault rule " + id + ": " + msg)
		writeDataverseError(ex, status, code, msg, retryAfter)
	}
}

// tenantAsWritten is how the caller named its tenant: the token path's segment, else the
// caller's tenant.
func (ri *reqInfo) tenantAsWritten() string {
	if ri.tenantSegment != "" {
		return ri.tenantSegment
	}
	return ri.caller.TenantID
}

// entraShaped decides the body shape of an error or throttle action.
func (c *Controller) entraShaped(a *FaultAction, ri *reqInfo) bool {
	switch a.Shape {
	case ShapeEntra:
		return true
	case ShapeDataverse:
		return false
	}
	return strings.HasPrefix(a.Code, "AADSTS") || !ri.api
}

// entraDefaults is the answer of an Entra-shaped fault that gives only a status.
func entraDefaults(status int, id string) *aadsts.Error {
	switch {
	case status == http.StatusTooManyRequests:
		return aadsts.Throttled()
	case status == http.StatusServiceUnavailable:
		return aadsts.Transient()
	case status >= 500:
		e := aadsts.Transient()
		e.Status, e.OAuth = status, "server_error"
		return e
	case status == http.StatusUnauthorized:
		return &aadsts.Error{Status: status, OAuth: "invalid_client", Code: 7000215, Message: injectedMessage(status, id)}
	}
	return &aadsts.Error{Status: status, OAuth: "invalid_request", Code: 900144, Message: injectedMessage(status, id)}
}

// entraOverrides applies what the rule gives to e: an AADSTS code brings its OAuth error and
// wording from the token service's catalogue (the caller's tenant and client ID filled in);
// the rule's own error and message win over both. status is the answer's HTTP status.
func (c *Controller) entraOverrides(e *aadsts.Error, a *FaultAction, ri *reqInfo, status int) {
	e.Status = status
	if a.Code != "" {
		code, _ := strconv.Atoi(strings.TrimPrefix(a.Code, "AADSTS"))
		if known, ok := aadsts.Lookup(code, aadsts.Params{Tenant: ri.tenantAsWritten(), ClientID: ri.caller.AppID, Now: ri.now}); ok {
			e.OAuth, e.Message = known.OAuth, known.Message
		}
		e.Code = code
	}
	if a.Error != "" {
		e.OAuth = a.Error
	}
	if a.Message != "" {
		e.Message = a.Message
	}
}

// dataverseDefaults are the code and message of a Dataverse-shaped fault without them. A 429's
// message quotes the limit its code names, with the configured numbers (Dataverse's defaults when
// that limit is off).
func (c *Controller) dataverseDefaults(status int, code, id string) (string, string) {
	if status == http.StatusTooManyRequests {
		l := c.Limits().normalized()
		d := LimitsDefault()
		switch strings.ToLower(code) {
		case CodeExecutionTimeExceeded:
			if l.ExecutionTime == 0 {
				l.ExecutionTime, l.Window = d.ExecutionTime, d.Window
			}
			return code, executionTimeMessage(l)
		case CodeConcurrencyExceeded:
			if l.Concurrent == 0 {
				l.Concurrent = d.Concurrent
			}
			return code, concurrencyMessage(l)
		case "", CodeRequestsExceeded:
			if l.Requests == 0 {
				l.Requests, l.Window = d.Requests, d.Window
			}
			return CodeRequestsExceeded, requestsMessage(l)
		}
	}
	if status == http.StatusInternalServerError {
		return defaultDataverseCode, dverr.UnexpectedMessage
	}
	return defaultDataverseCode, injectedMessage(status, id)
}

func injectedMessage(status int, id string) string {
	text := http.StatusText(status)
	if text == "" {
		text = "HTTP " + strconv.Itoa(status)
	}
	return text + " (injected by the emulator's fault rule " + id + ")."
}

// dropConnection ends the exchange without a response: over HTTP/1 it hijacks the connection and
// closes it; HTTP/2 cannot hijack, so it aborts the handler, which makes net/http reset the stream.
func dropConnection(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
