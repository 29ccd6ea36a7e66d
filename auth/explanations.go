package auth

import (
	"net/http"
	"strconv"
	"strings"
)

// hints is what a credential knows about its configuration, used to make explanations concrete.
// It never holds a secret: only whether the secret looked like a GUID.
type hints struct {
	method              Method
	tenantID            string
	clientID            string
	orgURL              string
	authorityHost       string
	cloud               CloudName
	caFile              string
	secretLooksLikeGUID bool
}

func newHints(cfg Config, method Method) hints {
	c := cfg.Cloud()
	return hints{
		method:              method,
		tenantID:            cfg.TenantID,
		clientID:            cfg.ClientID,
		orgURL:              strings.TrimRight(cfg.OrgURL, "/"),
		authorityHost:       c.AuthorityHost,
		cloud:               c.Name,
		caFile:              cfg.CAFile,
		secretLooksLikeGUID: isGUID(strings.TrimSpace(cfg.ClientSecret.Reveal())),
	}
}

func (h hints) app() string {
	if h.clientID != "" {
		return "app " + h.clientID
	}
	return "the app"
}

func (h hints) tenant() string {
	if h.tenantID != "" {
		return "tenant " + h.tenantID
	}
	return "the tenant"
}

func (h hints) resource() string {
	if h.orgURL != "" {
		return h.orgURL
	}
	return "the org URL"
}

func (h hints) authority() string {
	if h.authorityHost != "" {
		return h.authorityHost
	}
	return "the authority host"
}

// explainCode returns the one-sentence meaning and fix of an Entra failure for a Dataverse S2S
// setup (reference entra.md §1.6 and §3). Codes are the contract; descriptions are not.
func explainCode(e *EntraError, h hints) (explanation, fix string) {
	switch e.Code {
	case 7000215:
		fix = "use the secret's Value, not its Secret ID, and check it belongs to this app"
		if h.clientID != "" {
			fix += " (" + h.clientID + ")"
		}
		if h.secretLooksLikeGUID {
			fix += "; the configured secret is shaped like a GUID, which is what the portal shows as the Secret ID"
		}
		return "the client secret is wrong", fix
	case 7000222:
		return "the client secret has expired",
			"create a new secret under Certificates & secrets of " + h.app() + " and set " + EnvClientSecret + " to its Value (a certificate avoids secret expiry)"
	case 700016:
		return h.app() + " was not found in " + h.tenant(),
			"set " + EnvClientID + " to the Application (client) ID (not the Object ID) and " + EnvTenantID + " to the tenant the app is registered in; a multi-tenant app needs admin consent in this tenant first"
	case 90002:
		return h.tenant() + " does not exist at " + h.authority(),
			"check " + EnvTenantID + " for typos; a US Government or China tenant needs its own cloud, which the org URL's host selects, or set " + EnvAuthorityHost
	case 900023:
		return "the tenant identifier is neither a GUID nor a valid domain",
			"set " + settingTenantID.named() + " to the Directory (tenant) ID on the app registration's Overview page"
	case 500011:
		return "Entra ID knows no resource named " + h.resource() + " in this tenant",
			"set " + EnvOrgURL + " to the environment URL exactly as the Power Platform admin center shows it, scheme and host only (no /api/data or /XRMServices path), and check the environment belongs to " + h.tenant()
	case 1002012, 70011:
		scope := "<org URL>/.default"
		if h.orgURL != "" {
			scope = h.orgURL + "/.default"
		}
		return "the requested scope is not valid for an app-only token",
			"request exactly " + scope + "; the client-credentials grant accepts no other scope"
	case 700027:
		return "the certificate that signed the client assertion is not registered on " + h.app(),
			"upload this certificate's public part under Certificates & secrets, or point " + EnvCertificatePath + " at the registered certificate (compare thumbprints)"
	case 700024:
		return "the client assertion is outside its valid time range",
			"correct this machine's clock (sync it with NTP); the assertion is stamped with local time"
	case 7000218:
		return "the token request carried neither a client secret nor a client assertion",
			"set " + EnvClientSecret + " or " + EnvCertificatePath + "; if one is set, check that no proxy strips the request body"
	case 7000112:
		return h.app() + " is disabled in " + h.tenant(),
			"ask a tenant administrator to enable the app's enterprise application (service principal) for sign-in"
	case 50049:
		return "the authority " + h.authority() + " is not a known Entra ID instance",
			"leave " + EnvAuthorityHost + " empty to infer it from the org URL, or set it to https://login.microsoftonline.com/ (.us for US Government, login.chinacloudapi.cn for China)"
	case 50196:
		return "Entra ID detected a request loop: tokens were requested too often",
			"create one credential per process and share it, so tokens are cached instead of requested per call; wait a few minutes before retrying"
	case 53003:
		return "a Conditional Access policy blocked the token for " + h.app(),
			"ask a tenant administrator to check the Conditional Access policies for workload identities (the sign-in logs name the policy)"
	case 65001, 501051:
		return "consent or an app-role assignment is missing",
			"Dataverse server-to-server access needs neither: request " + h.resource() + "/.default with the client-credentials grant and give the app an application user with a security role in Dataverse; a multi-tenant app needs admin consent in this tenant first"
	}
	if e.StatusCode == http.StatusTooManyRequests {
		fix := "create one credential per process and share it, so tokens are cached"
		if e.RetryAfter > 0 {
			fix += "; retry after " + e.RetryAfter.String()
		}
		return "Entra ID is throttling token requests for " + h.app(), fix
	}
	// An unlisted code: give Entra's own words and the reference page.
	explanation = "Entra ID rejected the token request"
	if e.OAuthError != "" {
		explanation += " (" + e.OAuthError + ")"
	}
	if d := firstSentence(e.Description); d != "" {
		explanation += ": " + d
	}
	ref := e.ErrorURI
	if ref == "" && e.Code != 0 {
		ref = "https://login.microsoftonline.com/error?code=" + strconv.Itoa(e.Code)
	}
	if ref != "" {
		return explanation, "see " + ref
	}
	return explanation, ""
}

// firstSentence returns Entra's description without its AADSTS prefix, up to the first period.
func firstSentence(d string) string {
	d = strings.TrimSpace(aadstsCode.ReplaceAllString(d, ""))
	d = strings.TrimLeft(d, ": ")
	if i := strings.Index(d, ". "); i >= 0 {
		d = d[:i+1]
	}
	const limit = 200
	if len(d) > limit {
		d = d[:limit] + "…"
	}
	return d
}

// Explanation returns the explanation and fix for an AADSTS code without a response, e.g. for a
// documentation table or a CLI "explain" command. Unknown codes yield Entra's reference link.
func Explanation(code int) (explanation, fix string) {
	return explainCode(&EntraError{Code: code}, hints{})
}
