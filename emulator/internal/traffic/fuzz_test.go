package traffic

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseFaultRule: any input either fails with an error or yields a valid rule whose JSON
// form parses back to the same rule.
func FuzzParseFaultRule(f *testing.F) {
	for _, seed := range []string{
		`{"action":{"kind":"drop"}}`,
		`{"id":"a","match":{"table":"contacts","methods":["get"],"appId":"11111111-1111-4111-8111-111111111111"},"trigger":{"nth":2,"count":3,"probability":0.5},"action":{"kind":"error","status":503,"code":"0x80040216","retryAfter":5}}`,
		`{"match":{"pathPrefix":"/t/oauth2/","tenantId":"contoso.com"},"trigger":{"from":"2025-01-01T00:00:00Z","for":"30s"},"action":{"kind":"tokenEndpointDown","code":"AADSTS90033"}}`,
		`{"action":{"kind":"latency","delay":"1.5s"}}`,
		`{"action":{"kind":"throttle","shape":"entra","error":"temporarily_unavailable","message":"m"}}`,
		`{"action":{"kind":"error","status":401,"code":"7000222","shape":"entra"}}`,
		`[]`, `null`, `{"action":null}`, `{"trigger":{"probability":1e400}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rule, err := ParseFaultRule(data)
		if err != nil {
			return
		}
		if err := rule.Validate(); err != nil {
			t.Fatalf("parsed rule does not validate: %v\n%s", err, data)
		}
		out, err := json.Marshal(rule)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := ParseFaultRule(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		if diff := cmp.Diff(rule, again); diff != "" {
			t.Fatalf("round trip of %s (-first +again):\n%s", out, diff)
		}
	})
}

// FuzzLimitsJSON: decoded limits always validate and round-trip.
func FuzzLimitsJSON(f *testing.F) {
	for _, seed := range []string{`{"preset":"strict"}`, `{"requests":5,"window":"1s"}`, `{"executionTime":"20m"}`, `{}`, `{"window":"-1s"}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var l Limits
		if err := l.UnmarshalJSON(data); err != nil {
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("decoded limits do not validate: %v", err)
		}
		out, _ := json.Marshal(l)
		var again Limits
		if err := again.UnmarshalJSON(out); err != nil || again != l {
			t.Fatalf("round trip of %s: %+v, %v", out, again, err)
		}
	})
}

// FuzzReasonFromBody: reading any error body never panics and yields a bounded reason.
func FuzzReasonFromBody(f *testing.F) {
	for _, seed := range []string{
		`{"error":{"code":"0x1","message":"m"}}`,
		`{"error":"invalid_client","error_description":"AADSTS1: a. b\r\nTrace ID: x","error_codes":[1]}`,
		`{"error":{"code":"0x1","message":"caf\u00`, `{"error_description":"\"`, "plain\ntext",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		reason, _ := reasonFromBody(body)
		if len(reason) > maxReasonLen+len("…") {
			t.Fatalf("reason of %d bytes", len(reason))
		}
	})
}
