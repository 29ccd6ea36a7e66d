package traffic

import (
	"github.com/d365s2s/d365/emulator/internal/caller"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// concurrencyRetryAfter is the Retry-After, in seconds, of a 429 for too many concurrent
// requests. [unverified] Microsoft documents only that the concurrency limit trips immediately;
// one second (the least Retry-After can say) lets a well-behaved client retry as soon as one of
// its requests has finished.
const concurrencyRetryAfter = 1

// maxHammerPenalty caps the seconds added to Retry-After for requests sent before an earlier
// Retry-After elapsed.
const maxHammerPenalty = 300

// retryAfterReactionTime is how long after the first refusal of a refusal period a refused
// request is still taken to have been in flight when the limit was reached: sent before its
// caller could have read any Retry-After. Such a request is refused with the time left, and does
// not lengthen the wait; only a request arriving later, from a caller that had been told a
// Retry-After and came back before it elapsed, adds a second per early return. [unverified]
// Microsoft documents only that the server lengthens Retry-After when a client keeps sending
// demanding traffic after a 429, not how it tells a retry from a request already in flight; one
// second covers a round trip and the requests a pool of workers had already sent.
const retryAfterReactionTime = time.Second

// execGranules is how finely the execution-time window is kept: requests that finish within
// Window/execGranules of each other share one entry, so a caller's memory is bounded however many
// requests it sends. The admission time computed from it is late by at most that granule.
const execGranules = 256

// limitKind names the limit a 429 is for.
type limitKind uint8

const (
	limitNone limitKind = iota
	limitRequests
	limitExecutionTime
	limitConcurrent
)

// String is the name used in the request log's "limit" field.
func (k limitKind) String() string {
	switch k {
	case limitRequests:
		return "requests"
	case limitExecutionTime:
		return "executionTime"
	case limitConcurrent:
		return "concurrent"
	}
	return ""
}

// limitConfig is one immutable setting of the limits. gen changes with every SetLimits, which
// starts every caller's windows afresh (the concurrency count carries over: those requests are
// still running).
type limitConfig struct {
	Limits
	gen           uint64
	window        int64 // nanoseconds
	granule       int64 // nanoseconds
	requestsMsg   string
	execTimeMsg   string
	concurrentMsg string
}

func newLimitConfig(l Limits, gen uint64) *limitConfig {
	l = l.normalized()
	cfg := &limitConfig{Limits: l, gen: gen, window: int64(l.Window)}
	cfg.granule = max(cfg.window/execGranules, 1)
	if l.Requests > 0 {
		cfg.requestsMsg = requestsMessage(l)
	}
	if l.ExecutionTime > 0 {
		cfg.execTimeMsg = executionTimeMessage(l)
	}
	if l.Concurrent > 0 {
		cfg.concurrentMsg = concurrencyMessage(l)
	}
	return cfg
}

func (cfg *limitConfig) message(k limitKind) (code, msg string) {
	switch k {
	case limitRequests:
		return CodeRequestsExceeded, cfg.requestsMsg
	case limitExecutionTime:
		return CodeExecutionTimeExceeded, cfg.execTimeMsg
	case limitConcurrent:
		return CodeConcurrencyExceeded, cfg.concurrentMsg
	}
	return "", ""
}

// callerKey identifies an application user: the tenant and the app (client) id, lower-cased.
type callerKey struct{ tenant, app string }

// limiter meters requests per caller.
type limiter struct {
	cfg atomic.Pointer[limitConfig]

	mu      sync.RWMutex
	callers map[callerKey]*callerState
}

func newLimiter(l Limits) *limiter {
	lim := &limiter{callers: make(map[callerKey]*callerState)}
	lim.cfg.Store(newLimitConfig(l, 1))
	return lim
}

func (lim *limiter) set(l Limits) {
	for {
		old := lim.cfg.Load()
		if lim.cfg.CompareAndSwap(old, newLimitConfig(l, old.gen+1)) {
			return
		}
	}
}

func (lim *limiter) state(c caller.Caller) *callerState {
	key := callerKey{strings.ToLower(c.TenantID), strings.ToLower(c.AppID)}
	lim.mu.RLock()
	st := lim.callers[key]
	lim.mu.RUnlock()
	if st != nil {
		return st
	}
	lim.mu.Lock()
	defer lim.mu.Unlock()
	if st = lim.callers[key]; st == nil {
		st = &callerState{}
		lim.callers[key] = st
	}
	return st
}

// execEntry is execution time of requests that finished between first and end (monotonic
// nanoseconds), a span of less than one granule.
type execEntry struct {
	first int64
	end   int64
	dur   int64
}

// callerState is one caller's windows. All fields are guarded by mu. Times are nanoseconds on
// the limiter's monotonic clock (see Controller.since), never the emulator's offset clock.
type callerState struct {
	mu       sync.Mutex
	gen      uint64
	inflight int
	last     int64 // latest time seen; later times are clamped to it so windows stay ordered

	// reqs holds the arrival times of the most recent admitted requests, at most Requests of them,
	// oldest at reqHead once the ring is full.
	reqs    []int64
	reqHead int

	exec    []execEntry // oldest first from execHead
	execOff int
	execSum int64

	// blockedUntil is the admission time the first rate-limit refusal of a refusal period
	// announced (its arrival plus its Retry-After); requests before it are refused. Early
	// requests never move it.
	blockedUntil int64
	blockedAt    int64 // when the first refusal of the period was answered
	blockedBy    limitKind
	strikes      int // early returns in the current refusal period
}

// verdict is the outcome of admit.
type verdict struct {
	cfg            *limitConfig
	st             *callerState
	rejected       limitKind
	retryAfter     int   // seconds, on rejection
	early          bool  // the caller came back before the admission time it was given
	inFlight       bool  // refused as sent before the caller could read the period's first refusal
	sinceBlocked   int64 // nanoseconds since the period's first refusal, for early and inFlight
	strikes        int   // how many early returns this refusal period has seen, this one included
	burstRemaining int   // requests left in the window; -1 when the limit is off
	timeRemaining  int64 // execution nanoseconds left in the window; -1 when the limit is off
}

// admit decides whether a request from c arriving at now (on the limiter's monotonic clock) may
// run. An admitted request must be followed by release.
func (lim *limiter) admit(cfg *limitConfig, c caller.Caller, now time.Duration) verdict {
	st := lim.state(c)
	v := verdict{cfg: cfg, st: st, burstRemaining: -1, timeRemaining: -1}

	st.mu.Lock()
	defer st.mu.Unlock()
	if st.gen != cfg.gen {
		st.reset(cfg)
	}
	t := max(int64(now), st.last)
	st.last = t
	st.expireExec(t - cfg.window)

	if t < st.blockedUntil {
		// Before the admission time the first refusal announced: refuse for the same limit.
		v.rejected = st.blockedBy
		v.sinceBlocked = t - st.blockedAt
		left := ceilSeconds(st.blockedUntil - t)
		if v.sinceBlocked < int64(retryAfterReactionTime) {
			// In flight when the limit was reached: told the time left, nothing more.
			v.inFlight = true
			v.retryAfter = left
		} else {
			// A caller back before its Retry-After elapsed: this request's own Retry-After is
			// longer by a second per early return of the period (a client that keeps hammering
			// sees it grow), but the admission time stays where it is, so siblings that wait
			// out their Retry-After get in.
			st.strikes++
			v.early, v.strikes = true, st.strikes
			v.retryAfter = left + min(st.strikes, maxHammerPenalty)
		}
		v.burstRemaining, v.timeRemaining = st.remaining(cfg, t)
		return v
	}
	if cfg.Concurrent > 0 && st.inflight >= cfg.Concurrent {
		v.rejected = limitConcurrent
		v.retryAfter = concurrencyRetryAfter
		v.burstRemaining, v.timeRemaining = st.remaining(cfg, t)
		return v
	}
	if at, kind := st.rateAdmitAt(cfg, t), st.rateExceeded(cfg, t); kind != limitNone {
		// The first refusal of a period fixes the admission time for every request of the caller.
		secs := max(ceilSeconds(at-t), 1)
		st.blockedUntil = t + int64(secs)*int64(time.Second)
		st.blockedAt = t
		st.blockedBy = kind
		st.strikes = 0
		v.rejected = kind
		v.retryAfter = secs
		v.burstRemaining, v.timeRemaining = st.remaining(cfg, t)
		return v
	}

	st.inflight++
	if cfg.Requests > 0 {
		st.pushRequest(cfg, t)
	}
	v.burstRemaining, v.timeRemaining = st.remaining(cfg, t)
	return v
}

// ceilSeconds rounds a non-negative span of nanoseconds up to whole seconds.
func ceilSeconds(nanos int64) int {
	return int((max(nanos, 0) + int64(time.Second) - 1) / int64(time.Second))
}

// release ends an admitted request that ran for dur and finished at end (on the limiter's
// monotonic clock).
func (lim *limiter) release(v verdict, dur, end time.Duration) {
	st := v.st
	st.mu.Lock()
	defer st.mu.Unlock()
	st.inflight--
	cfg := lim.cfg.Load()
	if cfg.ExecutionTime == 0 || dur <= 0 {
		return
	}
	if st.gen != cfg.gen {
		st.reset(cfg)
	}
	t := max(int64(end), st.last)
	st.last = t
	if n := len(st.exec); n > st.execOff && t-st.exec[n-1].first < cfg.granule {
		// Same granule as the latest entry: keep the later time, so the entry leaves the window
		// no earlier than any of its requests (and at most one granule later).
		st.exec[n-1].end = t
		st.exec[n-1].dur += int64(dur)
	} else {
		if st.execOff > 0 && st.execOff >= len(st.exec)/2 {
			st.exec = append(st.exec[:0], st.exec[st.execOff:]...)
			st.execOff = 0
		}
		st.exec = append(st.exec, execEntry{first: t, end: t, dur: int64(dur)})
	}
	st.execSum += int64(dur)
}

func (st *callerState) reset(cfg *limitConfig) {
	st.gen = cfg.gen
	st.reqs = st.reqs[:0]
	st.reqHead = 0
	st.exec = st.exec[:0]
	st.execOff = 0
	st.execSum = 0
	st.blockedUntil = 0
	st.blockedAt = 0
	st.blockedBy = limitNone
	st.strikes = 0
}

// reqAt returns the i-th oldest admitted arrival time in the ring.
func (st *callerState) reqAt(cfg *limitConfig, i int) int64 {
	if len(st.reqs) < cfg.Requests {
		return st.reqs[i]
	}
	return st.reqs[(st.reqHead+i)%cfg.Requests]
}

func (st *callerState) pushRequest(cfg *limitConfig, t int64) {
	if len(st.reqs) < cfg.Requests {
		st.reqs = append(st.reqs, t)
		return
	}
	st.reqs[st.reqHead] = t
	st.reqHead = (st.reqHead + 1) % cfg.Requests
}

// requestsInWindow counts admitted requests that arrived after t-window (binary search over the
// time-ordered ring).
func (st *callerState) requestsInWindow(cfg *limitConfig, t int64) int {
	n := len(st.reqs)
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if st.reqAt(cfg, mid) > t-cfg.window {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return n - lo
}

func (st *callerState) expireExec(cutoff int64) {
	for st.execOff < len(st.exec) && st.exec[st.execOff].end <= cutoff {
		st.execSum -= st.exec[st.execOff].dur
		st.execOff++
	}
	if st.execOff == len(st.exec) {
		st.exec = st.exec[:0]
		st.execOff = 0
	}
}

// rateExceeded reports which rate limit refuses a request at t, requests first.
func (st *callerState) rateExceeded(cfg *limitConfig, t int64) limitKind {
	if cfg.Requests > 0 && len(st.reqs) == cfg.Requests && st.reqAt(cfg, 0) > t-cfg.window {
		return limitRequests
	}
	if cfg.ExecutionTime > 0 && st.execSum >= int64(cfg.ExecutionTime) {
		return limitExecutionTime
	}
	return limitNone
}

// rateAdmitAt is the earliest time at or after t at which both rate windows admit a request.
func (st *callerState) rateAdmitAt(cfg *limitConfig, t int64) int64 {
	at := t
	if cfg.Requests > 0 && len(st.reqs) == cfg.Requests {
		// The oldest of the last Requests arrivals must leave the window.
		at = max(at, st.reqAt(cfg, 0)+cfg.window)
	}
	if cfg.ExecutionTime > 0 && st.execSum >= int64(cfg.ExecutionTime) {
		sum := st.execSum
		for _, e := range st.exec[st.execOff:] {
			sum -= e.dur
			if sum < int64(cfg.ExecutionTime) {
				at = max(at, e.end+cfg.window)
				break
			}
		}
	}
	return at
}

// remaining returns what is left in the windows at t, -1 for a limit that is off.
func (st *callerState) remaining(cfg *limitConfig, t int64) (requests int, execTime int64) {
	requests, execTime = -1, -1
	if cfg.Requests > 0 {
		requests = max(cfg.Requests-st.requestsInWindow(cfg, t), 0)
	}
	if cfg.ExecutionTime > 0 {
		execTime = max(int64(cfg.ExecutionTime)-st.execSum, 0)
	}
	return requests, execTime
}
