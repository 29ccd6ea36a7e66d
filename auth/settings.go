package auth

// Environment variables read by [Config.WithEnv]. The AZURE_* names are the ones azidentity's
// EnvironmentCredential reads, so an environment prepared for other Azure SDK tools works unchanged.
const (
	EnvOrgURL              = "D365_URL"
	EnvTenantID            = "AZURE_TENANT_ID"
	EnvClientID            = "AZURE_CLIENT_ID"
	EnvClientSecret        = "AZURE_CLIENT_SECRET"
	EnvCertificatePath     = "AZURE_CLIENT_CERTIFICATE_PATH"
	EnvCertificatePassword = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
	EnvAuthorityHost       = "AZURE_AUTHORITY_HOST"
	EnvCAFile              = "D365_CA_FILE"
	EnvMethod              = "D365_AUTH_METHOD"
	EnvFederatedTokenFile  = "AZURE_FEDERATED_TOKEN_FILE"
)

// Command-line flag names (without the leading dashes) that error messages tell users to set.
// The CLI registers its flags under these names so that the messages and the flags agree.
const (
	FlagOrgURL              = "url"
	FlagTenantID            = "tenant"
	FlagClientID            = "client-id"
	FlagClientSecret        = "client-secret"
	FlagCertificatePath     = "cert"
	FlagCertificatePassword = "cert-password"
	FlagAuthorityHost       = "authority-host"
	FlagCAFile              = "ca-file"
	FlagMethod              = "auth-method"
	FlagFederatedTokenFile  = "federated-token-file"
)

// Setting describes one configuration value: the flag and environment variable that set it and a
// one-line usage text. The CLI can register its flags from [Settings].
type Setting struct {
	Name   string // what the value is, as error messages name it, e.g. "tenant ID"
	Flag   string // flag name without dashes, e.g. "tenant"
	Env    string // environment variable, e.g. "AZURE_TENANT_ID"
	Usage  string // one-line help text
	Secret bool   // the value is a secret: read it from the environment rather than a flag when possible
}

// hint returns "set ENV or --flag", the phrase every message uses to say where a value comes from.
func (s Setting) hint() string { return "set " + s.Env + " or --" + s.Flag }

// The settings in the order they are documented.
var (
	settingOrgURL = Setting{Name: "org URL", Flag: FlagOrgURL, Env: EnvOrgURL,
		Usage: "Dataverse environment URL, e.g. https://contoso.crm.dynamics.com"}
	settingTenantID = Setting{Name: "tenant ID", Flag: FlagTenantID, Env: EnvTenantID,
		Usage: "Entra ID tenant: the Directory (tenant) ID GUID or a verified domain"}
	settingClientID = Setting{Name: "client ID", Flag: FlagClientID, Env: EnvClientID,
		Usage: "Application (client) ID of the app registration"}
	settingClientSecret = Setting{Name: "client secret", Flag: FlagClientSecret, Env: EnvClientSecret, Secret: true,
		Usage: "client secret Value (not its Secret ID)"}
	settingCertificatePath = Setting{Name: "certificate path", Flag: FlagCertificatePath, Env: EnvCertificatePath,
		Usage: "PEM or PKCS#12 file holding the app's certificate and its RSA private key"}
	settingCertificatePassword = Setting{Name: "certificate password", Flag: FlagCertificatePassword, Env: EnvCertificatePassword, Secret: true,
		Usage: "password of a PKCS#12 certificate file"}
	settingAuthorityHost = Setting{Name: "authority host", Flag: FlagAuthorityHost, Env: EnvAuthorityHost,
		Usage: "Entra ID authority host; inferred from the org URL when empty"}
	settingCAFile = Setting{Name: "CA file", Flag: FlagCAFile, Env: EnvCAFile,
		Usage: "extra PEM CA certificates to trust (the emulator's ca.pem, a TLS-inspecting proxy)"}
	settingMethod = Setting{Name: "auth method", Flag: FlagMethod, Env: EnvMethod,
		Usage: "auto, secret, certificate, managed-identity, workload-identity or azure-cli"}
	settingFederatedTokenFile = Setting{Name: "federated token file", Flag: FlagFederatedTokenFile, Env: EnvFederatedTokenFile,
		Usage: "file holding the federated token for workload identity"}
)

// Settings returns every configuration setting with its flag, environment variable and usage, in
// documentation order. The returned slice is a fresh copy.
func Settings() []Setting {
	return []Setting{
		settingOrgURL, settingTenantID, settingClientID, settingClientSecret,
		settingCertificatePath, settingCertificatePassword, settingAuthorityHost,
		settingCAFile, settingMethod, settingFederatedTokenFile,
	}
}
