package cli

import (
	"context"

	"github.com/spf13/cobra"
)

// whoAmIOptions are the inputs of "d365 whoami".
type whoAmIOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context
	Output  string
	JQ      string
}

// newCmdWhoAmI returns "d365 whoami". runF, when not nil, replaces whoAmIRun (tests).
func newCmdWhoAmI(f *Factory, runF func(*whoAmIOptions) error) *cobra.Command {
	opts := &whoAmIOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, whoAmIRun)
	return withJQ(&cobra.Command{
		Use:   "whoami",
		Short: "Call WhoAmI: the application user, business unit and organization the app acts as",
		Long: `Gets a token and calls the Dataverse WhoAmI function. Success proves the whole chain works: the app
registration and its credential (Entra ID), the application user and its role (Dataverse).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Context, opts.Output, opts.JQ = cmd.Context(), f.OutputFormat(), f.jqExpr()
			return run(opts)
		},
	})
}

// whoAmIRun calls WhoAmI and prints its answer.
func whoAmIRun(opts *whoAmIOptions) error {
	s, err := opts.Session()
	if err != nil {
		return err
	}
	me, err := s.client.WhoAmI(opts.Context)
	if err != nil {
		return err
	}
	return printer{IO: opts.IO, Format: opts.Output, JQ: opts.JQ}.printValue(opts.Context, me)
}
