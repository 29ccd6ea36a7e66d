package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/d365s2s/d365/internal/httpheader"
)

// Challenge is what a Dataverse environment names in the WWW-Authenticate header of a 401:
// "Bearer authorization_uri=https://login.microsoftonline.com/<tenant>/oauth2/authorize,
// resource_id=https://contoso.crm.dynamics.com/" (reference webapi.md §9.1). It tells which
// tenant and authority the environment trusts and which resource tokens must be for.
type Challenge struct {
	AuthorizationURI string // as sent, e.g. https://login.microsoftonline.com/<tenant>/oauth2/authorize
	ResourceID       string // as sent, e.g. https://contoso.crm.dynamics.com/
	AuthorityHost    string // derived: scheme and host of AuthorizationURI with a trailing slash
	TenantID         string // derived: the first path segment of AuthorizationURI
}

// NewChallenge derives the authority host and tenant from a challenge's authorization_uri, for
// callers that parsed the header themselves (the dataverse client's ResponseError does).
func NewChallenge(authorizationURI, resourceID string) (Challenge, error) {
	c := Challenge{AuthorizationURI: authorizationURI, ResourceID: resourceID}
	u, err := url.Parse(authorizationURI)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return c, fmt.Errorf("the challenge's authorization_uri %q is not an absolute URL", authorizationURI)
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if tenant == "" {
		return c, fmt.Errorf("the challenge's authorization_uri %q names no tenant", authorizationURI)
	}
	c.AuthorityHost = strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + "/"
	c.TenantID = tenant
	return c, nil
}

// ParseChallenge reads a WWW-Authenticate header value with a Bearer challenge. Parameter values
// may be bare (as Dataverse sends them) or quoted, and the value may hold other challenges too.
func ParseChallenge(header string) (Challenge, error) {
	authz, resource, ok := httpheader.BearerChallenge([]string{header})
	if !ok {
		return Challenge{}, errors.New("the WWW-Authenticate header holds no Bearer challenge")
	}
	if authz == "" {
		return Challenge{}, errors.New("the Bearer challenge has no authorization_uri")
	}
	return NewChallenge(authz, resource)
}

// DiscoverChallenge asks the environment which tenant and authority it trusts: an
// unauthenticated GET {orgURL}/api/data/v9.2/WhoAmI, which Dataverse answers with 401 and the
// challenge. It is how to find the tenant of an environment, or the authority of a host that
// Config.Cloud cannot infer. A nil client means http.DefaultClient.
func DiscoverChallenge(ctx context.Context, client *http.Client, orgURL string) (Challenge, error) {
	if client == nil {
		client = http.DefaultClient
	}
	target := strings.TrimRight(strings.TrimSpace(orgURL), "/") + "/api/data/v9.2/WhoAmI"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Challenge{}, fmt.Errorf("org URL %q: %w", safeURL(orgURL), err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Challenge{}, Explain(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	if resp.StatusCode != http.StatusUnauthorized {
		return Challenge{}, fmt.Errorf("%s answered HTTP %d to an unauthenticated request, not 401 with a challenge: is %s a Dataverse environment URL?",
			req.URL.Host, resp.StatusCode, EnvOrgURL)
	}
	for _, h := range resp.Header.Values("WWW-Authenticate") {
		if c, err := ParseChallenge(h); err == nil {
			return c, nil
		}
	}
	return Challenge{}, fmt.Errorf("%s answered 401 without a Bearer challenge naming its authority", req.URL.Host)
}

// equivalentLoginHosts are aliases of one Entra ID instance (instance-discovery metadata).
var equivalentLoginHosts = map[string]string{
	"login.windows.net":                "login.microsoftonline.com",
	"login.microsoft.com":              "login.microsoftonline.com",
	"sts.windows.net":                  "login.microsoftonline.com",
	"login.partner.microsoftonline.cn": "login.chinacloudapi.cn",
	"login-us.microsoftonline.com":     "login.microsoftonline.us",
	"login.usgovcloudapi.net":          "login.microsoftonline.us",
}

// canonicalLoginHost is host[:port] of a URL (default port dropped), with Entra aliases mapped
// to one name so that login.windows.net and login.microsoftonline.com compare equal.
func canonicalLoginHost(rawURL string) string {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return ""
	}
	h := strings.ToLower(strings.TrimSuffix(u.Host, ":443"))
	if c, ok := equivalentLoginHosts[h]; ok {
		return c
	}
	return h
}

// CheckChallenge compares an environment's challenge with this configuration and explains the
// first mismatch that makes Dataverse reject otherwise good tokens: another tenant, another
// cloud's authority, or another resource than OrgURL. It returns nil when they agree (a tenant
// given as a domain cannot be compared with the challenge's GUID and is taken as agreeing).
func (c Config) CheckChallenge(ch Challenge) error {
	cl := c.Cloud()
	switch {
	case ch.TenantID != "" && isGUID(ch.TenantID) && isGUID(c.TenantID) && !strings.EqualFold(ch.TenantID, c.TenantID):
		return &ExplainedError{
			Explanation: fmt.Sprintf("the environment belongs to tenant %s, but tokens are requested from tenant %s", ch.TenantID, c.TenantID),
			Fix:         fmt.Sprintf("set %s to %s; the app must be registered in that tenant (or be multi-tenant with admin consent there)", EnvTenantID, ch.TenantID),
		}
	case ch.AuthorityHost != "" && canonicalLoginHost(ch.AuthorityHost) != canonicalLoginHost(cl.AuthorityHost):
		return &ExplainedError{
			Explanation: fmt.Sprintf("the environment's tenant signs in at %s, but tokens are requested from %s (%s)", ch.AuthorityHost, cl.AuthorityHost, cl.Reason),
			Fix:         fmt.Sprintf("set %s to %s", EnvAuthorityHost, ch.AuthorityHost),
		}
	case ch.ResourceID != "" && !strings.EqualFold(strings.TrimRight(ch.ResourceID, "/"), strings.TrimRight(c.OrgURL, "/")):
		return &ExplainedError{
			Explanation: fmt.Sprintf("the environment expects tokens for %s, but %s is %s", ch.ResourceID, EnvOrgURL, c.OrgURL),
			Fix:         fmt.Sprintf("set %s to %s", EnvOrgURL, strings.TrimRight(ch.ResourceID, "/")),
		}
	}
	return nil
}
