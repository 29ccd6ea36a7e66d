package traffic

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// statuses sends n Web API GETs to path as app A and returns their statuses.
func (e *env) statuses(n int, path, token string) []int {
	e.t.Helper()
	out := make([]int, n)
	for i := range out {
		out[i] = e.get(path, token).status
	}
	return out
}

func TestFaultTriggers(t *testing.T) {
	t.Parallel()
	err503 := FaultAction{Kind: ActionError, Status: 503}
	for _, tc := range []struct {
		name    string
		trigger FaultTrigger
		want    []int
	}{
		{"every call", FaultTrigger{}, []int{503, 503, 503, 503, 503}},
		{"nth", FaultTrigger{Nth: 2}, []int{200, 503, 200, 200, 200}},
		{"next k", FaultTrigger{Count: 2}, []int{503, 503, 200, 200, 200}},
		{"k after n", FaultTrigger{Nth: 3, Count: 2}, []int{200, 200, 503, 503, 200}},
		{"all from nth", FaultTrigger{Nth: 4, Count: -1}, []int{200, 200, 200, 503, 503}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envConfig{faults: []FaultRule{{Match: FaultMatch{Table: "contacts"}, Trigger: tc.trigger, Action: err503}}})
			if diff := cmp.Diff(tc.want, e.statuses(len(tc.want), "contacts", tokenA)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			st, _ := e.c.Fault("f1")
			if st.Matched != int64(len(tc.want)) {
				t.Errorf("matched = %d, want %d", st.Matched, len(tc.want))
			}
		})
	}
}

// The same seed replays the same failures; another seed gives another sequence.
func TestFaultProbabilityReplaysWithSeed(t *testing.T) {
	t.Parallel()
	rule := FaultRule{Trigger: FaultTrigger{Probability: 0.5}, Action: FaultAction{Kind: ActionError, Status: 500}}
	run := func(seed int64) []int {
		e := newEnv(t, envConfig{seed: seed, faults: []FaultRule{rule}})
		return e.statuses(40, "contacts", tokenA)
	}
	first, again, other := run(42), run(42), run(7)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("same seed, different failures (-first +again):\n%s", diff)
	}
	if cmp.Equal(first, other) {
		t.Errorf("seeds 42 and 7 gave the same 40 outcomes: %v", first)
	}
	failed := 0
	for _, s := range first {
		if s == 500 {
			failed++
		}
	}
	if failed < 10 || failed > 30 {
		t.Errorf("probability 0.5 failed %d of 40 calls", failed)
	}
}

func TestFaultTimeWindow(t *testing.T) {
	t.Parallel()
	clockStart := newFakeClock().Now()
	e := newEnv(t, envConfig{faults: []FaultRule{{
		Trigger: FaultTrigger{From: clockStart.Add(time.Minute), Until: clockStart.Add(2 * time.Minute)},
		Action:  FaultAction{Kind: ActionError, Status: 502},
	}}})
	var got []int
	for _, step := range []time.Duration{0, time.Minute, 59 * time.Second, time.Second} {
		e.clock.Advance(step)
		got = append(got, e.get("contacts", tokenA).status)
	}
	if diff := cmp.Diff([]int{200, 502, 502, 200}, got); diff != "" {
		t.Errorf("statuses at +0, +1m, +1m59s, +2m (-want +got):\n%s", diff)
	}
	if st, _ := e.c.Fault("f1"); st.Matched != 2 {
		t.Errorf("calls outside the window were counted: matched = %d", st.Matched)
	}

	// "for" is resolved against the emulator's clock when the rule is added.
	id, err := e.c.AddFault(FaultRule{Trigger: FaultTrigger{For: 30 * time.Second}, Action: FaultAction{Kind: ActionError, Status: 504}})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := e.c.Fault(id)
	if want := e.clock.Now().Add(30 * time.Second); !st.Trigger.Until.Equal(want) || st.Trigger.For != 0 {
		t.Errorf("for 30s resolved to until %v (for %v), want %v", st.Trigger.Until, st.Trigger.For, want)
	}
	if s := e.get("contacts", tokenA).status; s != 504 {
		t.Errorf("inside for: %d", s)
	}
	e.clock.Advance(30 * time.Second)
	if s := e.get("contacts", tokenA).status; s != 200 {
		t.Errorf("after for: %d", s)
	}
}

func TestFaultMatching(t *testing.T) {
	t.Parallel()
	type call struct {
		method, path, token string
		want                int
	}
	for _, tc := range []struct {
		name  string
		match FaultMatch
		calls []call
	}{
		{"table", FaultMatch{Table: "contacts"}, []call{
			{"GET", "/api/data/v9.2/contacts", tokenA, 503},
			{"GET", "/api/data/v9.2/contacts(6d0e1b2a-0000-0000-0000-000000000001)/parentcustomerid_account", tokenA, 503},
			{"GET", "/api/data/v9.2/contacts?$top=1", tokenA, 503},
			{"GET", "/api/data/v9.2/accounts", tokenA, 200},
			{"GET", "/api/data/v9.2/contactsx", tokenA, 200},
			{"GET", "/api/data/v9.2/Contacts", tokenA, 200},
		}},
		{"batch", FaultMatch{Table: "$batch"}, []call{
			{"POST", "/api/data/v9.2/$batch", tokenA, 503},
			{"GET", "/api/data/v9.2/contacts", tokenA, 200},
		}},
		{"path prefix and method", FaultMatch{PathPrefix: "/api/data/v9.2/accounts", Methods: []string{"patch", "DELETE"}}, []call{
			{"PATCH", "/api/data/v9.2/accounts(1)", tokenA, 503},
			{"DELETE", "/api/data/v9.2/accounts(1)", tokenA, 503},
			{"GET", "/api/data/v9.2/accounts(1)", tokenA, 200},
			{"PATCH", "/api/data/v9.2/contacts(1)", tokenA, 200},
		}},
		{"app", FaultMatch{AppID: strings.ToUpper(appB)}, []call{
			{"GET", "/api/data/v9.2/contacts", tokenA, 200},
			{"GET", "/api/data/v9.2/contacts", tokenB, 503},
		}},
		{"tenant", FaultMatch{TenantID: strings.ToUpper(tenantA)}, []call{
			{"GET", "/api/data/v9.2/contacts", tokenA, 503},
			{"GET", "/api/data/v9.2/contacts", badTok, 401}, // no caller, no tenant: not matched
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envConfig{faults: []FaultRule{{Match: tc.match, Action: FaultAction{Kind: ActionError, Status: 503}}}})
			for _, c := range tc.calls {
				r, err := e.do(context.Background(), c.method, c.path, c.token, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if r.status != c.want {
					t.Errorf("%s %s: status %d, want %d", c.method, c.path, r.status, c.want)
				}
			}
		})
	}
}

func TestFaultErrorBodies(t *testing.T) {
	t.Parallel()
	t.Run("dataverse defaults", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{faults: []FaultRule{{ID: "boom", Action: FaultAction{Kind: ActionError, Status: 503, RetryAfter: 7}}}})
		r := e.get("contacts", tokenA)
		code, msg := r.envelope(t)
		if r.status != 503 || code != "0x80040216" || msg != "Service Unavailable (injected by the emulator's fault rule boom)." {
			t.Errorf("got %d %s %q", r.status, code, msg)
		}
		if r.header.Get("Retry-After") != "7" || r.header.Get("Content-Type") != contentTypeOData || r.header.Get("OData-Version") != "4.0" {
			t.Errorf("headers %v", r.header)
		}
		le := e.lastLog()
		if le.Reason != "fault rule boom: Service Unavailable (injected by the emulator's fault rule boom)." || le.Code != "0x80040216" ||
			!cmp.Equal(le.Faults, []string{"boom"}) {
			t.Errorf("log entry %+v", le)
		}
	})
	t.Run("dataverse code and message", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{faults: []FaultRule{{Action: FaultAction{Kind: ActionError, Status: 403, Code: "0x80072560", Message: "The user is not a member of the organization."}}}})
		r := e.get("contacts", tokenA)
		if code, msg := r.envelope(t); r.status != 403 || code != "0x80072560" || msg != "The user is not a member of the organization." {
			t.Errorf("got %d %s %q", r.status, code, msg)
		}
	})
	t.Run("web api 401 is empty with the challenge", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{faults: []FaultRule{{Action: FaultAction{Kind: ActionError, Status: 401}}}})
		r := e.get("contacts", tokenA)
		if r.status != 401 || len(r.body) != 0 || r.header.Get("WWW-Authenticate") != testChallenge {
			t.Errorf("got %d %q WWW-Authenticate %q", r.status, r.body, r.header.Get("WWW-Authenticate"))
		}
	})
	t.Run("throttle defaults", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{faults: []FaultRule{{Action: FaultAction{Kind: ActionThrottle}}}})
		r := e.get("contacts", tokenA)
		code, msg := r.envelope(t)
		if r.status != 429 || r.header.Get("Retry-After") != "1" || code != CodeRequestsExceeded ||
			msg != "Number of requests exceeded the limit of 6000 over time window of 300 seconds." {
			t.Errorf("got %d Retry-After %q %s %q", r.status, r.header.Get("Retry-After"), code, msg)
		}
	})
	t.Run("throttle with the concurrency code", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{faults: []FaultRule{{Action: FaultAction{Kind: ActionThrottle, Code: CodeConcurrencyExceeded, RetryAfter: 3}}}})
		r := e.get("contacts", tokenA)
		if code, msg := r.envelope(t); code != CodeConcurrencyExceeded || msg != "Number of concurrent requests exceeded the limit of 52." || r.header.Get("Retry-After") != "3" {
			t.Errorf("got %s %q Retry-After %q", code, msg, r.header.Get("Retry-After"))
		}
	})
	t.Run("entra on the token endpoint", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{faults: []FaultRule{{
			Match:  FaultMatch{PathPrefix: "/" + tenantA + "/oauth2/"},
			Action: FaultAction{Kind: ActionError, Status: 401, Code: "AADSTS7000222", Error: "invalid_client", Message: "The provided client secret keys for app '" + appA + "' are expired. Visit the Azure portal to create new keys for your app."},
		}}})
		const correlation = "5a8f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
		r := e.token(secret, http.Header{"client-request-id": {correlation}})
		assertEntraBody(t, r, 401, "invalid_client", 7000222, correlation,
			"The provided client secret keys for app '"+appA+"' are expired. Visit the Azure portal to create new keys for your app.")
		select {
		case <-e.backend.forms:
			t.Error("the token endpoint was reached although the fault answered")
		default:
		}
		if le := e.lastLog(); le.Code != "AADSTS7000222" || le.AppID != appA || le.TenantID != tenantA ||
			le.Reason != "fault rule f1: AADSTS7000222: The provided client secret keys for app '"+appA+"' are expired." {
			t.Errorf("log entry %+v", le)
		}
	})
	t.Run("entra shape on the web api", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, envConfig{faults: []FaultRule{{Action: FaultAction{Kind: ActionThrottle, Shape: ShapeEntra}}}})
		r := e.get("contacts", tokenA)
		assertEntraBody(t, r, 429, "temporarily_unavailable", 90055, "", "There are too many incoming requests. Please try again later.")
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
	})
}

var entraTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)

// assertEntraBody checks Entra's full error JSON. An empty correlation means "any GUID".
func assertEntraBody(t *testing.T, r result, status int, oauth string, code int, correlation, message string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d", r.status, status)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	want := []string{"correlation_id", "error", "error_codes", "error_description", "error_uri", "timestamp", "trace_id"}
	if diff := cmp.Diff(want, keys, cmpSortStrings); diff != "" {
		t.Errorf("Entra body fields (-want +got):\n%s", diff)
	}
	ts, _ := body["timestamp"].(string)
	trace, _ := body["trace_id"].(string)
	corr, _ := body["correlation_id"].(string)
	if correlation != "" && corr != correlation {
		t.Errorf("correlation_id %q, want the client-request-id %q", corr, correlation)
	}
	if !entraTimestamp.MatchString(ts) || len(trace) != 36 || len(corr) != 36 {
		t.Errorf("timestamp %q trace_id %q correlation_id %q", ts, trace, corr)
	}
	wantDesc := "AADSTS" + strconv.Itoa(code) + ": " + message + "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + corr + "\r\nTimestamp: " + ts
	if body["error"] != oauth || body["error_description"] != wantDesc ||
		body["error_uri"] != "https://login.microsoftonline.com/error?code="+strconv.Itoa(code) ||
		!cmp.Equal(body["error_codes"], []any{float64(code)}) {
		t.Errorf("Entra body %s\nwant error %s, description %q", r.body, oauth, wantDesc)
	}
}

var cmpSortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestTokenEndpointDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{faults: []FaultRule{{ID: "sts-down", Action: FaultAction{Kind: ActionTokenEndpointDown, RetryAfter: 30}}}})
	r := e.token(secret, nil)
	assertEntraBody(t, r, 503, "temporarily_unavailable", 90033, "", "A transient error has occurred. Please try again.")
	if r.header.Get("Retry-After") != "30" {
		t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
	}
	if s := e.get("contacts", tokenA).status; s != 200 {
		t.Errorf("Web API while the token endpoint is down: %d", s)
	}
	if err := e.c.RemoveFault("sts-down"); err != nil {
		t.Fatal(err)
	}
	if r := e.token(secret, nil); r.status != 200 {
		t.Errorf("after removing the rule: %d %s", r.status, r.body)
	}
}

func TestDroppedConnection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		http2 bool
		rule  FaultRule
		path  string
	}{
		{"drop http1", false, FaultRule{Action: FaultAction{Kind: ActionDrop}}, "/api/data/v9.2/contacts"},
		{"drop http2", true, FaultRule{Action: FaultAction{Kind: ActionDrop}}, "/api/data/v9.2/contacts"},
		{"token endpoint dropped", false, FaultRule{Action: FaultAction{Kind: ActionTokenEndpointDown, Drop: true}}, "/" + tenantA + "/oauth2/v2.0/token"},
		{"token endpoint dropped http2", true, FaultRule{Action: FaultAction{Kind: ActionTokenEndpointDown, Drop: true}}, "/" + tenantA + "/oauth2/v2.0/token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envConfig{http2: tc.http2, faults: []FaultRule{tc.rule}})
			r, err := e.do(context.Background(), http.MethodPost, tc.path, tokenA, strings.NewReader("grant_type=client_credentials&client_id="+appA+"&client_secret="+secret),
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
			if err == nil {
				t.Fatalf("the client got a response (%d %s) from a dropped connection", r.status, r.body)
			}
			var le LogEntry
			waitFor(t, "the dropped request in the log", func() bool {
				entries := e.c.Log(LogFilter{})
				if len(entries) == 0 {
					return false
				}
				le = entries[len(entries)-1]
				return true
			})
			if le.Status != 0 || le.Outcome != OutcomeDropped || !strings.Contains(le.Reason, "dropped the connection") || le.Faults[0] != "f1" {
				t.Errorf("log entry %+v", le)
			}
		})
	}
}

func TestLatencyPassesThroughAndHonoursCancellation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{faults: []FaultRule{
		{ID: "slow", Match: FaultMatch{Table: "accounts"}, Action: FaultAction{Kind: ActionLatency, Delay: time.Millisecond}},
		{ID: "slower", Match: FaultMatch{Table: "accounts"}, Action: FaultAction{Kind: ActionLatency, Delay: time.Millisecond}},
		{ID: "hang", Match: FaultMatch{Table: "contacts"}, Action: FaultAction{Kind: ActionLatency, Delay: 10 * time.Minute}},
	}})
	r := e.get("accounts", tokenA)
	if r.status != 200 || string(r.body) != `{"value":[]}` {
		t.Fatalf("after injected latency: %d %s, want the handler's 200", r.status, r.body)
	}
	if le := e.lastLog(); !cmp.Equal(le.Faults, []string{"slow", "slower"}) || le.Reason != "delayed 2ms by fault rule slow, slower" {
		t.Errorf("log entry %+v", le)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.do(ctx, http.MethodGet, "/api/data/v9.2/contacts", tokenA, nil, nil)
		done <- err
	}()
	waitFor(t, "the request to reach the injected delay", func() bool {
		st, _ := e.c.Fault("hang")
		return st.Matched == 1
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("client error %v, want context.Canceled", err)
	}
	waitFor(t, "the cancelled request in the log", func() bool {
		return len(e.c.Log(LogFilter{Fault: "hang"})) == 1
	})
	le := e.c.Log(LogFilter{Fault: "hang"})[0]
	if le.Outcome != OutcomeCancelled || le.Status != 0 || !strings.Contains(le.Reason, "went away during an injected delay of 10m0s (fault rule hang)") {
		t.Errorf("log entry %+v", le)
	}
}

// The first terminal rule answers; later ones still count the call.
func TestFirstTerminalRuleWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{faults: []FaultRule{
		{ID: "a", Trigger: FaultTrigger{Nth: 2}, Action: FaultAction{Kind: ActionError, Status: 500}},
		{ID: "b", Action: FaultAction{Kind: ActionError, Status: 502}},
	}})
	if diff := cmp.Diff([]int{502, 500, 502}, e.statuses(3, "contacts", tokenA)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	a, _ := e.c.Fault("a")
	b, _ := e.c.Fault("b")
	if a.Matched != 3 || a.Fired != 1 || b.Matched != 3 || b.Fired != 2 {
		t.Errorf("counters a=%d/%d b=%d/%d, want 3/1 and 3/2", a.Matched, a.Fired, b.Matched, b.Fired)
	}
}

func TestAddRemoveFaults(t *testing.T) {
	t.Parallel()
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	rule := FaultRule{Action: FaultAction{Kind: ActionDrop}}
	id1, _ := c.AddFault(rule)
	id2, _ := c.AddFault(FaultRule{ID: "f3", Action: FaultAction{Kind: ActionDrop}})
	id3, _ := c.AddFault(rule)
	if id1 != "f1" || id2 != "f3" || id3 != "f2" {
		t.Errorf("ids %s %s %s", id1, id2, id3)
	}
	if id4, _ := c.AddFault(rule); id4 != "f4" {
		t.Errorf("next id after f3 was taken: %s", id4)
	}
	if _, err := c.AddFault(FaultRule{ID: "f1", Action: FaultAction{Kind: ActionDrop}}); err == nil || !strings.Contains(err.Error(), `id: "f1" is already in use`) {
		t.Errorf("duplicate id: %v", err)
	}
	if err := c.RemoveFault("f3"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveFault("f3"); !errors.Is(err, ErrFaultNotFound) {
		t.Errorf("removing twice: %v", err)
	}
	var ids []string
	for _, f := range c.Faults() {
		ids = append(ids, f.ID)
	}
	if diff := cmp.Diff([]string{"f1", "f2", "f4"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	c.ClearFaults()
	if n := len(c.Faults()); n != 0 {
		t.Errorf("%d rules after ClearFaults", n)
	}
	if id, _ := c.AddFault(rule); id != "f5" {
		t.Errorf("id after ClearFaults = %s, want f5 (ids keep counting)", id)
	}
	if _, err := New(Options{Faults: []FaultRule{rule, {Action: FaultAction{Kind: "explode"}}}}); err == nil ||
		!strings.Contains(err.Error(), `Options.Faults[1]: fault rule: action.kind: "explode" is not one of`) {
		t.Errorf("New with a bad rule: %v", err)
	}
}
