package aadsts

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Every catalogue entry answers with the number it is filed under, a status Entra uses for it
// and the OAuth error that goes with that status (entra.md §1.5: invalid_client → 401, the
// request errors → 400).
func TestLookup(t *testing.T) {
	t.Parallel()
	for code, build := range catalogue {
		e := build(Params{Tenant: "contoso.onmicrosoft.com", ClientID: "11111111-1111-4111-8111-111111111111"})
		if e.Code != code || e.Message == "" || strings.HasPrefix(e.Message, "AADSTS") {
			t.Errorf("catalogue[%d] = %+v", code, e)
		}
		if e.OAuth == "invalid_client" && e.Status != http.StatusUnauthorized {
			t.Errorf("AADSTS%d: invalid_client with %d, want 401", code, e.Status)
		}
	}
	for _, tc := range []struct {
		code   int
		status int
		oauth  string
	}{
		{7000222, 401, "invalid_client"}, {7000215, 401, "invalid_client"}, {7000218, 401, "invalid_client"},
		{700016, 400, "unauthorized_client"}, {90002, 400, "invalid_request"}, {1002012, 400, "invalid_scope"},
		{70011, 400, "invalid_scope"}, {500011, 400, "invalid_resource"}, {700027, 401, "invalid_client"},
		{700024, 401, "invalid_client"}, {90033, 503, "temporarily_unavailable"}, {90055, 429, "temporarily_unavailable"},
	} {
		e, ok := Lookup(tc.code, Params{})
		if !ok || e.Status != tc.status || e.OAuth != tc.oauth {
			t.Errorf("Lookup(%d) = %+v, %v; want %d %s", tc.code, e, ok, tc.status, tc.oauth)
		}
	}
	if e, ok := Lookup(7000222, Params{ClientID: "11111111-1111-4111-8111-111111111111"}); !ok || e.Message != SecretExpired("11111111-1111-4111-8111-111111111111").Message {
		t.Errorf("Lookup(7000222) wording %q, want the token service's", e.Message)
	}
	if _, ok := Lookup(12345, Params{}); ok {
		t.Error("Lookup of an unknown code succeeded")
	}
}

// Write answers in Entra's shape: the fields in order, the description with its trace lines,
// the correlation id echoed from client-request-id, and Entra's headers.
func TestWrite(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest(http.MethodPost, "/t/oauth2/v2.0/token", nil)
	r.Header.Set("client-request-id", "5A8F1C2E-3B4D-4E5F-8A9B-0C1D2E3F4A5B")
	r.Header.Set("return-client-request-id", "true")
	tr := NewTrace(r, time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC))
	rec := httptest.NewRecorder()
	Write(rec, &Error{Status: 401, OAuth: "invalid_client", Code: 7000222, Message: "Expired <secret> & more."}, tr, 5)
	const corr = "5a8f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
	want := `{"error":"invalid_client","error_description":"AADSTS7000222: Expired <secret> & more.\r\nTrace ID: ` + tr.TraceID +
		`\r\nCorrelation ID: ` + corr + `\r\nTimestamp: 2025-03-14 09:26:53Z","error_codes":[7000222],"timestamp":"2025-03-14 09:26:53Z","trace_id":"` +
		tr.TraceID + `","correlation_id":"` + corr + `","error_uri":"https://login.microsoftonline.com/error?code=7000222"}`
	if !json.Valid(rec.Body.Bytes()) {
		t.Fatalf("body %q is not JSON", rec.Body.String())
	}
	if rec.Code != 401 || rec.Body.String() != strings.ReplaceAll(strings.ReplaceAll(want, "\r", `\r`), "\n", `\n`) {
		t.Errorf("got %d %s\nwant %s", rec.Code, rec.Body.String(), want)
	}
	h := rec.Header()
	for k, v := range map[string]string{
		"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store, no-cache", "Pragma": "no-cache",
		"X-Content-Type-Options": "nosniff", "x-ms-request-id": tr.TraceID, "client-request-id": corr, "Retry-After": "5",
	} {
		if h.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
		}
	}
}
