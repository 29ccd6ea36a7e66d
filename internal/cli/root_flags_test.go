package cli

import (
	"bytes"
	"context"
	"net"
	"runtime/debug"
	"strings"
	"testing"
)

// An unresolvable host or a port where nothing listens fails with a message naming it, without
// azcore's retries (the test asserts the message and the exit code, not the time).
func TestUnreachableHostFailsNamingIt(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	base := map[string]string{"AZURE_TENANT_ID": tenantA, "AZURE_CLIENT_ID": clientA, "AZURE_CLIENT_SECRET": "s3cret-value"}
	tests := []struct {
		name      string
		url, auth string
		want      string
	}{
		{"unresolvable host", "https://d365-no-such-org.invalid", "https://d365-no-such-org.invalid/", "the host d365-no-such-org.invalid does not resolve"},
		{"refused connection", "https://" + closed, "https://" + closed + "/", "nothing is listening at " + closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"D365_URL": tt.url, "AZURE_AUTHORITY_HOST": tt.auth}
			for k, v := range base {
				env[k] = v
			}
			code, stderr := runWithEnv(t, env, "whoami")
			if code != ExitError || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, ExitError, tt.want)
			}
		})
	}
	for _, err := range []error{&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}} {
		if !isUnreachable(err) {
			t.Errorf("isUnreachable(%v) = false", err)
		}
	}
	if isUnreachable(&net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true, IsTemporary: true}) {
		t.Error("a resolver timeout is not retried")
	}
}

// The connection flags are accepted by every command but listed only by "d365 help environment",
// once each, not in every command's flag list; the other global flags stay there.
func TestConnectionFlagsHiddenButListedOnce(t *testing.T) {
	t.Parallel()
	help := func(args ...string) string {
		var out bytes.Buffer
		code := run(context.Background(), args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out,
			LookupEnv: func(string) (string, bool) { return "", false }})
		if code != 0 {
			t.Fatalf("d365 %v: exit %d\n%s", args, code, out.String())
		}
		return out.String()
	}
	hidden := []string{flagProfile, flagConnectionString, flagNoTokenCache}
	for _, f := range connectionFlagTable {
		hidden = append(hidden, f.name)
	}
	for _, args := range [][]string{{"--help"}, {"whoami", "--help"}, {"get", "--help"}, {"doctor", "--help"}} {
		out := help(args...)
		if i := strings.Index(out, "Flags:"); i >= 0 {
			out = out[i:] // the flag lists, not the examples
		}
		for _, name := range hidden {
			if strings.Contains(out, "--"+name+" ") {
				t.Errorf("d365 %v shows --%s", args, name)
			}
		}
		if !strings.Contains(out, "--debug") || !strings.Contains(out, "--timeout") {
			t.Errorf("d365 %v lacks --debug or --timeout", args)
		}
	}
	env := help("help", "environment")
	for _, name := range hidden {
		if n := strings.Count(env, "\n  --"+name+" "); n != 1 {
			t.Errorf("help environment shows --%s %d times, want once", name, n)
		}
	}
	for _, f := range connectionFlagTable {
		if !strings.Contains(env, f.env) {
			t.Errorf("help environment lacks %s", f.env)
		}
	}
	if !strings.Contains(help("--help"), `d365 help environment`) {
		t.Error("the root help does not point at d365 help environment")
	}
	// Hidden, still accepted: a flag parse error would be exit 2 before the settings check.
	code, stderr := runWithEnv(t, nil, "whoami", "--tenant", tenantA, "--client-id", clientA, "--profile", "")
	if code != ExitUsage || strings.Contains(stderr, "unknown flag") || !strings.Contains(stderr, "missing org URL") {
		t.Errorf("hidden flags: exit %d, stderr %s", code, stderr)
	}
}

func TestBuildVersion(t *testing.T) {
	t.Parallel()
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/d365s2s/d365", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name string
		read func() (*debug.BuildInfo, bool)
		want string
	}{
		{"release with commit", func() (*debug.BuildInfo, bool) { return info, true }, "v1.2.3 (commit 0123456789ab+dirty, 2026-12-01T00:00:00Z) go1.26.8"},
		{"devel without VCS", func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, true
		}, "(devel) go1.26.8"},
	}
	for _, tt := range tests {
		if got := readBuildVersion(tt.read).String(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}); code != 0 || !strings.HasPrefix(out.String(), "d365 ") {
		t.Errorf("--version: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"version", "--json"}, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out}); code != 0 || !strings.Contains(out.String(), `"module": "github.com/d365s2s/d365"`) {
		t.Errorf("version --json: exit %d, %q", code, out.String())
	}
}
