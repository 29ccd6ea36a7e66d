package dataverse

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// The governor's defaults.
const (
	// DefaultGovernorConcurrency is the concurrency a Governor allows before the service has
	// sent an x-ms-dop-hint: 5, the .NET ServiceClient's RecommendedDegreesOfParallelism until
	// a response carries the header, which its maintainers give as the lowest hint the service
	// sends (https://github.com/microsoft/PowerPlatform-DataverseServiceClient/issues/430).
	DefaultGovernorConcurrency = 5

	// DefaultGovernorMaxConcurrency caps the concurrency whatever x-ms-dop-hint says: 52, the
	// concurrent requests Dataverse allows one user per web server. The default HTTP client keeps
	// more connections per host than this open, so every admitted request has its own.
	DefaultGovernorMaxConcurrency = 52
)

// Tuning of the governor's reactions.
const (
	// throttlePauseFallback is the pause after a request-count or execution-time 429 that has
	// no Retry-After: the .NET ServiceClient's RetryPauseTime.
	throttlePauseFallback = 5 * time.Second

	// resumeJitterFraction and maxResumeJitter spread the workers that resume after a pause
	// (or retry after a concurrency 429) over a quarter of the wait, at most one second, so
	// that they do not land on the service together.
	resumeJitterFraction = 4
	maxResumeJitter      = time.Second

	// concurrencyDecrease is the multiplicative decrease of AIMD: a concurrency 429 halves the
	// limit (once per round: see Governor.epoch).
	concurrencyDecrease = 0.5
)

// GovernorOptions tune the [Governor] of a Client's application user (ClientOptions.Governor).
// The zero value selects every default.
type GovernorOptions struct {
	// Disabled sends this Client's requests without admission by the governor: no
	// concurrency limit and no shared pause. Throttled calls are still retried, each waiting
	// its own Retry-After (with jitter).
	Disabled bool

	// InitialConcurrency is the concurrency allowed before the service sends x-ms-dop-hint;
	// 0 means DefaultGovernorConcurrency.
	InitialConcurrency int

	// MaxConcurrency caps the concurrency whatever x-ms-dop-hint says; 0 means
	// DefaultGovernorMaxConcurrency.
	MaxConcurrency int
}

// validate reports options out of range.
func (o GovernorOptions) validate() error {
	switch {
	case o.InitialConcurrency < 0:
		return invalidf("dataverse: NewClient: Governor.InitialConcurrency %d is negative; 0 means the default of %d", o.InitialConcurrency, DefaultGovernorConcurrency)
	case o.MaxConcurrency < 0:
		return invalidf("dataverse: NewClient: Governor.MaxConcurrency %d is negative; 0 means the default of %d", o.MaxConcurrency, DefaultGovernorMaxConcurrency)
	case o.MaxConcurrency > 0 && o.InitialConcurrency > o.MaxConcurrency:
		return invalidf("dataverse: NewClient: Governor.InitialConcurrency %d is above Governor.MaxConcurrency %d", o.InitialConcurrency, o.MaxConcurrency)
	}
	return nil
}

// Governor paces the requests of one application user of one environment, across every
// Client and job of the process that use it: the service protection limits count per user, so
// their budget is shared (see [Client.Governor]).
//
//   - Admission: at most Limit requests are in flight at once. The limit starts at
//     GovernorOptions.InitialConcurrency (5), follows the x-ms-dop-hint header read from every
//     response, and never exceeds it (nor GovernorOptions.MaxConcurrency).
//   - AIMD: a 429 for concurrent requests (0x80072326) halves the limit; every response that is
//     not a 429 or a 5xx raises it by 1/limit, so by one per round of successes, up to the hint.
//   - Pause: a 429 for the number of requests (0x80072322) or the combined execution time
//     (0x80072321) holds every request of the application user until its Retry-After has
//     passed: nothing is sent during the pause. Each waiting request then resumes after its
//     own random part of a quarter of the pause (at most one second).
//
// Requests are admitted when they are about to be sent (after the access token is attached)
// and leave the count when the response headers arrive.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/api-limits and
// https://learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests
type Governor struct {
	initial, max int

	mu       sync.Mutex
	limit    float64 // AIMD's current concurrency; the admitted count is its floor, at least 1
	hint     int     // last x-ms-dop-hint, 0 before the first
	inflight int
	// epoch counts the decreases: a concurrency 429 of a request admitted before the last
	// decrease does not decrease again, so one burst of refusals halves the limit once.
	epoch   uint64
	waiters []chan struct{} // FIFO of requests waiting for a slot
	// pauseUntil ends the current pause; pauseGen counts pauses and their extensions, so a
	// request knows whether the pause it waited for is the one in force.
	pauseUntil time.Time
	pauseLen   time.Duration
	pauseGen   uint64
	paused     time.Duration
	onPause    func(from, until time.Time) // tests: see OnGovernorPause
	// steadyHint is the hint while the limit is at its ceiling (0 before any hint), -1
	// otherwise: a response with no news for a steady governor takes no lock (answered).
	steadyHint atomic.Int64

	sent, concurrencyThrottles, requestThrottles, executionTimeThrottles atomic.Int64
}

// GovernorStats is a snapshot of a [Governor].
type GovernorStats struct {
	// DOPHint is the last x-ms-dop-hint the service sent, 0 before the first.
	DOPHint int
	// Limit is the concurrency allowed now (Governor.Limit).
	Limit int
	// InFlight is the number of requests sent whose response has not arrived.
	InFlight int
	// Sent counts the requests admitted and sent, retries included.
	Sent int64
	// ConcurrencyThrottles, RequestThrottles and ExecutionTimeThrottles count the 429s of each
	// limit (0x80072326, 0x80072322, 0x80072321).
	ConcurrencyThrottles, RequestThrottles, ExecutionTimeThrottles int64
	// Paused is the cumulative time every request of the application user was held by a pause.
	Paused time.Duration
}

func newGovernor(o GovernorOptions) *Governor {
	g := &Governor{initial: o.InitialConcurrency, max: o.MaxConcurrency}
	if g.max == 0 {
		g.max = DefaultGovernorMaxConcurrency
	}
	if g.initial == 0 {
		g.initial = min(DefaultGovernorConcurrency, g.max)
	}
	g.limit = float64(g.initial)
	g.steadyLocked()
	return g
}

// steadyLocked records whether the limit is at its ceiling (see steadyHint).
func (g *Governor) steadyLocked() {
	if g.limit >= g.ceilingLocked() {
		g.steadyHint.Store(int64(g.hint))
	} else {
		g.steadyHint.Store(-1)
	}
}

// Limit returns the concurrency allowed now: at most x-ms-dop-hint once the service sent it.
func (g *Governor) Limit() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limitLocked()
}

// Stats returns a snapshot of the governor's state and counters.
func (g *Governor) Stats() GovernorStats {
	g.mu.Lock()
	s := GovernorStats{DOPHint: g.hint, Limit: g.limitLocked(), InFlight: g.inflight, Paused: g.paused}
	g.mu.Unlock()
	s.Sent = g.sent.Load()
	s.ConcurrencyThrottles = g.concurrencyThrottles.Load()
	s.RequestThrottles = g.requestThrottles.Load()
	s.ExecutionTimeThrottles = g.executionTimeThrottles.Load()
	return s
}

func (g *Governor) limitLocked() int { return max(int(g.limit), 1) }

// ceilingLocked is the highest limit allowed: the hint (or the initial concurrency before one),
// capped by the maximum.
func (g *Governor) ceilingLocked() float64 {
	if g.hint > 0 {
		return float64(min(g.hint, g.max))
	}
	return float64(g.initial)
}

// admission is one admitted request.
type admission struct{ epoch uint64 }

// pauseError is returned when a pause lasts beyond the context's deadline: the request is not
// sent, and the caller learns at once instead of waiting to fail.
type pauseError struct{ until time.Time }

// Error implements error.
func (e *pauseError) Error() string {
	return "dataverse: the application user's requests are paused by the service's throttling until " +
		e.until.UTC().Format(time.RFC3339Nano) + ", after the context's deadline"
}

// Is makes the error match context.DeadlineExceeded.
func (e *pauseError) Is(target error) bool { return target == context.DeadlineExceeded }

// NonRetriable is azcore's marker: the retry policy returns the error as it is.
func (e *pauseError) NonRetriable() {}

// admit waits until no pause is in force and a slot is free, then takes the slot. Waits go
// through w.sleep (the Client's, so tests see them) and are added to *waited. When waitedOut,
// the caller has already waited out the pause of generation seen.
func (g *Governor) admit(ctx context.Context, w *retrySettings, waited *time.Duration, seen uint64, waitedOut bool) (admission, error) {
	first := !waitedOut
	for {
		g.mu.Lock()
		if !g.pauseUntil.IsZero() && (first || g.pauseGen != seen) {
			if now := time.Now(); now.Before(g.pauseUntil) {
				until, gen, plen := g.pauseUntil, g.pauseGen, g.pauseLen
				g.mu.Unlock()
				if err := g.waitPause(ctx, w, waited, now, until, plen); err != nil {
					return admission{}, err
				}
				seen, first = gen, false
				continue
			}
		}
		seen, first = g.pauseGen, false
		if len(g.waiters) == 0 && g.inflight < g.limitLocked() {
			g.inflight++
			a := admission{epoch: g.epoch}
			g.mu.Unlock()
			g.sent.Add(1)
			return a, nil
		}
		ch := make(chan struct{})
		g.waiters = append(g.waiters, ch)
		g.mu.Unlock()
		if err := g.awaitSlot(ctx, ch); err != nil {
			return admission{}, err
		}
		g.mu.Lock()
		if g.pauseGen != seen && time.Now().Before(g.pauseUntil) {
			// A pause began while this request waited for its slot: give the slot back
			// and wait the pause out.
			g.inflight--
			g.grantLocked()
			g.mu.Unlock()
			continue
		}
		a := admission{epoch: g.epoch}
		g.mu.Unlock()
		g.sent.Add(1)
		return a, nil
	}
}

// waitPause waits until the pause that ends at until (it lasts plen) is over, plus a resume
// jitter; a pause that ends after the context's deadline fails at once with a *pauseError.
func (g *Governor) waitPause(ctx context.Context, w *retrySettings, waited *time.Duration, now, until time.Time, plen time.Duration) error {
	d := until.Sub(now)
	if dl, ok := ctx.Deadline(); ok && until.After(dl) {
		return &pauseError{until: until}
	} else if j := w.jitter(plen); !ok || now.Add(d+j).Before(dl) {
		d += j // no jitter past the deadline
	}
	if err := w.sleep(ctx, d); err != nil {
		return err
	}
	*waited += d
	return nil
}

// awaitSlot waits until release hands ch a slot, or the context ends.
func (g *Governor) awaitSlot(ctx context.Context, ch chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		defer g.mu.Unlock()
		for i, w := range g.waiters {
			if w == ch {
				g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
				return ctx.Err()
			}
		}
		// The slot was handed over as the context ended: pass it on.
		g.inflight--
		g.grantLocked()
		return ctx.Err()
	}
}

// release frees a slot and hands free slots to waiting requests.
func (g *Governor) release() {
	g.mu.Lock()
	g.inflight--
	g.grantLocked()
	g.mu.Unlock()
}

// grantLocked hands slots to waiting requests while the limit allows.
func (g *Governor) grantLocked() {
	for len(g.waiters) > 0 && g.inflight < g.limitLocked() {
		ch := g.waiters[0]
		g.waiters[0] = nil
		g.waiters = g.waiters[1:]
		g.inflight++
		close(ch)
	}
}

// answered tells the governor about a response that is not a 429: hint is its x-ms-dop-hint
// (0 when absent), and ok says it was not a server error either, which raises the limit by
// 1/limit (the additive increase: one more slot per round of limit successes). The first hint
// sets the limit; a later lower one caps it, and a higher one lets the increase climb to it.
func (g *Governor) answered(hint int, ok bool) {
	if s := g.steadyHint.Load(); s >= 0 && (hint <= 0 || int64(hint) == s) {
		return // at the ceiling, and the hint is the same: nothing changes
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.followHintLocked(hint)
	if c := g.ceilingLocked(); ok && g.limit < c {
		g.limit = min(g.limit+1/float64(g.limitLocked()), c)
		g.grantLocked()
	}
	g.steadyLocked()
}

// followHintLocked follows a new x-ms-dop-hint (see answered).
func (g *Governor) followHintLocked(hint int) {
	if hint <= 0 || hint == g.hint {
		return
	}
	first := g.hint == 0
	g.hint = hint
	if c := g.ceilingLocked(); first || g.limit > c {
		g.limit = c
	}
	g.grantLocked()
}

// concurrencyThrottled is the multiplicative decrease, once per epoch.
func (g *Governor) concurrencyThrottled(a admission, hint int) {
	g.concurrencyThrottles.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.followHintLocked(hint)
	defer g.steadyLocked()
	if a.epoch != g.epoch {
		return // already decreased for this round
	}
	g.epoch++
	g.limit = max(g.limit*concurrencyDecrease, 1)
}

// pause holds every request until d from now (extending, never shortening, a pause in force).
func (g *Governor) pause(d time.Duration, hint int) {
	if d <= 0 {
		d = throttlePauseFallback
	}
	until := time.Now().Add(d)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.followHintLocked(hint)
	g.steadyLocked()
	if !until.After(g.pauseUntil) {
		return
	}
	from := time.Now()
	if g.pauseUntil.After(from) {
		from = g.pauseUntil
	}
	g.paused += until.Sub(from)
	g.pauseUntil, g.pauseLen = until, d
	g.pauseGen++
	if g.onPause != nil {
		g.onPause(from, until)
	}
}

// pauseLeft is how long the pause in force lasts from now (0 when none), and its generation.
func (g *Governor) pauseLeft() (time.Duration, uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return max(time.Until(g.pauseUntil), 0), g.pauseGen
}

// resumeJitter is a random part of a quarter of wait, at most maxResumeJitter.
func resumeJitter(wait time.Duration) time.Duration {
	spread := min(wait/resumeJitterFraction, maxResumeJitter)
	if spread <= 0 {
		return 0
	}
	return rand.N(spread)
}
