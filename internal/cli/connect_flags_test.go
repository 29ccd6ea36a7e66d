package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/auth"
)

// Every auth setting has exactly one connection flag, under the name the help and the messages
// have always used.
func TestConnectionFlagsCoverEverySetting(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	for _, f := range connectionFlagTable {
		if _, dup := got[f.env]; dup {
			t.Errorf("two flags set %s", f.env)
		}
		got[f.env] = f.name
		if f.usage == "" {
			t.Errorf("flag --%s has no usage text", f.name)
		}
	}
	want := map[string]string{
		auth.EnvOrgURL: "url", auth.EnvTenantID: "tenant", auth.EnvClientID: "client-id",
		auth.EnvClientSecret: "client-secret", auth.EnvCertificatePath: "cert",
		auth.EnvCertificatePassword: "cert-password", auth.EnvAuthorityHost: "authority-host",
		auth.EnvCAFile: "ca-file", auth.EnvMethod: "auth-method", auth.EnvFederatedTokenFile: "federated-token-file",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("connection flags env→flag (-want +got):\n%s", diff)
	}
	for _, s := range auth.Settings() {
		if _, ok := got[s.Env]; !ok {
			t.Errorf("auth setting %s (%s) has no flag", s.Env, s.FieldRef())
		}
		for _, f := range connectionFlagTable {
			if f.env == s.Env && f.secret != s.Secret {
				t.Errorf("flag --%s: secret is %v, auth says %v", f.name, f.secret, s.Secret)
			}
		}
	}
}

// runWithEnv runs d365 in-process with the given environment and returns the exit code and stderr.
func runWithEnv(t *testing.T, env map[string]string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &IOStreams{
		In: strings.NewReader(""), Out: &out, ErrOut: &errOut,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	return code, errOut.String()
}

// auth names environment variables and Config fields; a CLI user reads the flag instead of the
// field, in the words auth's messages used when auth knew the flags.
func TestAuthMessagesNameTheFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(cert, []byte("not read: validation fails first"), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		tenant = "11111111-1111-4111-8111-111111111111"
		client = "22222222-2222-4222-8222-222222222222"
	)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // the whole of stderr
	}{
		{"nothing set", nil, []string{"whoami"}, "d365: 4 configuration problems:\n" +
			"  - missing org URL: set D365_URL or --url to your environment's URL, e.g. https://contoso.crm.dynamics.com\n" +
			"  - missing tenant ID: set AZURE_TENANT_ID or --tenant (the Directory (tenant) ID on the app registration's Overview page)\n" +
			"  - missing client ID: set AZURE_CLIENT_ID or --client-id (the Application (client) ID on the app registration's Overview page)\n" +
			"  - missing credential: set AZURE_CLIENT_SECRET (--client-secret) to the client secret's Value, or AZURE_CLIENT_CERTIFICATE_PATH (--cert) to a certificate file\n"},
		{"secret and certificate", map[string]string{"D365_URL": "https://contoso.crm.dynamics.com", "AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": client},
			[]string{"whoami", "--client-secret", "s3cret-value", "--cert", cert},
			"d365: both a client secret and a certificate are set, so the credential is ambiguous: unset AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, or choose with D365_AUTH_METHOD=secret|certificate (--auth-method)\n"},
		{"authority host with a tenant path", map[string]string{"D365_URL": "https://contoso.crm.dynamics.com", "AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": client, "AZURE_CLIENT_SECRET": "s3cret-value"},
			[]string{"whoami", "--authority-host", "https://login.microsoftonline.com/contoso.onmicrosoft.com"},
			`d365: authority host "https://login.microsoftonline.com/contoso.onmicrosoft.com" has a path "/contoso.onmicrosoft.com": it is only the scheme and host, the tenant goes in AZURE_TENANT_ID (--tenant); set AZURE_AUTHORITY_HOST or --authority-host to https://login.microsoftonline.com/` + "\n"},
		{"unknown method from the environment", map[string]string{"D365_URL": "https://contoso.crm.dynamics.com", "AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": client, "D365_AUTH_METHOD": "password"},
			[]string{"whoami"},
			`d365: unknown auth method "password" (from D365_AUTH_METHOD): set D365_AUTH_METHOD or --auth-method to one of auto, secret, certificate, managed-identity, workload-identity, azure-cli` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stderr := runWithEnv(t, tt.env, tt.args...)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d", code, ExitUsage)
			}
			if diff := cmp.Diff(tt.want, stderr); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
		})
	}
}

// Warnings and explanations of failures after the settings were accepted name flags too.
func TestAuthWarningsAndExplanationsNameTheFlags(t *testing.T) {
	t.Parallel()
	// A TLS server this machine does not trust, standing in for both Entra ID and Dataverse.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "never reached", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{
		"D365_URL":             srv.URL,
		"AZURE_AUTHORITY_HOST": srv.URL,
		"AZURE_TENANT_ID":      "11111111-1111-4111-8111-111111111111",
		"AZURE_CLIENT_ID":      "22222222-2222-4222-8222-222222222222",
		"AZURE_CLIENT_SECRET":  "33333333-3333-4333-8333-333333333333", // shaped like a Secret ID
	}
	_, stderr := runWithEnv(t, env, "whoami", "--cert-password", "unused")
	for _, want := range []string{
		"d365: warning: the client secret looks like a GUID, which is what the portal shows as the Secret ID; set AZURE_CLIENT_SECRET (--client-secret) to the secret's Value instead (AADSTS7000215 otherwise)\n",
		"d365: warning: a certificate password is set but no certificate (AZURE_CLIENT_CERTIFICATE_PATH / --cert); the password is ignored\n",
		" — set D365_CA_FILE (--ca-file) to the CA that signed it: the emulator's ca.pem, or your TLS-inspecting proxy's CA (",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "Config.") {
		t.Errorf("stderr names a Config field instead of a flag:\n%s", stderr)
	}

	// The cloud fallback warning for an org URL outside Microsoft's domains.
	cfg := auth.Config{OrgURL: "https://dataverse.example.test"}
	var got []string
	for _, w := range cfg.Warnings() {
		got = append(got, flagNames.Replace(w))
	}
	want := []string{`org URL host "dataverse.example.test" is not a known Dataverse domain, so the public cloud (login.microsoftonline.com) is used; set AZURE_AUTHORITY_HOST or --authority-host if that is wrong (the emulator prints the value to use)`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
