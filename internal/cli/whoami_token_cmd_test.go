package cli

import (
	"strings"
	"testing"
)

// TestWhoAmITokenCmdFlags builds "d365 whoami" and "d365 token" with a runF that captures their
// options: what the command line sets, and what it refuses, without a process or a server.
func TestWhoAmITokenCmdFlags(t *testing.T) {
	t.Run("whoami -o table", func(t *testing.T) {
		f, _ := testFactory(outputTable)
		var got *whoAmIOptions
		if err := executeCmd(newCmdWhoAmI(f, func(o *whoAmIOptions) error { got = o; return nil }), ""); err != nil {
			t.Fatal(err)
		}
		if got.Output != outputTable || got.IO != f.IOStreams || got.Context == nil {
			t.Errorf("options = %+v", got)
		}
		if _, err := got.Session(); err == nil {
			t.Error("Session is not the factory's")
		}
	})
	t.Run("whoami extra", func(t *testing.T) {
		f, _ := testFactory(outputJSON)
		ran := false
		err := executeCmd(newCmdWhoAmI(f, func(*whoAmIOptions) error { ran = true; return nil }), "", "extra")
		checkRefusal(t, err, "d365 whoami needs no arguments", ran)
	})
	for _, tt := range []struct {
		args       string
		wantDecode bool
		wantErr    string
	}{
		{"", false, ""},
		{"--decode", true, ""},
		{"--decode=false", false, ""},
		{"extra", false, "d365 token needs no arguments"},
		{"--decode=maybe", false, `invalid argument "maybe" for "--decode"`},
	} {
		t.Run("token "+tt.args, func(t *testing.T) {
			f, _ := testFactory(outputJSON)
			var got *tokenOptions
			err := executeCmd(newCmdToken(f, func(o *tokenOptions) error { got = o; return nil }), "", strings.Fields(tt.args)...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Decode != tt.wantDecode || got.IO != f.IOStreams {
				t.Errorf("options = %+v, want Decode %v", got, tt.wantDecode)
			}
		})
	}
}
