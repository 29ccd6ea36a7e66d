package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/scenario"
	"github.com/d365s2s/d365/emulator/internal/traffic"
	"github.com/d365s2s/d365/emulator/internal/webapi"
)

// The outcomes of LogEntry.Outcome for a request that got no ordinary response.
const (
	// OutcomeDropped: a fault rule closed the connection (or reset the HTTP/2 stream).
	OutcomeDropped = "dropped"
	// OutcomeCancelled: the client went away during an injected delay.
	OutcomeCancelled = "cancelled"
	// OutcomeAborted: the handler panicked (http.ErrAbortHandler or another panic).
	OutcomeAborted = "aborted"
)

// DefaultDOPHint is the x-ms-dop-hint of LimitsDefault: the parallelism the emulator advises
// each application user when nothing else is configured. [unverified] Dataverse documents no fixed
// value; see the traffic package's constant for the reasoning.
const DefaultDOPHint = 16

// LimitsDefault returns Dataverse's limits: 6,000 requests and 20 minutes of execution time per
// 300-second window, 52 concurrent requests, and x-ms-dop-hint DefaultDOPHint on every Web API
// response.
func LimitsDefault() Limits { return Limits(traffic.LimitsDefault()) }

// LimitsOff returns limits with all three off: nothing is throttled.
func LimitsOff() Limits { return Limits(traffic.LimitsOff()) }

// LimitsStrict returns limits a demo loop reaches in seconds: 20 requests and 5 s of execution
// time per 10-second window, 4 concurrent requests.
func LimitsStrict() Limits { return Limits(traffic.LimitsStrict()) }

// LimitsPreset returns the preset named default, off or strict (the CLI's --limits values).
func LimitsPreset(name string) (Limits, error) {
	l, err := traffic.LimitsPreset(name)
	return Limits(l), fromTraffic(err)
}

// SetLimits replaces the service protection limits; every caller's windows start afresh.
// ErrInvalid names the field that is out of range.
func (e *Emulator) SetLimits(l Limits) error {
	return fromTraffic(e.traffic.SetLimits(traffic.Limits(l)))
}

// Limits returns the service protection limits in force.
func (e *Emulator) Limits() Limits { return Limits(e.traffic.Limits()) }

// AddFault adds a fault rule after the existing ones and returns its ID ("f1", "f2", … unless
// the rule names one). An invalid rule is ErrInvalid naming the field; an ID in use is
// ErrConflict.
func (e *Emulator) AddFault(rule FaultRule) (string, error) {
	id, err := e.traffic.AddFault(rule.toTraffic())
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
func (e *Emulator) Faults() []FaultStatus { return faultStatusesFrom(e.traffic.Faults()) }

// RequestLog returns the logged requests f selects, oldest first: every request except the
// admin API's, with the reason in words for each refusal (401, 403, 429, faults). It never holds
// a token, a secret or a body.
func (e *Emulator) RequestLog(f LogFilter) []LogEntry {
	return logEntriesFrom(e.traffic.Log(traffic.LogFilter(f)))
}

// ClearRequestLog empties the request log.
func (e *Emulator) ClearRequestLog() { e.traffic.ClearLog() }

// resetTraffic returns the limits and fault rules to the start's settings and empties the
// request log. The rules are swapped in one step (requests never see none of them), as they
// were at the start: a "for" window resolved then is not restarted, and counters start afresh.
func (e *Emulator) resetTraffic() error {
	if err := e.traffic.SetLimits(traffic.Limits(e.initialLimits)); err != nil {
		return fromTraffic(err)
	}
	if err := e.traffic.ReplaceFaults(faultRulesToTraffic(e.initialFaults)); err != nil {
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
func (e *Emulator) newTraffic(o *Options, plan *scenario.Plan, identity func(http.Handler) http.Handler, api *webapi.Handler) error {
	limits := LimitsDefault()
	seed := o.FaultSeed
	var faults []FaultRule
	if plan != nil {
		sc := plan.Scenario()
		if sc.Limits != nil {
			limits = Limits(*sc.Limits)
		}
		for _, r := range sc.Faults {
			faults = append(faults, faultRuleFrom(r))
		}
		if seed == 0 {
			seed = sc.FaultSeed
		}
	}
	if o.Limits != nil {
		limits = *o.Limits
	}
	faults = append(faults, o.Faults...)
	trafficLimits := traffic.Limits(limits)
	tc, err := traffic.New(traffic.Options{
		Limits:        &trafficLimits,
		Faults:        faultRulesToTraffic(faults),
		Seed:          seed,
		Now:           e.clock.Now,
		Identity:      identity,
		ResolveTenant: e.resolveTenant,
		Challenge:     api.Challenge(),
		Logger:        e.logger.With("component", "traffic"),
		// The body is read ahead up to the Web API's limit; the Web API answers 413 beyond it.
		BodyReadTimeout: o.BodyReadTimeout,
		MaxBodyBytes:    webapi.DefaultMaxBodyBytes,
		BodyMeter:       api.BodyMeter,
	})
	if err != nil {
		return invalidf("%s", strings.TrimPrefix(err.Error(), "traffic: "))
	}
	e.traffic = tc
	e.initialLimits = limits
	// The rules as added (ids assigned, "for" resolved to an until), for Reset.
	for _, st := range tc.Faults() {
		e.initialFaults = append(e.initialFaults, faultRuleFrom(st.FaultRule))
	}
	return nil
}
