package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// changeTrackingOptions are the inputs of "d365 emulator change-tracking".
type changeTrackingOptions struct {
	adminIO
	// Table is the table's logical name; Switch is "on", "off" or "" (show).
	Table, Switch string
}

// newCmdChangeTracking returns "d365 emulator change-tracking". runF, when not nil, replaces
// changeTrackingRun (tests).
func newCmdChangeTracking(f *Factory, runF func(*changeTrackingOptions) error) *cobra.Command {
	opts := &changeTrackingOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, changeTrackingRun)
	return &cobra.Command{
		Use:   "change-tracking TABLE [on|off]",
		Short: "Show or switch a table's change tracking in a running emulator",
		Long: `Shows whether change tracking is on for the table with logical name TABLE (its
ChangeTrackingEnabled), or switches it on or off, as a Dataverse administrator does in the table's
settings. Off, every change-tracking read of the table is refused with 0x80072491, saved delta
links included, so d365 sync reads the whole table without tracking; on again, delta tokens taken
before are expired (0x80044352) and the next full load gives a new delta link. d365 emulator reset
returns every table to its schema's setting. Microsoft documents that a table's change tracking,
once on, cannot be switched off in Dataverse; the emulator allows it so that a sync can be tested
against a table that has it off.`,
		Example: `  d365 emulator change-tracking contact off
  d365 emulator change-tracking contact`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Table = args[0]
			if len(args) == 2 {
				if args[1] != "on" && args[1] != "off" {
					return usageError(fmt.Errorf("%q is not a switch: give on or off, e.g. d365 emulator change-tracking %s off", args[1], args[0]))
				}
				opts.Switch = args[1]
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// changeTrackingRun switches the table's change tracking when asked, then prints its state.
func changeTrackingRun(opts *changeTrackingOptions) error {
	var on bool
	if err := opts.call(func(c adminClient) (err error) {
		if opts.Switch != "" {
			if err := c.SetChangeTracking(opts.Context, opts.Table, opts.Switch == "on"); err != nil {
				return err
			}
		}
		on, err = c.ChangeTracking(opts.Context, opts.Table)
		return err
	}); err != nil {
		return err
	}
	state := "off"
	if on {
		state = "on"
	}
	fmt.Fprintf(opts.IO.Out, "%s: change tracking %s\n", opts.Table, state)
	return nil
}
