package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/auth"
)

const tenantGUID = "11111111-2222-4333-8444-555555555555"

func TestParseChallenge(t *testing.T) {
	t.Parallel()
	want := auth.Challenge{
		AuthorizationURI: "https://login.microsoftonline.com/" + tenantGUID + "/oauth2/authorize",
		ResourceID:       "https://contoso.crm.dynamics.com/",
		AuthorityHost:    "https://login.microsoftonline.com/",
		TenantID:         tenantGUID,
	}
	for _, h := range []string{
		"Bearer authorization_uri=https://login.microsoftonline.com/" + tenantGUID + "/oauth2/authorize, resource_id=https://contoso.crm.dynamics.com/",
		`Bearer authorization_uri="https://login.microsoftonline.com/` + tenantGUID + `/oauth2/authorize", resource_id="https://contoso.crm.dynamics.com/"`,
		"bearer resource_id=https://contoso.crm.dynamics.com/,authorization_uri=https://login.microsoftonline.com/" + tenantGUID + "/oauth2/authorize",
		`Bearer realm="a,b", authorization="https://login.microsoftonline.com/` + tenantGUID + `/oauth2/authorize", resource="https://contoso.crm.dynamics.com/"`,
	} {
		got, err := auth.ParseChallenge(h)
		if err != nil {
			t.Errorf("ParseChallenge(%q): %v", h, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ParseChallenge(%q) (-want +got):\n%s", h, diff)
		}
	}
	for h, wantErr := range map[string]string{
		`Basic realm="x"`:                                    "no Bearer challenge",
		"Bearer resource_id=https://x/":                      "no authorization_uri",
		"Bearer authorization_uri=not-a-url":                 "not an absolute URL",
		"Bearer authorization_uri=https://login.example.com": "names no tenant",
	} {
		if _, err := auth.ParseChallenge(h); err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("ParseChallenge(%q) = %v, want error containing %q", h, err, wantErr)
		}
	}
}

func FuzzParseChallenge(f *testing.F) {
	f.Add("Bearer authorization_uri=https://login.microsoftonline.com/t/oauth2/authorize, resource_id=https://x/")
	f.Add(`Bearer authorization="https://a/b", resource="c,d"`)
	f.Add(`Bearer "`)
	f.Fuzz(func(t *testing.T, h string) {
		c, err := auth.ParseChallenge(h)
		if err != nil {
			return
		}
		if c.TenantID == "" || !strings.HasSuffix(c.AuthorityHost, "/") || !strings.Contains(c.AuthorityHost, "://") {
			t.Fatalf("accepted challenge without authority or tenant: %+v", c)
		}
	})
}

func TestDiscoverChallenge(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/data/v9.2/WhoAmI" || r.Header.Get("Authorization") != "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("WWW-Authenticate", "Bearer authorization_uri=https://login.microsoftonline.us/"+tenantGUID+"/oauth2/authorize, resource_id=https://"+r.Host+"/")
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	plain := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(plain.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := auth.DiscoverChallenge(ctx, srv.Client(), srv.URL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if c.TenantID != tenantGUID || c.AuthorityHost != "https://login.microsoftonline.us/" || c.ResourceID != srv.URL+"/" {
		t.Errorf("challenge = %+v", c)
	}

	if _, err := auth.DiscoverChallenge(ctx, plain.Client(), plain.URL); err == nil || !strings.Contains(err.Error(), "answered HTTP 404 to an unauthenticated request") {
		t.Errorf("non-Dataverse host: err = %v", err)
	}
	_, err = auth.DiscoverChallenge(ctx, nil, srv.URL) // default client: untrusted CA
	var xe *auth.ExplainedError
	if !errors.As(err, &xe) || !strings.Contains(err.Error(), "D365_CA_FILE") {
		t.Errorf("untrusted server: err = %v, want the CA explanation", err)
	}
}

func TestCheckChallenge(t *testing.T) {
	t.Parallel()
	cfg := auth.Config{OrgURL: "https://contoso.crm.dynamics.com", TenantID: tenantGUID}
	mk := func(authz, resource string) auth.Challenge {
		c, err := auth.NewChallenge(authz, resource)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cases := []struct {
		name string
		cfg  auth.Config
		ch   auth.Challenge
		want string // "" for agreement
	}{
		{"agrees", cfg, mk("https://login.microsoftonline.com/"+tenantGUID+"/oauth2/authorize", "https://contoso.crm.dynamics.com/"), ""},
		{"alias host agrees", cfg, mk("https://login.windows.net/"+strings.ToUpper(tenantGUID)+"/oauth2/authorize", "https://CONTOSO.crm.dynamics.com"), ""},
		{"domain tenant cannot be compared", auth.Config{OrgURL: cfg.OrgURL, TenantID: "contoso.onmicrosoft.com"},
			mk("https://login.microsoftonline.com/"+tenantGUID+"/oauth2/authorize", "https://contoso.crm.dynamics.com/"), ""},
		{"other tenant", cfg, mk("https://login.microsoftonline.com/99999999-2222-4333-8444-555555555555/oauth2/authorize", ""),
			"the environment belongs to tenant 99999999-2222-4333-8444-555555555555, but tokens are requested from tenant " + tenantGUID + " — set AZURE_TENANT_ID to 99999999-2222-4333-8444-555555555555"},
		{"other cloud", cfg, mk("https://login.microsoftonline.us/"+tenantGUID+"/oauth2/authorize", ""),
			"the environment's tenant signs in at https://login.microsoftonline.us/, but tokens are requested from https://login.microsoftonline.com/ (inferred from org URL host contoso.crm.dynamics.com (Dataverse commercial/GCC)) — set AZURE_AUTHORITY_HOST to https://login.microsoftonline.us/"},
		{"emulator on another port", auth.Config{OrgURL: "https://127.0.0.1:8443", TenantID: tenantGUID, AuthorityHost: "https://127.0.0.1:8443"},
			mk("https://127.0.0.1:9443/"+tenantGUID+"/oauth2/authorize", ""), "set AZURE_AUTHORITY_HOST to https://127.0.0.1:9443/"},
		{"other resource", cfg, mk("https://login.microsoftonline.com/"+tenantGUID+"/oauth2/authorize", "https://contoso.crm4.dynamics.com/"),
			"the environment expects tokens for https://contoso.crm4.dynamics.com/, but D365_URL is https://contoso.crm.dynamics.com — set D365_URL to https://contoso.crm4.dynamics.com"},
	}
	for _, tc := range cases {
		err := tc.cfg.CheckChallenge(tc.ch)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: CheckChallenge = %v, want nil", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: CheckChallenge = %v\nwant %q", tc.name, err, tc.want)
		}
	}
}
