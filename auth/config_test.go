package auth_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/d365s2s/d365/auth"
)

var ignoreOrigins = cmpopts.IgnoreUnexported(auth.Config{})

func TestWithEnvPrecedence(t *testing.T) {
	t.Parallel()
	fullEnv := map[string]string{
		auth.EnvOrgURL:              "https://env.crm.dynamics.com",
		auth.EnvTenantID:            "env-tenant.onmicrosoft.com",
		auth.EnvClientID:            "00000000-0000-4000-8000-0000000000e1",
		auth.EnvClientSecret:        "env~secret",
		auth.EnvAuthorityHost:       "https://login.microsoftonline.us/",
		auth.EnvCAFile:              "/env/ca.pem",
		auth.EnvMethod:              "Secret",
		auth.EnvFederatedTokenFile:  "/env/token",
		auth.EnvCertificatePassword: "env-pfx-password",
	}
	cases := []struct {
		name  string
		flags auth.Config
		env   map[string]string
		want  auth.Config
	}{
		{
			name: "environment only",
			env:  fullEnv,
			want: auth.Config{OrgURL: "https://env.crm.dynamics.com", TenantID: "env-tenant.onmicrosoft.com",
				ClientID: "00000000-0000-4000-8000-0000000000e1", ClientSecret: "env~secret",
				AuthorityHost: "https://login.microsoftonline.us/", CAFile: "/env/ca.pem", Method: auth.MethodSecret,
				FederatedTokenFile: "/env/token"},
		},
		{
			name:  "flags win per setting",
			flags: auth.Config{OrgURL: "https://flag.crm4.dynamics.com", TenantID: "flag-tenant.onmicrosoft.com", CAFile: "/flag/ca.pem", Method: auth.MethodAuto},
			env:   fullEnv,
			want: auth.Config{OrgURL: "https://flag.crm4.dynamics.com", TenantID: "flag-tenant.onmicrosoft.com",
				ClientID: "00000000-0000-4000-8000-0000000000e1", ClientSecret: "env~secret",
				AuthorityHost: "https://login.microsoftonline.us/", CAFile: "/flag/ca.pem", Method: auth.MethodAuto,
				FederatedTokenFile: "/env/token"},
		},
		{
			name: "empty and blank variables are unset, values are trimmed",
			env: map[string]string{auth.EnvOrgURL: "  https://x.crm.dynamics.com/ \n", auth.EnvTenantID: "", auth.EnvClientID: "   ",
				auth.EnvClientSecret: " s3cret~value\n"},
			want: auth.Config{OrgURL: "https://x.crm.dynamics.com/", ClientSecret: "s3cret~value"},
		},
		{
			name:  "a certificate flag shadows the environment's secret",
			flags: auth.Config{CertificatePath: "/flag/cert.pem"},
			env:   map[string]string{auth.EnvClientSecret: "env~secret", auth.EnvCertificatePassword: "pw"},
			want:  auth.Config{CertificatePath: "/flag/cert.pem", CertificatePassword: "pw"},
		},
		{
			name:  "a secret flag shadows the environment's certificate",
			flags: auth.Config{ClientSecret: "flag~secret"},
			env:   map[string]string{auth.EnvCertificatePath: "/env/cert.pem", auth.EnvCertificatePassword: "pw"},
			want:  auth.Config{ClientSecret: "flag~secret"},
		},
		{
			name: "certificate and password both from the environment",
			env:  map[string]string{auth.EnvCertificatePath: "/env/cert.pfx", auth.EnvCertificatePassword: "pw"},
			want: auth.Config{CertificatePath: "/env/cert.pfx", CertificatePassword: "pw"},
		},
		{
			name: "environment secret and certificate are both read (Validate calls it ambiguous)",
			env:  map[string]string{auth.EnvCertificatePath: "/env/cert.pem", auth.EnvClientSecret: "env~secret"},
			want: auth.Config{CertificatePath: "/env/cert.pem", ClientSecret: "env~secret"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.flags.WithEnv(auth.MapLookup(tc.env))
			if diff := cmp.Diff(tc.want, got, ignoreOrigins); diff != "" {
				t.Errorf("WithEnv (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigNormalizes(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		auth.EnvOrgURL:       "https://Contoso.CRM.dynamics.com/",
		auth.EnvTenantID:     "11111111-2222-4333-8444-555555555555",
		auth.EnvClientID:     "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
		auth.EnvClientSecret: "abc~def",
	}
	cfg, err := auth.LoadConfig(auth.Config{}, auth.MapLookup(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OrgURL != "https://contoso.crm.dynamics.com" || cfg.Method != auth.MethodAuto {
		t.Errorf("OrgURL, Method = %q, %q; want https://contoso.crm.dynamics.com, auto", cfg.OrgURL, cfg.Method)
	}
	if got := cfg.Scope(); got != "https://contoso.crm.dynamics.com/.default" {
		t.Errorf("Scope() = %q", got)
	}
}

func TestLoadConfigReadsProcessEnvironmentWhenLookupIsNil(t *testing.T) {
	t.Setenv(auth.EnvOrgURL, "https://procenv.crm.dynamics.com")
	t.Setenv(auth.EnvTenantID, "11111111-2222-4333-8444-555555555555")
	t.Setenv(auth.EnvClientID, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
	t.Setenv(auth.EnvClientSecret, "abc~def")
	t.Setenv(auth.EnvCertificatePath, "")
	cfg, err := auth.LoadConfig(auth.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OrgURL != "https://procenv.crm.dynamics.com" {
		t.Errorf("OrgURL = %q", cfg.OrgURL)
	}
}

func TestScope(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://contoso.crm.dynamics.com":     "https://contoso.crm.dynamics.com/.default",
		"https://contoso.crm.dynamics.com/":    "https://contoso.crm.dynamics.com/.default",
		"https://contoso.crm.dynamics.com//":   "https://contoso.crm.dynamics.com/.default",
		" https://127.0.0.1:8443 ":             "https://127.0.0.1:8443/.default",
		"https://org.crm.microsoftdynamics.us": "https://org.crm.microsoftdynamics.us/.default",
	} {
		if got := (auth.Config{OrgURL: in}).Scope(); got != want {
			t.Errorf("Scope(%q) = %q, want %q", in, got, want)
		}
	}
}

// validBase is a complete secret configuration that Validate accepts.
func validBase() auth.Config {
	return auth.Config{
		OrgURL:       "https://contoso.crm.dynamics.com",
		TenantID:     "11111111-2222-4333-8444-555555555555",
		ClientID:     "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
		ClientSecret: "abc~def",
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certFile, []byte("placeholder"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	with := func(f func(*auth.Config)) auth.Config { c := validBase(); f(&c); return c }

	cases := []struct {
		name string
		cfg  auth.Config
		want []string // every problem message, in order; nil means valid
	}{
		{"valid secret config", validBase(), nil},
		{"valid certificate config", with(func(c *auth.Config) { c.ClientSecret = ""; c.CertificatePath = certFile }), nil},
		{"domain tenant", with(func(c *auth.Config) { c.TenantID = "contoso.onmicrosoft.com" }), nil},
		{"managed identity needs only the org URL", auth.Config{OrgURL: "https://contoso.crm.dynamics.com", Method: auth.MethodManagedIdentity}, nil},
		{"azure cli needs only the org URL", auth.Config{OrgURL: "https://contoso.crm.dynamics.com", Method: auth.MethodAzureCLI}, nil},
		{"explicit method ignores the other credential", with(func(c *auth.Config) { c.CertificatePath = missing; c.Method = auth.MethodSecret }), nil},
		{
			"everything missing", auth.Config{},
			[]string{
				"missing org URL: set D365_URL or Config.OrgURL to your environment's URL, e.g. https://contoso.crm.dynamics.com",
				"missing tenant ID: set AZURE_TENANT_ID or Config.TenantID (the Directory (tenant) ID on the app registration's Overview page)",
				"missing client ID: set AZURE_CLIENT_ID or Config.ClientID (the Application (client) ID on the app registration's Overview page)",
				"missing credential: set AZURE_CLIENT_SECRET (Config.ClientSecret) to the client secret's Value, or AZURE_CLIENT_CERTIFICATE_PATH (Config.CertificatePath) to a certificate file",
			},
		},
		{
			"Web API path in the org URL", with(func(c *auth.Config) { c.OrgURL = "https://contoso.crm.dynamics.com/api/data/v9.2/" }),
			[]string{`org URL "https://contoso.crm.dynamics.com/api/data/v9.2/" has a path "/api/data/v9.2/": the Web API path /api/data/v9.x is added for you, and as part of the token's resource it makes Entra answer AADSTS500011 (resource principal not found); set D365_URL or Config.OrgURL to https://contoso.crm.dynamics.com`},
		},
		{
			"SOAP endpoint in the org URL", with(func(c *auth.Config) { c.OrgURL = "https://contoso.crm.dynamics.com/XRMServices/2011/Organization.svc" }),
			[]string{`org URL "https://contoso.crm.dynamics.com/XRMServices/2011/Organization.svc" has a path "/XRMServices/2011/Organization.svc": /XRMServices/2011/Organization.svc is the legacy SOAP endpoint, and as part of the token's resource it makes Entra answer AADSTS500011 (resource principal not found); set D365_URL or Config.OrgURL to https://contoso.crm.dynamics.com`},
		},
		{
			"plain http org URL", with(func(c *auth.Config) { c.OrgURL = "http://contoso.crm.dynamics.com" }),
			[]string{`org URL "http://contoso.crm.dynamics.com" must use https: Dataverse and Entra ID accept tokens only over TLS; set D365_URL or Config.OrgURL to https://contoso.crm.dynamics.com`},
		},
		{
			"org URL without scheme", with(func(c *auth.Config) { c.OrgURL = "contoso.crm.dynamics.com" }),
			[]string{`org URL "contoso.crm.dynamics.com" has no scheme: set D365_URL or Config.OrgURL to https://contoso.crm.dynamics.com`},
		},
		{
			"org URL with credentials does not echo the password", with(func(c *auth.Config) { c.OrgURL = "https://admin:hunter2@contoso.crm.dynamics.com" }),
			[]string{`org URL "https://contoso.crm.dynamics.com" must not contain a user name or password: set D365_URL or Config.OrgURL to https://contoso.crm.dynamics.com`},
		},
		{
			"org URL with a query", with(func(c *auth.Config) { c.OrgURL = "https://contoso.crm.dynamics.com?x=1" }),
			[]string{`org URL "https://contoso.crm.dynamics.com?x=1" must not have a query or fragment: set D365_URL or Config.OrgURL to https://contoso.crm.dynamics.com`},
		},
		{
			"multi-tenant alias", with(func(c *auth.Config) { c.TenantID = "common" }),
			[]string{`tenant "common" is a multi-tenant alias; app-only tokens need the app's own tenant: set AZURE_TENANT_ID or Config.TenantID to the Directory (tenant) ID GUID`},
		},
		{
			"tenant that is neither GUID nor domain", with(func(c *auth.Config) { c.TenantID = "contoso tenant" }),
			[]string{`tenant ID "contoso tenant" is neither a GUID nor a domain name (Entra would answer AADSTS900023): set AZURE_TENANT_ID or Config.TenantID to the Directory (tenant) ID on the app registration's Overview page`},
		},
		{
			"client ID that is not a GUID", with(func(c *auth.Config) { c.ClientID = "my-app" }),
			[]string{`client ID "my-app" is not a GUID: set AZURE_CLIENT_ID or Config.ClientID to the Application (client) ID on the app registration's Overview page`},
		},
		{
			"secret and certificate", with(func(c *auth.Config) { c.CertificatePath = certFile }),
			[]string{"both a client secret and a certificate are set, so the credential is ambiguous: unset AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, or choose with D365_AUTH_METHOD=secret|certificate (Config.Method)"},
		},
		{
			"certificate method without a path", with(func(c *auth.Config) { c.Method = auth.MethodCertificate }),
			[]string{`missing certificate path for auth method "certificate": set AZURE_CLIENT_CERTIFICATE_PATH or Config.CertificatePath`},
		},
		{
			"secret method without a secret", with(func(c *auth.Config) { c.Method = auth.MethodSecret; c.ClientSecret = "" }),
			[]string{`missing client secret for auth method "secret": set AZURE_CLIENT_SECRET or Config.ClientSecret`},
		},
		{
			"workload identity without a token file", with(func(c *auth.Config) { c.Method = auth.MethodWorkloadIdentity }),
			[]string{`missing federated token file for auth method "workload-identity": set AZURE_FEDERATED_TOKEN_FILE or Config.FederatedTokenFile`},
		},
		{
			"unknown method", with(func(c *auth.Config) { c.Method = "password" }),
			[]string{`unknown auth method "password": set D365_AUTH_METHOD or Config.Method to one of auto, secret, certificate, managed-identity, workload-identity, azure-cli`},
		},
		{
			"certificate file missing", with(func(c *auth.Config) { c.ClientSecret = ""; c.CertificatePath = missing }),
			[]string{`certificate file "` + missing + `" does not exist: set AZURE_CLIENT_CERTIFICATE_PATH or Config.CertificatePath to an existing file`},
		},
		{
			"CA file is a directory", with(func(c *auth.Config) { c.CAFile = dir }),
			[]string{`CA file "` + dir + `" is a directory: set D365_CA_FILE or Config.CAFile to a file`},
		},
		{
			"authority over http", with(func(c *auth.Config) { c.AuthorityHost = "http://127.0.0.1:8443" }),
			[]string{`authority host "http://127.0.0.1:8443" must use https (azidentity refuses to send credentials over plain HTTP): set AZURE_AUTHORITY_HOST or Config.AuthorityHost to https://127.0.0.1:8443/`},
		},
		{
			"authority with the tenant in it", with(func(c *auth.Config) { c.AuthorityHost = "https://login.microsoftonline.com/contoso.onmicrosoft.com" }),
			[]string{`authority host "https://login.microsoftonline.com/contoso.onmicrosoft.com" has a path "/contoso.onmicrosoft.com": it is only the scheme and host, the tenant goes in AZURE_TENANT_ID (Config.TenantID); set AZURE_AUTHORITY_HOST or Config.AuthorityHost to https://login.microsoftonline.com/`},
		},
		{
			"authority without scheme", with(func(c *auth.Config) { c.AuthorityHost = "login.microsoftonline.us" }),
			[]string{`authority host "login.microsoftonline.us" has no scheme: set AZURE_AUTHORITY_HOST or Config.AuthorityHost to https://login.microsoftonline.us/`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ce *auth.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate() = %v (%T), want *auth.ConfigError", err, err)
			}
			var got []string
			for _, p := range ce.Problems {
				got = append(got, p.Message)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "abc~def") {
				t.Errorf("error text contains a secret: %q", err)
			}
		})
	}
}

// A bad value that came from the environment is attributed to its variable.
func TestValidateNamesTheVariableABadValueCameFrom(t *testing.T) {
	t.Parallel()
	cfg := auth.Config{ClientID: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", ClientSecret: "x~y"}.WithEnv(auth.MapLookup(map[string]string{
		auth.EnvOrgURL:   "https://contoso.crm.dynamics.com/api/data/v9.2",
		auth.EnvTenantID: "not a tenant",
	}))
	err := cfg.Validate()
	for _, want := range []string{
		`org URL "https://contoso.crm.dynamics.com/api/data/v9.2" (from D365_URL) has a path`,
		`tenant ID "not a tenant" (from AZURE_TENANT_ID) is neither`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v\nwant it to contain %q", err, want)
		}
	}
}

func TestConfigErrorListsEveryProblem(t *testing.T) {
	t.Parallel()
	err := (auth.Config{OrgURL: "https://contoso.crm.dynamics.com", ClientSecret: "x~y"}).Validate()
	want := "2 configuration problems:\n" +
		"  - missing tenant ID: set AZURE_TENANT_ID or Config.TenantID (the Directory (tenant) ID on the app registration's Overview page)\n" +
		"  - missing client ID: set AZURE_CLIENT_ID or Config.ClientID (the Application (client) ID on the app registration's Overview page)"
	if err == nil || err.Error() != want {
		t.Errorf("Error() =\n%v\nwant\n%s", err, want)
	}
}

func TestCredentialMethod(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cfg     auth.Config
		want    auth.Method
		wantErr string
	}{
		{auth.Config{ClientSecret: "s"}, auth.MethodSecret, ""},
		{auth.Config{CertificatePath: "c.pem"}, auth.MethodCertificate, ""},
		{auth.Config{ClientSecret: "s", CertificatePath: "c.pem", Method: auth.MethodCertificate}, auth.MethodCertificate, ""},
		{auth.Config{Method: auth.MethodManagedIdentity}, auth.MethodManagedIdentity, ""},
		{auth.Config{ClientSecret: "s", CertificatePath: "c.pem"}, auth.MethodAuto, "ambiguous"},
		{auth.Config{}, auth.MethodAuto, "missing credential"},
		{auth.Config{Method: "kerberos"}, "kerberos", "unknown auth method"},
	}
	for _, tc := range cases {
		got, err := tc.cfg.CredentialMethod()
		if got != tc.want || (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("CredentialMethod(%+v) = %q, %v; want %q, error containing %q", tc.cfg, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  auth.Config
		want []string // substrings, one per expected warning
	}{
		{"clean", validBase(), nil},
		{"secret shaped like a GUID", func() auth.Config {
			c := validBase()
			c.ClientSecret = "0b1c2d3e-4f50-4617-8899-aabbccddeeff"
			return c
		}(),
			[]string{"looks like a GUID"}},
		{"password without certificate", func() auth.Config { c := validBase(); c.CertificatePassword = "pw"; return c }(),
			[]string{"certificate password is set but no certificate"}},
		{"authority from another cloud", func() auth.Config { c := validBase(); c.AuthorityHost = "https://login.microsoftonline.us/"; return c }(),
			[]string{"belongs to AzureGovernment but the org URL's host belongs to AzurePublic"}},
		{"unknown org host without authority", func() auth.Config { c := validBase(); c.OrgURL = "https://127.0.0.1:8443"; return c }(),
			[]string{`org URL host "127.0.0.1" is not a known Dataverse domain`}},
		{"emulator with its authority", func() auth.Config {
			c := validBase()
			c.OrgURL, c.AuthorityHost = "https://127.0.0.1:8443", "https://127.0.0.1:8443/"
			return c
		}(), nil},
	}
	for _, tc := range cases {
		got := tc.cfg.Warnings()
		if len(got) != len(tc.want) {
			t.Errorf("%s: Warnings() = %q, want %d warnings", tc.name, got, len(tc.want))
			continue
		}
		for i := range got {
			if !strings.Contains(got[i], tc.want[i]) {
				t.Errorf("%s: warning %q lacks %q", tc.name, got[i], tc.want[i])
			}
		}
		for _, w := range got {
			if strings.Contains(w, "0b1c2d3e") {
				t.Errorf("%s: a warning repeats the secret: %q", tc.name, w)
			}
		}
	}
}

func TestSettingsMatchConstants(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	config := reflect.TypeFor[auth.Config]()
	for _, s := range auth.Settings() {
		got[s.Env] = s.Field
		if s.Name == "" {
			t.Errorf("setting %+v lacks a name", s)
		}
		f, ok := config.FieldByName(s.Field)
		if !ok || !f.IsExported() {
			t.Errorf("setting %+v names no exported Config field", s)
			continue
		}
		if isSecret := f.Type == reflect.TypeFor[auth.Secret](); isSecret != s.Secret {
			t.Errorf("setting %+v: Secret is %v but the field's type is %v", s, s.Secret, f.Type)
		}
		if ref := s.FieldRef(); ref != "Config."+s.Field {
			t.Errorf("setting %+v: FieldRef() = %q", s, ref)
		}
	}
	want := map[string]string{
		auth.EnvOrgURL: "OrgURL", auth.EnvTenantID: "TenantID", auth.EnvClientID: "ClientID",
		auth.EnvClientSecret: "ClientSecret", auth.EnvCertificatePath: "CertificatePath",
		auth.EnvCertificatePassword: "CertificatePassword", auth.EnvAuthorityHost: "AuthorityHost",
		auth.EnvCAFile: "CAFile", auth.EnvMethod: "Method", auth.EnvFederatedTokenFile: "FederatedTokenFile",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Settings() env→field (-want +got):\n%s", diff)
	}
}
