package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/d365s2s/d365/emulator"
)

// TestEmulatorCmdFlags parses "d365 emulator" command lines with a runF that captures the
// options: nothing starts, and a bad port or token lifetime is refused with exit 2.
func TestEmulatorCmdFlags(t *testing.T) {
	defaults := emulatorOptions{Port: defaultEmulatorPort, Limits: "default", DOPHint: emulator.DefaultDOPHint, TokenLifetime: emulator.DefaultTokenLifetime}
	with := func(change func(*emulatorOptions)) emulatorOptions {
		o := defaults
		change(&o)
		return o
	}
	tests := []struct {
		args    string
		want    emulatorOptions
		wantErr string
	}{
		{"", defaults, ""},
		{"--port 0 --data-dir d --env-file e.env --scenario s.yaml -v", with(func(o *emulatorOptions) {
			o.Port, o.DataDir, o.EnvFile, o.Scenario, o.Verbose = 0, "d", "e.env", "s.yaml", true
		}), ""},
		// Given, even at their defaults, they replace a scenario's own settings.
		{"--limits default --token-lifetime 1h --dop-hint 4", with(func(o *emulatorOptions) {
			o.TokenLifetime, o.DOPHint, o.LimitsSet, o.TokenLifetimeSet, o.DOPHintSet = time.Hour, 4, true, true, true
		}), ""},
		{"--port 70000", emulatorOptions{}, "--port 70000 is not a TCP port: use 0-65535"},
		{"--token-lifetime 1500ms", emulatorOptions{}, "--token-lifetime 1.5s is out of range"},
		{"--token-lifetime 25h", emulatorOptions{}, "--token-lifetime 25h0m0s is out of range"},
		{"now", emulatorOptions{}, "d365 emulator needs no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			f, _ := testFactory(outputJSON)
			var got *emulatorOptions
			err := executeCmd(newCmdEmulator(f, func(o *emulatorOptions) error { got = o; return nil }), "", strings.Fields(tt.args)...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.IO != f.IOStreams || got.Context == nil {
				t.Error("IO is not the factory's, or no context")
			}
			if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreFields(emulatorOptions{}, "IO", "Context")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmulatorRunRefusesBeforeStarting: emulatorRun refuses a bad --env-file directory,
// --limits, --scenario or --dop-hint with exit 2 before any emulator starts (nothing is printed).
func TestEmulatorRunRefusesBeforeStarting(t *testing.T) {
	base := emulatorOptions{Port: 0, Limits: "default", TokenLifetime: time.Hour}
	dir := t.TempDir()
	tests := []struct {
		name   string
		change func(*emulatorOptions)
		want   string
	}{
		{"env-file", func(o *emulatorOptions) { o.EnvFile = filepath.Join(dir, "missing", "e.env") }, "--env-file " + filepath.Join(dir, "missing", "e.env")},
		{"limits", func(o *emulatorOptions) { o.Limits, o.LimitsSet = "loose", true }, `--limits "loose": use default, off or strict`},
		{"scenario", func(o *emulatorOptions) { o.Scenario = filepath.Join(dir, "none.yaml") }, "none.yaml"},
		{"dop-hint", func(o *emulatorOptions) { o.DOPHint, o.DOPHintSet = -1, true }, "--dop-hint -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, stderr := testFactory(outputJSON)
			o := base
			o.IO, o.Context = f.IOStreams, context.Background()
			tt.change(&o)
			checkRefusal(t, emulatorRun(&o), tt.want, false)
			if out := f.IOStreams.Out.(interface{ String() string }).String(); out != "" || stderr.Len() != 0 {
				t.Errorf("printed %q / %q before refusing", out, stderr.String())
			}
		})
	}
}
