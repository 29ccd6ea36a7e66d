package cli

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// walkthroughStart is the first line of the README's emulator walkthrough.
const walkthroughStart = "d365 emulator --port 8365 --env-file .d365.env &"

// TestREADMEEmulatorWalkthrough runs the README's emulator walkthrough, as written there, with
// bash: once on a port another program holds (it must fail at once and say so, not wait forever)
// and once on a free port (it must run through). testdata/walkthrough holds the assertions.
func TestREADMEEmulatorWalkthrough(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	snippet := readmeBlock(t, string(readme), walkthroughStart)
	for _, want := range []string{"until [ -s .d365.env ]", "kill -0 $!", "source .d365.env"} {
		if !strings.Contains(snippet, want) {
			t.Fatalf("the README's walkthrough lost %q:\n%s", want, snippet)
		}
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() }) // not defer: the scripts run after this function returns
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	// The emulator it starts is stopped at the end, as "kill %1" in the README does.
	const stop = "\nkill $!\nwait\n"

	testscript.Run(t, testscript.Params{
		Dir: "testdata/walkthrough",
		Setup: func(env *testscript.Env) error {
			for _, s := range []string{"D365_URL", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
				"AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_AUTHORITY_HOST", "D365_CA_FILE", "D365_AUTH_METHOD"} {
				env.Setenv(s, "")
			}
			scripts := map[string]string{
				"walkthrough-busy.sh": strings.Replace(snippet, "--port 8365", "--port "+busyPort, 1) + stop,
				"walkthrough.sh":      strings.Replace(snippet, "--port 8365", "--port 0", 1) + stop,
			}
			for name, body := range scripts {
				if err := os.WriteFile(filepath.Join(env.WorkDir, name), []byte(body), 0o644); err != nil {
					return err
				}
			}
			return nil
		},
	})
}

// readmeBlock returns the fenced code block of the README that starts with the line first.
func readmeBlock(t *testing.T, readme, first string) string {
	t.Helper()
	i := strings.Index(readme, "```sh\n"+first)
	if i < 0 {
		t.Fatalf("the README has no code block starting with %q", first)
	}
	block := readme[i+len("```sh\n"):]
	end := strings.Index(block, "\n```")
	if end < 0 {
		t.Fatalf("the README's block starting with %q does not end", first)
	}
	return block[:end+1]
}
