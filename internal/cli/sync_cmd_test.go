package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
)

// TestSyncCmdFlags parses d365 sync command lines without running a sync (runF captures the
// options) and checks what each refusal says.
func TestSyncCmdFlags(t *testing.T) {
	type parsed struct {
		EntitySet, State, Format, PrimaryKey string
		Select                               []string
		PageSize                             int
	}
	tests := []struct {
		args    string
		want    parsed
		wantErr string
	}{
		{"contacts --state s.json", parsed{EntitySet: "contacts", State: "s.json", Format: "jsonl"}, ""},
		{"contacts --state s.json --select fullname,emailaddress1 --format jsonl --page-size 100 --primary-key contactid",
			parsed{EntitySet: "contacts", State: "s.json", Format: "jsonl", PrimaryKey: "contactid", Select: []string{"fullname", "emailaddress1"}, PageSize: 100}, ""},
		{"", parsed{}, "needs an entity set"},
		{"contacts accounts --state s", parsed{}, "needs an entity set (got 2 argument(s))"},
		{"contacts", parsed{}, "--state FILE is required"},
		{"contacts --state s --format csv", parsed{}, `--format "csv" is unknown: use jsonl`},
		{"contacts --state s --page-size 5001", parsed{}, "--page-size 5001 is out of range"},
		{"contacts --state s --page-size -1", parsed{}, "--page-size -1 is out of range"},
		{"contacts --state s -o table", parsed{}, "-o does not apply to d365 sync"},
		{"contacts --state s --filter x", parsed{}, "unknown flag: --filter"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			var got *syncOptions
			g := &globalOptions{streams: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}}
			root := newRootCmd(g)
			for _, c := range root.Commands() {
				if c.Name() == "sync" {
					root.RemoveCommand(c)
				}
			}
			root.AddCommand(newCmdSync(newFactory(g), func(o *syncOptions) error { got = o; return nil }))
			root.SetArgs(append([]string{"sync"}, strings.Fields(tt.args)...))
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != ExitUsage {
					t.Fatalf("err = %v (exit %d), want a usage error with %q", err, exitCode(err), tt.wantErr)
				}
				if got != nil {
					t.Fatal("the sync ran despite the refusal")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := parsed{got.entitySet, got.state, got.format, got.primaryKey, got.selectCols, got.pageSize}
			if diff := cmp.Diff(tt.want, p); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestSyncProgressLines: a progress line after a saved page only once progressEvery has passed
// since the last one.
func TestSyncProgressLines(t *testing.T) {
	var errOut bytes.Buffer
	clock := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	o := &syncOptions{IO: &IOStreams{ErrOut: &errOut}, entitySet: "contacts", progressEvery: 5 * time.Second,
		now: func() time.Time { return clock }}
	progress := syncProgress(o)
	for page := int64(1); page <= 4; page++ {
		clock = clock.Add(3 * time.Second)
		progress(dataverse.SyncStats{Upserts: page * 100, Pages: page, Elapsed: time.Duration(page) * 3 * time.Second})
	}
	want := "d365: syncing contacts: 200 upserts, 0 deletes, 2 pages saved (6s)\n" +
		"d365: syncing contacts: 400 upserts, 0 deletes, 4 pages saved (12s)\n"
	if errOut.String() != want {
		t.Errorf("stderr = %q, want %q", errOut.String(), want)
	}
}
