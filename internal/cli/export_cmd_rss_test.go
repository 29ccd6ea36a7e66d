package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// TestExportPeakRSS measures, in one run on one emulator, the library pager's rows/s and a real
// d365 export process's rows/s and peak RSS (getrusage ru_maxrss of the child), for each format.
// It runs only when asked, because it seeds and reads a large table:
//
//	D365_EXPORT_RSS_ROWS=1000000 D365_EXPORT_RSS_DIR=/tmp/d365-export-1m \
//	  go test -run TestExportPeakRSS -v -timeout 60m ./internal/cli
//
// D365_EXPORT_RSS_DIR (optional) keeps the emulator's data between runs, so the rows are seeded
// once; D365_EXPORT_RSS_ROUNDS (default 2) repeats the measurements. The figures are logged;
// docs/benchmarks.md records them. The only assertion is that every
// row was exported: timings on a shared machine are for reading, not for failing a build.
func TestExportPeakRSS(t *testing.T) {
	rowsEnv := os.Getenv("D365_EXPORT_RSS_ROWS")
	if rowsEnv == "" {
		t.Skip("set D365_EXPORT_RSS_ROWS=1000000 to measure export speed and peak RSS")
	}
	want, err := strconv.Atoi(rowsEnv)
	if err != nil || want <= 0 {
		t.Fatalf("D365_EXPORT_RSS_ROWS=%q is not a positive number", rowsEnv)
	}
	off := emulator.LimitsOff()
	env := emulatortest.New(t, &emulator.Options{Limits: &off, DataDir: os.Getenv("D365_EXPORT_RSS_DIR")})
	client, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// The library pager, raw rows: also counts what is there, and seeds the rest.
	readRaw := func() (int, time.Duration) {
		start := time.Now()
		n := 0
		for _, err := range dataverse.NewPager[json.RawMessage](client, "contacts", nil).All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n, time.Since(start)
	}
	have, _ := readRaw()
	if have < want {
		start := time.Now()
		seedBenchContacts(t, client, want-have)
		t.Logf("seeded %d contacts in %s", want-have, time.Since(start).Round(time.Second))
	}

	bin := filepath.Join(t.TempDir(), "d365")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/d365").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, env.Emulator.CACertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	procEnv := append(os.Environ(), "D365_URL="+env.OrgURL, "D365_CA_FILE="+caFile,
		"AZURE_AUTHORITY_HOST="+env.Emulator.AuthorityHost(), "AZURE_TENANT_ID="+env.Credentials.TenantID,
		"AZURE_CLIENT_ID="+env.Credentials.ClientID, "AZURE_CLIENT_SECRET="+env.Credentials.ClientSecret)
	timeBin, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		t.Skip("GNU time (/usr/bin/time) is needed to read the export process's peak RSS")
	}
	maxRSS := regexp.MustCompile(`d365-maxrss-kb=(\d+)`)
	summary := regexp.MustCompile(`exported (\d+) rows .* ([0-9]+) rows/s`)
	outDir := t.TempDir()

	var lines []string
	measure := func(name string, f func() (rows int, elapsed time.Duration, rssKB int64)) {
		rows, elapsed, rss := f()
		line := fmt.Sprintf("%-28s %9d rows  %8.2f s  %8.0f rows/s", name, rows, elapsed.Seconds(), float64(rows)/elapsed.Seconds())
		if rss > 0 {
			line += fmt.Sprintf("  peak RSS %6.1f MB", float64(rss)/1024)
		}
		lines = append(lines, line)
		t.Log(line)
	}
	// Alternate the pager and the CLI so that load on a shared machine falls on both.
	rounds := 2
	if s := os.Getenv("D365_EXPORT_RSS_ROUNDS"); s != "" {
		if rounds, err = strconv.Atoi(s); err != nil || rounds < 1 {
			t.Fatalf("D365_EXPORT_RSS_ROUNDS=%q is not a positive number", s)
		}
	}
	for round := range rounds {
		measure(fmt.Sprintf("pager/raw (round %d)", round+1), func() (int, time.Duration, int64) {
			n, d := readRaw()
			return n, d, 0
		})
		measure(fmt.Sprintf("pager/record (round %d)", round+1), func() (int, time.Duration, int64) {
			start := time.Now()
			n := 0
			for _, err := range client.Pager("contacts", nil).All(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			return n, time.Since(start), 0
		})
		for _, args := range [][]string{
			{"--format", "jsonl"}, {"--format", "csv"}, {"--format", "json"}, {"--format", "jsonl", "--parallel", "4"},
		} {
			name := fmt.Sprintf("d365 export %s (round %d)", strings.Join(args, " "), round+1)
			measure(name, func() (int, time.Duration, int64) {
				out := filepath.Join(outDir, "contacts.out")
				argv := append([]string{bin, "export", "contacts", "--progress", "off", "--out", out}, args...)
				// GNU time reports the child's peak RSS. The rusage of a child this process
				// starts itself would not do: Go starts it with CLONE_VM, and Linux carries the
				// high-water mark of the memory it shared with this (large) process across exec.
				argv = append([]string{timeBin, "-f", "d365-maxrss-kb=%M"}, argv...)
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Env = procEnv
				var stderr strings.Builder
				cmd.Stderr = &stderr
				start := time.Now()
				if err := cmd.Run(); err != nil {
					t.Fatalf("%s: %v\n%s", name, err, stderr.String())
				}
				elapsed := time.Since(start)
				m := summary.FindStringSubmatch(stderr.String())
				if m == nil {
					t.Fatalf("%s: no summary line in\n%s", name, stderr.String())
				}
				n, _ := strconv.Atoi(m[1])
				if n < want {
					t.Fatalf("%s: exported %d rows, want %d", name, n, want)
				}
				os.Remove(out)
				rss := maxRSS.FindStringSubmatch(stderr.String())
				if rss == nil {
					t.Fatalf("%s: no peak RSS from %s in\n%s", name, timeBin, stderr.String())
				}
				kb, _ := strconv.ParseInt(rss[1], 10, 64)
				return n, elapsed, kb
			})
		}
	}
	t.Logf("summary:\n%s", strings.Join(lines, "\n"))
}
