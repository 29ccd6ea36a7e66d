package traffic

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Every kind of refusal is logged with its reason in words, its code and its caller; and no
// token, secret or assertion reaches the log or the logger.
func TestLogNamesReasonsAndNeverHoldsSecrets(t *testing.T) {
	t.Parallel()
	var logged syncBuffer
	e := newEnv(t, envConfig{
		limits: &Limits{Requests: 3, Window: time.Hour},
		opts: func(o *Options) {
			o.Logger = slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
		},
	})
	if _, err := e.c.AddFault(FaultRule{ID: "acc-500", Match: FaultMatch{Table: "accounts"}, Action: FaultAction{Kind: ActionError, Status: 500}}); err != nil {
		t.Fatal(err)
	}

	e.get("contacts?$select=fullname&$filter=lastname%20eq%20'Smith'&access_token="+tokenB+"&x="+badTok, tokenA) // 200
	e.get("contacts", badTok)                                                                                    // 401 from the Web API, reason via SetReason
	e.get("forbidden", tokenA)                                                                                   // 403 envelope, reason from the body
	e.get("accounts", tokenA)                                                                                    // injected 500
	e.token("wrong-"+secret, nil)                                                                                // Entra 401, reason from error_description
	e.get("contacts", tokenA)                                                                                    // request 3 of 3
	e.get("contacts", tokenA)                                                                                    // 429
	e.token(secret, nil)                                                                                         // 200; the body reaches the token endpoint intact
	e.do(context.Background(), http.MethodPost, "/"+tenantA+"/oauth2/v2.0/token?client_secret="+secret, "",      // query secret
		strings.NewReader("grant_type=client_credentials&client_id="+appA+"&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="+tokenB),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})

	got := e.c.Log(LogFilter{})
	want := []LogEntry{
		{Method: "GET", Path: "/api/data/v9.2/contacts?$select=fullname&$filter=lastname%20eq%20'Smith'&access_token=REDACTED&x=REDACTED", Status: 200, TenantID: tenantA, AppID: appA},
		{Method: "GET", Path: "/api/data/v9.2/contacts", Status: 401, Reason: "the access token's signature does not verify against the token service's keys"},
		{Method: "GET", Path: "/api/data/v9.2/forbidden", Status: 403, TenantID: tenantA, AppID: appA, Code: "0x80040220",
			Reason: "Principal user (Id=7f0c, type=8) is missing prvReadContact privilege (Id=886b) on OTC=2 for entity 'contact'."},
		{Method: "GET", Path: "/api/data/v9.2/accounts", Status: 500, TenantID: tenantA, AppID: appA, Code: "0x80040216",
			Reason: "fault rule acc-500: An unexpected error occurred.", Faults: []string{"acc-500"}},
		{Method: "POST", Path: "/" + tenantA + "/oauth2/v2.0/token", Status: 401, TenantID: tenantA, AppID: appA, Code: "AADSTS7000215",
			Reason: "AADSTS7000215: Invalid client secret provided."},
		{Method: "GET", Path: "/api/data/v9.2/contacts", Status: 200, TenantID: tenantA, AppID: appA},
		{Method: "GET", Path: "/api/data/v9.2/contacts", Status: 429, TenantID: tenantA, AppID: appA, Code: CodeRequestsExceeded, Limit: "requests",
			Reason: "Number of requests exceeded the limit of 3 over time window of 3600 seconds."},
		{Method: "POST", Path: "/" + tenantA + "/oauth2/v2.0/token", Status: 200, TenantID: tenantA, AppID: appA},
		{Method: "POST", Path: "/" + tenantA + "/oauth2/v2.0/token", Status: 401, TenantID: tenantA, AppID: appA, Code: "AADSTS7000215",
			Reason: "AADSTS7000215: Invalid client secret provided."},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(LogEntry{}, "Seq", "Time", "Duration"), cmpopts.IgnoreUnexported(LogEntry{})); diff != "" {
		t.Errorf("request log (-want +got):\n%s", diff)
	}
	for i, le := range got {
		if le.Seq != uint64(i+1) || !le.Time.Equal(e.clock.Now()) {
			t.Errorf("entry %d: seq %d time %v", i, le.Seq, le.Time)
		}
	}
	if s := <-e.backend.forms; s != "wrong-"+secret {
		t.Errorf("the token endpoint saw client_secret %q", s)
	}
	if s := <-e.backend.forms; s != secret {
		t.Errorf("the token endpoint saw client_secret %q after the middleware read the form", s)
	}

	adminLog := e.admin(http.MethodGet, "log", "")
	for name, text := range map[string]string{"admin log": string(adminLog.body), "slog output": logged.String(), "Go log": mustJSON(t, got)} {
		for _, s := range []string{tokenA, tokenB, badTok, secret, "eyJ"} {
			if strings.Contains(text, s) {
				t.Errorf("%s contains %q", name, s)
			}
		}
	}
	if !strings.Contains(logged.String(), `"reason":"AADSTS7000215: Invalid client secret provided."`) {
		t.Errorf("slog output lacks the reasons:\n%s", logged.String())
	}
}

func TestLogFilterAndRing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{logSize: 4, faults: []FaultRule{{ID: "x", Match: FaultMatch{Table: "accounts"}, Action: FaultAction{Kind: ActionError, Status: 502}}}})
	e.get("contacts", tokenA) // 1
	e.get("accounts", tokenA) // 2: 502
	e.get("contacts", badTok) // 3: 401
	e.get("contacts", tokenB) // 4
	e.clock.Advance(time.Minute)
	e.get("forbidden", tokenB) // 5: 403; seq 1 leaves the ring
	e.get("contacts", tokenA)  // 6; seq 2 leaves

	seqs := func(f LogFilter) []uint64 {
		var out []uint64
		for _, le := range e.c.Log(f) {
			out = append(out, le.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		filter LogFilter
		want   []uint64
	}{
		{"all, ring of 4", LogFilter{}, []uint64{3, 4, 5, 6}},
		{"after", LogFilter{After: 4}, []uint64{5, 6}},
		{"since", LogFilter{Since: e.clock.Now()}, []uint64{5, 6}},
		{"status", LogFilter{Status: []int{401, 403}}, []uint64{3, 5}},
		{"refused", LogFilter{Refused: true}, []uint64{3, 5}},
		{"app", LogFilter{AppID: strings.ToUpper(appB)}, []uint64{4, 5}},
		{"max", LogFilter{Max: 2}, []uint64{3, 4}},
		{"path", LogFilter{PathPrefix: "/api/data/v9.2/forb"}, []uint64{5}},
		{"method", LogFilter{Method: "get", After: 5}, []uint64{6}},
		{"tenant", LogFilter{TenantID: tenantA, After: 4}, []uint64{5, 6}},
	} {
		if diff := cmp.Diff(tc.want, seqs(tc.filter)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	e.c.ClearLog()
	if n := len(e.c.Log(LogFilter{})); n != 0 {
		t.Errorf("%d entries after ClearLog", n)
	}
	e.get("contacts", tokenA)
	if le := e.lastLog(); le.Seq != 7 {
		t.Errorf("seq after ClearLog = %d, want 7 (sequence numbers keep counting)", le.Seq)
	}
}

// The admin API is neither logged, metered nor faulted, so a rule that matches everything can
// still be removed.
func TestAdminPathsBypassTraffic(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{faults: []FaultRule{{Action: FaultAction{Kind: ActionDrop}}}})
	if r := e.admin(http.MethodDelete, "faults", ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE faults: %d %s", r.status, r.body)
	}
	if n := len(e.c.Log(LogFilter{})); n != 0 {
		t.Errorf("admin requests were logged: %d entries", n)
	}
	if s := e.get("contacts", tokenA).status; s != 200 {
		t.Errorf("after clearing: %d", s)
	}
}

func TestLogEntryJSONRoundTrip(t *testing.T) {
	t.Parallel()
	in := LogEntry{Seq: 9, Time: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC), Method: "GET", Path: "/api/data/v9.2/x", Status: 429,
		TenantID: tenantA, AppID: appA, Duration: 1500 * time.Microsecond, Reason: "r", Code: "0x80072322", Limit: "requests", Faults: []string{"f1"}}
	data := mustJSON(t, in)
	if !strings.Contains(data, `"durationMs":1.5`) || !strings.Contains(data, `"appId":"`+appA+`"`) {
		t.Errorf("JSON %s", data)
	}
	var out LogEntry
	if err := json.Unmarshal([]byte(data), &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out, cmpopts.IgnoreUnexported(LogEntry{})); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
}

// TestLogEntryDurationSurvivesReencoding decodes and encodes again durations whose milliseconds
// are not exact in binary: the admin client decodes entries and the CLI prints them again, so
// durationMs must come back as it was sent (truncating lost a nanosecond on about 2%).
func TestLogEntryDurationSurvivesReencoding(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{2048000005, 2048000009, 1234567, 7, 1500 * time.Microsecond} {
		data := mustJSON(t, LogEntry{Duration: d})
		var out LogEntry
		if err := json.Unmarshal([]byte(data), &out); err != nil {
			t.Fatal(err)
		}
		if out.Duration != d {
			t.Errorf("%d ns: decoded %d ns from %s", int64(d), int64(out.Duration), data)
		}
	}
}

func TestReasonFromBody(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 9000)
	for _, tc := range []struct {
		name, body, reason, code string
	}{
		{"dataverse", `{"error":{"code":"0x80040217","message":"contact With Id = 1 Does Not Exist"}}`, "contact With Id = 1 Does Not Exist", "0x80040217"},
		{"entra", `{"error":"invalid_client","error_description":"AADSTS700016: Application with identifier 'a' was not found in the directory 'b'. This can happen if…\r\nTrace ID: x","error_codes":[700016]}`,
			"AADSTS700016: Application with identifier 'a' was not found in the directory 'b'.", "AADSTS700016"},
		{"oauth error only", `{"error":"invalid_request"}`, "invalid_request", ""},
		{"plain text", "404 page not found\n", "404 page not found", ""},
		{"empty", "", "", ""},
		{"truncated dataverse", `{"error":{"code":"0x80040220","message":"Principal user is missing prvReadContact privilege and th`, "Principal user is missing prvReadContact privilege and th", "0x80040220"},
		{"truncated mid escape", `{"error":{"code":"0x1","message":"caf\u00`, "caf", "0x1"},
		{"truncated entra", `{"error":"invalid_client","error_description":"AADSTS7000222: The provided client secret keys are expired. Visit`, "AADSTS7000222: The provided client secret keys are expired.", ""},
		{"long message clipped", `{"error":{"code":"0x1","message":"` + long + `"}}`, strings.Repeat("x", maxReasonLen) + "…", "0x1"},
	} {
		reason, code := reasonFromBody([]byte(tc.body))
		if reason != tc.reason || code != tc.code {
			t.Errorf("%s: got %q %q, want %q %q", tc.name, reason, code, tc.reason, tc.code)
		}
	}
}

func TestRedactQuery(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"$select=name&$top=5":                          "$select=name&$top=5",
		"access_token=abc&$top=5":                      "access_token=REDACTED&$top=5",
		"$filter=x&Client_Secret=s3cr3t":               "$filter=x&Client_Secret=REDACTED",
		"auth=Bearer%20" + tokenA:                      "auth=REDACTED",
		"%61ccess_token=abc":                           "%61ccess_token=REDACTED",
		"$filter=name%20eq%20'a.b.c'":                  "$filter=name%20eq%20'a.b.c'",
		"code=xyz&sig=abc&$expand=primarycontactid":    "code=REDACTED&sig=REDACTED&$expand=primarycontactid",
		"$filter=contains(fullname,'eyJ')&tag=a.b.c.d": "$filter=contains(fullname,'eyJ')&tag=a.b.c.d",
	} {
		if got := redactQuery(in); got != want {
			t.Errorf("redactQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPathHelpers(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/api/data/v9.2/contacts":           "contacts",
		"/api/data/v9.2/contacts(1)/x":      "contacts",
		"/api/data/v9.2/$batch":             "$batch",
		"/api/data/v9.2/WhoAmI()":           "WhoAmI",
		"/api/data/v9.2/EntityDefinitions(": "EntityDefinitions",
		"/api/data/v9.2":                    "",
		"/api/data/":                        "",
	} {
		if got := tableOf(path); got != want {
			t.Errorf("tableOf(%q) = %q, want %q", path, got, want)
		}
	}
}
