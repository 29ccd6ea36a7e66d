package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// A lowered request limit refuses the third request with 0x80072322 and a Retry-After that means
// what it says, in real time: a request one second before it elapses is refused, one after it is
// admitted (the limits run on the wall clock, not on the emulator's offset clock).
func TestLoweredRequestLimitThrottlesThenAdmitsAfterRetryAfter(t *testing.T) {
	t.Parallel()
	emu := start(t, &emulator.Options{Limits: &emulator.Limits{Requests: 2, Window: time.Second}})
	creds := emu.Credentials()
	token := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
	for i := range 2 {
		if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, res.status)
		}
	}
	status, retryAfter := whoAmIRetryAfter(t, emu, token)
	if status != http.StatusTooManyRequests || retryAfter != 1 {
		t.Fatalf("third request: %d Retry-After %d, want 429 with Retry-After 1 (the 1-second window)", status, retryAfter)
	}
	log := emu.RequestLog(emulator.LogFilter{Status: []int{429}})
	if len(log) != 1 || log[0].Code != "0x80072322" || log[0].Limit != "requests" || !strings.Contains(log[0].Reason, "Number of requests exceeded the limit of 2") || log[0].AppID != creds.ClientID {
		t.Errorf("request log of the 429 = %+v", log)
	}
	// One second early (Retry-After 1 minus 1 s: right away) is refused, and told to wait longer.
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusTooManyRequests || res.code != "0x80072322" {
		t.Fatalf("request before Retry-After elapsed: %d %s, want 429 0x80072322", res.status, res.code)
	}
	// Moving the emulator's clock does not let the client in early: the limits run on the wall clock.
	emu.SetClockOffset(10 * time.Minute)
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusTooManyRequests {
		t.Fatalf("request before Retry-After elapsed, emulator clock 10 minutes ahead: %d, want 429", res.status)
	}
	emu.SetClockOffset(0)
	time.Sleep(time.Duration(retryAfter) * time.Second) // what Retry-After tells the client to do
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
		t.Errorf("after Retry-After: %d %s", res.status, res.code)
	}
}

// whoAmIRetryAfter sends WhoAmI and returns the status and the Retry-After header in seconds (0
// when absent).
func whoAmIRetryAfter(t *testing.T, emu *emulator.Emulator, token string) (int, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, emu.OrgURL()+"/api/data/v9.2/WhoAmI", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := emu.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	retryAfter, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, retryAfter
}

// Four goroutines share one dataverse client (one application user) against a lowered request
// limit: the client's retry policy honours Retry-After, and every call succeeds because an
// early request never pushes back the admission time its siblings were given.
func TestParallelClientsHonouringRetryAfterAllSucceed(t *testing.T) {
	t.Parallel()
	const workers, callsEach = 4, 3
	emu := start(t, &emulator.Options{Limits: &emulator.Limits{Requests: workers, Window: time.Second}})
	creds := emu.Credentials()
	client, err := dataverse.NewClient(emu.OrgURL(), secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret),
		&dataverse.ClientOptions{ClientOptions: azcore.ClientOptions{
			Transport: emu.HTTPClient(),
			// Every refusal's Retry-After is honoured. A Retry-After above MaxRetryDelay fails the
			// call: it is at most the window plus a second per sibling refused early.
			Retry: policy.RetryOptions{MaxRetries: 20, MaxRetryDelay: 10 * time.Second},
		}})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, workers*callsEach)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range callsEach {
				_, err := client.WhoAmI(context.Background())
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("call failed: %v", err)
		}
	}
	if n := len(emu.RequestLog(emulator.LogFilter{Status: []int{http.StatusOK}, PathPrefix: "/api/data/"})); n != workers*callsEach {
		t.Errorf("%d successful Web API requests logged, want %d", n, workers*callsEach)
	}
	t.Logf("%d refusals on the way", len(emu.RequestLog(emulator.LogFilter{Status: []int{http.StatusTooManyRequests}})))
}

func TestRequestLogNamesTheReasonForEachRefusal(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	creds := emu.Credentials()
	app, secret := newApp(t, emu, "no user")
	_, err := getToken(emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, "wrong secret"))
	if err == nil {
		t.Fatal("token with a wrong secret succeeded")
	}
	callAPI(t, emu, "not-a-token", http.MethodGet, "WhoAmI", "")
	callAPI(t, emu, mustToken(t, emu, secretCredential(t, emu, creds.TenantID, app.ClientID, secret)), http.MethodGet, "WhoAmI", "")

	entries := emu.RequestLog(emulator.LogFilter{Refused: true})
	want := []struct {
		status       int
		code, reason string
	}{
		{401, "AADSTS7000215", "Invalid client secret provided"},
		{401, "", "not a well-formed JWT"},
		{403, "0x80072560", "The user is not a member of the organization."},
	}
	if len(entries) != len(want) {
		t.Fatalf("%d refusals logged, want %d: %+v", len(entries), len(want), entries)
	}
	for i, w := range want {
		e := entries[i]
		if e.Status != w.status || e.Code != w.code || !strings.Contains(e.Reason, w.reason) {
			t.Errorf("entry %d = %d %q %q, want %d %q with %q", i, e.Status, e.Code, e.Reason, w.status, w.code, w.reason)
		}
		if strings.Contains(e.Reason, "wrong secret") || strings.Contains(e.Path, "not-a-token") {
			t.Errorf("entry %d leaks a credential: %+v", i, e)
		}
	}
	if entries[2].AppID != app.ClientID {
		t.Errorf("403 entry app = %q, want %s", entries[2].AppID, app.ClientID)
	}
	emu.ClearRequestLog()
	if n := len(emu.RequestLog(emulator.LogFilter{})); n != 0 {
		t.Errorf("%d entries after ClearRequestLog", n)
	}
}

// TestFaultActionsEndToEnd reaches each fault action through the emulator's whole stack.
func TestFaultActionsEndToEnd(t *testing.T) {
	t.Parallel()
	emu := start(t, &emulator.Options{Limits: ptr(emulator.LimitsOff())})
	creds := emu.Credentials()
	token := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))

	t.Run("error with a Dataverse body", func(t *testing.T) {
		id, err := emu.AddFault(emulator.FaultRule{
			Match:  emulator.FaultMatch{Table: "contacts", Methods: []string{"GET"}},
			Action: emulator.FaultAction{Kind: emulator.ActionError, Status: 503, Code: "0x80040216"},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer emu.RemoveFault(id)
		res := callAPI(t, emu, token, http.MethodGet, "contacts", "")
		if res.status != 503 || res.code != "0x80040216" {
			t.Errorf("GET contacts = %d %s, want the injected 503 0x80040216", res.status, res.code)
		}
		if res := callAPI(t, emu, token, http.MethodGet, "accounts", ""); res.status != http.StatusOK {
			t.Errorf("GET accounts = %d: the rule matches contacts only", res.status)
		}
	})
	t.Run("throttle on the nth call", func(t *testing.T) {
		id, err := emu.AddFault(emulator.FaultRule{
			ID:      "second-whoami",
			Match:   emulator.FaultMatch{Table: "WhoAmI"},
			Trigger: emulator.FaultTrigger{Nth: 2},
			Action:  emulator.FaultAction{Kind: emulator.ActionThrottle, RetryAfter: 7},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer emu.RemoveFault(id)
		var statuses []int
		for range 3 {
			statuses = append(statuses, callAPI(t, emu, token, http.MethodGet, "WhoAmI", "").status)
		}
		if statuses[0] != 200 || statuses[1] != 429 || statuses[2] != 200 {
			t.Errorf("statuses = %v, want [200 429 200]", statuses)
		}
		if f := emu.Faults(); len(f) != 1 || f[0].Fired != 1 || f[0].Matched != 3 {
			t.Errorf("fault counters = %+v, want matched 3, fired 1", f)
		}
	})
	t.Run("latency", func(t *testing.T) {
		id, err := emu.AddFault(emulator.FaultRule{
			Match:  emulator.FaultMatch{Table: "WhoAmI"},
			Action: emulator.FaultAction{Kind: emulator.ActionLatency, Delay: 300 * time.Millisecond},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer emu.RemoveFault(id)
		if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
			t.Errorf("WhoAmI with added latency = %d, want 200 (latency only delays)", res.status)
		}
		log := emu.RequestLog(emulator.LogFilter{Fault: id})
		if len(log) != 1 || log[0].Duration < 300*time.Millisecond {
			t.Errorf("log = %+v, want one entry that took at least the injected 300ms", log)
		}
	})
	t.Run("dropped connection", func(t *testing.T) {
		id, err := emu.AddFault(emulator.FaultRule{
			Match:  emulator.FaultMatch{Table: "contacts", Methods: []string{"POST"}},
			Action: emulator.FaultAction{Kind: emulator.ActionDrop},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer emu.RemoveFault(id)
		req, _ := http.NewRequest(http.MethodPost, emu.OrgURL()+"/api/data/v9.2/contacts", strings.NewReader(`{"lastname":"x"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := emu.HTTPClient().Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("POST with a dropped connection got %d, want a transport error", resp.StatusCode)
		}
	})
	t.Run("token endpoint down", func(t *testing.T) {
		id, err := emu.AddFault(emulator.FaultRule{Action: emulator.FaultAction{Kind: emulator.ActionTokenEndpointDown}})
		if err != nil {
			t.Fatal(err)
		}
		defer emu.RemoveFault(id)
		_, err = getToken(emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
		if err == nil || aadstsCode(t, err) != 90033 {
			t.Errorf("token with the endpoint down: %v, want AADSTS90033", err)
		}
		// The Web API is unaffected.
		if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
			t.Errorf("WhoAmI = %d", res.status)
		}
	})
	t.Run("Entra-shaped error", func(t *testing.T) {
		id, err := emu.AddFault(emulator.FaultRule{
			Match:  emulator.FaultMatch{PathPrefix: "/" + creds.TenantID + "/oauth2/", AppID: creds.ClientID},
			Action: emulator.FaultAction{Kind: emulator.ActionError, Status: 401, Code: "AADSTS7000222", Error: "invalid_client", Message: "The provided client secret keys are expired."},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer emu.RemoveFault(id)
		_, err = getToken(emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
		if err == nil || aadstsCode(t, err) != 7000222 {
			t.Errorf("token with the injected Entra error: %v, want AADSTS7000222", err)
		}
	})
}

func TestTrafficAdminAndReset(t *testing.T) {
	t.Parallel()
	emu := start(t, &emulator.Options{Faults: []emulator.FaultRule{{ID: "start", Action: emulator.FaultAction{Kind: emulator.ActionLatency, Delay: time.Millisecond}}}})
	ctx := context.Background()
	if _, err := emu.AddFault(emulator.FaultRule{ID: "start"}); !errors.Is(err, emulator.ErrInvalid) && !errors.Is(err, emulator.ErrConflict) {
		t.Errorf("AddFault of a bad rule: %v", err)
	}
	if _, err := emu.AddFault(emulator.FaultRule{ID: "start", Action: emulator.FaultAction{Kind: emulator.ActionDrop}}); !errors.Is(err, emulator.ErrConflict) {
		t.Errorf("AddFault with a taken ID: %v, want ErrConflict", err)
	}
	if err := emu.RemoveFault("nope"); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("RemoveFault of an unknown ID: %v, want ErrNotFound", err)
	}
	if err := emu.SetLimits(emulator.Limits{Requests: -1}); !errors.Is(err, emulator.ErrInvalid) || !strings.Contains(err.Error(), "requests") {
		t.Errorf("SetLimits(-1 requests): %v, want ErrInvalid naming requests", err)
	}

	// Over HTTP, through the emulator's admin mux (loopback check, JSON errors).
	var limits map[string]any
	if st := adminCall(t, emu, http.MethodPut, "limits", map[string]any{"preset": "strict"}, &limits); st != http.StatusOK || limits["requests"] != float64(20) {
		t.Errorf("PUT limits = %d %v", st, limits)
	}
	var rule map[string]any
	if st := adminCall(t, emu, http.MethodPost, "faults", map[string]any{"id": "http", "action": map[string]any{"kind": "throttle"}}, &rule); st != http.StatusCreated || rule["id"] != "http" {
		t.Errorf("POST faults = %d %v", st, rule)
	}
	var bad adminErr
	if st := adminCall(t, emu, http.MethodPost, "faults", map[string]any{"action": map[string]any{"kind": "explode"}}, &bad); st != http.StatusBadRequest || bad.Error.Code != "Invalid" {
		t.Errorf("POST a bad fault = %d %+v", st, bad)
	}

	if err := emu.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if l := emu.Limits(); l != emulator.LimitsDefault() {
		t.Errorf("limits after reset = %+v, want the default", l)
	}
	if f := emu.Faults(); len(f) != 1 || f[0].ID != "start" {
		t.Errorf("faults after reset = %+v, want only the start's rule", f)
	}
}

func TestScenarioLimitsAndFaults(t *testing.T) {
	t.Parallel()
	sc, err := emulator.ParseScenario([]byte(`
limits: {preset: strict, requests: 3}
faultSeed: 7
faults:
  - id: flaky-contacts
    match: {table: contacts}
    trigger: {probability: 0.5}
    action: {kind: error, status: 500}
`), "traffic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	emu := start(t, &emulator.Options{Scenario: sc})
	if l := emu.Limits(); l.Requests != 3 || l.Concurrent != 4 {
		t.Errorf("limits = %+v, want strict with 3 requests", l)
	}
	if f := emu.Faults(); len(f) != 1 || f[0].ID != "flaky-contacts" {
		t.Errorf("faults = %+v", f)
	}
	_, err = emulator.ParseScenario([]byte("faults:\n  - action: {kind: error, status: 200}\n"), "bad.yaml")
	if err == nil || !strings.Contains(err.Error(), "bad.yaml") || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "action.status") {
		t.Errorf("bad fault in a scenario: %v, want the file, line and field", err)
	}
	_, err = emulator.ParseScenario([]byte("limits:\n  window: 300\n"), "bad.yaml")
	if err == nil || !strings.Contains(err.Error(), "window: got a YAML number, want a string") || strings.Contains(err.Error(), "JSON") {
		t.Errorf("window given as a number in a scenario: %v, want it named a YAML number", err)
	}
}

func ptr[T any](v T) *T { return &v }

// An injected Entra error that gives only an AADSTS code answers as the token service does for
// it, and a rule naming the tenant by GUID matches a client that names it by domain.
func TestEntraFaultByCodeAndTenantDomain(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	creds := emu.Credentials()
	if _, err := emu.AddFault(emulator.FaultRule{
		Match:  emulator.FaultMatch{TenantID: creds.TenantID, AppID: creds.ClientID},
		Action: emulator.FaultAction{Kind: emulator.ActionError, Code: "AADSTS7000222"},
	}); err != nil {
		t.Fatal(err)
	}
	_, err := getToken(emu, secretCredential(t, emu, emulator.DefaultTenantDomain, creds.ClientID, creds.ClientSecret))
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != http.StatusUnauthorized || aadstsCode(t, err) != 7000222 {
		t.Fatalf("token via the tenant's domain: %v, want the injected 401 AADSTS7000222", err)
	}
	if !strings.Contains(err.Error(), "invalid_client") || !strings.Contains(err.Error(), "The provided client secret keys for app '"+creds.ClientID+"' are expired") {
		t.Errorf("injected 7000222 = %v, want invalid_client and the token service's wording", err)
	}
	log := emu.RequestLog(emulator.LogFilter{Refused: true})
	if len(log) != 1 || log[0].TenantID != creds.TenantID || log[0].Code != "AADSTS7000222" {
		t.Errorf("request log = %+v, want the refusal under the tenant's GUID", log)
	}
}

// A latency fault makes the service slow, as a slow plug-in or query does in Dataverse: the
// delayed request holds one of its caller's concurrent slots, and its wait counts towards the
// combined execution time. That is how a user reproduces 0x80072326 and 0x80072321 on demand.
func TestSlowRequestsCountTowardsServiceProtectionLimits(t *testing.T) {
	t.Parallel()
	t.Run("a delayed request holds a concurrent slot", func(t *testing.T) {
		t.Parallel()
		emu := start(t, &emulator.Options{Limits: &emulator.Limits{Requests: 1000, ExecutionTime: 20 * time.Minute, Concurrent: 1}})
		creds := emu.Credentials()
		token := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
		// The rule fires a few instructions before the delayed call is admitted; a probe sent in
		// that gap takes the only slot and the delayed call is refused instead. Then the setup is
		// tried again with a fresh rule.
		var (
			id       string
			cancel   context.CancelFunc
			slowDone chan error
			res      apiResult
		)
		for attempt := 1; attempt <= 3 && res.status != http.StatusTooManyRequests; attempt++ {
			emu.ClearFaults()
			var err error
			id, err = emu.AddFault(emulator.FaultRule{
				Match:   emulator.FaultMatch{Table: "WhoAmI"},
				Trigger: emulator.FaultTrigger{Nth: 1},
				Action:  emulator.FaultAction{Kind: emulator.ActionLatency, Delay: 5 * time.Minute},
			})
			if err != nil {
				t.Fatal(err)
			}
			var ctx context.Context
			ctx, cancel = context.WithCancel(t.Context())
			defer cancel()
			slowDone = make(chan error, 1)
			go func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, emu.OrgURL()+"/api/data/v9.2/WhoAmI", nil)
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := emu.HTTPClient().Do(req)
				if err == nil {
					resp.Body.Close()
					err = fmt.Errorf("the delayed call was answered %d", resp.StatusCode)
				}
				slowDone <- err
			}()
			// The delayed call is in the emulator once its rule has fired.
			for f := emu.Faults(); len(f) != 1 || f[0].Fired != 1; f = emu.Faults() {
				select {
				case err := <-slowDone:
					t.Fatalf("the delayed call ended before its rule fired: %v", err)
				default:
					runtime.Gosched()
				}
			}
			res = callAPI(t, emu, token, http.MethodGet, "contacts?$top=1", "")
			if res.status != http.StatusTooManyRequests {
				cancel() // the probe came through the gap: this attempt proves nothing
				<-slowDone
			}
		}
		if res.status != http.StatusTooManyRequests || res.code != "0x80072326" {
			t.Fatalf("a call beside the delayed one = %d %s, want 429 0x80072326 (its only slot is taken)", res.status, res.code)
		}
		select {
		case err := <-slowDone:
			t.Fatalf("the delayed call ended (%v) while it should hold the slot", err)
		default:
		}
		cancel()
		if err := <-slowDone; !errors.Is(err, context.Canceled) {
			t.Errorf("the delayed call ended with %v, want it cancelled while it waited", err)
		}
		// The server sees the stream reset a moment after the client returns: poll the log.
		var log []emulator.LogEntry
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); runtime.Gosched() {
			if log = emu.RequestLog(emulator.LogFilter{Fault: id}); len(log) > 0 {
				break
			}
		}
		if len(log) != 1 || log[0].Outcome != emulator.OutcomeCancelled {
			t.Errorf("log of the delayed call = %+v, want one cancelled entry", log)
		}
	})
	t.Run("a delay counts as execution time", func(t *testing.T) {
		t.Parallel()
		emu := start(t, &emulator.Options{Limits: &emulator.Limits{Requests: 1000, ExecutionTime: 200 * time.Millisecond, Concurrent: 10}})
		creds := emu.Credentials()
		token := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
		if _, err := emu.AddFault(emulator.FaultRule{
			Match:   emulator.FaultMatch{Table: "WhoAmI"},
			Trigger: emulator.FaultTrigger{Nth: 1},
			Action:  emulator.FaultAction{Kind: emulator.ActionLatency, Delay: 300 * time.Millisecond},
		}); err != nil {
			t.Fatal(err)
		}
		if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
			t.Fatalf("delayed WhoAmI = %d %s, want 200 (latency only delays)", res.status, res.code)
		}
		res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", "")
		if res.status != http.StatusTooManyRequests || res.code != "0x80072321" {
			t.Errorf("the next call = %d %s, want 429 0x80072321: the 300 ms delay used up the 200 ms of execution time", res.status, res.code)
		}
	})
}
