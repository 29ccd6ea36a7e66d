package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/d365s2s/d365/auth"
)

const (
	tenantA = "11111111-1111-4111-8111-111111111111"
	clientA = "22222222-2222-4222-8222-222222222222"
	clientB = "33333333-3333-4333-8333-333333333333"
)

// testGlobals returns globalOptions whose connection flags were parsed from flags, over the
// environment env (XDG dirs in a temporary directory), with the profile file holding profiles.
func testGlobals(t *testing.T, env map[string]string, profiles *profileFile, flags ...string) *globalOptions {
	t.Helper()
	dir := t.TempDir()
	full := map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "config"), "XDG_CACHE_HOME": filepath.Join(dir, "cache")}
	for k, v := range env {
		full[k] = v
	}
	g := &globalOptions{streams: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{},
		LookupEnv: func(k string) (string, bool) { v, ok := full[k]; return v, ok }}}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	g.conn.register(fs)
	fs.StringVar(&g.profile, flagProfile, "", "")
	fs.StringVar(&g.connString, flagConnectionString, "", "")
	if err := fs.Parse(flags); err != nil {
		t.Fatal(err)
	}
	if profiles != nil {
		store, err := newProfileStore(g.streams.lookupEnv)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.save(profiles); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// Each setting comes from the highest layer that has it: flags, then the connection string,
// then the environment, then the profile; the credential comes whole from one layer.
func TestSettingsLayers(t *testing.T) {
	t.Parallel()
	prof := &profileFile{Current: "cur", Profiles: map[string]profile{
		"cur":  {URL: "https://current.crm.dynamics.com", TenantID: tenantA, ClientID: clientA, SecretEnv: "CUR_SECRET"},
		"prod": {URL: "https://prod.crm.dynamics.com", TenantID: tenantA, ClientID: clientA, ClientSecret: "stored-secret", CAFile: ""},
		"cert": {URL: "https://cert.crm.dynamics.com", TenantID: tenantA, ClientID: clientA, CertificatePath: "/no/such.pem"},
	}}
	cs := "AuthType=ClientSecret;Url=https://cs.crm.dynamics.com;ClientId=" + clientB + ";ClientSecret=cs-secret;TenantId=" + tenantA
	type want struct {
		URL, Client, Secret string
		Method              auth.Method
	}
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		want  want
	}{
		{"current profile, secret from the variable it names", map[string]string{"CUR_SECRET": "cur-secret"}, nil,
			want{"https://current.crm.dynamics.com", clientA, "cur-secret", auth.MethodAuto}},
		{"--profile with a stored secret", nil, []string{"--profile", "prod"},
			want{"https://prod.crm.dynamics.com", clientA, "stored-secret", auth.MethodAuto}},
		{"D365_PROFILE", map[string]string{"D365_PROFILE": "prod"}, nil,
			want{"https://prod.crm.dynamics.com", clientA, "stored-secret", auth.MethodAuto}},
		{"the environment overrides a profile field by field", map[string]string{"D365_PROFILE": "prod", "D365_URL": "https://env.crm.dynamics.com"}, nil,
			want{"https://env.crm.dynamics.com", clientA, "stored-secret", auth.MethodAuto}},
		{"a flag overrides the environment", map[string]string{"D365_PROFILE": "prod", "D365_URL": "https://env.crm.dynamics.com"}, []string{"--url", "https://flag.crm.dynamics.com"},
			want{"https://flag.crm.dynamics.com", clientA, "stored-secret", auth.MethodAuto}},
		{"the environment's secret replaces the profile's certificate", map[string]string{"AZURE_CLIENT_SECRET": "env-secret"}, []string{"--profile", "cert"},
			want{"https://cert.crm.dynamics.com", clientA, "env-secret", auth.MethodAuto}},
		{"a connection string replaces the current profile", nil, []string{"--connection-string", cs},
			want{"https://cs.crm.dynamics.com", clientB, "cs-secret", auth.MethodSecret}},
		{"D365_CONNECTION_STRING under a flag", map[string]string{"D365_CONNECTION_STRING": cs}, []string{"--client-id", clientA},
			want{"https://cs.crm.dynamics.com", clientA, "cs-secret", auth.MethodSecret}},
		{"a connection string over the environment", map[string]string{"D365_CONNECTION_STRING": cs, "D365_URL": "https://env.crm.dynamics.com", "AZURE_CLIENT_SECRET": "env-secret"}, nil,
			want{"https://cs.crm.dynamics.com", clientB, "cs-secret", auth.MethodSecret}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := testGlobals(t, tt.env, prof, tt.flags...)
			cfg, err := g.loadConfig()
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			got := want{cfg.OrgURL, cfg.ClientID, cfg.ClientSecret.Reveal(), cfg.Method}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Refusals of the settings layers say what to do and never show a secret.
func TestSettingsLayersRefusals(t *testing.T) {
	t.Parallel()
	prof := &profileFile{Profiles: map[string]profile{"dev": {URL: "https://dev.crm.dynamics.com", TenantID: tenantA, ClientID: clientA, SecretEnv: "DEV_SECRET"}}}
	secretCS := "AuthType=ClientSecret;Url=https://x.crm.dynamics.com;ClientId=" + clientA + ";ClientSecret=Zq8~leak~me"
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		want  string
	}{
		{"unknown profile", nil, []string{"--profile", "nope"}, `no profile is named "nope": the profiles are dev`},
		{"secret variable not set", map[string]string{"D365_PROFILE": "dev"}, nil, `profile "dev" reads the client secret from DEV_SECRET, which is not set`},
		{"connection string in --url", nil, []string{"--url", secretCS}, "--url holds a connection string"},
		{"connection string in D365_URL", map[string]string{"D365_URL": secretCS}, nil, "D365_URL holds a connection string"},
		{"bad connection string", map[string]string{"D365_CONNECTION_STRING": "AuthType=ClientSecret;Url=x;ClientSecret=Zq8~leak;me"}, nil, "D365_CONNECTION_STRING: connection string: part 4 has no '='"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := testGlobals(t, tt.env, prof, tt.flags...)
			_, err := g.loadConfig()
			if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != ExitUsage {
				t.Fatalf("err = %v, want a usage error with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "~") {
				t.Errorf("the error shows a secret: %v", err)
			}
		})
	}
}

// The profile subcommands' flags and arguments, in the Factory style: a run function captures
// the options; refusals run nothing.
func TestProfileCmdFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    string
		want    *profileOptions
		wantErr string
	}{
		{args: "add dev --url https://dev.crm.dynamics.com --tenant " + tenantA + " --client-id " + clientA + " --secret-env DEV_SECRET --ca-file ca.pem",
			want: &profileOptions{Action: "add", Name: "dev", SecretEnv: "DEV_SECRET",
				Profile: profile{URL: "https://dev.crm.dynamics.com", TenantID: tenantA, ClientID: clientA, CAFile: "ca.pem"}}},
		{args: "add dev --url https://dev.crm.dynamics.com --store-secret --force --auth-method certificate --cert app.pem",
			want: &profileOptions{Action: "add", Name: "dev", StoreSecret: true, Force: true,
				Profile: profile{URL: "https://dev.crm.dynamics.com", Method: "certificate", CertificatePath: "app.pem"}}},
		{args: "list", want: &profileOptions{Action: "list", Output: "json"}},
		{args: "use prod", want: &profileOptions{Action: "use", Name: "prod", Output: "json"}},
		{args: "show", want: &profileOptions{Action: "show", Output: "json"}},
		{args: "show prod --profile other", want: &profileOptions{Action: "show", Name: "prod", Output: "json", Selected: "other"}},
		{args: "remove prod", want: &profileOptions{Action: "remove", Name: "prod", Output: "json"}},
		{args: "logout --all", want: &profileOptions{Action: "logout", All: true, Output: "json"}},
		{args: "add", wantErr: "needs the profile NAME"},
		{args: "add a b", wantErr: "needs the profile NAME"},
		{args: "use", wantErr: "needs the profile NAME"},
		{args: "remove", wantErr: "needs the profile NAME"},
		{args: "show a b", wantErr: "takes at most one profile NAME"},
		{args: "logout a b", wantErr: "takes at most one profile NAME"},
		{args: "add dev --store-secret=maybe", wantErr: "invalid argument"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			t.Parallel()
			f, _ := testFactory("json")
			g := &globalOptions{streams: f.IOStreams}
			var got *profileOptions
			cmd := newCmdProfile(f, g, func(o *profileOptions) error { got = o; return nil })
			g.conn.register(cmd.PersistentFlags())
			cmd.PersistentFlags().StringVar(&g.profile, flagProfile, "", "")
			args := strings.Fields(tt.args)
			err := executeCmd(cmd, "", args...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.IO = nil
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(profileOptions{}), cmp.Comparer(func(a, b auth.Secret) bool { return a == b })); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// add, list, use, show, remove through d365 itself: the file is 0600, a stored secret is in it
// but never in any output.
func TestProfileCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{"XDG_CONFIG_HOME": dir, "XDG_CACHE_HOME": filepath.Join(dir, "cache")}
	const secret = "Zq8~stored~secret"
	d365 := func(stdin string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), args, &IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut,
			LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		if strings.Contains(out.String()+errOut.String(), "~") {
			t.Fatalf("d365 %v printed the secret:\n%s%s", args, out.String(), errOut.String())
		}
		return code, out.String(), errOut.String()
	}
	steps := []struct {
		stdin, args string
		code        int
		stdout      string
		stderr      string
	}{
		{"", "profile list", 0, "[]", ""},
		{secret + "\n", "profile add dev --url https://dev.crm.dynamics.com --tenant " + tenantA + " --client-id " + clientA + " --store-secret", 0, "", `saved profile "dev"`},
		{"", "profile add dev --url https://dev.crm.dynamics.com", 2, "", `profile "dev" exists: add --force`},
		{"", "profile add prod --url https://prod.crm.dynamics.com --client-secret x", 2, "", "only with --store-secret"},
		{"", "profile add prod --url https://prod.crm.dynamics.com --secret-env 'not a name'", 2, "", "--secret-env is the NAME"},
		{"", "profile add bad/name --url https://prod.crm.dynamics.com", 2, "", "use letters, digits"},
		{"", "profile add prod --url http://prod.crm.dynamics.com", 2, "", "must use https"},
		{"", "profile add prod --url https://prod.crm.dynamics.com --client-id " + clientA + " --secret-env PROD_SECRET", 0, "", `saved profile "prod" in`},
		{"", "profile list -o table", 0, "prod  false    https://prod.crm.dynamics.com", ""},
		{"", "profile show", 0, `"secretStored": true`, ""},
		{"", "profile use prod", 0, "", `profile "prod" is now the current one`},
		{"", "profile show", 0, `"secretEnv": "PROD_SECRET"`, ""},
		{"", "profile use nope", 2, "", `no profile is named "nope": the profiles are dev, prod`},
		{"", "profile remove dev", 0, "", `removed profile "dev"`},
		{"", "profile logout", 0, "", `deleted 0 token cache file(s) of profile "prod"`},
		{"", "profile logout --all", 0, "", "deleted 0 token cache file(s)"},
	}
	for _, s := range steps {
		code, out, errOut := d365(s.stdin, strings.Fields(strings.ReplaceAll(s.args, "'not a name'", "not-a-name!"))...)
		if code != s.code || !strings.Contains(out, s.stdout) || !strings.Contains(errOut, s.stderr) {
			t.Fatalf("d365 %s: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, stdout with %q, stderr with %q", s.args, code, out, errOut, s.code, s.stdout, s.stderr)
		}
	}
	path := filepath.Join(dir, "d365", "config.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), "dev") {
		t.Errorf("the removed profile is still in the file:\n%s", data)
	}
}
