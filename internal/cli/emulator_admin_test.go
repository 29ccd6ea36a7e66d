package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// runCLI runs d365 in-process with the given environment and returns the exit code, stdout and
// stderr.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &IOStreams{
		In: strings.NewReader(""), Out: &out, ErrOut: &errOut,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	return code, out.String(), errOut.String()
}

// TestEmulatorAdminCommandErrors checks, in-process, what the admin subcommands say when the
// input, the setup or the emulator is wrong (the scripts cover the paths that work).
func TestEmulatorAdminCommandErrors(t *testing.T) {
	t.Parallel()
	env := emulatortest.New(t, nil)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, env.Emulator.CACertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	ok := map[string]string{"D365_URL": env.OrgURL, "D365_CA_FILE": caFile}

	// A port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "https://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"no emulator URL", map[string]string{}, []string{"emulator", "app", "list"}, ExitUsage, "", "no emulator URL: set D365_URL"},
		{"CA not trusted", map[string]string{"D365_URL": env.OrgURL}, []string{"emulator", "app", "list"}, ExitUsage, "", "set D365_CA_FILE"},
		{"emulator not running", map[string]string{"D365_URL": closedURL, "D365_CA_FILE": caFile}, []string{"emulator", "reset"}, ExitError, "", "nothing is listening at"},
		{"bad --expires", ok, []string{"emulator", "app", "create", "--expires", "tomorrow"}, ExitUsage, "", `--expires "tomorrow" is neither a duration`},
		{"--app not a GUID", ok, []string{"emulator", "app", "secret", "add", "--app", "my-app"}, ExitUsage, "", `--app "my-app" is not a client ID`},
		{"missing --cert", ok, []string{"emulator", "app", "cert", "add", "--app", env.Credentials.ClientID}, ExitUsage, "", "--cert FILE is required"},
		{"privilege typo", ok, []string{"emulator", "role", "create", "--name", "T", "--privilege", "prvReadContacts"}, ExitUsage, "", "did you mean prvReadContact?"},
		{"role without name", ok, []string{"emulator", "role", "create", "--privilege", "prvReadContact"}, ExitUsage, "", "--name is required"},
		{"unknown app", ok, []string{"emulator", "appuser", "create", "--app", "00000000-0000-4000-8000-00000000dead", "--role", "x"}, ExitService, "", "404 NotFound: no app registration"},
		{"role set without privileges", ok, []string{"emulator", "role", "set", "--name", "System Administrator"}, ExitUsage, "", "--privilege is required"},
		{"role set System Administrator", ok, []string{"emulator", "role", "set", "--name", "System Administrator", "--privilege", "prvReadContact"}, ExitUsage, "", "cannot change the privileges of the System Administrator role"},
		{"role remove unknown", ok, []string{"emulator", "role", "remove", "--name", "Nope"}, ExitService, "", `404 NotFound: no security role is named "Nope"`},
		{"role remove without name", ok, []string{"emulator", "role", "remove"}, ExitUsage, "", "--name is required"},
		{"secret remove without id", ok, []string{"emulator", "app", "secret", "remove", "--app", env.Credentials.ClientID}, ExitUsage, "", "--id SECRET_ID is required"},
		{"secret remove unknown", ok, []string{"emulator", "app", "secret", "remove", "--app", env.Credentials.ClientID, "--id", "00000000-0000-4000-8000-00000000dead"}, ExitService, "", "404 NotFound"},
		{"secret list table", ok, []string{"emulator", "app", "secret", "list", "--app", env.Credentials.ClientID, "-o", "table"}, ExitOK, "^SECRETID +NAME +HINT +EXPIRES +CREATED\n" + emulator.DefaultClientSecretID + " ", ""},
		{"cert remove without thumbprint", ok, []string{"emulator", "app", "cert", "remove", "--app", env.Credentials.ClientID}, ExitUsage, "", "--thumbprint is required"},
		{"cert list of an unknown app", ok, []string{"emulator", "app", "cert", "list", "--app", "00000000-0000-4000-8000-00000000dead"}, ExitService, "", "404 NotFound"},
		{"unknown fault action", ok, []string{"emulator", "fault", "add", "--action", "explode"}, ExitUsage, "", "use error, throttle, latency, drop, token-endpoint-down or expire-delta-token"},
		{"bad fault field", ok, []string{"emulator", "fault", "add", "--action", "error", "--status", "200"}, ExitUsage, "", "action.status"},
		{"--json with flags", ok, []string{"emulator", "fault", "add", "--json", `{"action":{"kind":"drop"}}`, "--table", "contacts"}, ExitUsage, "", "drop --table"},
		{"fault as JSON", ok, []string{"emulator", "fault", "add", "--json", `{"id":"j1","action":{"kind":"drop"}}`, "-o", "table"}, ExitOK, "j1 +drop", ""},
		{"unknown fault", ok, []string{"emulator", "fault", "remove", "nope"}, ExitService, "", "404"},
		{"log table", ok, []string{"emulator", "log", "-o", "table"}, ExitOK, "SEQ +METHOD +PATH", ""},
		{"bad log filter", ok, []string{"emulator", "log", "--status", "abc"}, ExitUsage, "", "status"},
		{"unknown --limits", ok, []string{"emulator", "--port", "0", "--limits", "lax"}, ExitUsage, "", `--limits "lax": use default, off or strict`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if tt.stdout != "" && !regexpMatch(tt.stdout, stdout) {
				t.Errorf("stdout %q does not match %q", stdout, tt.stdout)
			}
			if tt.stderr != "" && !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.stderr)
			}
		})
	}
}

func TestEmulatorRefusesABadScenarioBeforeStarting(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("apps:\n  - name: x\n    secert: y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, nil, "emulator", "--port", "0", "--scenario", path)
	if code != ExitUsage || stdout != "" || !strings.Contains(stderr, `bad.yaml: line 3: unknown field "secert" in an app`) {
		t.Errorf("exit %d, stdout %q, stderr %q; want a usage error naming the file, line and field", code, stdout, stderr)
	}
}

func TestEmulatorOnATakenPortSaysWhatToDo(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	code, stdout, stderr := runCLI(t, nil, "emulator", "--port", port)
	if code != ExitError || stdout != "" || !strings.Contains(stderr, "address already in use") ||
		!strings.Contains(stderr, "listens on port "+port+": stop it, or pass --port 0") {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 naming the port and the way out", code, stdout, stderr)
	}
}

func regexpMatch(pattern, s string) bool {
	return regexp.MustCompile("(?m)" + pattern).MatchString(s)
}
