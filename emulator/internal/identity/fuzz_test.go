package identity

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzTokenEndpoint posts arbitrary bodies, content types and Authorization headers to the token
// endpoints. Whatever comes in, the answer is either a token that validates or an Entra-shaped
// error: no panic, no other shape.
func FuzzTokenEndpoint(f *testing.F) {
	e := newEnv(f)
	org := e.svc.Resource()
	form := "application/x-www-form-urlencoded"
	f.Add(e.withOrg(secretForm()).Encode(), form, "", uint8(0))
	f.Add("grant_type=client_credentials&resource="+url.QueryEscape(org), form, "Basic "+basic(testClientID, testSecret), uint8(1))
	f.Add(e.withOrg(assertionForm(e.assertion(f, e.cert, assertionSpec{}))).Encode(), form, "", uint8(2))
	f.Add(e.withOrg(assertionForm(e.assertion(f, e.cert, assertionSpec{thumbprint: "x5t"}))).Encode(), form+"; charset=utf-8", "", uint8(0))
	f.Add("grant_type=client_credentials&client_id=%zz", form, "", uint8(3))
	f.Add(`{"grant_type":"client_credentials"}`, "application/json", "Bearer x", uint8(0))
	f.Add("client_assertion_type="+url.QueryEscape(clientAssertionType)+"&client_assertion=e30.e30.&client_id="+testClientID+"&grant_type=client_credentials&scope=x/.default", form, "", uint8(0))
	f.Add("", "", "Basic !!!", uint8(4))

	tenants := []string{testTenantID, testTenantDomain, "common", "bad_tenant", otherTenantID}
	f.Fuzz(func(t *testing.T, body, contentType, authorization string, pick uint8) {
		tenant := tenants[int(pick)%len(tenants)]
		v := tokenV2
		if pick&0x80 != 0 {
			v = tokenV1
		}
		req := httptest.NewRequest(http.MethodPost, e.tokenURL(tenant, v), strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		e.svc.ServeHTTP(rec, req)

		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("status %d, body is not JSON: %q", rec.Code, rec.Body)
		}
		if rec.Code == http.StatusOK {
			tok, _ := got["access_token"].(string)
			if _, err := e.svc.ValidateAccessToken(tok); err != nil {
				t.Fatalf("issued a token that does not validate: %v", err)
			}
			return
		}
		codes, _ := got["error_codes"].([]any)
		if len(codes) != 1 {
			t.Fatalf("status %d, error_codes is not one code: %s", rec.Code, rec.Body)
		}
		code, _ := codes[0].(float64)
		desc, _ := got["error_description"].(string)
		if oauth, _ := got["error"].(string); oauth == "" || code == 0 || !strings.HasPrefix(desc, "AADSTS"+strconv.Itoa(int(code))+": ") {
			t.Fatalf("status %d, not an Entra error: %s", rec.Code, rec.Body)
		}
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d for an Entra error: %s", rec.Code, rec.Body)
		}
	})
}
