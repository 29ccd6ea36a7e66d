package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/traffic"
	"github.com/d365s2s/d365/emulator/internal/webapi"
)

// Service protection limits, fault rules and the request log. The types are those of the
// emulator's traffic middleware; the methods below and the admin routes under /_emulator/limits,
// /_emulator/faults and /_emulator/log reach it.
type (
	// Limits are Dataverse's service protection limits, counted per application user: requests
	// and combined execution time per sliding window, and concurrent requests. A zero limit is
	// off. See LimitsDefault, LimitsOff and LimitsStrict.
	Limits = traffic.Limits
	// FaultRule injects a failure: which requests (Match), which of their calls (Trigger) and
	// what happens (Action).
	FaultRule = traffic.FaultRule
	// FaultMatch selects the requests of a fault rule: path prefix, entity set, methods, tenant,
	// app.
	FaultMatch = traffic.FaultMatch
	// FaultTrigger selects which matching calls fire: the nth, the next k, with a probability,
	// in a time window.
	FaultTrigger = traffic.FaultTrigger
	// FaultAction is what a firing rule does: an error status with a Dataverse or Entra body, a
	// 429 with Retry-After, added latency, a dropped connection, the token endpoint down.
	FaultAction = traffic.FaultAction
	// FaultStatus is a fault rule with its counters (calls matched, calls fired).
	FaultStatus = traffic.FaultStatus
	// ActionKind names a fault action.
	ActionKind = traffic.ActionKind
	// BodyShape is the error body format of a fault: Dataverse's or Entra's.
	BodyShape = traffic.BodyShape
	// LogEntry is one request of the request log: method, path, status, caller, duration, and
	// for every refusal the reason in words and the error code.
	LogEntry = traffic.LogEntry
	// LogFilter selects request log entries.
	LogFilter = traffic.LogFilter
)

// The fault actions.
const (
	ActionError             = traffic.ActionError
	ActionThrottle          = traffic.ActionThrottle
	ActionLatency           = traffic.ActionLatency
	ActionDrop              = traffic.ActionDrop
	ActionTokenEndpointDown = traffic.ActionTokenEndpointDown
)

// The outcomes of LogEntry.Outcome for a request that got no ordinary response.
const (
	// OutcomeDropped: a fault rule closed the connection (or reset the HTTP/2 stream).
	OutcomeDropped = traffic.OutcomeDropped
	// OutcomeCancelled: the client went away during an injected delay.
	OutcomeCancelled = traffic.OutcomeCancelled
	// OutcomeAborted: the handler panicked (http.ErrAbortHandler or another panic).
	OutcomeAborted = traffic.OutcomeAborted
)

// DefaultDOPHint is the x-ms-dop-hint of LimitsDefault: the parallelism the emulator advises
// each application user when nothing else is configured. [unverified] Dataverse documents no fixed
// value; see the traffic package's constant for the reasoning.
const DefaultDOPHint = traffic.DefaultDOPHint

// The fault body shapes.
const (
	ShapeAuto      = traffic.ShapeAuto
	ShapeDataverse = traffic.ShapeDataverse
	ShapeEntra     = traffic.ShapeEntra
)

// LimitsDefault returns Dataverse's limits: 6,000 requests and 20 minutes of execution time per
// 300-second window, 52 concurrent requests, and x-ms-dop-hint DefaultDOPHint on every Web API
// response.
func LimitsDefault() Limits { return traffic.LimitsDefault() }

// LimitsOff returns limits with all three off: nothing is throttled.
func LimitsOff() Limits { return traffic.LimitsOff() }

// LimitsStrict returns limits a demo loop reaches in seconds: 20 requests and 5 s of execution
// time per 10-second window, 4 concurrent requests.
func LimitsStrict() Limits { return traffic.LimitsStrict() }

// LimitsPreset returns the preset named default, off or strict (the CLI's --limits values).
func LimitsPreset(name string) (Limits, error) {
	l, err := traffic.LimitsPreset(name)
	return l, fromTraffic(err)
}

// SetLimits replaces the service protection limits; every caller's windows start afresh.
// ErrInvalid names the field that is out of range.
func (e *Emulator) SetLimits(l Limits) error { return fromTraffic(e.traffic.SetLimits(l)) }

// Limits returns the service protection limits in force.
func (e *Emulator) Limits() Limits { return e.traffic.Limits() }

// AddFault adds a fault rule after the existing ones and returns its ID ("f1", "f2", … unless
// the rule names one). An invalid rule is ErrInvalid naming the field; an ID in use is
// ErrConflict.
func (e *Emulator) AddFault(rule FaultRule) (string, error) {
	id, err := e.traffic.AddFault(rule)
	if err != nil && strings.Contains(err.Error(), "already in use") {
		return "", conflictf("%s", err.Error())
	}
	return id, fromTraffic(err)
}

// RemoveFault removes the fault rule with this ID (ErrNotFound when there is none).
func (e *Emulator) RemoveFault(id string) error { return fromTraffic(e.traffic.RemoveFault(id)) }

// ClearFaults removes every fault rule.
func (e *Emulator) ClearFaults() { e.traffic.ClearFaults() }

// Faults lists the fault rules in order, with how often each matched and fired.
func (e *Emulator) Faults() []FaultStatus { return e.traffic.Faults() }

// RequestLog returns the logged requests f selects, oldest first: every request except the
// admin API's, with the reason in words for each refusal (401, 403, 429, faults). It never holds
// a token, a secret or a body.
func (e *Emulator) RequestLog(f LogFilter) []LogEntry { return e.traffic.Log(f) }

// ClearRequestLog empties the request log.
func (e *Emulator) ClearRequestLog() { e.traffic.ClearLog() }

// resetTraffic returns the limits and fault rules to the start's settings and empties the
// request log. The rules are swapped in one step (requests never see none of them), as they
// were at the start: a "for" window resolved then is not restarted, and counters start afresh.
func (e *Emulator) resetTraffic() error {
	if err := e.traffic.SetLimits(e.initialLimits); err != nil {
		return fromTraffic(err)
	}
	if err := e.traffic.ReplaceFaults(e.initialFaults); err != nil {
		return fromTraffic(err)
	}
	e.traffic.ClearLog()
	return nil
}

// resolveTenant names a tenant by its GUID when tenant is one of its domains, for the traffic
// middleware's fault matching; anything else comes back as it is.
func (e *Emulator) resolveTenant(tenant string) string {
	t, err := e.identity.Tenant(context.Background(), tenant)
	if err != nil {
		return tenant
	}
	return t.ID
}

// trafficRoutes mounts the traffic admin routes (limits, faults, request log).
func (e *Emulator) trafficRoutes(mux *http.ServeMux) {
	if e.traffic != nil {
		e.traffic.RegisterAdmin(mux)
	}
}

// fromTraffic turns the traffic package's errors into this package's.
func fromTraffic(err error) error {
	var ve *traffic.ValidationError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, traffic.ErrFaultNotFound):
		return notFoundf("%s", err.Error())
	case errors.As(err, &ve):
		return invalidf("%s", err.Error())
	}
	return fmt.Errorf("emulator: %w", err)
}

// newTraffic builds the middleware for the options and the scenario.
func (e *Emulator) newTraffic(o *Options, plan *scenarioPlan, auth *tokenAuthenticator) error {
	limits := LimitsDefault()
	seed := o.FaultSeed
	var faults []FaultRule
	if plan != nil {
		if plan.sc.Limits != nil {
			limits = *plan.sc.Limits
		}
		faults = append(faults, plan.sc.Faults...)
		if seed == 0 {
			seed = plan.sc.FaultSeed
		}
	}
	if o.Limits != nil {
		limits = *o.Limits
	}
	faults = append(faults, o.Faults...)
	tc, err := traffic.New(traffic.Options{
		Limits:        &limits,
		Faults:        faults,
		Seed:          seed,
		Now:           e.clock.Now,
		Identify:      auth.identify,
		ResolveTenant: e.resolveTenant,
		Challenge:     auth.challenge,
		Logger:        e.logger.With("component", "traffic"),
	})
	if err != nil {
		return invalidf("%s", strings.TrimPrefix(err.Error(), "traffic: "))
	}
	e.traffic = tc
	e.initialLimits = limits
	// The rules as added (ids assigned, "for" resolved to an until), for Reset.
	for _, st := range tc.Faults() {
		e.initialFaults = append(e.initialFaults, st.FaultRule)
	}
	return nil
}

var _ webapi.Authenticator = (*tokenAuthenticator)(nil)
