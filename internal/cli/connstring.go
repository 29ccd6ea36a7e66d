package cli

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/auth"
)

// EnvConnectionString holds a Power Platform / ServiceClient connection string, the alternative
// to the individual settings (--connection-string sets it on the command line).
const EnvConnectionString = "D365_CONNECTION_STRING"

// connectionString is what a Power Platform connection string sets, in the format of
// Microsoft.PowerPlatform.Dataverse.Client.ServiceClient and XRM tooling:
// "AuthType=ClientSecret;Url=https://contoso.crm.dynamics.com;ClientId=…;ClientSecret=…".
// Only the server-to-server forms are accepted: AuthType=ClientSecret and AuthType=Certificate.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/xrm-tooling/use-connection-strings-xrm-tooling-connect
type connectionString struct {
	Method          auth.Method
	URL             string
	ClientID        string
	ClientSecret    auth.Secret
	Thumbprint      string // Thumbprint / CertThumbprint: a certificate in the Windows store
	StoreName       string // StoreName / CertificateStoreName
	TenantID        string // d365's extension: ServiceClient finds the tenant from the URL's challenge
	CertificatePath string // d365's extension: a PEM or PKCS#12 file (the Windows store is not readable here)
	CertPassword    auth.Secret
}

// connKey is a connection string key d365 knows, by the canonical name messages use.
type connKey string

const (
	keyAuthType     connKey = "AuthType"
	keyURL          connKey = "Url"
	keyClientID     connKey = "ClientId"
	keyClientSecret connKey = "ClientSecret"
	keyThumbprint   connKey = "Thumbprint"
	keyStoreName    connKey = "StoreName"
	keyTenantID     connKey = "TenantId"
	keyCertFile     connKey = "CertificateFile"
	keyCertPassword connKey = "CertificatePassword"
	keyIgnored      connKey = "" // accepted and without meaning here (LoginPrompt, RequireNewInstance, …)
)

// connKeyAliases maps every accepted key, lower case without spaces, to its canonical name. The
// aliases are Microsoft's ("Service Uri", "AppId", "CertThumbprint", …); TenantId,
// CertificateFile and CertificatePassword are d365's own.
var connKeyAliases = map[string]connKey{
	"authtype": keyAuthType, "authenticationtype": keyAuthType,
	"url": keyURL, "serviceuri": keyURL, "server": keyURL,
	"clientid": keyClientID, "appid": keyClientID, "applicationid": keyClientID,
	"clientsecret": keyClientSecret, "secret": keyClientSecret,
	"thumbprint": keyThumbprint, "certthumbprint": keyThumbprint,
	"storename": keyStoreName, "certificatestorename": keyStoreName,
	"tenantid": keyTenantID, "tenant": keyTenantID,
	"certificatefile": keyCertFile, "certificatepath": keyCertFile, "certfile": keyCertFile,
	"certificatepassword": keyCertPassword, "certpassword": keyCertPassword,
	"loginprompt": keyIgnored, "requirenewinstance": keyIgnored, "skipdiscovery": keyIgnored,
	"tokencachestorepath": keyIgnored, "redirecturi": keyIgnored, "replyurl": keyIgnored,
}

// connUserKeys are Microsoft's keys of the user (interactive or password) sign-ins, which a
// server-to-server tool cannot use; named in the refusal.
var connUserKeys = map[string]string{
	"username": "Username", "userid": "Username", "password": "Password", "domain": "Domain",
	"homerealmuri": "HomeRealmUri", "integratedsecurity": "Integrated Security",
}

// errConnStringSyntax is wrapped by every connection string error, which never contains a value
// nor an unknown key (a value holding an unquoted ';' splits into pieces that look like keys).
var errConnStringSyntax = errors.New("connection string")

func connErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errConnStringSyntax}, args...)...)
}

// connPair is one key=value of a connection string; part is its 1-based position.
type connPair struct {
	key, value string
	part       int
}

// splitConnectionString reads key=value pairs separated by ';' with the quoting rules of
// .NET's DbConnectionStringBuilder, which ServiceClient uses: a value may be enclosed in single
// or double quotes (so that it may hold ';' or '='), a quote inside is doubled, white space
// around keys and unquoted values is dropped, "==" in a key is a literal '=', and empty parts
// (";;", a trailing ';') are skipped.
func splitConnectionString(s string) ([]connPair, error) {
	var pairs []connPair
	i, part := 0, 0
	for {
		for i < len(s) && (s[i] == ';' || isConnSpace(s[i])) {
			i++
		}
		if i >= len(s) {
			return pairs, nil
		}
		part++
		// The key runs to the first '=' that is not doubled.
		var key strings.Builder
		for {
			if i >= len(s) || s[i] == ';' {
				return nil, connErrorf("part %d has no '=': write KEY=VALUE pairs separated by ';', and put a value that holds ';' in quotes", part)
			}
			if s[i] == '=' {
				if i+1 < len(s) && s[i+1] == '=' {
					key.WriteByte('=')
					i += 2
					continue
				}
				i++
				break
			}
			key.WriteByte(s[i])
			i++
		}
		k := strings.TrimSpace(key.String())
		if k == "" {
			return nil, connErrorf("part %d has no key before '='", part)
		}
		for i < len(s) && isConnSpace(s[i]) {
			i++
		}
		var value strings.Builder
		if i < len(s) && (s[i] == '"' || s[i] == '\'') {
			quote := s[i]
			i++
			closed := false
			for i < len(s) {
				if s[i] == quote {
					if i+1 < len(s) && s[i+1] == quote {
						value.WriteByte(quote)
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				value.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, connErrorf("the quoted value of part %d has no closing %c (a quote inside a value is written twice)", part, quote)
			}
			for i < len(s) && isConnSpace(s[i]) {
				i++
			}
			if i < len(s) && s[i] != ';' {
				return nil, connErrorf("part %d has text after its closing quote: end the value there or write the quote inside it twice", part)
			}
		} else {
			start := i
			for i < len(s) && s[i] != ';' {
				i++ // a quote inside an unquoted value is an ordinary character
			}
			value.WriteString(strings.TrimSpace(s[start:i]))
		}
		pairs = append(pairs, connPair{key: k, value: value.String(), part: part})
	}
}

func isConnSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// normalizeConnKey is the lookup form of a key: lower case without white space ("Service Uri"
// and "serviceuri" are one key).
func normalizeConnKey(k string) string {
	return strings.ToLower(strings.Join(strings.Fields(k), ""))
}

// parseConnectionString parses a Power Platform connection string (see connectionString). Its
// errors say which part or key is wrong and never contain a value: not the secret, and not an
// unknown key either, which may be a piece of a secret that holds an unquoted ';'.
func parseConnectionString(s string) (connectionString, error) {
	var cs connectionString
	pairs, err := splitConnectionString(s)
	if err != nil {
		return cs, err
	}
	if len(pairs) == 0 {
		return cs, connErrorf("it is empty: set it to AuthType=ClientSecret;Url=https://<org>.crm.dynamics.com;ClientId=<app id>;ClientSecret=<secret>")
	}
	seen := map[connKey]bool{}
	var authType string
	for _, p := range pairs {
		norm := normalizeConnKey(p.key)
		if name, ok := connUserKeys[norm]; ok {
			return cs, connErrorf("%s (part %d) belongs to a user sign-in, which d365 does not do: it signs in as an application, with AuthType=ClientSecret or AuthType=Certificate and ClientId", name, p.part)
		}
		key, ok := connKeyAliases[norm]
		if !ok {
			return cs, connErrorf("part %d is not a key d365 knows (known: AuthType, Url, ClientId, ClientSecret, Thumbprint, StoreName, TenantId, CertificateFile, CertificatePassword); if it is part of a value, put that value in quotes", p.part)
		}
		if key == keyIgnored {
			continue
		}
		if seen[key] {
			return cs, connErrorf("%s is set twice (part %d): keep one", key, p.part)
		}
		seen[key] = true
		switch key {
		case keyAuthType:
			authType = p.value
		case keyURL:
			cs.URL = p.value
		case keyClientID:
			cs.ClientID = p.value
		case keyClientSecret:
			cs.ClientSecret = auth.Secret(p.value)
		case keyThumbprint:
			cs.Thumbprint = strings.ToUpper(strings.ReplaceAll(p.value, " ", ""))
		case keyStoreName:
			cs.StoreName = p.value
		case keyTenantID:
			cs.TenantID = p.value
		case keyCertFile:
			cs.CertificatePath = p.value
		case keyCertPassword:
			cs.CertPassword = auth.Secret(p.value)
		}
	}
	switch strings.ToLower(authType) {
	case "clientsecret":
		cs.Method = auth.MethodSecret
		if !cs.ClientSecret.IsSet() {
			return cs, connErrorf("AuthType=ClientSecret needs ClientSecret=<the secret's Value>")
		}
	case "certificate":
		cs.Method = auth.MethodCertificate
		if cs.CertificatePath == "" && cs.Thumbprint == "" {
			return cs, connErrorf("AuthType=Certificate needs CertificateFile=<PEM or PKCS#12 file> (or Thumbprint, with CertificateFile)")
		}
	case "":
		return cs, connErrorf("AuthType is missing: add AuthType=ClientSecret or AuthType=Certificate")
	case "oauth", "ad", "ifd", "office365":
		return cs, connErrorf("AuthType=%s is a user sign-in, which d365 does not do: use AuthType=ClientSecret or AuthType=Certificate with an application's ClientId", canonicalAuthType(authType))
	default:
		return cs, connErrorf("AuthType has a value d365 does not know: use ClientSecret or Certificate")
	}
	if cs.URL == "" {
		return cs, connErrorf("Url is missing: add Url=https://<org>.crm.dynamics.com")
	}
	if cs.ClientID == "" {
		return cs, connErrorf("ClientId is missing: add ClientId=<the app registration's Application (client) ID>")
	}
	if cs.Method == auth.MethodCertificate && cs.CertificatePath == "" {
		return cs, connErrorf("Thumbprint names a certificate in the Windows certificate store, which d365 cannot read: export the certificate with its private key to a PEM or PKCS#12 file and add CertificateFile=<path> (or set --cert)")
	}
	return cs, nil
}

// canonicalAuthType spells a known user sign-in AuthType as Microsoft does; anything else is
// not echoed.
func canonicalAuthType(v string) string {
	for _, name := range []string{"OAuth", "AD", "IFD", "Office365"} {
		if strings.EqualFold(v, name) {
			return name
		}
	}
	return "?"
}

// config returns the auth.Config fields the connection string sets.
func (cs connectionString) config() auth.Config {
	return auth.Config{
		OrgURL:              cs.URL,
		TenantID:            cs.TenantID,
		ClientID:            cs.ClientID,
		ClientSecret:        cs.ClientSecret,
		CertificatePath:     cs.CertificatePath,
		CertificatePassword: cs.CertPassword,
		Method:              cs.Method,
	}
}

// looksLikeConnectionString reports whether a value given as a URL is a connection string
// (people paste pac's or ServiceClient's whole string into --url): it has a '=' before any
// "://", or a ';'.
func looksLikeConnectionString(v string) bool {
	eq := strings.IndexByte(v, '=')
	scheme := strings.Index(v, "://")
	return (eq >= 0 && (scheme < 0 || eq < scheme)) || strings.Contains(v, ";")
}

// String names what the connection string sets, never the secret.
func (cs connectionString) String() string {
	return fmt.Sprintf("connection string (AuthType %s, Url %s, ClientId %s)", cs.Method, cs.URL, cs.ClientID)
}

// checkThumbprint compares a connection string's Thumbprint with the certificate in its
// CertificateFile, so that a file holding another certificate than the one the string names is
// caught before Entra answers AADSTS700027. Thumbprints are SHA-1 hashes of the certificate,
// public values, so both are shown.
func (cs connectionString) checkThumbprint() error {
	if cs.Thumbprint == "" || cs.CertificatePath == "" {
		return nil
	}
	if b, err := hex.DecodeString(cs.Thumbprint); err != nil || len(b) != sha1.Size {
		return usageError(errors.New("connection string: Thumbprint is not 40 hexadecimal digits (the certificate's SHA-1 thumbprint, as the app registration shows it)"))
	}
	data, err := os.ReadFile(cs.CertificatePath)
	if err != nil {
		return usageError(fmt.Errorf("connection string: CertificateFile %q cannot be read: %w", cs.CertificatePath, errors.Unwrap(err)))
	}
	certs, _, err := azidentity.ParseCertificates(data, []byte(cs.CertPassword.Reveal()))
	if err != nil || len(certs) == 0 {
		return usageError(fmt.Errorf("connection string: CertificateFile %q holds no certificate and private key d365 can read (PEM, or PKCS#12 with CertificatePassword)", cs.CertificatePath))
	}
	sum := sha1.Sum(certs[0].Raw)
	got := strings.ToUpper(hex.EncodeToString(sum[:]))
	if got != cs.Thumbprint {
		return usageError(fmt.Errorf("connection string: Thumbprint %s is not the certificate in CertificateFile %q (its thumbprint is %s): point CertificateFile at the certificate the app registration has, or fix the Thumbprint", cs.Thumbprint, cs.CertificatePath, got))
	}
	return nil
}
