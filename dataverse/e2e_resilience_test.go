package dataverse_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// fastRetries keeps backoff short for the tests that really wait, so that they wait for
// Retry-After, not for azcore's default 800 ms exponential delay. MaxRetryDelay stays zero: a
// Retry-After longer than it is not waited for, so the client then bounds waits by MaxRetryWait.
func fastRetries(o *dataverse.ClientOptions) {
	o.Retry = policy.RetryOptions{MaxRetries: 3, RetryDelay: 10 * time.Millisecond}
}

// addFault adds a fault rule to env's emulator.
func addFault(t *testing.T, env *e2eEnv, rule emulator.FaultRule) string {
	t.Helper()
	id, err := env.emu.AddFault(rule)
	if err != nil {
		t.Fatalf("AddFault: %v", err)
	}
	return id
}

// fired returns how many calls the fault rule answered.
func fired(t *testing.T, env *e2eEnv, id string) int64 {
	t.Helper()
	for _, f := range env.emu.Faults() {
		if f.ID == id {
			return f.Fired
		}
	}
	t.Fatalf("no fault rule %s", id)
	return 0
}

// requestsTo returns the recorded requests with method and path, in order.
func requestsTo(reqs []wireRequest, method, path string) []wireRequest {
	var out []wireRequest
	for _, r := range reqs {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// TestE2EThrottledRequestsWaitForRetryAfter: a 429 is retried after its Retry-After for reads and
// for a POST create alike (a throttled request was not executed), and the retry succeeds. The
// client's waits are recorded, not taken: the test checks that it waited exactly the emulator's
// Retry-After between the 429 and the retry.
//
// Each case has its own emulator: the 429 (0x80072322) pauses every request of the application
// user for its Retry-After, and the recorded waits take no time, so a second case on the same
// emulator would first wait out the first one's pause (TestE2EGovernorPause checks that).
func TestE2EThrottledRequestsWaitForRetryAfter(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	for _, tc := range []struct {
		name, method, table, path string
		retryAfter                int
		call                      func(env *e2eEnv) error
		success                   int
	}{
		{"GET WhoAmI", http.MethodGet, "WhoAmI", "WhoAmI", 1, func(env *e2eEnv) error { _, err := env.client.WhoAmI(ctx); return err }, http.StatusOK},
		{"POST create", http.MethodPost, "contacts", "contacts", 7, func(env *e2eEnv) error {
			_, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Throttled once"}, nil)
			return err
		}, http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newE2E(t, &e2eSetup{client: fastRetries})
			id := addFault(t, env, emulator.FaultRule{
				Match:   emulator.FaultMatch{Table: tc.table, Methods: []string{tc.method}},
				Trigger: emulator.FaultTrigger{Count: 1},
				Action:  emulator.FaultAction{Kind: emulator.ActionThrottle, RetryAfter: tc.retryAfter},
			})
			env.waits.take()
			if err := tc.call(env); err != nil {
				t.Fatalf("%s after one 429: %v, want success on the retry", tc.name, err)
			}
			want := []string{
				fmt.Sprintf("%s %s %d", tc.method, tc.path, http.StatusTooManyRequests),
				fmt.Sprintf("wait %v", time.Duration(tc.retryAfter)*time.Second),
				fmt.Sprintf("%s %s %d", tc.method, tc.path, tc.success),
			}
			if diff := cmp.Diff(want, env.waits.take()); diff != "" {
				t.Errorf("requests and waits (-want +got):\n%s", diff)
			}
			if n := fired(t, env, id); n != 1 {
				t.Errorf("the fault fired %d times, want 1", n)
			}
			if n := countContacts(t, env, "Throttled once"); tc.method == http.MethodPost && n != 1 {
				t.Errorf("%d contacts created, want exactly 1", n)
			}
		})
	}
}

// TestE2EServiceProtectionLimit: the emulator's real request-count limit (not an injected fault)
// refuses the third request in a one-second window; the client really waits and gets through,
// and the emulator, which notices a client that comes back before Retry-After elapsed (and then
// makes Retry-After grow), never saw this one do so.
func TestE2EServiceProtectionLimit(t *testing.T) {
	t.Parallel()
	limits := emulator.Limits{Requests: 2, Window: time.Second}
	env := newE2E(t, &e2eSetup{emulator: &emulator.Options{Limits: &limits}, client: fastRetries, realWaits: true})
	ctx := t.Context()
	for i := range 4 {
		if _, err := env.client.RetrieveVersion(ctx); err != nil {
			t.Fatalf("call %d: %v, want the client to wait out the limit", i, err)
		}
	}
	var throttled int
	for _, r := range env.wire.take() {
		if r.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled == 0 {
		t.Errorf("no request was throttled: the limit of 2 per second was not reached?")
	}
	log := env.emu.RequestLog(emulator.LogFilter{Status: []int{http.StatusTooManyRequests}})
	if len(log) != throttled || log[0].Code != dataverse.CodeThrottledRequestCount {
		t.Errorf("emulator log has %d throttled requests (first %+v), client saw %d", len(log), log, throttled)
	}
	for _, e := range log {
		if strings.Contains(e.Reason, "before its Retry-After elapsed") {
			t.Errorf("the emulator saw the client come back early: %s", e.Reason)
		}
	}
}

// TestE2EThrottledBeyondTheRetryBudget: a Retry-After longer than ClientOptions.MaxRetryWait is
// not waited for; the caller gets the typed 429 with its Retry-After and code at once.
func TestE2EThrottledBeyondTheRetryBudget(t *testing.T) {
	t.Parallel()
	env := newE2E(t, &e2eSetup{client: func(o *dataverse.ClientOptions) { fastRetries(o); o.MaxRetryWait = time.Second }})
	addFault(t, env, emulator.FaultRule{
		Match:  emulator.FaultMatch{Table: "WhoAmI"},
		Action: emulator.FaultAction{Kind: emulator.ActionThrottle, RetryAfter: 120},
	})
	_, err := env.client.WhoAmI(t.Context())
	re := wantResponseError(t, "WhoAmI throttled for 120 s", err, http.StatusTooManyRequests, dataverse.CodeThrottledRequestCount)
	if !dataverse.IsThrottled(err) || re.RetryAfter != 120*time.Second {
		t.Errorf("RetryAfter %v, want 2m0s", re.RetryAfter)
	}
	if n := env.wire.count(http.MethodGet, "WhoAmI"); n != 1 {
		t.Errorf("%d attempts, want 1: a wait over the budget must not be started", n)
	}
	if w := env.waits.durations(); len(w) != 0 {
		t.Errorf("the client waited %v", w)
	}
}

// TestE2ECancelStopsTheRetryWait: cancelling the context during a Retry-After wait ends the call
// with the context's error, without another attempt.
func TestE2ECancelStopsTheRetryWait(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	env := newE2E(t, &e2eSetup{client: fastRetries})
	var waits []time.Duration
	dataverse.SetRetrySleep(env.client, func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		cancel() // the caller gives up during the wait
		<-ctx.Done()
		return ctx.Err()
	})
	addFault(t, env, emulator.FaultRule{
		Match:  emulator.FaultMatch{Table: "WhoAmI"},
		Action: emulator.FaultAction{Kind: emulator.ActionThrottle, RetryAfter: 60},
	})
	_, err := env.client.WhoAmI(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WhoAmI: %v, want context.Canceled", err)
	}
	if n := env.wire.count(http.MethodGet, "WhoAmI"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	if diff := cmp.Diff([]time.Duration{time.Minute}, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

// TestE2ETransientErrorsRetriedOnlyWhenIdempotent: a 503 on a POST create is returned at once (the
// create may have run); on a GET, a PATCH and a DELETE it is retried.
func TestE2ETransientErrorsRetriedOnlyWhenIdempotent(t *testing.T) {
	t.Parallel()
	env := newE2E(t, &e2eSetup{client: fastRetries})
	ctx := t.Context()

	id := addFault(t, env, emulator.FaultRule{
		Match:   emulator.FaultMatch{Table: "contacts", Methods: []string{http.MethodPost}},
		Trigger: emulator.FaultTrigger{Count: 1},
		Action:  emulator.FaultAction{Kind: emulator.ActionError, Status: http.StatusServiceUnavailable},
	})
	_, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Not retried"}, nil)
	re := wantResponseError(t, "Create meeting a 503", err, http.StatusServiceUnavailable, "0x80040216")
	if re.Method != http.MethodPost {
		t.Errorf("error %+v", re)
	}
	if n := env.wire.count(http.MethodPost, "contacts"); n != 1 {
		t.Errorf("the create was sent %d times, want 1: a POST must not be repeated after a 503", n)
	}
	if n := fired(t, env, id); n != 1 {
		t.Errorf("the fault fired %d times", n)
	}
	// The rule fired once; the next create goes through, exactly once.
	created, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Retried reads"}, nil)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		method string
		call   func() error
	}{
		{http.MethodGet, func() error {
			var c e2eContact
			return env.client.Retrieve(ctx, "contacts", created.ID, &c, &dataverse.RetrieveOptions{Select: []string{"lastname"}})
		}},
		{http.MethodPatch, func() error {
			_, err := env.client.Update(ctx, "contacts", created.ID, map[string]any{"jobtitle": "Patched"}, nil)
			return err
		}},
		{http.MethodDelete, func() error { return env.client.Delete(ctx, "contacts", created.ID, nil) }},
	} {
		addFault(t, env, emulator.FaultRule{
			Match:   emulator.FaultMatch{Table: "contacts", Methods: []string{tc.method}},
			Trigger: emulator.FaultTrigger{Count: 2},
			Action:  emulator.FaultAction{Kind: emulator.ActionError, Status: http.StatusServiceUnavailable},
		})
		env.wire.take()
		if err := tc.call(); err != nil {
			t.Errorf("%s after two 503s: %v, want success on the third try", tc.method, err)
		}
		if n := env.wire.count(tc.method, "contacts("+created.ID.String()+")"); n != 3 {
			t.Errorf("%s: %d attempts, want 3", tc.method, n)
		}
	}
	if n := countContacts(t, env, "Not retried"); n != 0 {
		t.Errorf("%d contacts from the failed create, want 0 (the fault answered before the handler)", n)
	}
}

// TestE2EDroppedConnection: a connection dropped under a POST create is not retried; under a GET
// it is.
func TestE2EDroppedConnection(t *testing.T) {
	t.Parallel()
	env := newE2E(t, &e2eSetup{client: fastRetries})
	ctx := t.Context()
	addFault(t, env, emulator.FaultRule{
		Match:   emulator.FaultMatch{Table: "contacts", Methods: []string{http.MethodPost}},
		Trigger: emulator.FaultTrigger{Count: 1},
		Action:  emulator.FaultAction{Kind: emulator.ActionDrop},
	})
	_, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Dropped"}, nil)
	var re *dataverse.ResponseError
	if err == nil || errors.As(err, &re) {
		t.Fatalf("Create over a dropped connection: %v, want a transport error", err)
	}
	if n := env.wire.count(http.MethodPost, "contacts"); n != 1 {
		t.Errorf("the create was sent %d times, want 1", n)
	}

	// Reads are retried. Go's transport itself repeats an idempotent request once on a reused
	// connection, so the rule drops three calls to make the client's own retry visible.
	addFault(t, env, emulator.FaultRule{
		Match:   emulator.FaultMatch{Table: "WhoAmI"},
		Trigger: emulator.FaultTrigger{Count: 3},
		Action:  emulator.FaultAction{Kind: emulator.ActionDrop},
	})
	if _, err := env.client.WhoAmI(ctx); err != nil {
		t.Errorf("WhoAmI over dropped connections: %v, want success after retries", err)
	}
}
