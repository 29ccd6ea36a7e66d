package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/auth"
)

// profileOptions are the inputs of "d365 profile …"; Action says which subcommand.
type profileOptions struct {
	IO     *IOStreams
	Action string // add, list, use, show, remove, logout
	Name   string
	Output string

	// add
	Profile     profile // from the connection flags
	SecretFlag  auth.Secret
	SecretEnv   string
	StoreSecret bool
	Force       bool
	CertPwdFlag bool // --cert-password was given: not stored, refused

	// Selected is the profile --profile or D365_PROFILE names (show, logout).
	Selected string
	// All makes logout delete every cached token.
	All bool
}

// newCmdProfile returns "d365 profile" and its subcommands. g gives the connection flags, which
// "profile add" saves. runF, when not nil, replaces profileRun (tests).
func newCmdProfile(f *Factory, g *globalOptions, runF func(*profileOptions) error) *cobra.Command {
	run := runOrDefault(runF, profileRun)
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Save connections as named profiles: add, list, use, show, remove, logout",
		Long: `A profile saves a connection: URL, tenant, client ID, auth method, certificate path or the NAME of
the environment variable that holds the client secret, CA file and authority host. Profiles live in
$XDG_CONFIG_HOME/d365/config.json (~/.config/d365/config.json), mode 0600. A secret is stored only
with --store-secret; "show" never prints it.

--profile NAME or D365_PROFILE selects a profile, else the one "profile use" chose; flags and
environment variables override its fields one by one (see "d365 help environment").`,
		Example: `  d365 profile add prod --url https://contoso.crm.dynamics.com --tenant contoso.onmicrosoft.com \
      --client-id 00000000-0000-0000-0000-000000000000 --secret-env CONTOSO_SECRET
  d365 profile use prod
  CONTOSO_SECRET=… d365 whoami
  d365 --profile test get accounts --top 3
  d365 profile logout`,
		Args: exactArgs(0, "a subcommand (add, list, use, show, remove, logout)"),
	}
	newOpts := func(action string) *profileOptions {
		return &profileOptions{IO: f.IOStreams, Action: action}
	}
	selected := func() string {
		if g.profile != "" {
			return g.profile
		}
		v, _ := f.IOStreams.lookupEnv(EnvProfile)
		return strings.TrimSpace(v)
	}

	addOpts := newOpts("add")
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Save the connection flags given (--url, --tenant, --client-id, …) as a profile",
		Long: `Saves the connection flags given on this command line as the profile NAME: --url, --tenant,
--client-id, --auth-method, --cert, --ca-file and --authority-host (see "d365 help environment").
The client secret is not saved: --secret-env names the environment variable to read it from.
--store-secret saves it in the profile file (mode 0600) instead, taken from --client-secret, else
AZURE_CLIENT_SECRET, else the first line of stdin. The first profile becomes the current one.`,
		Args: exactArgs(1, "the profile NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			addOpts.Name = args[0]
			c := g.conn.config()
			addOpts.Profile = profile{URL: c.OrgURL, TenantID: c.TenantID, ClientID: c.ClientID, Method: string(c.Method),
				CertificatePath: c.CertificatePath, CAFile: c.CAFile, AuthorityHost: c.AuthorityHost}
			addOpts.SecretFlag = c.ClientSecret
			addOpts.CertPwdFlag = c.CertificatePassword.IsSet()
			return run(addOpts)
		},
	}
	add.Flags().StringVar(&addOpts.SecretEnv, "secret-env", "", "NAME of the environment variable that holds the client secret")
	add.Flags().BoolVar(&addOpts.StoreSecret, "store-secret", false, "save the client secret in the profile file (from --client-secret, AZURE_CLIENT_SECRET or stdin)")
	add.Flags().BoolVar(&addOpts.Force, "force", false, "replace a profile of the same name")

	simple := func(action, use, short string, args cobra.PositionalArgs) (*cobra.Command, *profileOptions) {
		o := newOpts(action)
		c := &cobra.Command{Use: use, Short: short, Args: args,
			RunE: func(_ *cobra.Command, args []string) error {
				if len(args) > 0 {
					o.Name = args[0]
				}
				o.Output, o.Selected = f.OutputFormat(), selected()
				return run(o)
			}}
		return c, o
	}
	list, _ := simple("list", "list", "List the profiles; * marks the current one", exactArgs(0, "no arguments"))
	use, _ := simple("use", "use NAME", "Make NAME the profile used when --profile and D365_PROFILE are not set", exactArgs(1, "the profile NAME"))
	show, _ := simple("show", "show [NAME]", "Show a profile (the selected or current one by default); a stored secret is never shown", rangeArgs(0, 1, "at most one profile NAME"))
	remove, _ := simple("remove", "remove NAME", "Delete a profile and its cached tokens", exactArgs(1, "the profile NAME"))
	logout, logoutOpts := simple("logout", "logout [NAME]", "Delete cached access tokens: a profile's (NAME, --profile or D365_PROFILE), or with --all every one", rangeArgs(0, 1, "at most one profile NAME"))
	logout.Flags().BoolVar(&logoutOpts.All, "all", false, "delete every cached token")
	cmd.AddCommand(add, list, use, show, remove, logout)
	return cmd
}

// profileRun runs one profile subcommand.
func profileRun(opts *profileOptions) error {
	store, err := newProfileStore(opts.IO.lookupEnv)
	if err != nil {
		return usageError(err)
	}
	f, err := store.load()
	if err != nil {
		return usageError(err)
	}
	switch opts.Action {
	case "add":
		return profileAdd(opts, store, f)
	case "list":
		return profileList(opts, f)
	case "use":
		if _, err := f.get(opts.Name); err != nil {
			return err
		}
		f.Current = opts.Name
		if err := store.save(f); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "d365: profile %q is now the current one\n", opts.Name)
		return nil
	case "show":
		name := firstNonEmpty(opts.Name, opts.Selected, f.Current)
		if name == "" {
			return usageError(errNoProfile)
		}
		p, err := f.get(name)
		if err != nil {
			return err
		}
		return writeJSON(opts.IO.Out, profileView(name, p, name == f.Current, store.path))
	case "remove":
		p, err := f.get(opts.Name)
		if err != nil {
			return err
		}
		delete(f.Profiles, opts.Name)
		if f.Current == opts.Name {
			f.Current = ""
		}
		if err := store.save(f); err != nil {
			return err
		}
		n, _ := clearProfileTokens(opts.IO, &p)
		fmt.Fprintf(opts.IO.ErrOut, "d365: removed profile %q and %d token cache file(s)\n", opts.Name, n)
		return nil
	case "logout":
		var p *profile
		name := firstNonEmpty(opts.Name, opts.Selected)
		if !opts.All {
			if name == "" {
				name = f.Current
			}
			if name == "" {
				return usageError(errors.New("logout needs a profile (NAME, --profile or D365_PROFILE) or --all to delete every cached token"))
			}
			pp, err := f.get(name)
			if err != nil {
				return err
			}
			p = &pp
		}
		n, err := clearProfileTokens(opts.IO, p)
		if err != nil {
			return err
		}
		if p == nil {
			fmt.Fprintf(opts.IO.ErrOut, "d365: deleted %d token cache file(s)\n", n)
		} else {
			fmt.Fprintf(opts.IO.ErrOut, "d365: deleted %d token cache file(s) of profile %q\n", n, name)
		}
		return nil
	}
	return fmt.Errorf("unknown profile action %q", opts.Action)
}

func profileAdd(opts *profileOptions, store *profileStore, f *profileFile) error {
	if err := validProfileName(opts.Name); err != nil {
		return err
	}
	if _, exists := f.Profiles[opts.Name]; exists && !opts.Force {
		return usageError(fmt.Errorf("profile %q exists: add --force to replace it, or d365 profile remove %s", opts.Name, opts.Name))
	}
	p := opts.Profile
	if p.URL == "" {
		return usageError(errors.New("profile add needs --url (and usually --tenant and --client-id): it saves the connection flags given with it"))
	}
	if err := refuseConnectionStringAsURL(p.URL, "--url"); err != nil {
		return err
	}
	if opts.CertPwdFlag {
		return usageError(errors.New("a profile does not store --cert-password: set AZURE_CLIENT_CERTIFICATE_PASSWORD when you use it"))
	}
	if opts.SecretFlag.IsSet() && !opts.StoreSecret {
		return usageError(errors.New("a profile stores a client secret only with --store-secret; prefer --secret-env NAME, which saves the name of the variable that holds it"))
	}
	if opts.SecretEnv != "" {
		if !validEnvName(opts.SecretEnv) {
			return usageError(fmt.Errorf("--secret-env is the NAME of an environment variable (letters, digits and '_'), not the secret itself"))
		}
		p.SecretEnv = opts.SecretEnv
	}
	if opts.StoreSecret {
		secret, err := secretToStore(opts)
		if err != nil {
			return err
		}
		p.ClientSecret = secret
	}
	// The same checks as a connection gets, without the credential (a profile need not hold one).
	probe := auth.Config{OrgURL: p.URL, TenantID: p.TenantID, ClientID: p.ClientID, Method: auth.Method(p.Method),
		CertificatePath: p.CertificatePath, CAFile: p.CAFile, AuthorityHost: p.AuthorityHost, ClientSecret: "placeholder"}
	if p.CertificatePath != "" {
		probe.ClientSecret = ""
	}
	if err := probe.Validate(); err != nil {
		var ce *auth.ConfigError
		if !errors.As(err, &ce) {
			return usageError(withFlagNames(err))
		}
		var kept []auth.Problem
		for _, pr := range ce.Problems {
			if !pr.Setting.Secret && pr.Setting.Env != auth.EnvTenantID && pr.Setting.Env != auth.EnvClientID {
				kept = append(kept, pr)
			}
		}
		if len(kept) > 0 {
			return usageError(withFlagNames(&auth.ConfigError{Problems: kept}))
		}
	}
	f.Profiles[opts.Name] = p
	becameCurrent := f.Current == ""
	if becameCurrent {
		f.Current = opts.Name
	}
	if err := store.save(f); err != nil {
		return err
	}
	msg := fmt.Sprintf("d365: saved profile %q in %s", opts.Name, store.path)
	if becameCurrent {
		msg += " (the current profile)"
	}
	fmt.Fprintln(opts.IO.ErrOut, msg)
	return nil
}

// secretToStore is the secret --store-secret saves: --client-secret, else AZURE_CLIENT_SECRET,
// else the first line of stdin.
func secretToStore(opts *profileOptions) (auth.Secret, error) {
	if opts.SecretFlag.IsSet() {
		return opts.SecretFlag, nil
	}
	if v, ok := opts.IO.lookupEnv(auth.EnvClientSecret); ok && strings.TrimSpace(v) != "" {
		return auth.Secret(strings.TrimSpace(v)), nil
	}
	line, err := bufio.NewReader(opts.IO.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if strings.TrimSpace(line) == "" {
		return "", usageError(errors.New("--store-secret found no secret: give it on stdin (echo \"$SECRET\" | d365 profile add …), in AZURE_CLIENT_SECRET, or with --client-secret"))
	}
	return auth.Secret(strings.TrimSpace(line)), nil
}

func validEnvName(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return s != ""
}

// profileView is what "profile show" and "profile list" print: every field but the secret,
// which is only said to be stored.
func profileView(name string, p profile, current bool, path string) orderedObject {
	o := orderedObject{
		{Key: "name", Value: jsonString(name)},
		{Key: "current", Value: jsonBool(current)},
		{Key: "url", Value: jsonString(p.URL)},
		{Key: "tenant", Value: jsonString(p.TenantID)},
		{Key: "clientId", Value: jsonString(p.ClientID)},
		{Key: "authMethod", Value: jsonString(firstNonEmpty(p.Method, string(auth.MethodAuto)))},
		{Key: "certificatePath", Value: jsonString(p.CertificatePath)},
		{Key: "secretEnv", Value: jsonString(p.SecretEnv)},
		{Key: "secretStored", Value: jsonBool(p.ClientSecret.IsSet())},
		{Key: "caFile", Value: jsonString(p.CAFile)},
		{Key: "authorityHost", Value: jsonString(p.AuthorityHost)},
	}
	if path != "" {
		o = append(o, field{Key: "configFile", Value: jsonString(path)})
	}
	return o
}

func profileList(opts *profileOptions, f *profileFile) error {
	rows := make([]orderedObject, 0, len(f.Profiles))
	for _, name := range f.names() {
		rows = append(rows, profileView(name, f.Profiles[name], name == f.Current, ""))
	}
	if opts.Output == outputTable {
		return writeTable(opts.IO.Out, rows, []string{"name", "current", "url", "clientId", "authMethod", "secretEnv"})
	}
	return writeJSON(opts.IO.Out, rows)
}

// clearProfileTokens deletes the cached tokens of p's tenant and client, or every one when p is
// nil.
func clearProfileTokens(io *IOStreams, p *profile) (int, error) {
	cache, err := newTokenCache(io.lookupEnv)
	if err != nil {
		return 0, err
	}
	var match func(tokenKey) bool
	clientID := ""
	if p != nil {
		clientID = p.ClientID
		match = func(k tokenKey) bool {
			return strings.EqualFold(k.ClientID, p.ClientID) && (p.TenantID == "" || strings.EqualFold(k.TenantID, p.TenantID))
		}
	}
	n, err := cache.clear(match)
	if err != nil {
		return n, err
	}
	// azidentity's persistent cache, where the keyring held it (only the process's own
	// environment names its directory).
	if v, _ := io.lookupEnv("XDG_CACHE_HOME"); v == os.Getenv("XDG_CACHE_HOME") && (p == nil || clientID != "") {
		m, err := clearKeyringCaches(clientID)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func jsonBool(b bool) json.RawMessage {
	if b {
		return json.RawMessage("true")
	}
	return json.RawMessage("false")
}
