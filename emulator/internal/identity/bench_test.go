package identity

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkValidateAccessToken measures the check every Web API request pays.
func BenchmarkValidateAccessToken(b *testing.B) {
	e := newEnv(b)
	raw := e.issueB(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.svc.ValidateAccessToken(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTokenRequest measures a v2 client-secret token request, handler only.
func BenchmarkTokenRequest(b *testing.B) {
	e := newEnv(b)
	body := e.withOrg(secretForm()).Encode()
	target := e.tokenURL(testTenantID, tokenV2)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		e.svc.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

func (e *env) issueB(b *testing.B) string {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, e.tokenURL(testTenantID, tokenV2), strings.NewReader(e.withOrg(secretForm()).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.svc.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	raw, _, _ := strings.Cut(strings.SplitN(rec.Body.String(), `"access_token":"`, 2)[1], `"`)
	return raw
}
