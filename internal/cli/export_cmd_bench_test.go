package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// Export speed: the CLI's writer against the library's own pager, in one run on one emulator.
// Each sub-benchmark reads every row of the same table; rows/s is the figure to compare:
//
//	go test -run '^$' -bench ExportVsPager -benchtime 3x ./internal/cli
//	D365_BENCH_ROWS=100000 go test -run '^$' -bench ExportVsPager -benchtime 3x ./internal/cli
//
// pager/record decodes each row into a dataverse.Record (a map), as Client.Pager does;
// pager/raw keeps each row as json.RawMessage, the least a reader of the library can do. The
// cli/... benchmarks run the d365 command in this process (connect, token, export) and write to a
// file. Figures: docs/benchmarks.md.

// benchContact is the row every benchmark contact holds: the columns a real contact fills.
func benchContact(i int) map[string]any {
	return map[string]any{
		"firstname": fmt.Sprintf("First%07d", i), "lastname": "Benchmark", "jobtitle": "Purchasing Manager",
		"emailaddress1": fmt.Sprintf("first%07d@example.com", i), "telephone1": "+1 425 555 0100",
		"address1_line1": "1 Microsoft Way", "address1_city": "Redmond", "address1_postalcode": "98052",
		"numberofchildren": i % 5, "creditlimit": 1500.5, "gendercode": 1 + i%2, "donotemail": i%3 == 0,
		"description": "Imported from the legacy CRM; see ticket #" + strconv.Itoa(i),
	}
}

// seedBenchContacts creates n contacts with CreateMultiple, a few calls at a time.
func seedBenchContacts(tb testing.TB, c *dataverse.Client, n int) {
	tb.Helper()
	const chunk = 1000
	work := make(chan int)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := range work {
				rows := make([]map[string]any, 0, chunk)
				for i := start; i < min(start+chunk, n); i++ {
					rows = append(rows, benchContact(i))
				}
				if _, err := dataverse.CreateMultiple(context.Background(), c, "contacts", "contact", rows, nil); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	for start := 0; start < n; start += chunk {
		work <- start
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		tb.Fatalf("seeding %d contacts: %v", n, err)
	default:
	}
}

// exportBenchEnv is an emulator without limits holding rows contacts, a client, and the d365
// environment for it.
type exportBenchEnv struct {
	client *dataverse.Client
	env    map[string]string
	rows   int
}

func newExportBenchEnv(tb testing.TB, rows int) *exportBenchEnv {
	tb.Helper()
	off := emulator.LimitsOff()
	env := emulatortest.New(tb, &emulator.Options{Limits: &off})
	client, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
	if err != nil {
		tb.Fatal(err)
	}
	seedBenchContacts(tb, client, rows)
	caFile := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, env.Emulator.CACertPEM(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return &exportBenchEnv{client: client, rows: rows, env: map[string]string{
		"D365_URL": env.OrgURL, "D365_CA_FILE": caFile, "AZURE_AUTHORITY_HOST": env.Emulator.AuthorityHost(),
		"AZURE_TENANT_ID": env.Credentials.TenantID, "AZURE_CLIENT_ID": env.Credentials.ClientID,
		"AZURE_CLIENT_SECRET": env.Credentials.ClientSecret,
	}}
}

// benchRows is D365_BENCH_ROWS, else def.
func benchRows(tb testing.TB, def int) int {
	if s := os.Getenv("D365_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			tb.Fatalf("D365_BENCH_ROWS=%q is not a positive number", s)
		}
		return n
	}
	return def
}

func BenchmarkExportVsPager(b *testing.B) {
	e := newExportBenchEnv(b, benchRows(b, 20000))
	ctx := context.Background()
	report := func(b *testing.B) {
		b.ReportMetric(float64(e.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	}
	count := func(b *testing.B, n int) {
		if n != e.rows {
			b.Fatalf("read %d rows, want %d", n, e.rows)
		}
	}
	b.Run("pager/record", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for _, err := range e.client.Pager("contacts", nil).All(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			count(b, n)
		}
		report(b)
	})
	b.Run("pager/raw", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for _, err := range dataverse.NewPager[json.RawMessage](e.client, "contacts", nil).All(ctx) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			count(b, n)
		}
		report(b)
	})
	out := filepath.Join(b.TempDir(), "out")
	for _, tc := range []struct{ name, args string }{
		{"cli/export-jsonl", "export contacts --progress off --out " + out},
		{"cli/export-csv", "export contacts --progress off --format csv --out " + out},
		{"cli/export-jsonl-parallel4", "export contacts --progress off --parallel 4 --out " + out},
		{"cli/get-all", "get contacts --all"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				f, err := os.Create(out + ".stdout")
				if err != nil {
					b.Fatal(err)
				}
				var errOut strings.Builder
				code := run(ctx, strings.Fields(tc.args), &IOStreams{In: strings.NewReader(""), Out: f, ErrOut: &errOut,
					LookupEnv: func(k string) (string, bool) { v, ok := e.env[k]; return v, ok }})
				f.Close()
				if code != 0 {
					b.Fatalf("d365 %s: exit %d\n%s", tc.args, code, errOut.String())
				}
				if strings.HasPrefix(tc.args, "export") && !strings.Contains(errOut.String(), fmt.Sprintf("exported %d rows", e.rows)) {
					b.Fatalf("d365 %s: %s", tc.args, errOut.String())
				}
			}
			report(b)
		})
	}
}
