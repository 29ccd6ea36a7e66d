package cli

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/adminclient"
)

// TestEmulatorAppCmdFlags parses "d365 emulator app …" command lines with a runF that captures
// the options: what each flag sets (the secret request read from --expires included), and each
// refusal's message and exit code (2), without a process or an emulator.
func TestEmulatorAppCmdFlags(t *testing.T) {
	const app = "11111111-2222-3333-4444-555555555555"
	day := 24 * time.Hour
	appCreate := func(f *Factory, got *any) *cobra.Command {
		return newCmdAppCreate(f, captureAdmin[appCreateOptions](t, f, got))
	}
	secretAdd := func(f *Factory, got *any) *cobra.Command {
		return newCmdAppSecretAdd(f, captureAdmin[appSecretAddOptions](t, f, got))
	}
	certAdd := func(f *Factory, got *any) *cobra.Command {
		return newCmdAppCertAdd(f, captureAdmin[appCertAddOptions](t, f, got))
	}
	// The remove and list commands carry the admin call in their options: the capture keeps
	// what the command line set, and checks the call is there.
	removeCapture := func(f *Factory, got *any) func(*appCredentialRemoveOptions) error {
		inner := captureAdmin[appCredentialRemoveOptions](t, f, got)
		return func(o *appCredentialRemoveOptions) error {
			if o.Remove == nil {
				t.Error("no Remove call")
			}
			o.Remove = nil
			return inner(o)
		}
	}
	secretRemove := func(f *Factory, got *any) *cobra.Command { return newCmdAppSecretRemove(f, removeCapture(f, got)) }
	certRemove := func(f *Factory, got *any) *cobra.Command { return newCmdAppCertRemove(f, removeCapture(f, got)) }
	secretList := func(f *Factory, got *any) *cobra.Command {
		inner := captureAdmin[appCredentialListOptions[emulator.Secret]](t, f, got)
		return newCmdAppCredentialList(f, "list", adminClient.Secrets, secretColumns, func(o *appCredentialListOptions[emulator.Secret]) error {
			if o.ListOf == nil || len(o.Columns) != len(secretColumns) {
				t.Error("no list call or columns")
			}
			o.ListOf, o.Columns = nil, nil
			return inner(o)
		})
	}
	tests := []adminCmdCase{
		{"emulator app", appCreate, "--name sync --tenant contoso.onmicrosoft.com --expires 24h --env-file app.env",
			appCreateOptions{Name: "sync", Tenant: "contoso.onmicrosoft.com", Expires: "24h", EnvFile: "app.env",
				Secret: &adminclient.SecretRequest{DisplayName: "created by d365 emulator app create", ExpiresIn: &day}}, ""},
		{"emulator app", appCreate, "--expires 2030-01-01T00:00:00.5Z",
			appCreateOptions{Expires: "2030-01-01T00:00:00.5Z", Secret: &adminclient.SecretRequest{
				DisplayName: "created by d365 emulator app create", Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}, ""},
		{"emulator app", appCreate, "--no-secret", appCreateOptions{NoSecret: true}, ""},
		{"emulator app", appCreate, "--no-secret --expires 1h", nil, "--no-secret cannot go with --expires"},
		{"emulator app", appCreate, "--expires soon", nil, `--expires "soon" is neither a duration`},
		{"emulator app", func(f *Factory, got *any) *cobra.Command {
			return newCmdAppList(f, captureAdmin[appListOptions](t, f, got))
		}, "--tenant t1", appListOptions{Tenant: "t1"}, ""},
		{"emulator app secret", secretAdd, "--app " + app + " --name rotation --expires -1h --env-file e.env",
			appSecretAddOptions{App: app, Name: "rotation", Expires: "-1h", EnvFile: "e.env",
				Request: adminclient.SecretRequest{DisplayName: "rotation", ExpiresIn: new(-time.Hour)}}, ""},
		{"emulator app secret", secretAdd, "", nil, "--app CLIENT_ID is required"},
		{"emulator app secret", secretAdd, "--app " + app + " --expires 1y", nil, `--expires "1y" is neither`},
		{"emulator app secret", secretList, "--app " + app, appCredentialListOptions[emulator.Secret]{App: app}, ""},
		{"emulator app secret", secretList, "--app x", nil, `--app "x" is not a client ID (a GUID)`},
		{"emulator app secret", secretRemove, "--app " + app + " --id s1", appCredentialRemoveOptions{App: app, ID: "s1", Noun: "secret"}, ""},
		{"emulator app secret", secretRemove, "--app " + app, nil, "--id SECRET_ID is required"},
		{"emulator app cert", certAdd, "--app " + app + " --cert client.pem", appCertAddOptions{App: app, File: "client.pem"}, ""},
		{"emulator app cert", certAdd, "--app " + app, nil, "--cert FILE is required"},
		{"emulator app cert", certRemove, "--app " + app + " --thumbprint 3F2A", appCredentialRemoveOptions{App: app, ID: "3F2A", Noun: "certificate"}, ""},
		{"emulator app cert", certRemove, "--app " + app + " --id 3F2A", nil, "unknown flag: --id"},
		{"emulator app cert", certRemove, "--app " + app, nil, "--thumbprint is required"},
	}
	runAdminCmdCases(t, outputJSON, tests)
}

// TestAppCertAddRunRefusesBadFile: a --cert file without a certificate is refused with exit 2
// before the admin client is built (the factory's would fail the call).
func TestAppCertAddRunRefusesBadFile(t *testing.T) {
	dir := t.TempDir()
	keyOnly := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyOnly, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ file, want string }{
		{keyOnly, "holds no CERTIFICATE block"},
		{filepath.Join(dir, "missing.pem"), "--cert: open"},
	} {
		f, _ := testFactory(outputJSON)
		err := appCertAddRun(&appCertAddOptions{adminIO: newAdminIO(f), App: "11111111-2222-3333-4444-555555555555", File: tt.file})
		checkRefusal(t, err, tt.want, false)
	}
}
