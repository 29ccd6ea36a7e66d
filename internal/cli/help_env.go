package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// newHelpEnvironment returns the help topic "d365 help environment": the connection flags and
// the environment variables every command accepts, listed here once instead of in every
// command's help (they are hidden there, and still accepted).
func newHelpEnvironment() *cobra.Command {
	return &cobra.Command{
		Use:   "environment",
		Short: "Connection flags, environment variables, connection strings and profiles",
		Long:  helpEnvironmentText(),
	}
}

func helpEnvironmentText() string {
	var b strings.Builder
	b.WriteString(`Every command that talks to Dataverse reads its connection settings from four layers, each
filling, field by field, what the ones above it left empty:

  1. the flags below;
  2. a connection string: --connection-string or ` + EnvConnectionString + `;
  3. the environment variables below;
  4. a saved profile: --profile NAME, else ` + EnvProfile + `, else the one "d365 profile use" chose
     (not applied under a connection string unless named).

The credential (a client secret or a certificate) is taken whole from the first layer that has one.

Connection flags and their environment variables:
`)
	width := 0
	for _, f := range connectionFlagTable {
		width = max(width, len(f.name))
	}
	for _, f := range connectionFlagTable {
		fmt.Fprintf(&b, "  --%-*s  %-34s %s\n", width, f.name, f.env, f.usage)
	}
	fmt.Fprintf(&b, "  --%-*s  %-34s %s\n", width, flagProfile, EnvProfile, "saved profile to use (d365 profile --help)")
	fmt.Fprintf(&b, "  --%-*s  %-34s %s\n", width, flagConnectionString, EnvConnectionString, "Power Platform connection string (below)")
	fmt.Fprintf(&b, "  --%-*s  %-34s %s\n", width, flagNoTokenCache, "", "do not reuse or store tokens between invocations")
	b.WriteString(`
Secrets (--client-secret, --cert-password, --connection-string) are better set in the environment:
a flag is visible to other users in the process list.

Connection strings use the Power Platform / ServiceClient format, KEY=VALUE pairs separated by ';'
(a value holding ';' goes in quotes, a quote inside written twice):

  AuthType=ClientSecret;Url=https://contoso.crm.dynamics.com;ClientId=<app id>;ClientSecret=<secret>
  AuthType=Certificate;Url=https://contoso.crm.dynamics.com;ClientId=<app id>;CertificateFile=app.pem
  AuthType=Certificate;Url=…;ClientId=…;Thumbprint=<sha1>;CertificateFile=app.pfx;CertificatePassword=…

Microsoft's aliases are accepted (ServiceUri, Server, AppId, ApplicationId, Secret, CertThumbprint,
StoreName); TenantId, CertificateFile and CertificatePassword are d365's own. Without TenantId the
tenant is asked of the environment (its 401 challenge), as ServiceClient does. A Thumbprint alone
names the Windows certificate store, which d365 cannot read: add CertificateFile (a Thumbprint
next to it is checked against the file's certificate).

Access tokens are kept between invocations until five minutes before they expire: in azidentity's
persistent cache where the OS has a keyring (Linux kernel keyring, macOS Keychain, Windows DPAPI;
files under $XDG_CACHE_HOME/.IdentityService), else in files of mode 0600 under
$XDG_CACHE_HOME/d365/tokens (~/.cache/d365/tokens). "d365 profile logout" deletes them;
--no-token-cache neither reads nor writes them; --debug says which cache is in use.
Profiles live in $XDG_CONFIG_HOME/d365/config.json (~/.config/d365/config.json), mode 0600.
`)
	return b.String()
}
