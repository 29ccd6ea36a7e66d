package traffic

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// ReplaceFaults swaps the whole rule list at once: a request sees the old rules or the new ones,
// never none; a time window already resolved does not restart; counters start afresh; a bad
// rule changes nothing.
func TestReplaceFaultsInOneStep(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	c, err := New(Options{Now: clock.Now, Identity: identityTest})
	if err != nil {
		t.Fatal(err)
	}
	down := FaultRule{ID: "down", Action: FaultAction{Kind: ActionError, Status: 503}}
	if _, err := c.AddFault(down); err != nil {
		t.Fatal(err)
	}
	h := c.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.ReplaceFaults([]FaultRule{down}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for i := range 2000 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/data/v9.2/contacts", nil))
		if rec.Code != 503 {
			t.Errorf("request %d while the rules were replaced: %d, want the rule's 503 every time", i, rec.Code)
			break
		}
	}
	close(stop)
	wg.Wait()

	// A resolved window is kept; "for" of a new rule is resolved now; ids are assigned; counters
	// restart.
	until := clock.Now().Add(time.Minute)
	clock.Advance(30 * time.Second)
	err = c.ReplaceFaults([]FaultRule{
		{ID: "window", Trigger: FaultTrigger{Until: until}, Action: FaultAction{Kind: ActionDrop}},
		{Trigger: FaultTrigger{For: time.Minute}, Action: FaultAction{Kind: ActionDrop}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Faults()
	if len(got) != 2 || got[0].ID != "window" || !got[0].Trigger.Until.Equal(until) || got[1].ID == "" ||
		!got[1].Trigger.Until.Equal(clock.Now().Add(time.Minute)) || got[0].Matched != 0 {
		t.Errorf("rules after ReplaceFaults = %+v", got)
	}
	// A bad rule, or two with one id, leave the rules as they were.
	for _, bad := range [][]FaultRule{
		{down, {Action: FaultAction{Kind: "explode"}}},
		{down, down},
	} {
		if err := c.ReplaceFaults(bad); err == nil {
			t.Errorf("ReplaceFaults(%+v) succeeded", bad)
		}
		if n := len(c.Faults()); n != 2 || c.Faults()[0].ID != "window" {
			t.Errorf("rules changed by a failed ReplaceFaults: %+v", c.Faults())
		}
	}
}
