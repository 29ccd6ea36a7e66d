package cli

import (
	"strings"
	"testing"

	"github.com/d365s2s/d365/auth"
)

// doctor's flags in the Factory style: a run function captures the options; refusals run nothing.
func TestDoctorCmdFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args      string
		wantTable string
		wantErr   string
	}{
		{args: "", wantTable: ""},
		{args: "--table contacts", wantTable: "contacts"},
		{args: "--table=account", wantTable: "account"},
		{args: "contacts", wantErr: "needs no arguments"},
		{args: "--table", wantErr: "flag needs an argument"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			t.Parallel()
			f, _ := testFactory("json")
			var got *doctorOptions
			cmd := newCmdDoctor(f, func(o *doctorOptions) error { got = o; return nil })
			err := executeCmd(cmd, "", strings.Fields(tt.args)...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Table != tt.wantTable || got.Context == nil {
				t.Errorf("table %q (context %v), want %q", got.Table, got.Context, tt.wantTable)
			}
		})
	}
}

// A failing step ends the report: the steps after it are skipped, and the exit code is the
// failing step's.
func TestDoctorStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	f, _ := testFactory("json")
	var out strings.Builder
	f.IOStreams.Out = &out
	opts := &doctorOptions{IO: f.IOStreams, Context: t.Context(), Settings: func() (auth.Config, error) {
		return auth.Config{}, usageError(errNoProfile)
	}}
	err := doctorRun(opts)
	if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "the settings check failed") {
		t.Fatalf("err = %v (exit %d)", err, exitCode(err))
	}
	want := []string{"✗ settings ", "  fix: set the missing or wrong settings", "- network    skipped", "- privileges skipped"}
	for _, w := range want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, out.String())
		}
	}
}
