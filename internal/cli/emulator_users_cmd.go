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

// newCmdAppUser returns "d365 emulator appuser", the group of its subcommands.
func newCmdAppUser(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "appuser",
		Short: "Application users of a running emulator (Dataverse's side of an app)",
		Long: `Scripts what "Application users" in the Power Platform admin center does: binds an app
registration to a Dataverse user with security roles. Without one, every Web API request of the
app gets 403 0x80072560 "The user is not a member of the organization."`,
		Args: exactArgs(0, "a subcommand (create, list)"),
	}
	cmd.AddCommand(newCmdAppUserCreate(f, nil), newCmdAppUserList(f, nil))
	return cmd
}

// appUserCreateOptions are the inputs of "d365 emulator appuser create".
type appUserCreateOptions struct {
	adminIO
	App, BusinessUnit, Name string
	Roles                   []string
}

// newCmdAppUserCreate returns "d365 emulator appuser create". runF, when not nil, replaces
// appUserCreateRun (tests).
func newCmdAppUserCreate(f *Factory, runF func(*appUserCreateOptions) error) *cobra.Command {
	opts := &appUserCreateOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, appUserCreateRun)
	cmd := &cobra.Command{
		Use:   "create --app CLIENT_ID --role NAME",
		Short: "Create the application user of an app, with security roles",
		Example: `  d365 emulator appuser create --app $AZURE_CLIENT_ID --role "Contact integration"
  d365 emulator appuser create --app $AZURE_CLIENT_ID --role "System Administrator" --business-unit Sales`,
		Args: exactArgs(0, "no arguments (use --app and --role)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", opts.App); err != nil {
				return err
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.App, "app", "", "the app's client ID (required)")
	cmd.Flags().StringArrayVar(&opts.Roles, "role", nil, "security role name; repeat for several")
	cmd.Flags().StringVar(&opts.BusinessUnit, "business-unit", "", "business unit name or ID (default: the root business unit)")
	cmd.Flags().StringVar(&opts.Name, "name", "", "the user's full name (default: the app's name)")
	return cmd
}

// appUserCreateRun creates the application user and prints it; without a role it warns first.
func appUserCreateRun(opts *appUserCreateOptions) error {
	if len(opts.Roles) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, `d365 emulator: warning: no --role: the user's requests will get 403 "has not been assigned any roles"`)
	}
	var user emulator.ApplicationUser
	if err := opts.call(func(c adminClient) (err error) {
		user, err = c.CreateApplicationUser(opts.Context, emulator.NewApplicationUser{
			App: opts.App, Roles: opts.Roles, BusinessUnit: opts.BusinessUnit, FullName: opts.Name,
		})
		return err
	}); err != nil {
		return err
	}
	return printAdminItem(opts.IO, opts.Output, user, appUserColumns)
}

// appUserListOptions are the inputs of "d365 emulator appuser list".
type appUserListOptions struct {
	adminIO
}

// newCmdAppUserList returns "d365 emulator appuser list". runF, when not nil, replaces
// appUserListRun (tests).
func newCmdAppUserList(f *Factory, runF func(*appUserListOptions) error) *cobra.Command {
	opts := &appUserListOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, appUserListRun)
	return &cobra.Command{
		Use:   "list",
		Short: "List the application users",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// appUserListRun lists the application users.
func appUserListRun(opts *appUserListOptions) error {
	var users []emulator.ApplicationUser
	if err := opts.call(func(c adminClient) (err error) {
		users, err = c.ApplicationUsers(opts.Context)
		return err
	}); err != nil {
		return err
	}
	return printAdminList(opts.IO, opts.Output, users, appUserColumns)
}

// newCmdRole returns "d365 emulator role", the group of its subcommands.
func newCmdRole(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "role",
		Short: "Security roles of a running emulator: create, list, set, remove",
		Args:  exactArgs(0, "a subcommand (create, list, set, remove)"),
	}
	cmd.AddCommand(newCmdRoleCreate(f, nil), newCmdRoleList(f, nil), newCmdRoleSet(f, nil), newCmdRoleRemove(f, nil))
	return cmd
}

// roleOptions are the inputs of "d365 emulator role create" and "role set": the role's name
// and its privileges (each "prvName[:depth]", the --privilege flags split at commas).
type roleOptions struct {
	adminIO
	Name       string
	Privileges []string
}

// newCmdRoleCreate returns "d365 emulator role create". runF, when not nil, replaces
// roleCreateRun (tests).
func newCmdRoleCreate(f *Factory, runF func(*roleOptions) error) *cobra.Command {
	opts := &roleOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, roleCreateRun)
	var privileges []string
	cmd := &cobra.Command{
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
			if strings.TrimSpace(opts.Name) == "" {
				return usageError(errors.New("--name is required: the security role's name"))
			}
			opts.Privileges = splitPrivileges(privileges)
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "the role's name (required)")
	cmd.Flags().StringArrayVar(&privileges, "privilege", nil, "privilege[:depth]; repeat, or separate with commas")
	return cmd
}

// roleCreateRun creates the role and prints it.
func roleCreateRun(opts *roleOptions) error {
	var role emulator.Role
	if err := opts.call(func(c adminClient) (err error) {
		role, err = c.CreateRoleFromText(opts.Context, opts.Name, opts.Privileges)
		return err
	}); err != nil {
		return err
	}
	return printAdminItem(opts.IO, opts.Output, role, roleColumns)
}

// roleListOptions are the inputs of "d365 emulator role list".
type roleListOptions struct {
	adminIO
}

// newCmdRoleList returns "d365 emulator role list". runF, when not nil, replaces roleListRun
// (tests).
func newCmdRoleList(f *Factory, runF func(*roleListOptions) error) *cobra.Command {
	opts := &roleListOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, roleListRun)
	return &cobra.Command{
		Use:   "list",
		Short: "List the security roles with their privileges",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// roleListRun lists the roles.
func roleListRun(opts *roleListOptions) error {
	var roles []emulator.Role
	if err := opts.call(func(c adminClient) (err error) {
		roles, err = c.Roles(opts.Context)
		return err
	}); err != nil {
		return err
	}
	return printAdminList(opts.IO, opts.Output, roles, roleColumns)
}

// newCmdRoleSet returns "d365 emulator role set". runF, when not nil, replaces roleSetRun
// (tests).
func newCmdRoleSet(f *Factory, runF func(*roleOptions) error) *cobra.Command {
	opts := &roleOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, roleSetRun)
	var privileges []string
	cmd := &cobra.Command{
		Use:   "set --name NAME --privilege prvReadContact:organization …",
		Short: "Replace a security role's privileges",
		Long: `Replaces the privileges of a security role with exactly the given ones (the same form as
"role create"). Users holding the role see the change on their next request: a privilege taken
away turns its next use into 403 0x80040220. System Administrator cannot be changed.`,
		Example: `  d365 emulator role set --name "Contact integration" --privilege prvReadContact,prvWriteContact`,
		Args:    exactArgs(0, "no arguments (use --name and --privilege)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(opts.Name) == "" {
				return usageError(errors.New("--name is required: the security role's name or ID"))
			}
			opts.Privileges = splitPrivileges(privileges)
			if len(opts.Privileges) == 0 {
				return usageError(errors.New("--privilege is required: the list replaces the role's privileges (remove the role with \"d365 emulator role remove\")"))
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "the role's name or ID (required)")
	cmd.Flags().StringArrayVar(&privileges, "privilege", nil, "privilege[:depth]; repeat, or separate with commas")
	return cmd
}

// roleSetRun replaces the role's privileges and prints it.
func roleSetRun(opts *roleOptions) error {
	var role emulator.Role
	if err := opts.call(func(c adminClient) (err error) {
		role, err = c.SetRolePrivilegesFromText(opts.Context, opts.Name, opts.Privileges)
		return err
	}); err != nil {
		return err
	}
	return printAdminItem(opts.IO, opts.Output, role, roleColumns)
}

// roleRemoveOptions are the inputs of "d365 emulator role remove".
type roleRemoveOptions struct {
	adminIO
	Name string
}

// newCmdRoleRemove returns "d365 emulator role remove". runF, when not nil, replaces
// roleRemoveRun (tests).
func newCmdRoleRemove(f *Factory, runF func(*roleRemoveOptions) error) *cobra.Command {
	opts := &roleRemoveOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, roleRemoveRun)
	cmd := &cobra.Command{
		Use:   "remove --name NAME",
		Short: "Remove a security role; its users lose it",
		Long: `Deletes a security role with its privileges and assignments. An application user left without
roles gets 403 "has not been assigned any roles". System Administrator cannot be removed.`,
		Args: exactArgs(0, "no arguments (use --name)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(opts.Name) == "" {
				return usageError(errors.New("--name is required: the security role's name or ID"))
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "the role's name or ID (required)")
	return cmd
}

// roleRemoveRun removes the role and says so on stderr.
func roleRemoveRun(opts *roleRemoveOptions) error {
	if err := opts.call(func(c adminClient) error { return c.RemoveRole(opts.Context, opts.Name) }); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "d365 emulator: role %s removed\n", opts.Name)
	return nil
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
