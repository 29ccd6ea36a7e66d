package traffic

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func adminErrorText(t *testing.T, r result) string {
	t.Helper()
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || body.Error.Message == "" {
		t.Fatalf("error body %q is not {\"error\":{\"code\":…,\"message\":…}}", r.body)
	}
	want := map[int]string{400: "Invalid", 413: "Invalid", 404: "NotFound", 405: "MethodNotAllowed", 409: "Conflict"}[r.status]
	if body.Error.Code != want {
		t.Errorf("status %d: error code %q, want %q", r.status, body.Error.Code, want)
	}
	return body.Error.Message
}

func TestAdminLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	r := e.admin(http.MethodGet, "limits", "")
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"requests":6000,"executionTime":"20m0s","concurrent":52,"window":"5m0s","dopHint":16}` {
		t.Errorf("GET limits: %d %s", r.status, r.body)
	}
	r = e.admin(http.MethodPut, "limits", `{"requests":2,"window":"1s"}`)
	if r.status != 200 || strings.TrimSpace(string(r.body)) != `{"requests":2,"executionTime":"0s","concurrent":0,"window":"1s","dopHint":0}` {
		t.Errorf("PUT limits: %d %s", r.status, r.body)
	}
	if got := e.c.Limits(); got != (Limits{Requests: 2, Window: time.Second}) {
		t.Errorf("limits in force %+v", got)
	}
	e.get("contacts", tokenA)
	e.get("contacts", tokenA)
	if s := e.get("contacts", tokenA).status; s != 429 {
		t.Errorf("third request after PUT limits: %d", s)
	}
	r = e.admin(http.MethodPut, "limits", `{"preset":"strict"}`)
	if r.status != 200 || e.c.Limits() != LimitsStrict() {
		t.Errorf("PUT strict preset: %d %s", r.status, r.body)
	}
	for _, tc := range []struct {
		method, body string
		status       int
		want         string
	}{
		{http.MethodPut, `{"requests":-1}`, 400, "limits: requests: -1 is negative; use 0 to turn the limit off"},
		{http.MethodPut, `{"concurent":5}`, 400, `limits: unknown field "concurent"`},
		{http.MethodPut, `{"window":300}`, 400, "limits: window: got a JSON number, want a string"},
		{http.MethodPut, `{"requests":`, 400, "limits: the JSON ends early"},
		{http.MethodPut, `{"requests":1,}`, 400, "limits: invalid JSON at byte 15"},
		{http.MethodPut, ``, 400, "limits: empty body"},
		{http.MethodPost, `{}`, 405, "method not allowed; use GET, HEAD, PUT"},
	} {
		r := e.admin(tc.method, "limits", tc.body)
		if r.status != tc.status || !strings.Contains(adminErrorText(t, r), tc.want) {
			t.Errorf("%s limits %s: %d %s, want %d containing %q", tc.method, tc.body, r.status, r.body, tc.status, tc.want)
		}
	}
	if e.c.Limits() != LimitsStrict() {
		t.Errorf("a refused PUT changed the limits to %+v", e.c.Limits())
	}
}

func TestAdminFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{seed: 99})
	r := e.admin(http.MethodPost, "faults", `{"description":"contacts fail","match":{"table":"contacts","methods":["get"]},"trigger":{"nth":2},"action":{"kind":"error","status":503,"code":"0x80040216"}}`)
	if r.status != http.StatusCreated || r.header.Get("Location") != "/_emulator/faults/f1" {
		t.Fatalf("POST faults: %d %s Location %q", r.status, r.body, r.header.Get("Location"))
	}
	wantRule := `{"id":"f1","description":"contacts fail","match":{"table":"contacts","methods":["GET"]},"trigger":{"nth":2},"action":{"kind":"error","status":503,"code":"0x80040216"},"matched":0,"fired":0}`
	if got := strings.TrimSpace(string(r.body)); got != wantRule {
		t.Errorf("created rule\n got %s\nwant %s", got, wantRule)
	}
	e.statuses(2, "contacts", tokenA)

	r = e.admin(http.MethodGet, "faults", "")
	var list struct {
		Seed   int64         `json:"seed"`
		Faults []FaultStatus `json:"faults"`
	}
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatalf("GET faults %s: %v", r.body, err)
	}
	want := FaultStatus{
		FaultRule: FaultRule{ID: "f1", Description: "contacts fail", Match: FaultMatch{Table: "contacts", Methods: []string{"GET"}},
			Trigger: FaultTrigger{Nth: 2}, Action: FaultAction{Kind: ActionError, Status: 503, Code: "0x80040216"}},
		Matched: 2, Fired: 1,
	}
	if list.Seed != 99 || len(list.Faults) != 1 {
		t.Fatalf("GET faults: %s", r.body)
	}
	if diff := cmp.Diff(want, list.Faults[0]); diff != "" {
		t.Errorf("GET faults round trip (-want +got):\n%s", diff)
	}
	r = e.admin(http.MethodGet, "faults/f1", "")
	var one FaultStatus
	if err := json.Unmarshal(r.body, &one); err != nil || r.status != 200 || !cmp.Equal(want, one) {
		t.Errorf("GET faults/f1: %d %s (%v)", r.status, r.body, err)
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{http.MethodPost, "faults", `{"action":{"kind":"error","status":200}}`, 400, "fault rule: action.status: 200 is not an error status; give 400–599"},
		{http.MethodPost, "faults", `{"trigger":{"probability":1.5},"action":{"kind":"drop"}}`, 400, "fault rule: trigger.probability: 1.5 is not between 0 and 1"},
		{http.MethodPost, "faults", `{"match":{"tabel":"contacts"},"action":{"kind":"drop"}}`, 400, `fault rule: unknown field "tabel"`},
		{http.MethodPost, "faults", `{"trigger":{"nth":"2"},"action":{"kind":"drop"}}`, 400, "fault rule: trigger.nth: got a JSON string, want an integer"},
		{http.MethodPost, "faults", `[{"action":{"kind":"drop"}}]`, 400, "send one rule object per request, not an array"},
		{http.MethodPost, "faults", `{"id":"f1","action":{"kind":"drop"}}`, 409, `fault rule: id: "f1" is already in use`},
		{http.MethodPost, "faults", strings.Repeat(" ", maxAdminBody+1), 413, "larger than"},
		{http.MethodGet, "faults/nope", "", 404, `no fault rule with id "nope"`},
		{http.MethodDelete, "faults/nope", "", 404, `no fault rule with id "nope"`},
		{http.MethodPut, "faults", "{}", 405, "method not allowed; use GET, HEAD, POST, DELETE"},
		{http.MethodGet, "nothing", "", 404, "no admin route /_emulator/nothing"},
		{http.MethodGet, "log?status=99", "", 400, `query parameter status="99": want statuses such as 429`},
		{http.MethodGet, "log?since=yesterday", "", 400, `query parameter since="yesterday": want an RFC 3339 time`},
		{http.MethodGet, "log?colour=red", "", 400, `unknown query parameter "colour"`},
	} {
		r := e.admin(tc.method, tc.path, tc.body)
		if r.status != tc.status || !strings.Contains(adminErrorText(t, r), tc.want) {
			t.Errorf("%s %s %.60s: %d %s, want %d containing %q", tc.method, tc.path, tc.body, r.status, r.body, tc.status, tc.want)
		}
	}

	if r := e.admin(http.MethodDelete, "faults/f1", ""); r.status != http.StatusNoContent {
		t.Errorf("DELETE faults/f1: %d", r.status)
	}
	e.admin(http.MethodPost, "faults", `{"action":{"kind":"drop"}}`)
	e.admin(http.MethodPost, "faults", `{"action":{"kind":"drop"}}`)
	if r := e.admin(http.MethodDelete, "faults", ""); r.status != http.StatusNoContent || len(e.c.Faults()) != 0 {
		t.Errorf("DELETE faults: %d, %d rules left", r.status, len(e.c.Faults()))
	}
}

func TestAdminLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.get("contacts", tokenA)
	e.get("contacts", badTok)
	e.get("forbidden", tokenB)
	r := e.admin(http.MethodGet, "log?status=4xx&after=2", "")
	var body struct {
		Entries []LogEntry `json:"entries"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil || r.status != 200 {
		t.Fatalf("GET log: %d %s %v", r.status, r.body, err)
	}
	if len(body.Entries) != 1 || body.Entries[0].Seq != 3 || body.Entries[0].Status != 403 || body.Entries[0].AppID != appB {
		t.Errorf("GET log?status=4xx&after=2: %s", r.body)
	}
	r = e.admin(http.MethodGet, "log?refused=true&max=1", "")
	if !strings.Contains(string(r.body), `"seq":2`) || strings.Contains(string(r.body), `"seq":3`) {
		t.Errorf("GET log?refused=true&max=1: %s", r.body)
	}
	if r := e.admin(http.MethodGet, "log", ""); !strings.Contains(string(r.body), `"durationMs":`) || !strings.Contains(string(r.body), `"reason":"the access token's signature does not verify`) {
		t.Errorf("GET log: %s", r.body)
	}
	if r := e.admin(http.MethodDelete, "log", ""); r.status != http.StatusNoContent {
		t.Errorf("DELETE log: %d", r.status)
	}
	if r := e.admin(http.MethodGet, "log", ""); strings.TrimSpace(string(r.body)) != `{"entries":[]}` {
		t.Errorf("GET log after DELETE: %s", r.body)
	}
}

// RegisterAdmin puts the same routes on the emulator's own mux, with method patterns.
func TestRegisterAdmin(t *testing.T) {
	t.Parallel()
	c, err := New(Options{Faults: []FaultRule{{ID: "x", Action: FaultAction{Kind: ActionDrop}}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.RegisterAdmin(mux)
	serve := func(method, path, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec
	}
	if rec := serve(http.MethodGet, "/_emulator/faults/x", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"id":"x"`) {
		t.Errorf("GET faults/x: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(http.MethodPut, "/_emulator/limits", `{"preset":"off"}`); rec.Code != 200 || c.Limits() != LimitsOff() {
		t.Errorf("PUT limits: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(http.MethodDelete, "/_emulator/faults/x", ""); rec.Code != http.StatusNoContent || len(c.Faults()) != 0 {
		t.Errorf("DELETE faults/x: %d", rec.Code)
	}
	if _, pattern := mux.Handler(httptest.NewRequest(http.MethodPatch, "/_emulator/limits", nil)); pattern != "" {
		t.Errorf("PATCH limits is routed to %q", pattern)
	}
	if _, pattern := mux.Handler(httptest.NewRequest(http.MethodGet, "/_emulator/log", nil)); pattern != "GET /_emulator/log" {
		t.Errorf("GET log is routed to %q", pattern)
	}
}
