package traffic

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of injected bodies. The Entra ones are [unverified]: Microsoft documents neither the
// body of a throttled client-credentials request (MSAL's wiki says only "429 with Retry-After")
// nor that of an outage; the codes below are Entra's documented TenantThrottlingError and the
// transient-error code the emulator's token service already uses.
const (
	defaultDataverseCode   = "0x80040216" // generic "unexpected" platform error
	entraThrottleCode      = 90055
	entraThrottleMessage   = "There are too many incoming requests. Please try again later."
	entraTransientCode     = 90033
	entraTransientMessage  = "A transient error has occurred. Please try again."
	defaultThrottleRetries = 1 // seconds of Retry-After of a throttle action that gives none
)

// faultState is an added rule with its counters.
type faultState struct {
	rule    FaultRule
	idHash  uint64
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
	method string
	path   string
	api    bool
	token  bool
	table  string
	caller Caller
	now    time.Time
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
	if m.TenantID != "" && !strings.EqualFold(m.TenantID, ri.caller.TenantID) {
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
	case ActionDrop:
		ex.setInternalReason("fault rule " + id + ": dropped the connection without a response")
		dropConnection(w, r)
	case ActionTokenEndpointDown:
		if a.Drop {
			ex.setInternalReason("fault rule " + id + ": token endpoint down, dropped the connection")
			dropConnection(w, r)
			return
		}
		code, msg, oauth := entraTransientCode, entraTransientMessage, "temporarily_unavailable"
		if a.Code != "" {
			code, _ = strconv.Atoi(strings.TrimPrefix(a.Code, "AADSTS"))
		}
		if a.Message != "" {
			msg = a.Message
		}
		if a.Error != "" {
			oauth = a.Error
		}
		ex.setInternalReason(fmt.Sprintf("fault rule %s: token endpoint down (AADSTS%d: %s)", id, code, msg))
		writeEntraError(ex, r, ri.now, http.StatusServiceUnavailable, oauth, code, msg, a.RetryAfter)
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
			code, oauth, msg := entraDefaults(status, id)
			if a.Code != "" {
				code, _ = strconv.Atoi(strings.TrimPrefix(a.Code, "AADSTS"))
			}
			if a.Error != "" {
				oauth = a.Error
			}
			if a.Message != "" {
				msg = a.Message
			}
			ex.setInternalReason(fmt.Sprintf("fault rule %s: AADSTS%d: %s", id, code, firstSentence(msg)))
			writeEntraError(ex, r, ri.now, status, oauth, code, msg, retryAfter)
			return
		}
		if status == http.StatusUnauthorized && a.Code == "" && a.Message == "" {
			// Dataverse answers an unauthenticated request with an empty body and its challenge.
			ex.setInternalReason("fault rule " + id + ": 401 with an empty body")
			if c.challenge != "" {
				ex.Header().Set("WWW-Authenticate", c.challenge)
			}
			if retryAfter > 0 {
				ex.Header().Set("Retry-After", strconv.Itoa(retryAfter))
			}
			ex.Header().Set("Content-Length", "0")
			ex.WriteHeader(status)
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

// entraDefaults are the code, OAuth error and message of an Entra-shaped fault with only a
// status.
func entraDefaults(status int, id string) (code int, oauth, msg string) {
	switch {
	case status == http.StatusTooManyRequests:
		return entraThrottleCode, "temporarily_unavailable", entraThrottleMessage
	case status == http.StatusServiceUnavailable:
		return entraTransientCode, "temporarily_unavailable", entraTransientMessage
	case status >= 500:
		return entraTransientCode, "server_error", entraTransientMessage
	case status == http.StatusUnauthorized:
		return 7000215, "invalid_client", injectedMessage(status, id)
	}
	return 900144, "invalid_request", injectedMessage(status, id)
}

// dataverseDefaults are the code and message of a Dataverse-shaped fault without them. A 429's
// message quotes the limit its code names, with the configured numbers (Dataverse's defaults when
// that limit is off).
func (c *Controller) dataverseDefaults(status int, code, id string) (string, string) {
	if status == http.StatusTooManyRequests {
		l := c.Limits().normalized()
		d := LimitsDefault()
		switch code {
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
		return defaultDataverseCode, "An unexpected error occurred."
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
