package cli

import (
	"bytes"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/emulatortest"
)

// TestDataverseCallsUseTheHTTP1Pool: the d365 binary sends its Dataverse requests through the
// dataverse package's own transport, an HTTP/1.1 keep-alive pool (with the CA file trusted), so
// that parallel work spreads over connections and so over an environment's web servers, whose
// service protection limits count each on its own; one HTTP/2 connection would pin it all to one
// server. The token request keeps the process's HTTP/2-capable client. Read from --debug's trace,
// which gives each response's protocol.
func TestDataverseCallsUseTheHTTP1Pool(t *testing.T) {
	t.Parallel()
	bin := d365BinaryForTest(t)
	env := emulatortest.New(t, nil)
	cmd := exec.Command(bin, "export", "accounts", "--parallel", "4", "--select", "name", "--progress", "off",
		"--no-token-cache", "--debug")
	cmd.Env = cliEnv(t, env)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("d365 export: %v\n%s", err, stderr.String())
	}

	// "> [n] GET https://…" then, later, "< [n] HTTP/1.1 200 OK (…)".
	requests := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^> \[(\d+)\] [A-Z]+ (\S+)`).FindAllStringSubmatch(stderr.String(), -1) {
		requests[m[1]] = m[2]
	}
	var dataverseCalls, tokenCalls int
	for _, m := range regexp.MustCompile(`(?m)^< \[(\d+)\] (HTTP/\S+) `).FindAllStringSubmatch(stderr.String(), -1) {
		url, proto := requests[m[1]], m[2]
		switch {
		case strings.Contains(url, "/api/data/"):
			dataverseCalls++
			if proto != "HTTP/1.1" {
				t.Errorf("%s answered over %s, want HTTP/1.1 (the dataverse transport)", url, proto)
			}
		case strings.Contains(url, "/oauth2/"):
			tokenCalls++
		}
	}
	// The metadata read and a first page for each of the 4 key ranges, at least.
	if dataverseCalls < 5 || tokenCalls == 0 {
		t.Fatalf("traced %d Dataverse and %d token responses; trace:\n%s", dataverseCalls, tokenCalls, stderr.String())
	}
}
