package emulator_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/d365s2s/d365/emulator"
)

// What the package doc, the README and the fault docs say of an injected delay on the Web API: it
// counts towards the combined execution time, and it holds one of the caller's concurrent slots.
func TestInjectedDelayIsExecutionTimeAndHoldsASlot(t *testing.T) {
	t.Parallel()
	t.Run("execution time", func(t *testing.T) {
		t.Parallel()
		emu := start(t, &emulator.Options{
			Limits: &emulator.Limits{ExecutionTime: 50 * time.Millisecond, Window: time.Hour},
			Faults: []emulator.FaultRule{{
				Match:   emulator.FaultMatch{Table: "WhoAmI"},
				Trigger: emulator.FaultTrigger{Count: 1},
				Action:  emulator.FaultAction{Kind: emulator.ActionLatency, Delay: 80 * time.Millisecond},
			}},
		})
		token := v1Token(t, emu)
		if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
			t.Fatalf("delayed request: %d", res.status)
		}
		// The handler alone takes well under 50 ms: only the 80 ms delay can have used the budget.
		if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusTooManyRequests || res.code != "0x80072321" {
			t.Errorf("after an 80 ms injected delay against a 50 ms budget: %d %s, want 429 0x80072321", res.status, res.code)
		}
	})
	t.Run("concurrency slot", func(t *testing.T) {
		t.Parallel()
		emu := start(t, &emulator.Options{
			Limits: &emulator.Limits{Concurrent: 1},
			Faults: []emulator.FaultRule{{
				Match:  emulator.FaultMatch{Table: "accounts"},
				Action: emulator.FaultAction{Kind: emulator.ActionLatency, Delay: 10 * time.Minute},
			}},
		})
		token := v1Token(t, emu)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, emu.OrgURL()+"/api/data/v9.2/accounts", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			if resp, err := emu.HTTPClient().Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		waitUntil(t, "the delayed request to be in flight", func() bool { return emu.Faults()[0].Matched == 1 })
		if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusTooManyRequests || res.code != "0x80072326" {
			t.Errorf("beside a delayed request with 1 concurrent slot: %d %s, want 429 0x80072326", res.status, res.code)
		}
		cancel()
		<-done
	})
}
