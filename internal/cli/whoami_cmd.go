package cli

import (
	"github.com/spf13/cobra"
)

func newWhoAmICmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Call WhoAmI: the application user, business unit and organization the app acts as",
		Long: `Gets a token and calls the Dataverse WhoAmI function. Success proves the whole chain works: the app
registration and its credential (Entra ID), the application user and its role (Dataverse).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := g.connect()
			if err != nil {
				return err
			}
			me, err := s.client.WhoAmI(cmd.Context())
			if err != nil {
				return err
			}
			if g.output == outputTable {
				return writeTable(g.streams.Out, []orderedObject{{
					{Key: "UserId", Value: jsonString(me.UserID.String())},
					{Key: "BusinessUnitId", Value: jsonString(me.BusinessUnitID.String())},
					{Key: "OrganizationId", Value: jsonString(me.OrganizationID.String())},
				}}, nil)
			}
			return writeJSON(g.streams.Out, me)
		},
	}
}
