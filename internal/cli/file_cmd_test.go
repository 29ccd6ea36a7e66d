package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// TestFileCmdFlags parses d365 file upload/download command lines without transferring anything
// (runF captures the options) and checks what each refusal says.
func TestFileCmdFlags(t *testing.T) {
	const id = "6f7c2d4e-0000-4000-8000-000000000001"
	type parsed struct {
		Upload                  bool
		EntitySet, Column, Path string
		Name, MimeType          string
		Mode                    dataverse.FileTransfer
		Full                    bool
	}
	tests := []struct {
		args    string
		want    parsed
		wantErr string
	}{
		{"upload accounts " + id + " new_file ./dir/report.pdf",
			parsed{Upload: true, EntitySet: "accounts", Column: "new_file", Path: "./dir/report.pdf", Name: "report.pdf"}, ""},
		{"upload accounts " + id + " new_file - --name dump.sql --mode blocks --mime-type text/plain",
			parsed{Upload: true, EntitySet: "accounts", Column: "new_file", Path: "-", Name: "dump.sql", MimeType: "text/plain", Mode: dataverse.FileTransferBlocks}, ""},
		{"upload accounts " + id + " new_file a.bin --mode chunked --name b.bin",
			parsed{Upload: true, EntitySet: "accounts", Column: "new_file", Path: "a.bin", Name: "b.bin", Mode: dataverse.FileTransferChunked}, ""},
		{"download contacts " + id + " entityimage photo.png --full --mode single",
			parsed{EntitySet: "contacts", Column: "entityimage", Path: "photo.png", Mode: dataverse.FileTransferSingle, Full: true}, ""},
		{"download contacts " + id + " new_file -", parsed{EntitySet: "contacts", Column: "new_file", Path: "-"}, ""},
		{"upload accounts " + id + " new_file", parsed{}, "needs <entityset> <id> <column> <path>"},
		{"upload accounts not-a-guid new_file a.bin", parsed{}, `"not-a-guid" is not a record id`},
		{"upload accounts " + id + " new_file - ", parsed{}, "reading stdin needs --name"},
		{"download accounts " + id + " new_file a.bin --mode parallel", parsed{}, `--mode "parallel" is unknown`},
		{"download accounts " + id + " new_file a.bin --name x", parsed{}, "unknown flag: --name"},
		{"upload accounts " + id + " new_file a.bin --full", parsed{}, "unknown flag: --full"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			var got *fileOptions
			g := &globalOptions{streams: &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}}
			root := newRootCmd(g)
			for _, c := range root.Commands() {
				if c.Name() == "file" {
					root.RemoveCommand(c)
				}
			}
			root.AddCommand(newCmdFile(newFactory(g), func(o *fileOptions) error { got = o; return nil }))
			root.SetArgs(append([]string{"file"}, strings.Fields(tt.args)...))
			err := root.Execute()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != ExitUsage {
					t.Fatalf("err = %v (exit %d), want a usage error with %q", err, exitCode(err), tt.wantErr)
				}
				if got != nil {
					t.Fatal("the transfer ran despite the refusal")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.id != uuid.MustParse(id) {
				t.Errorf("id = %v", got.id)
			}
			p := parsed{got.upload, got.entitySet, got.column, got.path, got.name, got.mimeType, got.mode, got.full}
			if diff := cmp.Diff(tt.want, p); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
