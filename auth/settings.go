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

// Setting describes one configuration value: the [Config] field that holds it and the environment
// variable that sets it. Messages name a setting by both, e.g. "set AZURE_TENANT_ID or
// Config.TenantID"; a program that sets Config fields from its own inputs (a CLI from its flags)
// can replace each [Setting.FieldRef] in a message with the name its users know.
type Setting struct {
	Name   string // what the value is, as messages name it, e.g. "tenant ID"
	Field  string // the Config field, e.g. "TenantID"
	Env    string // environment variable, e.g. "AZURE_TENANT_ID"
	Secret bool   // the value is a secret (a [Secret] field)
}

// FieldRef returns how messages name the setting's Config field: "Config." + Field, e.g.
// "Config.TenantID".
func (s Setting) FieldRef() string { return "Config." + s.Field }

// hint returns "set ENV or Config.Field", the phrase every message uses to say where a value
// comes from.
func (s Setting) hint() string { return "set " + s.Env + " or " + s.FieldRef() }

// named returns "ENV (Config.Field)", the phrase a message uses to name a setting in passing.
func (s Setting) named() string { return s.Env + " (" + s.FieldRef() + ")" }

// The settings in the order they are documented.
var (
	settingOrgURL              = Setting{Name: "org URL", Field: "OrgURL", Env: EnvOrgURL}
	settingTenantID            = Setting{Name: "tenant ID", Field: "TenantID", Env: EnvTenantID}
	settingClientID            = Setting{Name: "client ID", Field: "ClientID", Env: EnvClientID}
	settingClientSecret        = Setting{Name: "client secret", Field: "ClientSecret", Env: EnvClientSecret, Secret: true}
	settingCertificatePath     = Setting{Name: "certificate path", Field: "CertificatePath", Env: EnvCertificatePath}
	settingCertificatePassword = Setting{Name: "certificate password", Field: "CertificatePassword", Env: EnvCertificatePassword, Secret: true}
	settingAuthorityHost       = Setting{Name: "authority host", Field: "AuthorityHost", Env: EnvAuthorityHost}
	settingCAFile              = Setting{Name: "CA file", Field: "CAFile", Env: EnvCAFile}
	settingMethod              = Setting{Name: "auth method", Field: "Method", Env: EnvMethod}
	settingFederatedTokenFile  = Setting{Name: "federated token file", Field: "FederatedTokenFile", Env: EnvFederatedTokenFile}
)

// Settings returns every configuration setting with its Config field and environment variable,
// in documentation order. The returned slice is a fresh copy.
func Settings() []Setting {
	return []Setting{
		settingOrgURL, settingTenantID, settingClientID, settingClientSecret,
		settingCertificatePath, settingCertificatePassword, settingAuthorityHost,
		settingCAFile, settingMethod, settingFederatedTokenFile,
	}
}
