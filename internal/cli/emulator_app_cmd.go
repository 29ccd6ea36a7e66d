package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/adminclient"
)

// Columns of the app tables.
var (
	appColumns = []adminColumn[emulator.App]{
		{"CLIENTID", func(a emulator.App) any { return a.ClientID }},
		{"TENANTID", func(a emulator.App) any { return a.TenantID }},
		{"NAME", func(a emulator.App) any { return a.DisplayName }},
		{"DISABLED", func(a emulator.App) any { return a.Disabled }},
	}
	newAppColumns = []adminColumn[emulator.CreatedApp]{
		{"CLIENTID", func(a emulator.CreatedApp) any { return a.ClientID }},
		{"TENANTID", func(a emulator.CreatedApp) any { return a.TenantID }},
		{"NAME", func(a emulator.CreatedApp) any { return a.DisplayName }},
		{"SECRETID", func(a emulator.CreatedApp) any {
			return secretOf(a, func(s *emulator.CreatedSecret) any { return s.ID })
		}},
		{"SECRET", func(a emulator.CreatedApp) any {
			return secretOf(a, func(s *emulator.CreatedSecret) any { return s.Value })
		}},
		{"EXPIRES", func(a emulator.CreatedApp) any {
			return secretOf(a, func(s *emulator.CreatedSecret) any { return orNil(s.Expires) })
		}},
	}
	newSecretColumns = []adminColumn[emulator.CreatedSecret]{
		{"SECRETID", func(s emulator.CreatedSecret) any { return s.ID }},
		{"CLIENTID", func(s emulator.CreatedSecret) any { return s.ClientID }},
		{"SECRET", func(s emulator.CreatedSecret) any { return s.Value }},
		{"EXPIRES", func(s emulator.CreatedSecret) any { return orNil(s.Expires) }},
	}
	secretColumns = []adminColumn[emulator.Secret]{
		{"SECRETID", func(s emulator.Secret) any { return s.ID }},
		{"NAME", func(s emulator.Secret) any { return s.DisplayName }},
		{"HINT", func(s emulator.Secret) any { return s.Hint }},
		{"EXPIRES", func(s emulator.Secret) any { return orNil(s.Expires) }},
		{"CREATED", func(s emulator.Secret) any { return s.Created }},
	}
	certColumns = []adminColumn[emulator.Certificate]{
		{"THUMBPRINT", func(c emulator.Certificate) any { return c.ThumbprintSHA1 }},
		{"CLIENTID", func(c emulator.Certificate) any { return c.ClientID }},
		{"SUBJECT", func(c emulator.Certificate) any { return c.Subject }},
		{"NOTAFTER", func(c emulator.Certificate) any { return c.NotAfter }},
	}
)

// secretOf is a cell of a new app's first secret; empty when it has none.
func secretOf(a emulator.CreatedApp, cell func(*emulator.CreatedSecret) any) any {
	if a.Secret == nil {
		return nil
	}
	return cell(a.Secret)
}

// newCmdApp returns "d365 emulator app", the group of its subcommands.
func newCmdApp(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "App registrations of a running emulator: create, list, secrets, certificates",
		Long: `Scripts what "App registrations" in the Azure portal does, against a running emulator found by
D365_URL (or --url) and trusted through D365_CA_FILE (or --ca-file).`,
		Args: exactArgs(0, "a subcommand (create, list, secret, cert)"),
	}
	cmd.AddCommand(newCmdAppCreate(f, nil), newCmdAppList(f, nil), newCmdAppSecret(f), newCmdAppCert(f))
	return cmd
}

// appCreateOptions are the inputs of "d365 emulator app create".
type appCreateOptions struct {
	adminIO
	Name, Tenant, Expires, EnvFile string
	NoSecret                       bool

	// Secret is the secret to add, read from --expires; nil with --no-secret.
	Secret *adminclient.SecretRequest
}

// newCmdAppCreate returns "d365 emulator app create". runF, when not nil, replaces appCreateRun
// (tests).
func newCmdAppCreate(f *Factory, runF func(*appCreateOptions) error) *cobra.Command {
	opts := &appCreateOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, appCreateRun)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Register an app with a new client secret; prints its client ID and the secret",
		Long: `Registers an app ("New registration") and adds a client secret ("New client secret"). The output
holds the client ID, the tenant and the secret's value: like the portal, the emulator shows the
value only this once. --env-file also writes AZURE_TENANT_ID, AZURE_CLIENT_ID and
AZURE_CLIENT_SECRET as export lines (file mode 0600).

The app has no application user yet: create one with "d365 emulator appuser create".`,
		Example: `  d365 emulator app create --name contact-sync --env-file app.env
  d365 emulator app create --name short-lived --expires 1h -o table`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !opts.NoSecret {
				req, err := secretRequest("created by d365 emulator app create", opts.Expires)
				if err != nil {
					return err
				}
				opts.Secret = &req
			} else if opts.Expires != "" {
				return usageError(errors.New("--no-secret cannot go with --expires"))
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "display name of the app (default: its client ID)")
	cmd.Flags().StringVar(&opts.Tenant, "tenant", "", "home tenant, by ID or domain (default: the organization's)")
	cmd.Flags().StringVar(&opts.Expires, "expires", "", "secret validity: a duration (24h, 720h; negative for an already expired one) or an RFC 3339 time (default: never)")
	cmd.Flags().StringVar(&opts.EnvFile, "env-file", "", "also write AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (unless --no-secret) export lines to this file")
	cmd.Flags().BoolVar(&opts.NoSecret, "no-secret", false, "register the app without a client secret (add a certificate instead)")
	return cmd
}

// appCreateRun registers the app (with its secret), writes --env-file and prints the app.
func appCreateRun(opts *appCreateOptions) error {
	app := emulator.NewApp{DisplayName: opts.Name, Tenant: opts.Tenant}
	var created emulator.CreatedApp
	err := opts.call(func(c adminClient) (err error) {
		if opts.Secret == nil {
			created.App, err = c.CreateApp(opts.Context, app)
			return err
		}
		created, err = c.CreateAppWithSecret(opts.Context, app, *opts.Secret)
		return err
	})
	if err != nil {
		return err
	}
	if opts.EnvFile != "" {
		value := ""
		if created.Secret != nil {
			value = created.Secret.Value
		}
		if err := writeCredentialsEnvFile(opts.EnvFile, created.TenantID, created.ClientID, value); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "d365 emulator: credentials written to %s\n", opts.EnvFile)
	}
	return printAdminItem(opts.IO, opts.Output, created, newAppColumns)
}

// appListOptions are the inputs of "d365 emulator app list".
type appListOptions struct {
	adminIO
	Tenant string
}

// newCmdAppList returns "d365 emulator app list". runF, when not nil, replaces appListRun
// (tests).
func newCmdAppList(f *Factory, runF func(*appListOptions) error) *cobra.Command {
	opts := &appListOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, appListRun)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the app registrations",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Tenant, "tenant", "", "only the apps of this tenant (ID or domain)")
	return cmd
}

// appListRun lists the app registrations.
func appListRun(opts *appListOptions) error {
	var apps []emulator.App
	if err := opts.call(func(c adminClient) (err error) {
		apps, err = c.Apps(opts.Context, opts.Tenant)
		return err
	}); err != nil {
		return err
	}
	return printAdminList(opts.IO, opts.Output, apps, appColumns)
}

// newCmdAppSecret returns "d365 emulator app secret", the group of its subcommands.
func newCmdAppSecret(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Client secrets of an app: add, list, remove",
		Args:  exactArgs(0, "a subcommand (add, list, remove)"),
	}
	list := newCmdAppCredentialList(f, "List an app's client secrets (IDs, hints and expiry; never the values)",
		adminClient.Secrets, secretColumns, nil)
	cmd.AddCommand(newCmdAppSecretAdd(f, nil), list, newCmdAppSecretRemove(f, nil))
	return cmd
}

// appSecretAddOptions are the inputs of "d365 emulator app secret add".
type appSecretAddOptions struct {
	adminIO
	App, Expires, Name, EnvFile string

	// Request is the secret to add, read from --name and --expires.
	Request adminclient.SecretRequest
}

// newCmdAppSecretAdd returns "d365 emulator app secret add". runF, when not nil, replaces
// appSecretAddRun (tests).
func newCmdAppSecretAdd(f *Factory, runF func(*appSecretAddOptions) error) *cobra.Command {
	opts := &appSecretAddOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, appSecretAddRun)
	cmd := &cobra.Command{
		Use:   "add --app CLIENT_ID",
		Short: "Add a client secret to an app; prints the secret",
		Long: `Adds a client secret ("New client secret"). An app may hold several secrets at once, as during a
rotation. The secret's value is printed this once. A negative --expires adds a secret that has
already expired, to see AADSTS7000222.`,
		Example: `  d365 emulator app secret add --app $AZURE_CLIENT_ID --expires 24h
  d365 emulator app secret add --app $AZURE_CLIENT_ID --expires -1h --env-file expired.env`,
		Args: exactArgs(0, "no arguments (the app goes in --app)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", opts.App); err != nil {
				return err
			}
			req, err := secretRequest(opts.Name, opts.Expires)
			if err != nil {
				return err
			}
			opts.Request = req
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.App, "app", "", "the app's client ID (required)")
	cmd.Flags().StringVar(&opts.Expires, "expires", "", "validity: a duration (24h; negative for an already expired secret) or an RFC 3339 time (default: never)")
	cmd.Flags().StringVar(&opts.Name, "name", "", "the secret's description")
	cmd.Flags().StringVar(&opts.EnvFile, "env-file", "", "also write AZURE_CLIENT_ID and AZURE_CLIENT_SECRET export lines to this file")
	return cmd
}

// appSecretAddRun adds the secret, writes --env-file and prints the secret.
func appSecretAddRun(opts *appSecretAddOptions) error {
	var created emulator.CreatedSecret
	if err := opts.call(func(c adminClient) (err error) {
		created, err = c.AddSecretRequest(opts.Context, opts.App, opts.Request)
		return err
	}); err != nil {
		return err
	}
	if opts.EnvFile != "" {
		// A secret's answer names no tenant.
		if err := writeCredentialsEnvFile(opts.EnvFile, "", created.ClientID, created.Value); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "d365 emulator: credentials written to %s\n", opts.EnvFile)
	}
	return printAdminItem(opts.IO, opts.Output, created, newSecretColumns)
}

// newCmdAppSecretRemove returns "d365 emulator app secret remove". runF, when not nil,
// replaces appCredentialRemoveRun (tests).
func newCmdAppSecretRemove(f *Factory, runF func(*appCredentialRemoveOptions) error) *cobra.Command {
	opts := &appCredentialRemoveOptions{adminIO: newAdminIO(f), Noun: "secret", Remove: adminClient.RemoveSecret}
	run := runOrDefault(runF, appCredentialRemoveRun)
	cmd := &cobra.Command{
		Use:   "remove --app CLIENT_ID --id SECRET_ID",
		Short: "Remove a client secret from an app (the last step of a rotation)",
		Long: `Deletes a client secret ("Delete" beside it in the portal). Clients still sending it get
AADSTS7000215 from then on. The secret ID is the "id" that "app secret add" and "app secret list"
print, not the secret's value.`,
		Example: `  d365 emulator app secret list --app $AZURE_CLIENT_ID -o table
  d365 emulator app secret remove --app $AZURE_CLIENT_ID --id 0f4c…`,
		Args: exactArgs(0, "no arguments (use --app and --id)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", opts.App); err != nil {
				return err
			}
			if strings.TrimSpace(opts.ID) == "" {
				return usageError(errors.New(`--id SECRET_ID is required: the secret's ID, as "d365 emulator app secret list" prints it`))
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.App, "app", "", "the app's client ID (required)")
	cmd.Flags().StringVar(&opts.ID, "id", "", "the secret's ID (required; never its value)")
	return cmd
}

// newCmdAppCert returns "d365 emulator app cert", the group of its subcommands.
func newCmdAppCert(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Certificates of an app: add, list, remove",
		Args:  exactArgs(0, "a subcommand (add, list, remove)"),
	}
	list := newCmdAppCredentialList(f, "List the certificates registered on an app", adminClient.Certificates, certColumns, nil)
	cmd.AddCommand(newCmdAppCertAdd(f, nil), list, newCmdAppCertRemove(f, nil))
	return cmd
}

// appCertAddOptions are the inputs of "d365 emulator app cert add".
type appCertAddOptions struct {
	adminIO
	App  string
	File string // the --cert file: PEM, DER or PKCS#12
}

// newCmdAppCertAdd returns "d365 emulator app cert add". runF, when not nil, replaces
// appCertAddRun (tests).
func newCmdAppCertAdd(f *Factory, runF func(*appCertAddOptions) error) *cobra.Command {
	opts := &appCertAddOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, appCertAddRun)
	cmd := &cobra.Command{
		Use:   "add --app CLIENT_ID --cert FILE",
		Short: "Upload a certificate's public key to an app",
		Long: `Registers a certificate on an app ("Upload certificate"). FILE is PEM (the file of
AZURE_CLIENT_CERTIFICATE_PATH works: only its CERTIFICATE blocks are sent, never the private key),
DER, or PKCS#12 without a password. Clients then authenticate with assertions signed by the
matching private key (azidentity's ClientCertificateCredential).`,
		Example: `  d365 emulator app cert add --app $AZURE_CLIENT_ID --cert client.pem`,
		Args:    exactArgs(0, "no arguments (use --app and --cert)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", opts.App); err != nil {
				return err
			}
			if opts.File == "" {
				return usageError(errors.New("--cert FILE is required: the certificate to upload"))
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.App, "app", "", "the app's client ID (required)")
	cmd.Flags().StringVar(&opts.File, "cert", "", "certificate file: PEM, DER or PKCS#12 (required)")
	return cmd
}

// appCertAddRun reads the certificate out of --cert, uploads it and prints it.
func appCertAddRun(opts *appCertAddOptions) error {
	der, err := certificateDER(opts.File)
	if err != nil {
		return usageError(err)
	}
	var cert emulator.Certificate
	if err := opts.call(func(c adminClient) (err error) {
		cert, err = c.AddCertificate(opts.Context, opts.App, der)
		return err
	}); err != nil {
		return err
	}
	return printAdminItem(opts.IO, opts.Output, cert, certColumns)
}

// newCmdAppCertRemove returns "d365 emulator app cert remove". runF, when not nil, replaces
// appCredentialRemoveRun (tests).
func newCmdAppCertRemove(f *Factory, runF func(*appCredentialRemoveOptions) error) *cobra.Command {
	opts := &appCredentialRemoveOptions{adminIO: newAdminIO(f), Noun: "certificate", Remove: adminClient.RemoveCertificate}
	run := runOrDefault(runF, appCredentialRemoveRun)
	cmd := &cobra.Command{
		Use:   "remove --app CLIENT_ID --thumbprint THUMBPRINT",
		Short: "Remove a certificate from an app (the last step of a rotation)",
		Long: `Deletes a registered certificate. Assertions signed with its key then get AADSTS700027.
THUMBPRINT is the certificate's SHA-1 (or SHA-256) thumbprint in hex, as "app cert list" prints
it, or its key ID.`,
		Example: `  d365 emulator app cert remove --app $AZURE_CLIENT_ID --thumbprint 3F2A…`,
		Args:    exactArgs(0, "no arguments (use --app and --thumbprint)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", opts.App); err != nil {
				return err
			}
			if strings.TrimSpace(opts.ID) == "" {
				return usageError(errors.New(`--thumbprint is required: the certificate's thumbprint or key ID, as "d365 emulator app cert list" prints it`))
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.App, "app", "", "the app's client ID (required)")
	cmd.Flags().StringVar(&opts.ID, "thumbprint", "", "the certificate's thumbprint or key ID (required)")
	return cmd
}

// appCredentialListOptions are the inputs of "app secret list" and "app cert list": the app,
// and how to list and print its credentials of type T.
type appCredentialListOptions[T any] struct {
	adminIO
	App string

	ListOf  func(adminClient, context.Context, string) ([]T, error)
	Columns []adminColumn[T]
}

// newCmdAppCredentialList returns "app secret list" or "app cert list": list an app's
// credentials with listOf and print them with columns. runF, when not nil, replaces
// appCredentialListRun (tests).
func newCmdAppCredentialList[T any](f *Factory, short string,
	listOf func(adminClient, context.Context, string) ([]T, error), columns []adminColumn[T],
	runF func(*appCredentialListOptions[T]) error) *cobra.Command {
	opts := &appCredentialListOptions[T]{adminIO: newAdminIO(f), ListOf: listOf, Columns: columns}
	run := runOrDefault(runF, appCredentialListRun[T])
	cmd := &cobra.Command{
		Use:   "list --app CLIENT_ID",
		Short: short,
		Args:  exactArgs(0, "no arguments (the app goes in --app)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", opts.App); err != nil {
				return err
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.App, "app", "", "the app's client ID (required)")
	return cmd
}

// appCredentialListRun lists the app's credentials.
func appCredentialListRun[T any](opts *appCredentialListOptions[T]) error {
	var items []T
	if err := opts.call(func(c adminClient) (err error) {
		items, err = opts.ListOf(c, opts.Context, opts.App)
		return err
	}); err != nil {
		return err
	}
	return printAdminList(opts.IO, opts.Output, items, opts.Columns)
}

// appCredentialRemoveOptions are the inputs of "app secret remove" and "app cert remove": the
// app, the secret's ID or the certificate's thumbprint, and how to remove it.
type appCredentialRemoveOptions struct {
	adminIO
	App, ID string

	Noun   string // "secret" or "certificate", in the line that reports the removal
	Remove func(adminClient, context.Context, string, string) error
}

// appCredentialRemoveRun deletes one secret or certificate and says so on stderr.
func appCredentialRemoveRun(opts *appCredentialRemoveOptions) error {
	if err := opts.call(func(c adminClient) error { return opts.Remove(c, opts.Context, opts.App, opts.ID) }); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "d365 emulator: %s %s removed from app %s\n", opts.Noun, opts.ID, opts.App)
	return nil
}

// secretRequest builds the admin API's secret request from --name and --expires: a duration
// counts on the emulator's clock, a time is sent to the second.
func secretRequest(name, expires string) (adminclient.SecretRequest, error) {
	req := adminclient.SecretRequest{DisplayName: name}
	if expires = strings.TrimSpace(expires); expires != "" {
		if d, err := time.ParseDuration(expires); err == nil {
			req.ExpiresIn = &d
		} else if t, err := time.Parse(time.RFC3339, expires); err == nil {
			req.Expires = t.Truncate(time.Second)
		} else {
			return req, usageError(fmt.Errorf("--expires %q is neither a duration (24h, 720h, -1h) nor an RFC 3339 time (2030-01-01T00:00:00Z)", expires))
		}
	}
	return req, nil
}

// certificateDER reads the first certificate of a PEM, DER or PKCS#12 file. Private keys in the
// file are never read out of it.
func certificateDER(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--cert: %w", err)
	}
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type == "CERTIFICATE" {
			return block.Bytes, nil
		}
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return nil, fmt.Errorf("--cert %s holds no CERTIFICATE block", path)
	}
	if c, err := x509.ParseCertificate(data); err == nil {
		return c.Raw, nil
	}
	certs, _, err := azidentity.ParseCertificates(data, nil)
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("--cert %s is neither PEM, DER nor a PKCS#12 file without password", path)
	}
	return certs[0].Raw, nil
}

// requireGUIDFlag checks that a flag holds a client ID.
func requireGUIDFlag(flag, v string) error {
	if v == "" {
		return usageError(fmt.Errorf("%s CLIENT_ID is required: the app's application (client) ID", flag))
	}
	if _, err := parseID(v); err != nil {
		return usageError(fmt.Errorf("%s %q is not a client ID (a GUID)", flag, v))
	}
	return nil
}

// writeCredentialsEnvFile writes the tenant, client ID and secret as export lines; an empty one
// is left out.
func writeCredentialsEnvFile(path, tenantID, clientID, secret string) error {
	var b bytes.Buffer
	for _, kv := range [][2]string{
		{"AZURE_TENANT_ID", tenantID},
		{"AZURE_CLIENT_ID", clientID},
		{"AZURE_CLIENT_SECRET", secret},
	} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
		}
	}
	return writeEnvFile(path, b.Bytes())
}
