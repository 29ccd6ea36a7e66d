package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/emulator"
)

var businessUnitColumns = []adminColumn[emulator.BusinessUnit]{
	{"BUSINESSUNITID", func(b emulator.BusinessUnit) any { return b.ID }},
	{"NAME", func(b emulator.BusinessUnit) any { return b.Name }},
	{"PARENTID", func(b emulator.BusinessUnit) any { return b.ParentID }},
	{"DISABLED", func(b emulator.BusinessUnit) any { return b.Disabled }},
}

// newCmdBusinessUnit returns "d365 emulator businessunit", the group of its subcommands.
func newCmdBusinessUnit(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "businessunit",
		Short: "Business units of a running emulator: create, list, disable, enable",
		Long: `Scripts "Business units" in the Power Platform admin center. Business units hold users and
records; privilege depths (businessunit, parentchild) are measured along their tree. Disabling a
business unit disables the ones under it too, and then every Web API request of their
application users gets 403 0x80040225, as a disabled user's does, until it is enabled again.`,
		Args: exactArgs(0, "a subcommand (create, list, disable, enable)"),
	}
	cmd.AddCommand(newCmdBusinessUnitCreate(f, nil), newCmdBusinessUnitList(f, nil),
		newCmdBusinessUnitSwitch(f, true, nil), newCmdBusinessUnitSwitch(f, false, nil))
	return cmd
}

// businessUnitCreateOptions are the inputs of "d365 emulator businessunit create".
type businessUnitCreateOptions struct {
	adminIO
	Name, Parent string
}

// newCmdBusinessUnitCreate returns "d365 emulator businessunit create". runF, when not nil,
// replaces businessUnitCreateRun (tests).
func newCmdBusinessUnitCreate(f *Factory, runF func(*businessUnitCreateOptions) error) *cobra.Command {
	opts := &businessUnitCreateOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, businessUnitCreateRun)
	cmd := &cobra.Command{
		Use:   "create --name NAME [--parent NAME]",
		Short: "Create a business unit",
		Example: `  d365 emulator businessunit create --name Sales
  d365 emulator businessunit create --name "Sales EMEA" --parent Sales
  d365 emulator appuser create --app $AZURE_CLIENT_ID --role "System Administrator" --business-unit "Sales EMEA"`,
		Args: exactArgs(0, "no arguments (use --name and --parent)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(opts.Name) == "" {
				return usageError(errors.New("--name is required: the business unit's name"))
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "the business unit's name (required)")
	cmd.Flags().StringVar(&opts.Parent, "parent", "", "the parent business unit's name or ID (default: the root business unit)")
	return cmd
}

// businessUnitCreateRun creates the business unit and prints it.
func businessUnitCreateRun(opts *businessUnitCreateOptions) error {
	var bu emulator.BusinessUnit
	if err := opts.call(func(c adminClient) (err error) {
		bu, err = c.CreateBusinessUnit(opts.Context, opts.Name, opts.Parent)
		return err
	}); err != nil {
		return err
	}
	return printAdminItem(opts.IO, opts.Output, bu, businessUnitColumns)
}

// businessUnitListOptions are the inputs of "d365 emulator businessunit list".
type businessUnitListOptions struct {
	adminIO
}

// newCmdBusinessUnitList returns "d365 emulator businessunit list". runF, when not nil,
// replaces businessUnitListRun (tests).
func newCmdBusinessUnitList(f *Factory, runF func(*businessUnitListOptions) error) *cobra.Command {
	opts := &businessUnitListOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, businessUnitListRun)
	return &cobra.Command{
		Use:   "list",
		Short: "List the business units, the root first",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// businessUnitListRun lists the business units.
func businessUnitListRun(opts *businessUnitListOptions) error {
	var units []emulator.BusinessUnit
	if err := opts.call(func(c adminClient) (err error) {
		units, err = c.BusinessUnits(opts.Context)
		return err
	}); err != nil {
		return err
	}
	return printAdminList(opts.IO, opts.Output, units, businessUnitColumns)
}

// businessUnitSwitchOptions are the inputs of "d365 emulator businessunit disable" and
// "enable".
type businessUnitSwitchOptions struct {
	adminIO
	Name    string
	Disable bool // disable, else enable
}

// newCmdBusinessUnitSwitch returns "businessunit disable NAME" (disable true) or "businessunit
// enable NAME": SetBusinessUnitEnabled over the admin API. runF, when not nil, replaces
// businessUnitSwitchRun (tests).
func newCmdBusinessUnitSwitch(f *Factory, disable bool, runF func(*businessUnitSwitchOptions) error) *cobra.Command {
	opts := &businessUnitSwitchOptions{adminIO: newAdminIO(f), Disable: disable}
	run := runOrDefault(runF, businessUnitSwitchRun)
	verb, short, long := "enable", "Enable a disabled business unit and the ones under it",
		`Enables a business unit and every business unit under it: their application users' next
requests succeed again. A business unit under a disabled parent cannot be enabled on its own:
enable the parent.`
	if disable {
		verb, short, long = "disable", "Disable a business unit and the ones under it: their users are locked out",
			`Disables a business unit and every business unit under it. Every Web API request of their
application users then gets 403 0x80040225 ("… the business unit '<name>' … is disabled"), and
impersonating such a user fails the same way. The root business unit cannot be disabled.`
	}
	return &cobra.Command{
		Use:     verb + " NAME",
		Short:   short,
		Long:    long,
		Example: fmt.Sprintf("  d365 emulator businessunit %s Sales", verb),
		Args:    exactArgs(1, "the business unit's name or ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = strings.TrimSpace(args[0])
			if opts.Name == "" {
				return usageError(errors.New("the business unit's name or ID is empty"))
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// businessUnitSwitchRun disables or enables the business unit, says so on stderr and prints it.
func businessUnitSwitchRun(opts *businessUnitSwitchOptions) error {
	verb := "enable"
	if opts.Disable {
		verb = "disable"
	}
	var bu emulator.BusinessUnit
	if err := opts.call(func(c adminClient) (err error) {
		bu, err = c.SetBusinessUnitEnabled(opts.Context, opts.Name, !opts.Disable)
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "d365 emulator: business unit %s %sd\n", opts.Name, verb)
	return printAdminItem(opts.IO, opts.Output, bu, businessUnitColumns)
}
