package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestExportCmdFlags parses d365 export command lines without running an export (runF captures
// the options) and checks what each refusal says.
func TestExportCmdFlags(t *testing.T) {
	type parsed struct {
		EntitySet, Filter, Format, Out, Checkpoint, FetchXML string
		Select, OrderBy                                      []string
		Parallel, Top                                        int
		Formatted                                            bool
	}
	tests := []struct {
		args    string
		want    parsed
		wantErr string
	}{
		{"contacts", parsed{EntitySet: "contacts", Format: "jsonl"}, ""},
		{"contacts --select a,b --filter x --orderby c --format csv --formatted --out f.csv --checkpoint f.ckpt --parallel 4",
			parsed{EntitySet: "contacts", Select: []string{"a", "b"}, Filter: "x", OrderBy: []string{"c"}, Format: "csv", Formatted: true,
				Out: "f.csv", Checkpoint: "f.ckpt", Parallel: 4}, ""},
		{"contacts --fetchxml q.xml --format json", parsed{EntitySet: "contacts", FetchXML: "q.xml", Format: "json"}, ""},
		{"", parsed{}, "needs an entity set"},
		{"contacts --format xml", parsed{}, `--format "xml" is unknown`},
		{"contacts --checkpoint c", parsed{}, "--checkpoint needs --out FILE"},
		{"contacts --fetchxml q.xml --filter x", parsed{}, "--fetchxml holds the whole query"},
		{"contacts --fetchxml q.xml --parallel 2", parsed{}, "--parallel cannot split a FetchXML query"},
		{"contacts --parallel 2 --top 5", parsed{}, "--parallel cannot split a query with --top"},
		{"contacts --parallel 300", parsed{}, "--parallel 300 is out of range"},
		{"contacts --page-size 6000", parsed{}, "--page-size 6000 is out of range"},
		{"contacts --top -1", parsed{}, "--top -1 is negative"},
		{"contacts --progress loud", parsed{}, `--progress "loud" is unknown`},
		{"contacts -o table", parsed{}, "-o does not apply to d365 export"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			var got *exportOptions
			var errOut bytes.Buffer
			g := &globalOptions{streams: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &errOut}}
			root := newRootCmd(g)
			for _, c := range root.Commands() {
				if c.Name() == "export" {
					root.RemoveCommand(c)
				}
			}
			root.AddCommand(newCmdExport(newFactory(g), func(o *exportOptions) error { got = o; return nil }))
			root.SetArgs(append([]string{"export"}, strings.Fields(tt.args)...))
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != ExitUsage {
					t.Fatalf("err = %v (exit %d), want a usage error with %q", err, exitCode(err), tt.wantErr)
				}
				if got != nil {
					t.Fatal("the export ran despite the refusal")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := parsed{got.entitySet, got.filter, got.format, got.out, got.checkpoint, got.fetchXMLFile,
				got.selectCols, got.orderBy, got.parallel, got.top, got.formatted}
			if diff := cmp.Diff(tt.want, p); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
