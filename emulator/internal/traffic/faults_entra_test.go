package traffic

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/aadsts"
)

// An injected Entra error that names only an AADSTS code answers as the token service does for
// that code: its OAuth error, its status and its wording (the caller's app and tenant filled
// in), from the one catalogue both share.
func TestEntraFaultDefaultsFromTheCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code   string
		status int // 0: the code's own
		want   *aadsts.Error
	}{
		{"AADSTS7000222", 0, aadsts.SecretExpired(appA)},
		{"AADSTS7000215", 0, aadsts.WrongSecret(appA)},
		{"AADSTS7000218", 0, aadsts.NoClientCredential()},
		{"AADSTS700016", 0, aadsts.AppNotFound(appA, tenantA)},
		{"AADSTS90002", 0, aadsts.TenantNotFound(tenantA)},
		{"AADSTS1002012", 0, &aadsts.Error{Status: 400, OAuth: "invalid_scope", Code: 1002012}},
		{"AADSTS70011", 0, &aadsts.Error{Status: 400, OAuth: "invalid_scope", Code: 70011}},
		{"AADSTS500011", 0, &aadsts.Error{Status: 400, OAuth: "invalid_resource", Code: 500011}},
		{"AADSTS700027", 0, &aadsts.Error{Status: 401, OAuth: "invalid_client", Code: 700027}},
		// A status given with the code wins; the OAuth error still follows the code.
		{"AADSTS7000222", 400, &aadsts.Error{Status: 400, OAuth: "invalid_client", Code: 7000222, Message: aadsts.SecretExpired(appA).Message}},
		// A code the catalogue does not know: the status's default OAuth error and the injected wording.
		{"AADSTS12345", 403, &aadsts.Error{Status: 403, OAuth: "invalid_request", Code: 12345, Message: "Forbidden (injected by the emulator's fault rule f1)."}},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envConfig{faults: []FaultRule{{
				Match:  FaultMatch{PathPrefix: "/" + tenantA + "/oauth2/"},
				Action: FaultAction{Kind: ActionError, Status: tc.status, Code: tc.code},
			}}})
			r := e.token(secret, nil)
			if tc.want.Message == "" {
				// Wording with names the fault cannot know: check the start.
				body := string(r.body)
				if r.status != tc.want.Status || !strings.Contains(body, `"error":"`+tc.want.OAuth+`"`) || !strings.Contains(body, tc.code+": ") {
					t.Errorf("got %d %s, want %d %s %s", r.status, body, tc.want.Status, tc.want.OAuth, tc.code)
				}
				return
			}
			assertEntraBody(t, r, tc.want.Status, tc.want.OAuth, tc.want.Code, "", tc.want.Message)
		})
	}
}

// A fault rule's tenant matches a token request however either names the tenant: a domain is
// resolved to the tenant's GUID on both sides, and the log names the tenant by GUID.
func TestTokenFaultMatchesTenantByDomainOrGUID(t *testing.T) {
	t.Parallel()
	const domain = "contoso.example"
	resolve := func(s string) string {
		if strings.EqualFold(s, domain) {
			return tenantA
		}
		return s
	}
	for _, tc := range []struct{ ruleTenant, pathTenant string }{
		{tenantA, domain},
		{domain, tenantA},
		{strings.ToUpper(domain), domain},
	} {
		t.Run(tc.ruleTenant+" vs "+tc.pathTenant, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envConfig{
				faults: []FaultRule{{Match: FaultMatch{TenantID: tc.ruleTenant}, Action: FaultAction{Kind: ActionTokenEndpointDown}}},
				opts:   func(o *Options) { o.ResolveTenant = resolve },
			})
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {appA}, "client_secret": {secret}, "scope": {"https://emu.test/.default"}}
			r, err := e.do(context.Background(), http.MethodPost, "/"+tc.pathTenant+"/oauth2/v2.0/token", "", strings.NewReader(form.Encode()),
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
			if err != nil {
				t.Fatal(err)
			}
			if r.status != http.StatusServiceUnavailable {
				t.Errorf("token request to /%s/: %d %s, want the rule's 503", tc.pathTenant, r.status, r.body)
			}
			if le := e.lastLog(); le.TenantID != tenantA {
				t.Errorf("log tenant %q, want the GUID %s", le.TenantID, tenantA)
			}
			if st, _ := e.c.Fault("f1"); st.Match.TenantID != tc.ruleTenant {
				t.Errorf("the rule lists tenant %q, want it as written (%s)", st.Match.TenantID, tc.ruleTenant)
			}
		})
	}
	// Another tenant's domain does not match.
	e := newEnv(t, envConfig{
		faults: []FaultRule{{Match: FaultMatch{TenantID: domain}, Action: FaultAction{Kind: ActionTokenEndpointDown}}},
		opts:   func(o *Options) { o.ResolveTenant = resolve },
	})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {appA}, "client_secret": {secret}, "scope": {"https://emu.test/.default"}}
	r, err := e.do(context.Background(), http.MethodPost, "/fabrikam.example/oauth2/v2.0/token", "", strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if err != nil || r.status != http.StatusOK {
		t.Errorf("another tenant: %d %v, want the token endpoint's 200 (not faulted)", r.status, err)
	}
}

// Dataverse codes in a fault come back as written: Dataverse writes them in lower case.
func TestDataverseFaultCodeKeptAsWritten(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{faults: []FaultRule{{Action: FaultAction{Kind: ActionError, Status: 400, Code: "0x8006088a", Message: "Cannot update a read-only attribute."}}}})
	r := e.get("contacts", tokenA)
	if code, _ := r.envelope(t); r.status != 400 || code != "0x8006088a" {
		t.Errorf("got %d %s, want 400 0x8006088a", r.status, code)
	}
	if le := e.lastLog(); le.Code != "0x8006088a" {
		t.Errorf("log code %q", le.Code)
	}
}
