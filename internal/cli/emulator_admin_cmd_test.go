package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// testAdminIO exposes the adminIO an admin command's options embed, to the tests.
func (a *adminIO) testAdminIO() *adminIO { return a }

// captureAdmin returns a runF that stores the options it gets in *got with their adminIO
// checked against f and then zeroed, so that only the flags are left to compare.
func captureAdmin[O any](t *testing.T, f *Factory, got *any) func(*O) error {
	return func(o *O) error {
		a := any(o).(interface{ testAdminIO() *adminIO }).testAdminIO()
		if a.IO != f.IOStreams || a.Output != f.OutputFormat() || a.Context == nil {
			t.Errorf("adminIO = %+v: not the factory's streams and -o, or no context", a)
		}
		if _, err := a.AdminClient(); err == nil || !strings.Contains(err.Error(), "no client in a flag test") {
			t.Errorf("AdminClient is not the factory's (err %v)", err)
		}
		*a = adminIO{}
		*got = *o
		return nil
	}
}

// TestEmulatorAdminCmdFlags parses command lines of the converted "d365 emulator" admin
// commands (appuser, role, businessunit) with a runF that captures the options: what each flag
// sets, and each refusal's message and exit code (2), without a process or an emulator.
func TestEmulatorAdminCmdFlags(t *testing.T) {
	const app = "11111111-2222-3333-4444-555555555555"
	tests := []adminCmdCase{
		{"emulator appuser", func(f *Factory, got *any) *cobra.Command {
			return newCmdAppUserCreate(f, captureAdmin[appUserCreateOptions](t, f, got))
		}, "--app " + app + " --role A --role B,C --business-unit Sales --name Sync",
			appUserCreateOptions{App: app, Roles: []string{"A", "B,C"}, BusinessUnit: "Sales", Name: "Sync"}, ""},
		{"emulator appuser", func(f *Factory, got *any) *cobra.Command {
			return newCmdAppUserCreate(f, captureAdmin[appUserCreateOptions](t, f, got))
		}, "--role A", nil, "--app CLIENT_ID is required"},
		{"emulator appuser", func(f *Factory, got *any) *cobra.Command {
			return newCmdAppUserCreate(f, captureAdmin[appUserCreateOptions](t, f, got))
		}, "--app nope", nil, `--app "nope" is not a client ID (a GUID)`},
		{"emulator appuser", func(f *Factory, got *any) *cobra.Command {
			return newCmdAppUserCreate(f, captureAdmin[appUserCreateOptions](t, f, got))
		}, "--app " + app + " extra", nil, "d365 emulator appuser create needs no arguments (use --app and --role)"},
		{"emulator appuser", func(f *Factory, got *any) *cobra.Command {
			return newCmdAppUserList(f, captureAdmin[appUserListOptions](t, f, got))
		}, "", appUserListOptions{}, ""},
		{"emulator role", func(f *Factory, got *any) *cobra.Command {
			return newCmdRoleCreate(f, captureAdmin[roleOptions](t, f, got))
		}, "--name R --privilege prvReadContact:organization,prvWriteContact,, --privilege prvCreateContact",
			roleOptions{Name: "R", Privileges: []string{"prvReadContact:organization", "prvWriteContact", "prvCreateContact"}}, ""},
		{"emulator role", func(f *Factory, got *any) *cobra.Command {
			return newCmdRoleCreate(f, captureAdmin[roleOptions](t, f, got))
		}, "--name R", roleOptions{Name: "R"}, ""},
		{"emulator role", func(f *Factory, got *any) *cobra.Command {
			return newCmdRoleCreate(f, captureAdmin[roleOptions](t, f, got))
		}, "--privilege prvReadContact", nil, "--name is required: the security role's name"},
		{"emulator role", func(f *Factory, got *any) *cobra.Command {
			return newCmdRoleList(f, captureAdmin[roleListOptions](t, f, got))
		}, "", roleListOptions{}, ""},
		{"emulator role", func(f *Factory, got *any) *cobra.Command {
			return newCmdRoleList(f, captureAdmin[roleListOptions](t, f, got))
		}, "x", nil, "d365 emulator role list needs no arguments"},
		{"emulator role", func(f *Factory, got *any) *cobra.Command {
			return newCmdRoleSet(f, captureAdmin[roleOptions](t, f, got))
		}, "--name R --privilege a,b", roleOptions{Name: "R", Privileges: []string{"a", "b"}}, ""},
		{"emulator role", func(f *Factory, got *any) *cobra.Command {
			return newCmdRoleSet(f, captureAdmin[roleOptions](t, f, got))
		}, "--name R --privilege ,", nil, "--privilege is required: the list replaces the role's privileges"},
		{"emulator role", func(f *Factory, got *any) *cobra.Command {
			return newCmdRoleSet(f, captureAdmin[roleOptions](t, f, got))
		}, "--privilege a", nil, "--name is required: the security role's name or ID"},
		{"emulator role", func(f *Factory, got *any) *cobra.Command {
			return newCmdRoleRemove(f, captureAdmin[roleRemoveOptions](t, f, got))
		}, "--name R", roleRemoveOptions{Name: "R"}, ""},
		{"emulator role", func(f *Factory, got *any) *cobra.Command {
			return newCmdRoleRemove(f, captureAdmin[roleRemoveOptions](t, f, got))
		}, "--name", nil, "flag needs an argument: --name"},
		{"emulator businessunit", func(f *Factory, got *any) *cobra.Command {
			return newCmdBusinessUnitCreate(f, captureAdmin[businessUnitCreateOptions](t, f, got))
		}, "--name EMEA --parent Sales", businessUnitCreateOptions{Name: "EMEA", Parent: "Sales"}, ""},
		{"emulator businessunit", func(f *Factory, got *any) *cobra.Command {
			return newCmdBusinessUnitCreate(f, captureAdmin[businessUnitCreateOptions](t, f, got))
		}, "--parent Sales", nil, "--name is required: the business unit's name"},
		{"emulator businessunit", func(f *Factory, got *any) *cobra.Command {
			return newCmdBusinessUnitList(f, captureAdmin[businessUnitListOptions](t, f, got))
		}, "", businessUnitListOptions{}, ""},
		{"emulator businessunit", func(f *Factory, got *any) *cobra.Command {
			return newCmdBusinessUnitSwitch(f, true, captureAdmin[businessUnitSwitchOptions](t, f, got))
		}, "Sales", businessUnitSwitchOptions{Name: "Sales", Disable: true}, ""},
		{"emulator businessunit", func(f *Factory, got *any) *cobra.Command {
			return newCmdBusinessUnitSwitch(f, false, captureAdmin[businessUnitSwitchOptions](t, f, got))
		}, "Sales", businessUnitSwitchOptions{Name: "Sales"}, ""},
		{"emulator businessunit", func(f *Factory, got *any) *cobra.Command {
			return newCmdBusinessUnitSwitch(f, false, captureAdmin[businessUnitSwitchOptions](t, f, got))
		}, "", nil, "d365 emulator businessunit enable needs the business unit's name or ID"},
	}
	runAdminCmdCases(t, outputTable, tests)
}

// TestBusinessUnitSwitchArgs: the name is trimmed, and a blank one is refused, before anything
// is sent.
func TestBusinessUnitSwitchArgs(t *testing.T) {
	f, _ := testFactory(outputJSON)
	var got *businessUnitSwitchOptions
	cmd := newCmdBusinessUnitSwitch(f, true, func(o *businessUnitSwitchOptions) error { got = o; return nil })
	if err := executeCmd(cmd, "emulator businessunit", " Sales "); err != nil || got.Name != "Sales" {
		t.Fatalf("err %v, options %+v: want the name trimmed", err, got)
	}
	got = nil
	cmd = newCmdBusinessUnitSwitch(f, true, func(o *businessUnitSwitchOptions) error { got = o; return nil })
	checkRefusal(t, executeCmd(cmd, "emulator businessunit", "  "), "the business unit's name or ID is empty", got != nil)
}
