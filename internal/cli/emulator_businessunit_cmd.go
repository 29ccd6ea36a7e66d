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

func newEmulatorBusinessUnitCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "businessunit",
		Short: "Business units of a running emulator: create, list, disable, enable",
		Long: `Scripts "Business units" in the Power Platform admin center. Business units hold users and
records; privilege depths (businessunit, parentchild) are measured along their tree. Disabling a
business unit disables the ones under it too, and then every Web API request of their
application users gets 403 0x80040225, as a disabled user's does, until it is enabled again.`,
		Args: exactArgs(0, "a subcommand (create, list, disable, enable)"),
	}

	var name, parent string
	create := &cobra.Command{
		Use:   "create --name NAME [--parent NAME]",
		Short: "Create a business unit",
		Example: `  d365 emulator businessunit create --name Sales
  d365 emulator businessunit create --name "Sales EMEA" --parent Sales
  d365 emulator appuser create --app $AZURE_CLIENT_ID --role "System Administrator" --business-unit "Sales EMEA"`,
		Args: exactArgs(0, "no arguments (use --name and --parent)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(name) == "" {
				return usageError(errors.New("--name is required: the business unit's name"))
			}
			var bu emulator.BusinessUnit
			if err := g.withAdmin(func(c adminClient) (err error) {
				bu, err = c.CreateBusinessUnit(cmd.Context(), name, parent)
				return err
			}); err != nil {
				return err
			}
			return printAdminItem(g, bu, businessUnitColumns)
		},
	}
	create.Flags().StringVar(&name, "name", "", "the business unit's name (required)")
	create.Flags().StringVar(&parent, "parent", "", "the parent business unit's name or ID (default: the root business unit)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the business units, the root first",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var units []emulator.BusinessUnit
			if err := g.withAdmin(func(c adminClient) (err error) {
				units, err = c.BusinessUnits(cmd.Context())
				return err
			}); err != nil {
				return err
			}
			return printAdminList(g, units, businessUnitColumns)
		},
	}

	cmd.AddCommand(create, list, businessUnitSwitchCmd(g, true), businessUnitSwitchCmd(g, false))
	return cmd
}

// businessUnitSwitchCmd is "businessunit disable NAME" (disable true) or "businessunit enable
// NAME": SetBusinessUnitEnabled over the admin API.
func businessUnitSwitchCmd(g *globalOptions, disable bool) *cobra.Command {
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
			name := strings.TrimSpace(args[0])
			if name == "" {
				return usageError(errors.New("the business unit's name or ID is empty"))
			}
			var bu emulator.BusinessUnit
			if err := g.withAdmin(func(c adminClient) (err error) {
				bu, err = c.SetBusinessUnitEnabled(cmd.Context(), name, !disable)
				return err
			}); err != nil {
				return err
			}
			fmt.Fprintf(g.streams.ErrOut, "d365 emulator: business unit %s %sd\n", name, verb)
			return printAdminItem(g, bu, businessUnitColumns)
		},
	}
}
