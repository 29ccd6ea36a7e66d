package auth

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/google/uuid"
)

// Problem is one missing or invalid setting.
type Problem struct {
	// Setting is the setting at fault; its Env and Field say where to fix it.
	Setting Setting
	// Message says what is wrong and how to fix it, in one sentence that names the environment
	// variable and the Config field (see [Setting.FieldRef]).
	Message string
}

// ConfigError is returned by [Config.Validate] and [LoadConfig]: every problem found, not just the
// first, so a user fixes their configuration in one go.
type ConfigError struct {
	Problems []Problem
}

// Error lists the problems, one per line when there are several.
func (e *ConfigError) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].Message
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d configuration problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// Validate checks the configuration without contacting anyone and returns a *[ConfigError] naming
// every missing or invalid setting together with the environment variable and Config field that set it,
// or nil. It checks that the org URL is an absolute https URL without a path (a path is the
// classic cause of AADSTS500011), that the tenant is a GUID or a domain, that the client ID is a
// GUID, that exactly one credential is configured for the chosen method, that the authority host
// is an https URL without a path, and that the files it names exist.
func (c Config) Validate() error {
	var ps []Problem
	add := func(s Setting, format string, args ...any) {
		ps = append(ps, Problem{Setting: s, Message: fmt.Sprintf(format, args...)})
	}

	if msg := c.orgURLProblem(); msg != "" {
		add(settingOrgURL, "%s", msg)
	}

	method := c.Method
	if method == "" {
		method = MethodAuto
	}
	if !method.valid() {
		ps = append(ps, c.methodProblem())
	}

	needsApp := method == MethodAuto || method == MethodSecret || method == MethodCertificate || method == MethodWorkloadIdentity
	switch {
	case needsApp && c.TenantID == "":
		add(settingTenantID, "missing tenant ID: %s (the Directory (tenant) ID on the app registration's Overview page)", settingTenantID.hint())
	case c.TenantID != "":
		if msg := c.tenantProblem(); msg != "" {
			add(settingTenantID, "%s", msg)
		}
	}
	switch {
	case needsApp && c.ClientID == "":
		add(settingClientID, "missing client ID: %s (the Application (client) ID on the app registration's Overview page)", settingClientID.hint())
	case c.ClientID != "" && !isGUID(c.ClientID):
		add(settingClientID, "client ID %q%s is not a GUID: %s to the Application (client) ID on the app registration's Overview page",
			c.ClientID, c.from(fieldClientID, settingClientID), settingClientID.hint())
	}

	switch method {
	case MethodAuto:
		switch {
		case c.ClientSecret != "" && c.CertificatePath != "":
			ps = append(ps, c.ambiguousCredentialProblem())
		case c.ClientSecret == "" && c.CertificatePath == "":
			ps = append(ps, noCredentialProblem())
		}
	case MethodSecret:
		if c.ClientSecret == "" {
			add(settingClientSecret, "missing client secret for auth method %q: %s", method, settingClientSecret.hint())
		}
	case MethodCertificate:
		if c.CertificatePath == "" {
			add(settingCertificatePath, "missing certificate path for auth method %q: %s", method, settingCertificatePath.hint())
		}
	case MethodWorkloadIdentity:
		if c.FederatedTokenFile == "" {
			add(settingFederatedTokenFile, "missing federated token file for auth method %q: %s", method, settingFederatedTokenFile.hint())
		}
	}

	usesCertificate := c.CertificatePath != "" && (method == MethodCertificate || (method == MethodAuto && c.ClientSecret == ""))
	if usesCertificate {
		if msg := fileProblem(c.CertificatePath, "certificate file", c.from(fieldCertificatePath, settingCertificatePath), settingCertificatePath); msg != "" {
			add(settingCertificatePath, "%s", msg)
		}
	}
	if method == MethodWorkloadIdentity && c.FederatedTokenFile != "" {
		if msg := fileProblem(c.FederatedTokenFile, "federated token file", c.from(fieldFederatedTokenFile, settingFederatedTokenFile), settingFederatedTokenFile); msg != "" {
			add(settingFederatedTokenFile, "%s", msg)
		}
	}
	if c.CAFile != "" {
		if msg := fileProblem(c.CAFile, "CA file", c.from(fieldCAFile, settingCAFile), settingCAFile); msg != "" {
			add(settingCAFile, "%s", msg)
		}
	}
	if c.AuthorityHost != "" {
		if msg := c.authorityHostProblem(); msg != "" {
			add(settingAuthorityHost, "%s", msg)
		}
	}

	if len(ps) == 0 {
		return nil
	}
	return &ConfigError{Problems: ps}
}

// from returns " (from ENV)" when the field's value came from the environment, so that a user
// who never typed the bad value learns where it lives.
func (c Config) from(f field, s Setting) string {
	if c.fromEnv.has(f) {
		return " (from " + s.Env + ")"
	}
	return ""
}

func (c Config) methodProblem() Problem {
	names := make([]string, len(methods))
	for i, m := range methods {
		names[i] = string(m)
	}
	return Problem{Setting: settingMethod, Message: fmt.Sprintf("unknown auth method %q%s: %s to one of %s",
		c.Method, c.from(fieldMethod, settingMethod), settingMethod.hint(), strings.Join(names, ", "))}
}

func (c Config) ambiguousCredentialProblem() Problem {
	return Problem{Setting: settingClientSecret, Message: fmt.Sprintf(
		"both a client secret and a certificate are set, so the credential is ambiguous: unset %s or %s, or choose with %s=secret|certificate (%s)",
		EnvClientSecret, EnvCertificatePath, EnvMethod, settingMethod.FieldRef())}
}

func noCredentialProblem() Problem {
	return Problem{Setting: settingClientSecret, Message: fmt.Sprintf(
		"missing credential: set %s to the client secret's Value, or %s to a certificate file",
		settingClientSecret.named(), settingCertificatePath.named())}
}

// errNotHTTPSURL distinguishes the ways a URL setting can be malformed.
var (
	errNoScheme = errors.New("no scheme")
	errNotHTTPS = errors.New("not https")
	errNoHost   = errors.New("no host")
)

// parseHTTPSURL parses an absolute https URL with a host.
func parseHTTPSURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, err
	}
	switch {
	case u.Scheme == "":
		return u, errNoScheme
	case !strings.EqualFold(u.Scheme, "https"):
		return u, errNotHTTPS
	case u.Host == "":
		return u, errNoHost
	}
	return u, nil
}

// safeURL returns the URL for an error message with any password removed.
func safeURL(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.User == nil {
		if err != nil && strings.Contains(raw, "@") {
			return "(unparseable URL)"
		}
		return raw
	}
	u.User = nil
	return u.String()
}

func (c Config) orgURLProblem() string {
	s, where := settingOrgURL, c.from(fieldOrgURL, settingOrgURL)
	if c.OrgURL == "" {
		return "missing org URL: " + s.hint() + " to your environment's URL, e.g. https://contoso.crm.dynamics.com"
	}
	u, err := parseHTTPSURL(c.OrgURL)
	shown := safeURL(c.OrgURL)
	switch {
	case errors.Is(err, errNoScheme):
		return fmt.Sprintf("org URL %q%s has no scheme: %s to https://%s", shown, where, s.hint(), strings.TrimLeft(shown, "/"))
	case errors.Is(err, errNotHTTPS):
		return fmt.Sprintf("org URL %q%s must use https: Dataverse and Entra ID accept tokens only over TLS; %s to https://%s", shown, where, s.hint(), u.Host)
	case err != nil:
		return fmt.Sprintf("org URL %q%s is not an absolute URL: %s to https://<environment>.crm.dynamics.com", shown, where, s.hint())
	case u.User != nil:
		return fmt.Sprintf("org URL %q%s must not contain a user name or password: %s to https://%s", shown, where, s.hint(), u.Host)
	case u.Path != "" && u.Path != "/":
		why := "the org URL is the token's resource, so a path makes Entra answer AADSTS500011 (resource principal not found)"
		lower := strings.ToLower(u.Path)
		switch {
		case strings.Contains(lower, "/api/data"):
			why = "the Web API path /api/data/v9.x is added for you, and as part of the token's resource it makes Entra answer AADSTS500011 (resource principal not found)"
		case strings.Contains(lower, "/xrmservices"):
			why = "/XRMServices/2011/Organization.svc is the legacy SOAP endpoint, and as part of the token's resource it makes Entra answer AADSTS500011 (resource principal not found)"
		}
		return fmt.Sprintf("org URL %q%s has a path %q: %s; %s to https://%s", shown, where, u.Path, why, s.hint(), u.Host)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("org URL %q%s must not have a query or fragment: %s to https://%s", shown, where, s.hint(), u.Host)
	}
	return ""
}

func (c Config) authorityHostProblem() string {
	s, where := settingAuthorityHost, c.from(fieldAuthorityHost, settingAuthorityHost)
	u, err := parseHTTPSURL(c.AuthorityHost)
	shown := safeURL(c.AuthorityHost)
	switch {
	case errors.Is(err, errNoScheme):
		return fmt.Sprintf("authority host %q%s has no scheme: %s to https://%s/", shown, where, s.hint(), strings.Trim(shown, "/"))
	case errors.Is(err, errNotHTTPS):
		return fmt.Sprintf("authority host %q%s must use https (azidentity refuses to send credentials over plain HTTP): %s to https://%s/", shown, where, s.hint(), u.Host)
	case err != nil:
		return fmt.Sprintf("authority host %q%s is not an absolute URL: %s to e.g. https://login.microsoftonline.com/", shown, where, s.hint())
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("authority host %q%s must be only a scheme and host: %s to https://%s/", shown, where, s.hint(), u.Host)
	case u.Path != "" && u.Path != "/":
		return fmt.Sprintf("authority host %q%s has a path %q: it is only the scheme and host, the tenant goes in %s; %s to https://%s/",
			shown, where, u.Path, settingTenantID.named(), s.hint(), u.Host)
	}
	return ""
}

// tenantAliases are the multi-tenant authority aliases: valid for user sign-in but not for
// client-credential (app-only) tokens, which must name the app's home tenant.
var tenantAliases = map[string]bool{"common": true, "organizations": true, "consumers": true}

func (c Config) tenantProblem() string {
	s, where := settingTenantID, c.from(fieldTenantID, settingTenantID)
	t := c.TenantID
	switch {
	case tenantAliases[strings.ToLower(t)]:
		return fmt.Sprintf("tenant %q%s is a multi-tenant alias; app-only tokens need the app's own tenant: %s to the Directory (tenant) ID GUID", t, where, s.hint())
	case isGUID(t), isDomain(t):
		return ""
	}
	return fmt.Sprintf("tenant ID %q%s is neither a GUID nor a domain name (Entra would answer AADSTS900023): %s to the Directory (tenant) ID on the app registration's Overview page", t, where, s.hint())
}

// isGUID accepts only the canonical 8-4-4-4-12 form Entra shows (uuid.Parse alone also accepts
// braces and urn: prefixes).
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// isDomain accepts DNS names with at least two labels of letters, digits and inner hyphens, the
// shape of a verified tenant domain such as contoso.onmicrosoft.com.
func isDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 || len(s) > 253 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// fileProblem reports a file setting that names nothing readable.
func fileProblem(path, what, where string, s Setting) string {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("%s %q%s does not exist: %s to an existing file", what, path, where, s.hint())
	case err != nil:
		return fmt.Sprintf("%s %q%s cannot be read (%v): check its permissions or %s to another file", what, path, where, errors.Unwrap(err), s.hint())
	case info.IsDir():
		return fmt.Sprintf("%s %q%s is a directory: %s to a file", what, path, where, s.hint())
	}
	return ""
}

// Warnings returns advice about settings that are valid but probably not what the user meant:
// a client secret shaped like a GUID (usually the Secret ID), an explicit authority host from
// a different cloud than the org URL, an org URL host the cloud could not be inferred from, a
// certificate password with no certificate. The CLI prints them on stderr.
func (c Config) Warnings() []string {
	var w []string
	if isGUID(strings.TrimSpace(string(c.ClientSecret))) {
		w = append(w, fmt.Sprintf("the client secret looks like a GUID, which is what the portal shows as the Secret ID; set %s to the secret's Value instead (AADSTS7000215 otherwise)", settingClientSecret.named()))
	}
	if c.CertificatePassword != "" && c.CertificatePath == "" {
		w = append(w, fmt.Sprintf("a certificate password is set but no certificate (%s / %s); the password is ignored", EnvCertificatePath, settingCertificatePath.FieldRef()))
	}
	inferred := inferCloud(c.OrgURL)
	if c.AuthorityHost != "" && inferred.Name != CloudUnknown {
		chosen := c.Cloud()
		if chosen.Name != CloudCustom && chosen.Name != inferred.Name {
			w = append(w, fmt.Sprintf("the authority host %s belongs to %s but the org URL's host belongs to %s; tokens from the wrong cloud fail (AADSTS90002 or 500011)",
				chosen.AuthorityHost, chosen.Name, inferred.Name))
		}
	}
	if c.AuthorityHost == "" && c.OrgURL != "" && inferred.Name == CloudUnknown {
		w = append(w, c.Cloud().Reason)
	}
	return w
}
