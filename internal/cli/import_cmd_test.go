package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
)

// TestImportCmdFlags: the command line becomes the options the run function gets; bad flags are
// usage errors (exit 2) before anything is read or sent.
func TestImportCmdFlags(t *testing.T) {
	tests := []struct {
		args    []string
		check   func(t *testing.T, o *importOptions, concurrency int)
		wantErr string
	}{
		{
			args: []string{"contacts", "in.csv"},
			check: func(t *testing.T, o *importOptions, concurrency int) {
				if o.entitySet != "contacts" || o.input != "in.csv" || o.mode != "create" || concurrency != 0 || o.dryRun {
					t.Errorf("defaults: %+v concurrency %d", o, concurrency)
				}
			},
		},
		{
			args: []string{"accounts", "-", "--format", "jsonl", "--mode", "upsert", "--key", "AccountNumber, name", "--batch-size", "200",
				"--concurrency", "16", "--checkpoint", "ck", "--errors", "err.jsonl", "--bypass-plugins", "--dry-run"},
			check: func(t *testing.T, o *importOptions, concurrency int) {
				want := []string{"accountnumber", "name"}
				if diff := cmp.Diff(want, o.keys); diff != "" {
					t.Errorf("keys (-want +got):\n%s", diff)
				}
				if o.format != "jsonl" || o.mode != "upsert" || o.batchSize != 200 || concurrency != 16 || o.checkpoint != "ck" ||
					o.errorsFile != "err.jsonl" || !o.bypassPlugins || !o.dryRun {
					t.Errorf("options: %+v concurrency %d", o, concurrency)
				}
			},
		},
		{args: []string{"contacts", "in.csv", "--mode", "merge"}, wantErr: `--mode "merge": use create, update or upsert`},
		{args: []string{"contacts", "in.csv", "--key", "emailaddress1"}, wantErr: "only --mode update or upsert uses"},
		{args: []string{"contacts", "in.csv", "--concurrency", "0"}, wantErr: `--concurrency "0": use auto or a positive number`},
		{args: []string{"contacts", "in.csv", "--batch-size", "5000"}, wantErr: "--batch-size 5000: at most 1000"},
		{args: []string{"contacts", "in.txt"}, wantErr: "cannot tell the format of in.txt"},
		{args: []string{"contacts", "-"}, wantErr: "reading stdin needs --format csv or --format jsonl"},
		{args: []string{"contacts", "in.csv", "--format", "xml"}, wantErr: `--format "xml": use csv or jsonl`},
		{args: []string{"contacts"}, wantErr: "needs an entity set and a file"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			g := &globalOptions{streams: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &stderr}}
			var got *importOptions
			var concurrency int
			cmd := newCmdImport(newFactory(g), func(o *importOptions) error {
				n, err := o.validate()
				got, concurrency = o, n
				return err
			})
			cmd.SetArgs(tt.args)
			cmd.SetOut(&stderr)
			cmd.SetErr(&stderr)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != ExitUsage {
					t.Fatalf("err = %v (exit %d), want a usage error containing %q", err, exitCode(err), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got, concurrency)
		})
	}
}

// TestProgressLines: without a terminal, a line every interval with rows, rate, ETA, failures and
// throttling waits; the final report writes nothing (the summary line follows it).
func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	p := newJobProgress(&buf, 1000, time.Nanosecond)
	p.last = time.Time{}
	p.update(dataverse.BulkProgress{Written: 200, Failed: 2, Skipped: 48, RowsPerSecond: 125, ThrottleWait: 3 * time.Second})
	p.update(dataverse.BulkProgress{Written: 1000, Final: true})
	want := "import: 250/1000 rows (25%), 125 rows/s, ETA 6s, 2 failed, throttled 3s\n"
	if buf.String() != want {
		t.Errorf("progress = %q, want %q", buf.String(), want)
	}

	buf.Reset()
	p = newJobProgress(&buf, 1000, time.Hour)
	p.update(dataverse.BulkProgress{Written: 10})
	if buf.Len() != 0 {
		t.Errorf("a report before the interval wrote %q", buf.String())
	}
}
