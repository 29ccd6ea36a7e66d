package caller

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

const (
	tenantA = "6a2b1c3d-0000-4000-8000-00000000000a"
	appA    = "11111111-1111-4111-8111-111111111111"
	appB    = "22222222-2222-4222-8222-222222222222"
	secret  = "Xy8Q~super.secret-value_123"
)

func TestTokenRequest(t *testing.T) {
	t.Parallel()
	big := "client_id=" + appA + "&client_assertion=" + strings.Repeat("A", maxFormPeek)
	for _, tc := range []struct {
		name, method, path, ctype, body string
		basic                           [2]string
		want                            Caller
	}{
		{"v2 form", "POST", "/" + tenantA + "/oauth2/v2.0/token", "application/x-www-form-urlencoded; charset=utf-8",
			"grant_type=client_credentials&client_secret=" + secret + "&client_id=" + appA, [2]string{}, Caller{TenantID: tenantA, AppID: appA}},
		{"v1 domain tenant", "POST", "/contoso.onmicrosoft.com/oauth2/token", "application/x-www-form-urlencoded", "client_id=" + appB, [2]string{}, Caller{TenantID: "contoso.onmicrosoft.com", AppID: appB}},
		{"basic auth", "POST", "/" + tenantA + "/oauth2/v2.0/token", "application/x-www-form-urlencoded", "grant_type=client_credentials", [2]string{appB, secret}, Caller{TenantID: tenantA, AppID: appB}},
		{"body larger than the peek", "POST", "/" + tenantA + "/oauth2/v2.0/token", "application/x-www-form-urlencoded", big, [2]string{}, Caller{TenantID: tenantA, AppID: appA}},
		{"json body ignored", "POST", "/" + tenantA + "/oauth2/v2.0/token", "application/json", `{"client_id":"x"}`, [2]string{}, Caller{TenantID: tenantA}},
		{"discovery", "GET", "/" + tenantA + "/v2.0/.well-known/openid-configuration", "", "", [2]string{}, Caller{}},
		{"web api", "POST", "/api/data/v9.2/contacts", "application/x-www-form-urlencoded", "client_id=" + appA, [2]string{}, Caller{}},
	} {
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.ctype != "" {
			r.Header.Set("Content-Type", tc.ctype)
		}
		if tc.basic[0] != "" {
			r.SetBasicAuth(tc.basic[0], tc.basic[1])
		}
		if got := TokenRequest(r); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
		rest, err := io.ReadAll(r.Body)
		if err != nil || string(rest) != tc.body {
			t.Errorf("%s: body after identification is %d bytes (err %v), want the original %d", tc.name, len(rest), err, len(tc.body))
		}
	}
}

func TestIsTokenPath(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"/t/oauth2/v2.0/token": true, "/t/oauth2/token": true, "//oauth2/token": false,
		"/t/v2.0/.well-known/openid-configuration": false, "/oauth2/token": false, "/api/data/v9.2/oauth2/x": false,
	} {
		if got := IsTokenPath(path); got != want {
			t.Errorf("IsTokenPath(%q) = %v", path, got)
		}
	}
}
