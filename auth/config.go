package auth

import (
	"log/slog"
	"os"
	"strings"
)

// Method chooses which kind of azidentity credential [NewCredential] builds.
type Method string

// The credential methods. [MethodAuto] (also the zero value) picks [MethodSecret] when a client
// secret is set, [MethodCertificate] when a certificate path is set, and is an error when both or
// neither are set; the other kinds must be chosen explicitly.
const (
	MethodAuto             Method = "auto"
	MethodSecret           Method = "secret"            // azidentity.ClientSecretCredential
	MethodCertificate      Method = "certificate"       // azidentity.ClientCertificateCredential
	MethodManagedIdentity  Method = "managed-identity"  // azidentity.ManagedIdentityCredential
	MethodWorkloadIdentity Method = "workload-identity" // azidentity.WorkloadIdentityCredential
	MethodAzureCLI         Method = "azure-cli"         // azidentity.AzureCLICredential
)

// methods lists the valid values in the order error messages show them.
var methods = []Method{MethodAuto, MethodSecret, MethodCertificate, MethodManagedIdentity, MethodWorkloadIdentity, MethodAzureCLI}

func (m Method) valid() bool {
	for _, v := range methods {
		if m == v {
			return true
		}
	}
	return false
}

// Config is everything needed to obtain Dataverse access tokens for one environment. Build it
// from values the program set (from its flags, say) and the environment with [LoadConfig] (or [Config.WithEnv]), check it with
// [Config.Validate], and turn it into a credential with [NewCredential].
//
// Formatting a Config with fmt, log/slog or encoding/json never shows ClientSecret or
// CertificatePassword (see [Secret]).
type Config struct {
	// OrgURL is the Dataverse environment URL, scheme and host only, e.g.
	// https://contoso.crm.dynamics.com. Tokens are requested for OrgURL + "/.default" (see
	// [Config.Scope]) and the cloud is inferred from its host (see [Config.Cloud]).
	OrgURL string `json:"orgURL,omitempty"`
	// TenantID is the Entra ID tenant: the Directory (tenant) ID GUID or a verified domain.
	TenantID string `json:"tenantID,omitempty"`
	// ClientID is the app registration's Application (client) ID. For managed identity it
	// selects a user-assigned identity and may be empty.
	ClientID string `json:"clientID,omitempty"`
	// ClientSecret is the client secret's Value (not its Secret ID).
	ClientSecret Secret `json:"clientSecret,omitempty"`
	// CertificatePath is a PEM or PKCS#12 file with the app's certificate and RSA private key.
	CertificatePath string `json:"certificatePath,omitempty"`
	// CertificatePassword decrypts a PKCS#12 CertificatePath. Encrypted PEM is not supported.
	CertificatePassword Secret `json:"certificatePassword,omitempty"`
	// AuthorityHost overrides the Entra ID authority, e.g. https://login.microsoftonline.us/ or
	// the emulator's URL. Empty means: inferred from OrgURL's host.
	AuthorityHost string `json:"authorityHost,omitempty"`
	// CAFile is a PEM file of extra CA certificates to trust in addition to the system roots:
	// the emulator's ca.pem or a TLS-inspecting proxy's CA.
	CAFile string `json:"caFile,omitempty"`
	// Method chooses the credential kind; empty means [MethodAuto].
	Method Method `json:"method,omitempty"`
	// FederatedTokenFile is the federated token file for [MethodWorkloadIdentity].
	FederatedTokenFile string `json:"federatedTokenFile,omitempty"`

	// fromEnv records which fields WithEnv filled from the environment, so that messages can
	// say where a bad value came from.
	fromEnv fieldSet
}

// field identifies a Config field in fromEnv.
type field uint16

const (
	fieldOrgURL field = 1 << iota
	fieldTenantID
	fieldClientID
	fieldClientSecret
	fieldCertificatePath
	fieldCertificatePassword
	fieldAuthorityHost
	fieldCAFile
	fieldMethod
	fieldFederatedTokenFile
)

type fieldSet uint16

func (s fieldSet) has(f field) bool { return s&fieldSet(f) != 0 }

// LookupFunc looks up an environment variable the way os.LookupEnv does. Tests inject a map-backed
// function instead of touching the process environment.
type LookupFunc func(name string) (string, bool)

// MapLookup returns a LookupFunc over a fixed map, for tests and for environments read from a file.
func MapLookup(env map[string]string) LookupFunc {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// LoadConfig merges the fields set in explicit (from a program's flags, say) with the
// environment (set fields win; see [Config.WithEnv]), normalises the result and validates it. A
// nil lookup reads the process environment. On a validation error the merged Config is still
// returned, so a caller can show what was read; the error is a *[ConfigError] naming every
// problem.
func LoadConfig(explicit Config, lookup LookupFunc) (Config, error) {
	cfg := explicit.WithEnv(lookup)
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg.normalized(), nil
}

// WithEnv returns a copy of c whose empty fields are filled from the environment variables
// listed in [Settings]: a value set in c (a program's flag, say) wins over the environment.
// Values are trimmed of surrounding white space; an empty variable counts as unset. A nil lookup
// reads the process environment.
//
// Credential material is taken as a group: if c already names a client secret or a certificate,
// neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is read, so setting
// CertificatePath in a shell that exports AZURE_CLIENT_SECRET uses the certificate rather than
// being ambiguous.
func (c Config) WithEnv(lookup LookupFunc) Config {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	get := func(name string) string {
		v, ok := lookup(name)
		if !ok {
			return ""
		}
		return strings.TrimSpace(v)
	}
	fillString := func(dst *string, f field, env string) {
		*dst = strings.TrimSpace(*dst)
		if *dst == "" {
			if v := get(env); v != "" {
				*dst = v
				c.fromEnv |= fieldSet(f)
			}
		}
	}
	fillSecret := func(dst *Secret, f field, env string) {
		s := string(*dst)
		fillString(&s, f, env)
		*dst = Secret(s)
	}

	credentialSet := c.ClientSecret != "" || strings.TrimSpace(c.CertificatePath) != ""

	fillString(&c.OrgURL, fieldOrgURL, EnvOrgURL)
	fillString(&c.TenantID, fieldTenantID, EnvTenantID)
	fillString(&c.ClientID, fieldClientID, EnvClientID)
	if !credentialSet {
		fillSecret(&c.ClientSecret, fieldClientSecret, EnvClientSecret)
		fillString(&c.CertificatePath, fieldCertificatePath, EnvCertificatePath)
	} else {
		c.ClientSecret = Secret(strings.TrimSpace(string(c.ClientSecret)))
		c.CertificatePath = strings.TrimSpace(c.CertificatePath)
	}
	if c.CertificatePath != "" {
		// A password only means something next to a certificate.
		fillSecret(&c.CertificatePassword, fieldCertificatePassword, EnvCertificatePassword)
	}
	fillString(&c.AuthorityHost, fieldAuthorityHost, EnvAuthorityHost)
	fillString(&c.CAFile, fieldCAFile, EnvCAFile)
	m := string(c.Method)
	fillString(&m, fieldMethod, EnvMethod)
	c.Method = Method(strings.ToLower(m))
	fillString(&c.FederatedTokenFile, fieldFederatedTokenFile, EnvFederatedTokenFile)
	return c
}

// normalized returns c with the org URL reduced to scheme://host (lower case, no trailing
// slash) and the method spelled out. Only called on a valid Config.
func (c Config) normalized() Config {
	if u, err := parseHTTPSURL(c.OrgURL); err == nil {
		c.OrgURL = "https://" + strings.ToLower(u.Host)
	}
	if c.Method == "" {
		c.Method = MethodAuto
	}
	return c
}

// Scope is the OAuth scope for Dataverse tokens: the org URL without a trailing slash plus
// "/.default". App-only (client-credentials) tokens accept no other form (AADSTS1002012).
func (c Config) Scope() string {
	return strings.TrimRight(strings.TrimSpace(c.OrgURL), "/") + "/.default"
}

// CredentialMethod resolves [MethodAuto] to the method NewCredential will use: secret when only a
// client secret is set, certificate when only a certificate path is set. Explicit methods are
// returned as they are. It fails when auto finds both or neither; the error names the settings.
func (c Config) CredentialMethod() (Method, error) {
	m := c.Method
	if m == "" {
		m = MethodAuto
	}
	if !m.valid() {
		return m, &ConfigError{Problems: []Problem{c.methodProblem()}}
	}
	if m != MethodAuto {
		return m, nil
	}
	switch {
	case c.ClientSecret != "" && c.CertificatePath != "":
		return m, &ConfigError{Problems: []Problem{c.ambiguousCredentialProblem()}}
	case c.ClientSecret != "":
		return MethodSecret, nil
	case c.CertificatePath != "":
		return MethodCertificate, nil
	default:
		return m, &ConfigError{Problems: []Problem{noCredentialProblem()}}
	}
}

// LogValue implements slog.LogValuer: the settings as a group, secrets masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("orgURL", c.OrgURL),
		slog.String("tenantID", c.TenantID),
		slog.String("clientID", c.ClientID),
		slog.String("clientSecret", c.ClientSecret.mask()),
		slog.String("certificatePath", c.CertificatePath),
		slog.String("certificatePassword", c.CertificatePassword.mask()),
		slog.String("authorityHost", c.AuthorityHost),
		slog.String("caFile", c.CAFile),
		slog.String("method", string(c.Method)),
		slog.String("federatedTokenFile", c.FederatedTokenFile),
	)
}

// String lists the fields that are set, secrets masked, e.g.
// {OrgURL:https://contoso.crm.dynamics.com TenantID:… ClientSecret:[REDACTED]}.
func (c Config) String() string {
	var b strings.Builder
	b.WriteByte('{')
	add := func(name, v string) {
		if v == "" {
			return
		}
		if b.Len() > 1 {
			b.WriteByte(' ')
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(v)
	}
	add("OrgURL", c.OrgURL)
	add("TenantID", c.TenantID)
	add("ClientID", c.ClientID)
	add("ClientSecret", c.ClientSecret.mask())
	add("CertificatePath", c.CertificatePath)
	add("CertificatePassword", c.CertificatePassword.mask())
	add("AuthorityHost", c.AuthorityHost)
	add("CAFile", c.CAFile)
	add("Method", string(c.Method))
	add("FederatedTokenFile", c.FederatedTokenFile)
	b.WriteByte('}')
	return b.String()
}

// GoString implements fmt.GoStringer (%#v) with the same masking as String.
func (c Config) GoString() string { return "auth.Config" + c.String() }
