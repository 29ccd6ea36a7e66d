package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// Import speed: "d365 import" against sequential single creates (one POST per row, what a shell
// loop over "d365 create" or a naive client does), in one run on one emulator without limits:
//
//	go test -run '^$' -bench ImportVsSequentialCreates -benchtime 1x ./internal/cli
//	D365_IMPORT_BENCH_ROWS=100000 go test -run '^$' -bench ImportVsSequentialCreates -benchtime 1x ./internal/cli
//
// rows/s is the figure to compare; every iteration starts from the same table (a snapshot restored
// outside the timer). The cli/... benchmarks run the d365 command in this process
// (connect, token, metadata, check pass, write pass) on a file of fresh rows each time.
// Figures: docs/benchmarks.md.

// importBenchRow is a contact with the columns a real one fills.
func importBenchRow(run, i int) map[string]any {
	return map[string]any{
		"firstname": fmt.Sprintf("Run%d", run), "lastname": fmt.Sprintf("Import%07d", i), "jobtitle": "Purchasing Manager",
		"emailaddress1": fmt.Sprintf("r%d.i%07d@example.com", run, i), "telephone1": "+1 425 555 0100",
		"address1_line1": "1 Microsoft Way", "address1_city": "Redmond", "address1_postalcode": "98052",
		"numberofchildren": i % 5, "creditlimit": 1500.5, "donotemail": i%3 == 0,
		"description": fmt.Sprintf("Imported from the legacy CRM; see ticket #%d", i),
	}
}

// writeImportBenchFile writes rows fresh rows as JSON Lines or CSV.
func writeImportBenchFile(tb testing.TB, path, format string, run, rows int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	cols := []string{"firstname", "lastname", "jobtitle", "emailaddress1", "telephone1", "address1_line1", "address1_city",
		"address1_postalcode", "numberofchildren", "creditlimit", "donotemail", "description"}
	if format == "csv" {
		fmt.Fprintln(f, strings.Join(cols, ","))
	}
	for i := range rows {
		r := importBenchRow(run, i)
		if format == "csv" {
			cells := make([]string, len(cols))
			for j, c := range cols {
				cells[j] = fmt.Sprint(r[c])
			}
			fmt.Fprintln(f, strings.Join(cells, ","))
			continue
		}
		b, _ := json.Marshal(r)
		f.Write(append(b, '\n'))
	}
}

func BenchmarkImportVsSequentialCreates(b *testing.B) {
	rows := 5000
	if s := os.Getenv("D365_IMPORT_BENCH_ROWS"); s != "" {
		if _, err := fmt.Sscan(s, &rows); err != nil || rows <= 0 {
			b.Fatalf("D365_IMPORT_BENCH_ROWS=%q is not a positive number", s)
		}
	}
	off := emulator.LimitsOff()
	env := emulatortest.New(b, &emulator.Options{Limits: &off})
	client, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
	if err != nil {
		b.Fatal(err)
	}
	caFile := filepath.Join(b.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, env.Emulator.CACertPEM(), 0o644); err != nil {
		b.Fatal(err)
	}
	vars := map[string]string{
		"D365_URL": env.OrgURL, "D365_CA_FILE": caFile, "AZURE_AUTHORITY_HOST": env.Emulator.AuthorityHost(),
		"AZURE_TENANT_ID": env.Credentials.TenantID, "AZURE_CLIENT_ID": env.Credentials.ClientID,
		"AZURE_CLIENT_SECRET": env.Credentials.ClientSecret,
	}
	ctx := context.Background()
	run := 0
	// Every iteration starts from the same contacts table: the store's inserts slow down as the
	// table grows, which would favour whichever sub-benchmark ran first.
	if err := env.Emulator.Snapshot(ctx, "before-import"); err != nil {
		b.Fatal(err)
	}
	restore := func(b *testing.B) {
		b.Helper()
		b.StopTimer()
		if err := env.Emulator.Restore(ctx, "before-import"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}

	b.Run("sequential-create", func(b *testing.B) {
		n := min(rows, 3000) // one POST per row: a sample of a few seconds is enough for its rate
		for b.Loop() {
			restore(b)
			run++
			for i := range n {
				if _, err := client.Create(ctx, "contacts", importBenchRow(run, i), nil); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	// The engine's floor: CreateMultiple calls of 1,000 rows, 4 at a time, no file, no checks.
	b.Run("library/createmultiple-x4", func(b *testing.B) {
		for b.Loop() {
			restore(b)
			run++
			work := make(chan int)
			errs := make(chan error, 4)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for start := range work {
						batch := make([]map[string]any, 0, 1000)
						for i := start; i < min(start+1000, rows); i++ {
							batch = append(batch, importBenchRow(run, i))
						}
						if _, err := dataverse.CreateMultiple(ctx, client, "contacts", "contact", batch, nil); err != nil {
							select {
							case errs <- err:
							default:
							}
						}
					}
				})
			}
			for start := 0; start < rows; start += 1000 {
				work <- start
			}
			close(work)
			wg.Wait()
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	for _, format := range []string{"jsonl", "csv"} {
		b.Run("cli/import-"+format, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "rows."+format)
			for b.Loop() {
				restore(b)
				run++
				// Making the file is the test's work, not the import's.
				b.StopTimer()
				writeImportBenchFile(b, path, format, run, rows)
				b.StartTimer()
				var errOut strings.Builder
				code := runInProcessWithVars(ctx, []string{"import", "contacts", path, "--progress-interval", "1h"}, &errOut, vars)
				if code != 0 || !strings.Contains(errOut.String(), fmt.Sprintf("import: %d written, 0 failed", rows)) {
					b.Fatalf("d365 import: exit %d\n%s", code, errOut.String())
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// runInProcessWithVars runs the d365 command in this process with the variables vars.
func runInProcessWithVars(ctx context.Context, args []string, errOut *strings.Builder, vars map[string]string) int {
	return run(ctx, args, &IOStreams{In: strings.NewReader(""), Out: &strings.Builder{}, ErrOut: errOut,
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
}
