package auth_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/auth"
)

func TestCloudInference(t *testing.T) {
	t.Parallel()
	const (
		public = "https://login.microsoftonline.com/"
		gov    = "https://login.microsoftonline.us/"
		china  = "https://login.chinacloudapi.cn/"
	)
	cases := []struct {
		orgURL, authority string
		name              auth.CloudName
		host              string
		microsoft         bool
		reason            string // substring of Reason
	}{
		{"https://contoso.crm.dynamics.com", "", auth.CloudPublic, public, true, "inferred from org URL host contoso.crm.dynamics.com"},
		{"https://contoso.crm4.dynamics.com/", "", auth.CloudPublic, public, true, "commercial/GCC"},
		{"https://contoso.crm9.dynamics.com", "", auth.CloudPublic, public, true, "commercial/GCC"}, // US GCC uses the public authority
		{"https://contoso.api.crm.dynamics.com", "", auth.CloudPublic, public, true, "inferred"},
		{"https://CONTOSO.CRM.DYNAMICS.COM", "", auth.CloudPublic, public, true, "inferred"},
		{"https://contoso.crm.microsoftdynamics.us", "", auth.CloudGovernment, gov, true, "GCC High"},
		{"https://contoso.crm.appsplatform.us", "", auth.CloudGovernment, gov, true, "DoD"},
		{"https://contoso.crm.dynamics.cn", "", auth.CloudChina, china, true, "China"},
		{"https://127.0.0.1:8443", "", auth.CloudPublic, public, true, `org URL host "127.0.0.1" is not a known Dataverse domain`},
		{"https://evil-dynamics.com", "", auth.CloudPublic, public, true, "not a known Dataverse domain"},             // suffix must match at a label boundary
		{"https://crm.dynamics.com.evil.example", "", auth.CloudPublic, public, true, "not a known Dataverse domain"}, // suffix, not substring
		{"https://127.0.0.1:8443", "https://127.0.0.1:8443", auth.CloudCustom, "https://127.0.0.1:8443/", false, "authority host https://127.0.0.1:8443/ set by AZURE_AUTHORITY_HOST"},
		{"https://contoso.crm.dynamics.com", "https://login.microsoftonline.us", auth.CloudGovernment, gov, true, "set by AZURE_AUTHORITY_HOST"},
		{"https://contoso.crm.dynamics.com", "https://LOGIN.MicrosoftOnline.com/", auth.CloudPublic, public, true, "set by"},
		{"https://contoso.crm.dynamics.cn", "https://login.partner.microsoftonline.cn/", auth.CloudChina, "https://login.partner.microsoftonline.cn/", true, "set by"},
		{"https://contoso.crm.dynamics.com", "https://login.sovcloud-identity.fr/", auth.CloudCustom, "https://login.sovcloud-identity.fr/", true, "set by"},
	}
	for _, tc := range cases {
		got := auth.Config{OrgURL: tc.orgURL, AuthorityHost: tc.authority}.Cloud()
		if got.Name != tc.name || got.AuthorityHost != tc.host || got.MicrosoftHost != tc.microsoft || !strings.Contains(got.Reason, tc.reason) {
			t.Errorf("Cloud(%q, %q) = %+v\nwant name %s, host %s, Microsoft %v, reason containing %q",
				tc.orgURL, tc.authority, got, tc.name, tc.host, tc.microsoft, tc.reason)
		}
	}
}

func TestCloudConfigurationMatchesAzcore(t *testing.T) {
	t.Parallel()
	for org, want := range map[string]cloud.Configuration{
		"https://a.crm.dynamics.com":         cloud.AzurePublic,
		"https://a.crm.microsoftdynamics.us": cloud.AzureGovernment,
		"https://a.crm.dynamics.cn":          cloud.AzureChina,
	} {
		got := auth.Config{OrgURL: org}.Cloud().Configuration()
		if got.ActiveDirectoryAuthorityHost != want.ActiveDirectoryAuthorityHost {
			t.Errorf("%s: authority %q, want %q", org, got.ActiveDirectoryAuthorityHost, want.ActiveDirectoryAuthorityHost)
		}
	}
}

// microsoftSTS is an in-process policy.Transporter that plays Entra ID at a Microsoft login host,
// so a credential for a real cloud can be exercised without leaving the machine. It records the
// hosts asked for; requests for any other host fail.
type microsoftSTS struct {
	host string
	mu   sync.Mutex
	seen []string
}

func (m *microsoftSTS) Do(req *http.Request) (*http.Response, error) {
	m.mu.Lock()
	m.seen = append(m.seen, req.URL.Host+" "+req.URL.Path)
	m.mu.Unlock()
	if req.URL.Host != m.host {
		return nil, fmt.Errorf("test transport: no route to %s", req.URL.Host)
	}
	var body string
	switch {
	case req.URL.Path == "/common/discovery/instance":
		body = fmt.Sprintf(`{"tenant_discovery_endpoint":"https://%[1]s/common/v2.0/.well-known/openid-configuration","api-version":"1.1","metadata":[{"preferred_network":%[1]q,"preferred_cache":%[1]q,"aliases":[%[1]q]}]}`, m.host)
	case strings.HasSuffix(req.URL.Path, "/v2.0/.well-known/openid-configuration"):
		tenant := strings.Split(strings.Trim(req.URL.Path, "/"), "/")[0]
		base := "https://" + m.host + "/" + tenant
		body = fmt.Sprintf(`{"issuer":%q,"token_endpoint":%q,"authorization_endpoint":%q}`,
			base+"/v2.0", base+"/oauth2/v2.0/token", base+"/oauth2/v2.0/authorize")
	case strings.HasSuffix(req.URL.Path, "/oauth2/v2.0/token"):
		body = `{"token_type":"Bearer","expires_in":3599,"access_token":"not-a-real-token"}`
	default:
		return &http.Response{StatusCode: http.StatusNotFound, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
	}
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(body)),
		Header: http.Header{"Content-Type": {"application/json"}}, Request: req}, nil
}

// A credential for each cloud's Dataverse host asks that cloud's login host and nothing else,
// with instance discovery left on (the first request) because the host is Microsoft's.
func TestCredentialUsesTheInferredCloud(t *testing.T) {
	t.Parallel()
	for org, host := range map[string]string{
		"https://contoso.crm.dynamics.com":         "login.microsoftonline.com",
		"https://contoso.crm9.dynamics.com":        "login.microsoftonline.com",
		"https://contoso.crm.microsoftdynamics.us": "login.microsoftonline.us",
		"https://contoso.crm.appsplatform.us":      "login.microsoftonline.us",
		"https://contoso.crm.dynamics.cn":          "login.chinacloudapi.cn",
	} {
		t.Run(host+"/"+org, func(t *testing.T) {
			t.Parallel()
			cfg := validBase()
			cfg.OrgURL = org
			sts := &microsoftSTS{host: host}
			cred, err := auth.NewCredential(cfg, &auth.CredentialOptions{ClientOptions: azcore.ClientOptions{Transport: sts}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{cfg.Scope()}})
			if err != nil {
				t.Fatalf("GetToken: %v (requests: %v)", err, sts.seen)
			}
			if tok.Token != "not-a-real-token" {
				t.Errorf("token = %q", tok.Token)
			}
			want := []string{
				host + " /common/discovery/instance",
				host + " /" + cfg.TenantID + "/v2.0/.well-known/openid-configuration",
				host + " /" + cfg.TenantID + "/oauth2/v2.0/token",
			}
			if diff := cmp.Diff(want, sts.seen); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}
