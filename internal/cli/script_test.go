package cli

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the d365 command as a real process: scripts "exec d365 …" and the
// test binary re-executes itself as d365.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"d365": func() { os.Exit(Main(os.Args[1:], System())) },
	})
}

// TestScripts runs testdata/script/*.txtar: the CLI as a user runs it, against an emulator the
// scripts start themselves.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// Scripts must not pick up the developer's own tenant settings.
			for _, s := range []string{"D365_URL", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
				"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "AZURE_AUTHORITY_HOST",
				"D365_CA_FILE", "D365_AUTH_METHOD", "AZURE_FEDERATED_TOKEN_FILE"} {
				env.Setenv(s, "")
			}
			// Nor the developer's profiles and cached tokens: each script has its own.
			env.Setenv("D365_PROFILE", "")
			env.Setenv("D365_CONNECTION_STRING", "")
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/.config")
			env.Setenv("XDG_CACHE_HOME", env.WorkDir+"/.cache")
			// The repository's example files (scenarios), for scripts that use them as users do.
			examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
			if err != nil {
				return err
			}
			env.Setenv("EXAMPLES", examples)
			// A race-enabled binary sleeps a second at exit by default (atexit_sleep_ms=1000);
			// every d365 a script runs would pay it.
			env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitfile":     cmdWaitFile,
			"loadenv":      cmdLoadEnv,
			"stdout2env":   cmdStdoutToEnv,
			"exitcode":     cmdExitCode,
			"nosecretleak": cmdNoSecretLeak,
		},
	})
}

// waitfile FILE: wait (polling, up to 60 s) until FILE exists — how a script knows a background
// emulator is ready, since it writes its --env-file only then.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within 60s", args[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loadenv FILE: set the variables of "export NAME=VALUE" lines (values as shellQuote writes them).
func cmdLoadEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: loadenv FILE")
	}
	sc := bufio.NewScanner(strings.NewReader(ts.ReadFile(args[0])))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "export ")
		if !ok {
			continue
		}
		name, value, _ := strings.Cut(line, "=")
		if strings.HasPrefix(value, "'") {
			value = strings.ReplaceAll(strings.Trim(value, "'"), `'\''`, "'")
		}
		ts.Setenv(name, value)
	}
}

// stdout2env NAME: set NAME to the previous command's stdout, trimmed.
func cmdStdoutToEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stdout2env NAME")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile("stdout")))
}

// exitcode N d365 ARGS...: run d365 and require exit code N (stdout/stderr kept for matching).
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N command [args...]")
	}
	var want int
	if _, err := fmt.Sscanf(args[0], "%d", &want); err != nil {
		ts.Fatalf("exitcode: %q is not a number", args[0])
	}
	err := ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ok bool
		if got, ok = exitStatus(err); !ok {
			ts.Fatalf("exitcode: %v", err)
		}
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d\nstderr:\n%s", got, want, ts.ReadFile("stderr"))
	}
}

// nosecretleak: neither stdout nor stderr of the previous command contains $AZURE_CLIENT_SECRET
// or anything shaped like a JWT access token.
func cmdNoSecretLeak(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: nosecretleak")
	}
	secret := ts.Getenv("AZURE_CLIENT_SECRET")
	for _, name := range []string{"stdout", "stderr"} {
		out := ts.ReadFile(name)
		if secret != "" && strings.Contains(out, secret) {
			ts.Fatalf("%s contains the client secret", name)
		}
		if strings.Contains(out, "eyJ0eX") || strings.Contains(out, "eyJhbG") {
			ts.Fatalf("%s contains what looks like a JWT", name)
		}
	}
}
