package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// buildD365 builds the d365 binary once per test run, for tests that must kill it (kill -9
// cannot be done to an in-process command).
var buildD365 = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "d365-bin-*")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "d365")
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	out, err := exec.Command(goTool, "build", "-o", bin, "github.com/d365s2s/d365/cmd/d365").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// d365BinaryForTest returns the d365 binary, built once per run; the test is skipped with -short,
// which builds nothing.
func d365BinaryForTest(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the d365 binary")
	}
	bin, err := buildD365()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// cliEnv returns the environment that points the d365 binary at env's emulator.
func cliEnv(t *testing.T, env *emulatortest.Env) []string {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, env.Emulator.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := env.Credentials
	return append(os.Environ(),
		"D365_URL="+env.OrgURL, "AZURE_TENANT_ID="+c.TenantID, "AZURE_CLIENT_ID="+c.ClientID,
		"AZURE_CLIENT_SECRET="+c.ClientSecret, "AZURE_AUTHORITY_HOST="+env.Emulator.AuthorityHost(),
		"D365_CA_FILE="+ca, "AZURE_CLIENT_CERTIFICATE_PATH=", "D365_AUTH_METHOD=")
}

// TestImportKilledTwiceThenResumed: the same import is killed with SIGKILL twice while it
// writes, then run again to the end with the same checkpoint: every row is in the table exactly
// once. The rows carry no ids: creates get ids derived from their position and content, so a
// create whose answer was lost to the kill is not created twice.
func TestImportKilledTwiceThenResumed(t *testing.T) {
	t.Parallel()
	bin := d365BinaryForTest(t)
	env := emulatortest.New(t, nil)
	// Slow writes so that each kill lands while requests are in flight.
	if _, err := env.Emulator.AddFault(emulator.FaultRule{
		Match:  emulator.FaultMatch{Table: "contacts", Methods: []string{"POST"}},
		Action: emulator.FaultAction{Kind: emulator.ActionLatency, Delay: 150 * time.Millisecond},
	}); err != nil {
		t.Fatal(err)
	}
	client, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	const rows = 3000
	dir := t.TempDir()
	input := filepath.Join(dir, "contacts.jsonl")
	var b strings.Builder
	for i := range rows {
		fmt.Fprintf(&b, `{"lastname":"Crash%05d","numberofchildren":%d}`+"\n", i, i%7)
	}
	if err := os.WriteFile(input, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	checkpoint := filepath.Join(dir, "contacts.ckpt")
	args := []string{"import", "contacts", input, "--checkpoint", checkpoint, "--errors", filepath.Join(dir, "failed.jsonl"),
		"--batch-size", "25", "--concurrency", "4"}
	environ := cliEnv(t, env)

	count := func() int64 {
		n, err := client.Count(ctx, "contacts", &dataverse.CountOptions{Filter: "startswith(lastname,'Crash')"})
		if err != nil {
			t.Fatalf("count: %v", err)
		}
		return n
	}
	// written is what the checkpoint says the job has written, -1 before it exists. The kill
	// waits on it rather than on a count from the emulator: it is the job's own account, and it
	// costs the emulator nothing (before the in-memory store's read gate, a count waited behind
	// the job's back-to-back writes once for 7.6 s, until the run had ended by itself).
	written := func() int64 {
		b, err := os.ReadFile(checkpoint)
		if err != nil {
			return -1
		}
		var ck struct {
			Written int64 `json:"written"`
		}
		if err := json.Unmarshal(b, &ck); err != nil {
			t.Fatalf("checkpoint %s: %v", b, err)
		}
		return ck.Written
	}
	// Two runs killed once the checkpoint says at least `until` rows are written.
	for run, until := range []int64{600, 1500} {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = environ
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if written() >= until {
				break
			}
			select {
			case err := <-done:
				t.Fatalf("run %d ended before it was killed (%v):\n%s", run+1, err, stderr.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: %d rows after 2 minutes:\n%s", run+1, count(), stderr.String())
			}
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		<-done
		t.Logf("run %d killed with %d rows written", run+1, count())
	}

	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = environ
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}
	t.Logf("resumed run: %s", strings.TrimSpace(string(out)))
	if !strings.Contains(string(out), " 0 failed, ") || !strings.Contains(string(out), "skipped") {
		t.Errorf("resumed run's summary = %q, want 0 failed and some skipped", out)
	}

	seen := map[string]int{}
	pager := client.Pager("contacts", &dataverse.ListOptions{Query: dataverse.Query{Select: []string{"lastname"}, Filter: "startswith(lastname,'Crash')"}})
	for rec, err := range pager.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		name, _ := rec.String("lastname")
		seen[name]++
	}
	var missing, dup []string
	for i := range rows {
		name := fmt.Sprintf("Crash%05d", i)
		switch seen[name] {
		case 1:
		case 0:
			missing = append(missing, name)
		default:
			dup = append(dup, fmt.Sprintf("%s×%d", name, seen[name]))
		}
	}
	if len(missing) > 0 || len(dup) > 0 || len(seen) != rows {
		t.Errorf("after two kills and a resume: %d distinct rows, missing %d %v, duplicated %d %v", len(seen), len(missing), head(missing), len(dup), head(dup))
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
