package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/emulator"
)

var (
	appUserColumns = []adminColumn[emulator.ApplicationUser]{
		{"USERID", func(u emulator.ApplicationUser) any { return u.UserID }},
		{"APPID", func(u emulator.ApplicationUser) any { return u.ApplicationID }},
		{"NAME", func(u emulator.ApplicationUser) any { return u.FullName }},
		{"BUSINESSUNIT", func(u emulator.ApplicationUser) any { return u.BusinessUnit }},
		{"ROLES", func(u emulator.ApplicationUser) any { return joined(u.Roles) }},
		{"DISABLED", func(u emulator.ApplicationUser) any { return u.Disabled }},
	}
	roleColumns = []adminColumn[emulator.Role]{
		{"ROLEID", func(r emulator.Role) any { return r.ID }},
		{"NAME", func(r emulator.Role) any { return r.Name }},
		{"PRIVILEGES", func(r emulator.Role) any {
			names := make([]string, len(r.Privileges))
			for i, p := range r.Privileges {
				names[i] = p.Name
			}
			return joined(names)
		}},
	}
)

func newEmulatorAppUserCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "appuser",
		Short: "Application users of a running emulator (Dataverse's side of an app)",
		Long: `Scripts what "Application users" in the Power Platform admin center does: binds an app
registration to a Dataverse user with security roles. Without one, every Web API request of the
app gets 403 0x80072560 "The user is not a member of the organization."`,
		Args: exactArgs(0, "a subcommand (create, list)"),
	}
	var app, businessUnit, name string
	var roles []string
	create := &cobra.Command{
		Use:   "create --app CLIENT_ID --role NAME",
		Short: "Create the application user of an app, with security roles",
		Example: `  d365 emulator appuser create --app $AZURE_CLIENT_ID --role "Contact integration"
  d365 emulator appuser create --app $AZURE_CLIENT_ID --role "System Administrator" --business-unit Sales`,
		Args: exactArgs(0, "no arguments (use --app and --role)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", app); err != nil {
				return err
			}
			if len(roles) == 0 {
				fmt.Fprintln(g.streams.ErrOut, `d365 emulator: warning: no --role: the user's requests will get 403 "has not been assigned any roles"`)
			}
			var user emulator.ApplicationUser
			if err := g.withAdmin(func(c adminClient) (err error) {
				user, err = c.CreateApplicationUser(cmd.Context(), emulator.NewApplicationUser{
					App: app, Roles: roles, BusinessUnit: businessUnit, FullName: name,
				})
				return err
			}); err != nil {
				return err
			}
			return printAdminItem(g, user, appUserColumns)
		},
	}
	create.Flags().StringVar(&app, "app", "", "the app's client ID (required)")
	create.Flags().StringArrayVar(&roles, "role", nil, "security role name; repeat for several")
	create.Flags().StringVar(&businessUnit, "business-unit", "", "business unit name or ID (default: the root business unit)")
	create.Flags().StringVar(&name, "name", "", "the user's full name (default: the app's name)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the application users",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var users []emulator.ApplicationUser
			if err := g.withAdmin(func(c adminClient) (err error) {
				users, err = c.ApplicationUsers(cmd.Context())
				return err
			}); err != nil {
				return err
			}
			return printAdminList(g, users, appUserColumns)
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}

func newEmulatorRoleCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role",
		Short: "Security roles of a running emulator: create, list, set, remove",
		Args:  exactArgs(0, "a subcommand (create, list, set, remove)"),
	}
	var name string
	var privileges []string
	create := &cobra.Command{
		Use:   "create --name NAME --privilege prvReadContact:organization …",
		Short: "Create a security role with exactly the given privileges",
		Long: `Creates a custom security role. Privileges are named prv<Verb><Table> (Create, Read, Write, Delete,
Append, AppendTo, Assign, Share; the table's schema name: prvReadContact, prvWriteAccount,
prvReadUser for systemuser), each with a depth: user, businessunit, parentchild or organization
(the default; Dataverse's Basic, Local, Deep and Global).`,
		Example: `  d365 emulator role create --name "Contact integration" \
    --privilege prvCreateContact --privilege prvReadContact:organization --privilege prvWriteContact`,
		Args: exactArgs(0, "no arguments (use --name and --privilege)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(name) == "" {
				return usageError(errors.New("--name is required: the security role's name"))
			}
			privs := splitPrivileges(privileges)
			var role emulator.Role
			if err := g.withAdmin(func(c adminClient) (err error) {
				role, err = c.CreateRoleFromText(cmd.Context(), name, privs)
				return err
			}); err != nil {
				return err
			}
			return printAdminItem(g, role, roleColumns)
		},
	}
	create.Flags().StringVar(&name, "name", "", "the role's name (required)")
	create.Flags().StringArrayVar(&privileges, "privilege", nil, "privilege[:depth]; repeat, or separate with commas")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the security roles with their privileges",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var roles []emulator.Role
			if err := g.withAdmin(func(c adminClient) (err error) {
				roles, err = c.Roles(cmd.Context())
				return err
			}); err != nil {
				return err
			}
			return printAdminList(g, roles, roleColumns)
		},
	}
	var setName string
	var setPrivileges []string
	set := &cobra.Command{
		Use:   "set --name NAME --privilege prvReadContact:organization …",
		Short: "Replace a security role's privileges",
		Long: `Replaces the privileges of a security role with exactly the given ones (the same form as
"role create"). Users holding the role see the change on their next request: a privilege taken
away turns its next use into 403 0x80040220. System Administrator cannot be changed.`,
		Example: `  d365 emulator role set --name "Contact integration" --privilege prvReadContact,prvWriteContact`,
		Args:    exactArgs(0, "no arguments (use --name and --privilege)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(setName) == "" {
				return usageError(errors.New("--name is required: the security role's name or ID"))
			}
			privs := splitPrivileges(setPrivileges)
			if len(privs) == 0 {
				return usageError(errors.New("--privilege is required: the list replaces the role's privileges (remove the role with \"d365 emulator role remove\")"))
			}
			var role emulator.Role
			if err := g.withAdmin(func(c adminClient) (err error) {
				role, err = c.SetRolePrivilegesFromText(cmd.Context(), setName, privs)
				return err
			}); err != nil {
				return err
			}
			return printAdminItem(g, role, roleColumns)
		},
	}
	set.Flags().StringVar(&setName, "name", "", "the role's name or ID (required)")
	set.Flags().StringArrayVar(&setPrivileges, "privilege", nil, "privilege[:depth]; repeat, or separate with commas")

	var removeName string
	remove := &cobra.Command{
		Use:   "remove --name NAME",
		Short: "Remove a security role; its users lose it",
		Long: `Deletes a security role with its privileges and assignments. An application user left without
roles gets 403 "has not been assigned any roles". System Administrator cannot be removed.`,
		Args: exactArgs(0, "no arguments (use --name)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(removeName) == "" {
				return usageError(errors.New("--name is required: the security role's name or ID"))
			}
			if err := g.withAdmin(func(c adminClient) error { return c.RemoveRole(cmd.Context(), removeName) }); err != nil {
				return err
			}
			fmt.Fprintf(g.streams.ErrOut, "d365 emulator: role %s removed\n", removeName)
			return nil
		},
	}
	remove.Flags().StringVar(&removeName, "name", "", "the role's name or ID (required)")
	cmd.AddCommand(create, list, set, remove)
	return cmd
}

// splitPrivileges reads repeated --privilege flags, each possibly a comma-separated list.
func splitPrivileges(flags []string) []string {
	var privs []string
	for _, p := range flags {
		for part := range strings.SplitSeq(p, ",") {
			if part = strings.TrimSpace(part); part != "" {
				privs = append(privs, part)
			}
		}
	}
	return privs
}
