package traffic

import (
	"github.com/d365s2s/d365/emulator/internal/caller"
	"net/http"
	"testing"
	"time"
)

// Workers of one application user that run in parallel and each honour Retry-After all get
// their work done in bounded time: an early request gets a longer Retry-After of its own but does
// not push back the admission time the period's first refusal announced, so a worker that comes
// back exactly on its Retry-After is not refused because a sibling was refused meanwhile.
//
// The test is a discrete-event simulation on the limiter's clock (deterministic and instant):
// each worker sends its next request 10 ms after the previous one was answered, a request runs
// for 10 ms, and a worker refused with Retry-After n sends the same request again n seconds later.
func TestParallelWorkersHonouringRetryAfterAllSucceed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name               string
		limits             Limits
		workers, perWorker int
	}{
		{"4 workers, 4 requests per 2 s", Limits{Requests: 4, Window: 2 * time.Second}, 4, 10},
		{"2 workers, 1 request per second", Limits{Requests: 1, Window: time.Second}, 2, 10},
		{"8 workers, 4 requests per 2 s", Limits{Requests: 4, Window: 2 * time.Second}, 8, 5},
		{"3 workers, 50 ms of execution time per second", Limits{ExecutionTime: 50 * time.Millisecond, Window: time.Second}, 3, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const runFor, pause = 10 * time.Millisecond, 10 * time.Millisecond
			lim := newLimiter(tc.limits)
			cfg := lim.cfg.Load()
			c := caller.Caller{TenantID: tenantA, AppID: appA}
			next := make([]time.Duration, tc.workers) // when each worker sends its next request
			done := make([]int, tc.workers)
			for w := range next {
				next[w] = time.Duration(w) * time.Millisecond
			}
			var refusals, maxRetryAfter, maxInARow int
			inARow := make([]int, tc.workers)
			var finished time.Duration
			for {
				w := -1
				for i := range next {
					if done[i] < tc.perWorker && (w < 0 || next[i] < next[w]) {
						w = i
					}
				}
				if w < 0 {
					break
				}
				now := next[w]
				if refusals > 100*tc.workers*tc.perWorker {
					t.Fatalf("%d refusals and still %v requests to go at %v: the workers lock each other out", refusals, remaining(done, tc.perWorker), now)
				}
				v := lim.admit(cfg, c, now)
				if v.rejected == limitNone {
					lim.release(v, runFor, now+runFor)
					inARow[w] = 0
					done[w]++
					next[w] = now + runFor + pause
					finished = now + runFor
					continue
				}
				refusals++
				inARow[w]++
				maxInARow = max(maxInARow, inARow[w])
				maxRetryAfter = max(maxRetryAfter, v.retryAfter)
				next[w] = now + time.Duration(v.retryAfter)*time.Second
			}
			// The window lets through Requests per Window (or ExecutionTime's worth); a worker
			// refused waits at most one window plus a second per sibling refused early.
			total := tc.workers * tc.perWorker
			window := tc.limits.Window
			perWindow := tc.limits.Requests
			if perWindow == 0 {
				perWindow = int(tc.limits.ExecutionTime / runFor)
			}
			ideal := time.Duration((total+perWindow-1)/perWindow-1) * window
			bound := 2*ideal + window + time.Duration(tc.workers)*time.Second
			if finished > bound {
				t.Errorf("all %d requests done at %v, want by %v (the window alone allows about %v)", total, finished, bound, ideal)
			}
			if limit := int(window/time.Second) + tc.workers; maxRetryAfter > limit {
				t.Errorf("Retry-After reached %d s, want at most the window plus one second per worker (%d s)", maxRetryAfter, limit)
			}
			t.Logf("%d requests done at %v with %d refusals (at most %d in a row), longest Retry-After %d s", total, finished, refusals, maxInARow, maxRetryAfter)
		})
	}
}

func remaining(done []int, per int) int {
	n := 0
	for _, d := range done {
		n += per - d
	}
	return n
}

// Moving the emulator's clock back does not freeze the windows: the limits run on the monotonic
// wall clock, so a caller is admitted again once Window has really passed.
func TestLimitsIgnoreTheEmulatorClockMovingBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{limits: &Limits{Requests: 1, Window: 10 * time.Second}})
	if r := e.get("contacts", tokenA); r.status != http.StatusOK {
		t.Fatalf("first request: %d", r.status)
	}
	e.clock.Jump(-4 * time.Minute) // SetClockOffset(-4m)
	r := e.get("contacts", tokenA)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "10" {
		t.Fatalf("second request in the window: %d Retry-After %q, want 429 and 10 (the window as it really is)", r.status, r.header.Get("Retry-After"))
	}
	e.clock.Advance(10 * time.Second)
	if r := e.get("contacts", tokenA); r.status != http.StatusOK {
		t.Fatalf("10 s later with the clock 4 minutes back: %d %s, want 200", r.status, r.body)
	}
}

// Moving the emulator's clock forward while a request runs charges no execution time and does
// not stretch the logged duration; fault time windows still follow the emulator's clock.
func TestLimitsIgnoreTheEmulatorClockMovingForward(t *testing.T) {
	t.Parallel()
	start := newFakeClock().Now()
	e := newEnv(t, envConfig{
		limits: &Limits{Requests: 100, ExecutionTime: time.Second, Window: 5 * time.Minute},
		faults: []FaultRule{{ID: "later", Match: FaultMatch{Table: "accounts"}, Trigger: FaultTrigger{From: start.Add(30 * time.Minute)},
			Action: FaultAction{Kind: ActionError, Status: 503}}},
	})
	if r := e.get("accounts", tokenA); r.status != http.StatusOK {
		t.Fatalf("accounts before the fault window: %d", r.status)
	}
	if r := e.get("jump?d=30m", tokenA); r.status != http.StatusOK { // SetClockOffset(+30m) mid-request
		t.Fatalf("request during which the clock moved: %d", r.status)
	}
	if le := e.lastLog(); le.Duration != 0 {
		t.Errorf("logged duration %v of a request that took no time while the clock moved 30m", le.Duration)
	}
	r := e.get("contacts", tokenA)
	if r.status != http.StatusOK || r.header.Get(headerTimeRemaining) != "1.00" {
		t.Fatalf("next request: %d, time remaining %q; want 200 and 1.00 (no execution time charged) — %s", r.status, r.header.Get(headerTimeRemaining), r.body)
	}
	if r := e.get("accounts", tokenA); r.status != http.StatusServiceUnavailable {
		t.Errorf("accounts 30 minutes later on the emulator's clock: %d, want the fault's 503", r.status)
	}
}

// Fifty-one requests a pool of workers had already sent when the limit was reached are refused
// with the time left, and do not lengthen the wait; a caller that was told a Retry-After and
// comes back before it elapsed does, by a second per early return.
func TestRetryAfterGrowsOnlyForEarlyReturns(t *testing.T) {
	t.Parallel()
	lim := newLimiter(Limits{Requests: 1, Window: 10 * time.Second})
	cfg := lim.cfg.Load()
	c := caller.Caller{TenantID: tenantA, AppID: appA}
	ms := time.Millisecond
	v := lim.admit(cfg, c, 0)
	if v.rejected != limitNone {
		t.Fatal("first request refused")
	}
	lim.release(v, ms, ms)
	if v := lim.admit(cfg, c, 2*ms); v.rejected != limitRequests || v.retryAfter != 10 || v.early || v.inFlight {
		t.Fatalf("first refusal: %+v, want Retry-After 10 s", v)
	}
	for i := range 51 {
		now := 2*ms + time.Duration(i+1)*5*ms // all within 260 ms of the first refusal
		v := lim.admit(cfg, c, now)
		if v.rejected != limitRequests || v.retryAfter != 10 || v.early || !v.inFlight {
			t.Fatalf("in-flight request %d at %v: rejected %v Retry-After %d early %v in flight %v; want the time left (10 s), not lengthened",
				i, now, v.rejected, v.retryAfter, v.early, v.inFlight)
		}
	}
	// Back 3 s after the first refusal: 7 s left, plus one second for the first early return.
	if v := lim.admit(cfg, c, 3*time.Second+2*ms); !v.early || v.strikes != 1 || v.retryAfter != 7+1 {
		t.Errorf("early return at +3 s: early %v strikes %d Retry-After %d, want the first early return, 7+1 s", v.early, v.strikes, v.retryAfter)
	}
	if v := lim.admit(cfg, c, 4*time.Second+2*ms); !v.early || v.strikes != 2 || v.retryAfter != 6+2 {
		t.Errorf("early return at +4 s: early %v strikes %d Retry-After %d, want 6+2 s", v.early, v.strikes, v.retryAfter)
	}
	// The admission time the first refusal announced did not move.
	if v := lim.admit(cfg, c, 10*time.Second+2*ms); v.rejected != limitNone {
		t.Errorf("at the announced admission time: refused (%v)", v.rejected)
	}
}
