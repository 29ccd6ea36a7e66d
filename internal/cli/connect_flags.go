package cli

import (
	"strings"

	"github.com/d365s2s/d365/auth"
)

// The connection flags' names (without the leading dashes). Each sets one auth.Config field and
// falls back to that setting's environment variable.
const (
	flagOrgURL              = "url"
	flagTenantID            = "tenant"
	flagClientID            = "client-id"
	flagClientSecret        = "client-secret"
	flagCertificatePath     = "cert"
	flagCertificatePassword = "cert-password"
	flagAuthorityHost       = "authority-host"
	flagCAFile              = "ca-file"
	flagMethod              = "auth-method"
	flagFederatedTokenFile  = "federated-token-file"
)

// connectionFlag is one connection flag: its name, the environment variable auth reads when the
// flag is not set, and its help text.
type connectionFlag struct {
	name   string
	env    string
	usage  string
	secret bool // a flag is visible in the process list: the help text says to prefer the variable
}

// connectionFlagTable lists the connection flags in the order the help shows them, one per
// auth.Setting.
var connectionFlagTable = []connectionFlag{
	{name: flagOrgURL, env: auth.EnvOrgURL,
		usage: "Dataverse environment URL, e.g. https://contoso.crm.dynamics.com"},
	{name: flagTenantID, env: auth.EnvTenantID,
		usage: "Entra ID tenant: the Directory (tenant) ID GUID or a verified domain"},
	{name: flagClientID, env: auth.EnvClientID,
		usage: "Application (client) ID of the app registration"},
	{name: flagClientSecret, env: auth.EnvClientSecret, secret: true,
		usage: "client secret Value (not its Secret ID)"},
	{name: flagCertificatePath, env: auth.EnvCertificatePath,
		usage: "PEM or PKCS#12 file holding the app's certificate and its RSA private key"},
	{name: flagCertificatePassword, env: auth.EnvCertificatePassword, secret: true,
		usage: "password of a PKCS#12 certificate file"},
	{name: flagAuthorityHost, env: auth.EnvAuthorityHost,
		usage: "Entra ID authority host; inferred from the org URL when empty"},
	{name: flagCAFile, env: auth.EnvCAFile,
		usage: "extra PEM CA certificates to trust (the emulator's ca.pem, a TLS-inspecting proxy)"},
	{name: flagMethod, env: auth.EnvMethod,
		usage: "auto, secret, certificate, managed-identity, workload-identity or azure-cli"},
	{name: flagFederatedTokenFile, env: auth.EnvFederatedTokenFile,
		usage: "file holding the federated token for workload identity"},
}

// flagNames replaces, in auth's messages, each Config field auth names ("Config.TenantID") with
// the flag that sets it ("--tenant"): auth knows environment variables and Config fields only,
// and CLI users set flags. "set AZURE_TENANT_ID or Config.TenantID" becomes "set AZURE_TENANT_ID
// or --tenant".
var flagNames = newFlagNames()

func newFlagNames() *strings.Replacer {
	flagOf := make(map[string]string, len(connectionFlagTable))
	for _, f := range connectionFlagTable {
		flagOf[f.env] = f.name
	}
	var pairs []string
	for _, s := range auth.Settings() {
		if name, ok := flagOf[s.Env]; ok {
			pairs = append(pairs, s.FieldRef(), "--"+name)
		}
	}
	return strings.NewReplacer(pairs...)
}

// flagNamedError is an error whose message names flags where auth's names Config fields. It
// unwraps to the original, so exit codes and errors.As see through it.
type flagNamedError struct {
	msg string
	err error
}

func (e *flagNamedError) Error() string { return e.msg }
func (e *flagNamedError) Unwrap() error { return e.err }

// withFlagNames returns err with its message in the CLI's words (see flagNames), or err itself
// when its message names no Config field.
func withFlagNames(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if named := flagNames.Replace(msg); named != msg {
		return &flagNamedError{msg: named, err: err}
	}
	return err
}
