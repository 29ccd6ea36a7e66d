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

func newEmulatorAppCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "App registrations of a running emulator: create, list, secrets, certificates",
		Long: `Scripts what "App registrations" in the Azure portal does, against a running emulator found by
D365_URL (or --url) and trusted through D365_CA_FILE (or --ca-file).`,
		Args: exactArgs(0, "a subcommand (create, list, secret, cert)"),
	}
	cmd.AddCommand(newEmulatorAppCreateCmd(g), newEmulatorAppListCmd(g), newEmulatorAppSecretCmd(g), newEmulatorAppCertCmd(g))
	return cmd
}

type appCreateOptions struct {
	*globalOptions
	name, tenant, expires, envFile string
	noSecret                       bool
}

func newEmulatorAppCreateCmd(g *globalOptions) *cobra.Command {
	o := &appCreateOptions{globalOptions: g}
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
			app := emulator.NewApp{DisplayName: o.name, Tenant: o.tenant}
			var secret *adminclient.SecretRequest
			if !o.noSecret {
				req, err := secretRequest("created by d365 emulator app create", o.expires)
				if err != nil {
					return err
				}
				secret = &req
			} else if o.expires != "" {
				return usageError(errors.New("--no-secret cannot go with --expires"))
			}
			var created emulator.CreatedApp
			err := g.withAdmin(func(c adminClient) (err error) {
				if secret == nil {
					created.App, err = c.CreateApp(cmd.Context(), app)
					return err
				}
				created, err = c.CreateAppWithSecret(cmd.Context(), app, *secret)
				return err
			})
			if err != nil {
				return err
			}
			if o.envFile != "" {
				value := ""
				if created.Secret != nil {
					value = created.Secret.Value
				}
				if err := writeCredentialsEnvFile(o.envFile, created.TenantID, created.ClientID, value); err != nil {
					return err
				}
				fmt.Fprintf(g.streams.ErrOut, "d365 emulator: credentials written to %s\n", o.envFile)
			}
			return printAdminItem(g.streams, g.output, created, newAppColumns)
		},
	}
	cmd.Flags().StringVar(&o.name, "name", "", "display name of the app (default: its client ID)")
	cmd.Flags().StringVar(&o.tenant, "tenant", "", "home tenant, by ID or domain (default: the organization's)")
	cmd.Flags().StringVar(&o.expires, "expires", "", "secret validity: a duration (24h, 720h; negative for an already expired one) or an RFC 3339 time (default: never)")
	cmd.Flags().StringVar(&o.envFile, "env-file", "", "also write AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (unless --no-secret) export lines to this file")
	cmd.Flags().BoolVar(&o.noSecret, "no-secret", false, "register the app without a client secret (add a certificate instead)")
	return cmd
}

func newEmulatorAppListCmd(g *globalOptions) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the app registrations",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var apps []emulator.App
			if err := g.withAdmin(func(c adminClient) (err error) {
				apps, err = c.Apps(cmd.Context(), tenant)
				return err
			}); err != nil {
				return err
			}
			return printAdminList(g.streams, g.output, apps, appColumns)
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only the apps of this tenant (ID or domain)")
	return cmd
}

func newEmulatorAppSecretCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Client secrets of an app: add, list, remove",
		Args:  exactArgs(0, "a subcommand (add, list, remove)"),
	}
	var app, expires, name, envFile string
	add := &cobra.Command{
		Use:   "add --app CLIENT_ID",
		Short: "Add a client secret to an app; prints the secret",
		Long: `Adds a client secret ("New client secret"). An app may hold several secrets at once, as during a
rotation. The secret's value is printed this once. A negative --expires adds a secret that has
already expired, to see AADSTS7000222.`,
		Example: `  d365 emulator app secret add --app $AZURE_CLIENT_ID --expires 24h
  d365 emulator app secret add --app $AZURE_CLIENT_ID --expires -1h --env-file expired.env`,
		Args: exactArgs(0, "no arguments (the app goes in --app)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", app); err != nil {
				return err
			}
			req, err := secretRequest(name, expires)
			if err != nil {
				return err
			}
			var created emulator.CreatedSecret
			if err := g.withAdmin(func(c adminClient) (err error) {
				created, err = c.AddSecretRequest(cmd.Context(), app, req)
				return err
			}); err != nil {
				return err
			}
			if envFile != "" {
				// A secret's answer names no tenant.
				if err := writeCredentialsEnvFile(envFile, "", created.ClientID, created.Value); err != nil {
					return err
				}
				fmt.Fprintf(g.streams.ErrOut, "d365 emulator: credentials written to %s\n", envFile)
			}
			return printAdminItem(g.streams, g.output, created, newSecretColumns)
		},
	}
	add.Flags().StringVar(&app, "app", "", "the app's client ID (required)")
	add.Flags().StringVar(&expires, "expires", "", "validity: a duration (24h; negative for an already expired secret) or an RFC 3339 time (default: never)")
	add.Flags().StringVar(&name, "name", "", "the secret's description")
	add.Flags().StringVar(&envFile, "env-file", "", "also write AZURE_CLIENT_ID and AZURE_CLIENT_SECRET export lines to this file")

	list := newAppCredentialListCmd(g, "List an app's client secrets (IDs, hints and expiry; never the values)",
		adminClient.Secrets, secretColumns)

	var secretID string
	remove := &cobra.Command{
		Use:   "remove --app CLIENT_ID --id SECRET_ID",
		Short: "Remove a client secret from an app (the last step of a rotation)",
		Long: `Deletes a client secret ("Delete" beside it in the portal). Clients still sending it get
AADSTS7000215 from then on. The secret ID is the "id" that "app secret add" and "app secret list"
print, not the secret's value.`,
		Example: `  d365 emulator app secret list --app $AZURE_CLIENT_ID -o table
  d365 emulator app secret remove --app $AZURE_CLIENT_ID --id 0f4c…`,
		Args: exactArgs(0, "no arguments (use --app and --id)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", app); err != nil {
				return err
			}
			if strings.TrimSpace(secretID) == "" {
				return usageError(errors.New(`--id SECRET_ID is required: the secret's ID, as "d365 emulator app secret list" prints it`))
			}
			return g.removeAppCredential(cmd, adminClient.RemoveSecret, app, "secret", secretID)
		},
	}
	remove.Flags().StringVar(&app, "app", "", "the app's client ID (required)")
	remove.Flags().StringVar(&secretID, "id", "", "the secret's ID (required; never its value)")
	cmd.AddCommand(add, list, remove)
	return cmd
}

func newEmulatorAppCertCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Certificates of an app: add, list, remove",
		Args:  exactArgs(0, "a subcommand (add, list, remove)"),
	}
	var app, file string
	add := &cobra.Command{
		Use:   "add --app CLIENT_ID --cert FILE",
		Short: "Upload a certificate's public key to an app",
		Long: `Registers a certificate on an app ("Upload certificate"). FILE is PEM (the file of
AZURE_CLIENT_CERTIFICATE_PATH works: only its CERTIFICATE blocks are sent, never the private key),
DER, or PKCS#12 without a password. Clients then authenticate with assertions signed by the
matching private key (azidentity's ClientCertificateCredential).`,
		Example: `  d365 emulator app cert add --app $AZURE_CLIENT_ID --cert client.pem`,
		Args:    exactArgs(0, "no arguments (use --app and --cert)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", app); err != nil {
				return err
			}
			if file == "" {
				return usageError(errors.New("--cert FILE is required: the certificate to upload"))
			}
			der, err := certificateDER(file)
			if err != nil {
				return usageError(err)
			}
			var cert emulator.Certificate
			if err := g.withAdmin(func(c adminClient) (err error) {
				cert, err = c.AddCertificate(cmd.Context(), app, der)
				return err
			}); err != nil {
				return err
			}
			return printAdminItem(g.streams, g.output, cert, certColumns)
		},
	}
	add.Flags().StringVar(&app, "app", "", "the app's client ID (required)")
	add.Flags().StringVar(&file, "cert", "", "certificate file: PEM, DER or PKCS#12 (required)")

	list := newAppCredentialListCmd(g, "List the certificates registered on an app", adminClient.Certificates, certColumns)

	var thumbprint string
	remove := &cobra.Command{
		Use:   "remove --app CLIENT_ID --thumbprint THUMBPRINT",
		Short: "Remove a certificate from an app (the last step of a rotation)",
		Long: `Deletes a registered certificate. Assertions signed with its key then get AADSTS700027.
THUMBPRINT is the certificate's SHA-1 (or SHA-256) thumbprint in hex, as "app cert list" prints
it, or its key ID.`,
		Example: `  d365 emulator app cert remove --app $AZURE_CLIENT_ID --thumbprint 3F2A…`,
		Args:    exactArgs(0, "no arguments (use --app and --thumbprint)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", app); err != nil {
				return err
			}
			if strings.TrimSpace(thumbprint) == "" {
				return usageError(errors.New(`--thumbprint is required: the certificate's thumbprint or key ID, as "d365 emulator app cert list" prints it`))
			}
			return g.removeAppCredential(cmd, adminClient.RemoveCertificate, app, "certificate", thumbprint)
		},
	}
	remove.Flags().StringVar(&app, "app", "", "the app's client ID (required)")
	remove.Flags().StringVar(&thumbprint, "thumbprint", "", "the certificate's thumbprint or key ID (required)")
	cmd.AddCommand(add, list, remove)
	return cmd
}

// newAppCredentialListCmd is "app secret list" and "app cert list": list an app's credentials
// and print them with columns.
func newAppCredentialListCmd[T any](g *globalOptions, short string,
	listOf func(adminClient, context.Context, string) ([]T, error), columns []adminColumn[T]) *cobra.Command {
	var app string
	list := &cobra.Command{
		Use:   "list --app CLIENT_ID",
		Short: short,
		Args:  exactArgs(0, "no arguments (the app goes in --app)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireGUIDFlag("--app", app); err != nil {
				return err
			}
			var items []T
			if err := g.withAdmin(func(c adminClient) (err error) {
				items, err = listOf(c, cmd.Context(), app)
				return err
			}); err != nil {
				return err
			}
			return printAdminList(g.streams, g.output, items, columns)
		},
	}
	list.Flags().StringVar(&app, "app", "", "the app's client ID (required)")
	return list
}

// removeAppCredential deletes one secret or certificate with remove and says so on stderr; noun
// names it in that line.
func (g *globalOptions) removeAppCredential(cmd *cobra.Command, remove func(adminClient, context.Context, string, string) error,
	app, noun, id string) error {
	if err := g.withAdmin(func(c adminClient) error { return remove(c, cmd.Context(), app, id) }); err != nil {
		return err
	}
	fmt.Fprintf(g.streams.ErrOut, "d365 emulator: %s %s removed from app %s\n", noun, id, app)
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
