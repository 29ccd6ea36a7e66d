package traffic

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func TestParseFaultRuleValidation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, field, want string }{
		{`{}`, "action.kind", "is required: one of error, throttle, latency, drop, tokenEndpointDown"},
		{`{"action":{"kind":"boom"}}`, "action.kind", `"boom" is not one of`},
		{`{"id":"has space","action":{"kind":"drop"}}`, "id", "may hold only letters, digits"},
		{`{"match":{"pathPrefix":"api/data"},"action":{"kind":"drop"}}`, "match.pathPrefix", "must start with '/'"},
		{`{"match":{"table":"contacts(1)"},"action":{"kind":"drop"}}`, "match.table", "is not an entity set name"},
		{`{"match":{"methods":["GET","FETCH"]},"action":{"kind":"drop"}}`, "match.methods[1]", `"FETCH" is not one of GET`},
		{`{"match":{"appId":"my-app"},"action":{"kind":"drop"}}`, "match.appId", "is not an application (client) id"},
		{`{"match":{"tenantId":"a b"},"action":{"kind":"drop"}}`, "match.tenantId", "is neither a tenant GUID nor a domain name"},
		{`{"trigger":{"nth":-1},"action":{"kind":"drop"}}`, "trigger.nth", "-1 is negative"},
		{`{"trigger":{"count":-2},"action":{"kind":"drop"}}`, "trigger.count", "or -1 for every call from nth on"},
		{`{"trigger":{"probability":-0.1},"action":{"kind":"drop"}}`, "trigger.probability", "not between 0 and 1"},
		{`{"trigger":{"from":"2025-01-02T00:00:00Z","until":"2025-01-01T00:00:00Z"},"action":{"kind":"drop"}}`, "trigger.until", "is not after from"},
		{`{"trigger":{"until":"2025-01-01T00:00:00Z","for":"1m"},"action":{"kind":"drop"}}`, "trigger.for", "give either until or for"},
		{`{"trigger":{"from":"tomorrow"},"action":{"kind":"drop"}}`, "trigger.from", "is not an RFC 3339 time"},
		{`{"trigger":{"for":"soon"},"action":{"kind":"drop"}}`, "trigger.for", "is not a duration"},
		{`{"action":{"kind":"error"}}`, "action.status", "is required: give 400–599"},
		{`{"action":{"kind":"error","code":"AADSTS12345"}}`, "action.status", "is required"},
		{`{"action":{"kind":"error","status":600}}`, "action.status", "600 is not an error status"},
		{`{"action":{"kind":"throttle","status":503}}`, "action.status", "a throttle action always answers 429"},
		{`{"action":{"kind":"latency"}}`, "action.delay", "is not between 1ns and 10m0s"},
		{`{"action":{"kind":"latency","delay":"1h"}}`, "action.delay", "is not between"},
		{`{"action":{"kind":"latency","delay":"1s","status":500}}`, "action.status", `applies only to error and throttle actions, not "latency"`},
		{`{"action":{"kind":"drop","delay":"1s"}}`, "action.delay", "applies only to latency actions"},
		{`{"action":{"kind":"error","status":500,"drop":true}}`, "action.drop", "applies only to tokenEndpointDown actions"},
		{`{"action":{"kind":"error","status":500,"shape":"xml"}}`, "action.shape", `"xml" is not dataverse or entra`},
		{`{"action":{"kind":"error","status":500,"code":"boom"}}`, "action.code", "is neither a Dataverse code"},
		{`{"action":{"kind":"error","status":500,"shape":"dataverse","code":"AADSTS50000"}}`, "action.code", "is an Entra code but shape is dataverse"},
		{`{"action":{"kind":"error","status":500,"shape":"entra","code":"0x80040216"}}`, "action.code", "is a Dataverse code but the body is Entra-shaped"},
		{`{"action":{"kind":"error","status":500,"shape":"dataverse","error":"invalid_client"}}`, "action.error", "belongs to Entra-shaped bodies"},
		{`{"action":{"kind":"error","status":500,"error":"Invalid Client"}}`, "action.error", "is not an OAuth error code"},
		{`{"action":{"kind":"error","status":500,"retryAfter":-1}}`, "action.retryAfter", "is not a number of seconds"},
		{`{"match":{"table":"contacts"},"action":{"kind":"tokenEndpointDown"}}`, "match.table", "a tokenEndpointDown rule matches /{tenant}/oauth2/ paths"},
		{`{"action":{"kind":"tokenEndpointDown","drop":true,"retryAfter":5}}`, "action.drop", "a dropped connection has no body"},
	} {
		_, err := ParseFaultRule([]byte(tc.in))
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field || !strings.Contains(ve.Msg, tc.want) || !strings.HasPrefix(err.Error(), "fault rule: ") {
			t.Errorf("%s:\n got %v\nwant %s: …%s…", tc.in, err, tc.field, tc.want)
		}
	}
}

func TestParseFaultRuleNormalizes(t *testing.T) {
	t.Parallel()
	rule, err := ParseFaultRule([]byte(`{
		"id": "sts", "match": {"methods": ["post"], "appId": "11111111-1111-4111-8111-11111111111A"},
		"trigger": {"from": "2025-01-01T10:00:00+01:00", "for": "90s"},
		"action": {"kind": "error", "status": 401, "code": "7000222", "shape": "entra"}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	want := FaultRule{
		ID:      "sts",
		Match:   FaultMatch{Methods: []string{"POST"}, AppID: "11111111-1111-4111-8111-11111111111a"},
		Trigger: FaultTrigger{From: time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC), For: 90 * time.Second},
		Action:  FaultAction{Kind: ActionError, Status: 401, Code: "AADSTS7000222", Shape: ShapeEntra},
	}
	if diff := cmp.Diff(want, rule); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	c, _ := New(Options{})
	id, _ := c.AddFault(rule)
	st, _ := c.Fault(id)
	if !st.Trigger.Until.Equal(want.Trigger.From.Add(90*time.Second)) || st.Trigger.For != 0 {
		t.Errorf("for from an explicit from resolved to %v / %v", st.Trigger.Until, st.Trigger.For)
	}
	if st.Action.Code != "AADSTS7000222" {
		t.Errorf("code %q", st.Action.Code)
	}
	// Dataverse codes are kept as written (only the prefix is normalised).
	for in, want := range map[string]string{"0X8004021a": "0x8004021a", "0x8006088a": "0x8006088a", "0x8006088A": "0x8006088A"} {
		rule, err := ParseFaultRule([]byte(`{"action":{"kind":"error","status":500,"code":"` + in + `"}}`))
		if err != nil || rule.Action.Code != want {
			t.Errorf("code %s kept as %q (%v), want %s", in, rule.Action.Code, err, want)
		}
	}
	// A known Entra code brings its status.
	for code, status := range map[string]int{"AADSTS7000222": 401, "AADSTS700016": 400, "AADSTS90033": 503, "AADSTS90055": 429} {
		rule, err := ParseFaultRule([]byte(`{"action":{"kind":"error","code":"` + code + `"}}`))
		if err != nil || rule.Action.Status != status {
			t.Errorf("error with code %s and no status: status %d (%v), want %d", code, rule.Action.Status, err, status)
		}
	}
}

// Scenario files hold limits and rules in YAML with the same names, checks and messages.
func TestYAMLScenarioSnippet(t *testing.T) {
	t.Parallel()
	const doc = `
limits:
  preset: default
  requests: 100
  window: 60s
faults:
  - id: contacts-flaky
    match: {table: contacts, methods: [GET]}
    trigger: {probability: 0.1}
    action: {kind: error, status: 503}
  - match: {pathPrefix: /common/oauth2/}
    trigger: {from: 2025-03-14T09:00:00Z, until: "2025-03-14T10:00:00Z"}
    action: {kind: tokenEndpointDown}
  - action: {kind: latency, delay: 250ms}
`
	var scenario struct {
		Limits Limits      `yaml:"limits"`
		Faults []FaultRule `yaml:"faults"`
	}
	if err := yaml.Unmarshal([]byte(doc), &scenario); err != nil {
		t.Fatal(err)
	}
	wantLimits := LimitsDefault()
	wantLimits.Requests, wantLimits.Window = 100, time.Minute
	if scenario.Limits != wantLimits {
		t.Errorf("limits %+v", scenario.Limits)
	}
	want := []FaultRule{
		{ID: "contacts-flaky", Match: FaultMatch{Table: "contacts", Methods: []string{"GET"}}, Trigger: FaultTrigger{Probability: 0.1}, Action: FaultAction{Kind: ActionError, Status: 503}},
		{Match: FaultMatch{PathPrefix: "/common/oauth2/"}, Trigger: FaultTrigger{From: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC), Until: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)},
			Action: FaultAction{Kind: ActionTokenEndpointDown}},
		{Action: FaultAction{Kind: ActionLatency, Delay: 250 * time.Millisecond}},
	}
	if diff := cmp.Diff(want, scenario.Faults); diff != "" {
		t.Errorf("faults (-want +got):\n%s", diff)
	}
	out, err := yaml.Marshal(scenario)
	if err != nil {
		t.Fatal(err)
	}
	var again struct {
		Limits Limits      `yaml:"limits"`
		Faults []FaultRule `yaml:"faults"`
	}
	if err := yaml.Unmarshal(out, &again); err != nil {
		t.Fatalf("re-reading\n%s: %v", out, err)
	}
	if diff := cmp.Diff(scenario, again); diff != "" {
		t.Errorf("YAML round trip (-first +again):\n%s", diff)
	}

	var bad struct {
		Faults []FaultRule `yaml:"faults"`
	}
	err = yaml.Unmarshal([]byte("faults:\n  - action: {kind: error, status: 700}\n"), &bad)
	if err == nil || !strings.Contains(err.Error(), "line 2: fault rule: action.status: 700 is not an error status") {
		t.Errorf("bad YAML rule: %v", err)
	}
	// Type errors speak of YAML, which is what the author wrote.
	err = yaml.Unmarshal([]byte("faults:\n  - trigger: {nth: second}\n    action: {kind: drop}\n"), &bad)
	if err == nil || !strings.Contains(err.Error(), "line 2: fault rule: trigger.nth: got a YAML string, want an integer") {
		t.Errorf("YAML rule with a string for nth: %v", err)
	}
	var badLimits struct {
		Limits Limits `yaml:"limits"`
	}
	err = yaml.Unmarshal([]byte("limits:\n  window: 300\n"), &badLimits)
	if err == nil || !strings.Contains(err.Error(), "limits: window: got a YAML number, want a string") {
		t.Errorf("YAML limits with a number for window: %v", err)
	}
}
