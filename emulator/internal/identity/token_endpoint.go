package identity

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/aadsts"
)

// endpointVersion tells the v1 (ADAL-era) token endpoint from the v2 (MSAL-era) one.
type endpointVersion int

const (
	tokenV1 endpointVersion = 1
	tokenV2 endpointVersion = 2
)

func (v endpointVersion) String() string { return "v" + strconv.Itoa(int(v)) }

// oidcScopes are the scopes MSAL appends to every request; Entra ignores them for app tokens.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "offline_access": true, "email": true}

// singleValuedParams are the token-request parameters that must not repeat.
var singleValuedParams = []string{"grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type", "scope", "resource"}

// maxEchoed bounds how much of a request value an error message repeats.
const maxEchoed = 256

// tokenResponseV2 is the v2 success response: numbers are JSON numbers.
type tokenResponseV2 struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	RefreshIn    int64  `json:"refresh_in,omitempty"`
	AccessToken  string `json:"access_token"`
}

// tokenResponseV1 is the v1 success response: every number is a string, plus expires_on,
// not_before (epoch seconds) and resource.
type tokenResponseV1 struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    string `json:"expires_in"`
	ExtExpiresIn string `json:"ext_expires_in"`
	RefreshIn    string `json:"refresh_in,omitempty"`
	ExpiresOn    string `json:"expires_on"`
	NotBefore    string `json:"not_before"`
	Resource     string `json:"resource"`
	AccessToken  string `json:"access_token"`
}

// tokenOutcome is what one token request did, for the log line. It holds no secret.
type tokenOutcome struct {
	tenantID   string
	clientID   string
	authMethod string // "client_secret_post", "client_secret_basic", "private_key_jwt" or ""
	err        *aadsts.Error
}

// serveToken handles POST /{tenant}/oauth2/token and /{tenant}/oauth2/v2.0/token.
func (s *Service) serveToken(w http.ResponseWriter, r *http.Request, tenantSeg string, v endpointVersion) {
	rc := s.newRequestContext(r)
	if r.Method == http.MethodOptions {
		w.Header().Set("Allow", "POST, OPTIONS")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var out tokenOutcome
	resp, aerr := s.token(r.Context(), w, r, rc, tenantSeg, v, &out)
	out.err = aerr
	s.logToken(r.Context(), rc, v, &out)
	if aerr != nil {
		writeAADError(w, rc, aerr)
		return
	}
	writeJSON(w, rc, http.StatusOK, resp, false)
}

func (s *Service) logToken(ctx context.Context, rc *requestContext, v endpointVersion, out *tokenOutcome) {
	attrs := []slog.Attr{
		slog.String("endpoint", v.String()),
		slog.String("tenant_id", out.tenantID),
		slog.String("client_id", out.clientID),
		slog.String("auth", out.authMethod),
		slog.String("trace_id", rc.TraceID),
		slog.String("correlation_id", rc.CorrelationID),
	}
	if out.err != nil {
		attrs = append(attrs, slog.Int("status", out.err.Status), slog.String("error", out.err.OAuth), slog.Int("aadsts", out.err.Code))
		s.log.LogAttrs(ctx, slog.LevelWarn, "token request rejected", attrs...)
		return
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "token issued", attrs...)
}

// token runs the client-credentials grant. The checks follow the order in which Entra reports
// them: request shape, tenant, grant, client, target, client authentication, resource principal.
func (s *Service) token(ctx context.Context, w http.ResponseWriter, r *http.Request, rc *requestContext,
	tenantSeg string, v endpointVersion, out *tokenOutcome) (any, *aadsts.Error) {
	if r.Method != http.MethodPost {
		return nil, aadsts.PostOnly(r.Method)
	}
	tenantless := tenantlessSegments[strings.ToLower(tenantSeg)]
	var tenant Tenant
	if !tenantless {
		var aerr *aadsts.Error
		if tenant, aerr = s.resolveTenantSegment(ctx, tenantSeg); aerr != nil {
			return nil, aerr
		}
		out.tenantID = tenant.ID
	}

	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, aadsts.MalformedRequest()
	}
	form := r.PostForm
	for _, name := range singleValuedParams {
		if len(form[name]) > 1 {
			return nil, aadsts.MalformedRequest()
		}
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return nil, aadsts.MissingParameter("grant_type")
	}
	if grant != "client_credentials" {
		return nil, aadsts.UnsupportedGrantType(truncate(grant, maxEchoed))
	}
	if tenantless {
		return nil, aadsts.TenantlessClientCredentials()
	}

	// Client identification: client_secret_post (body) or client_secret_basic (RFC 6749 §2.3.1:
	// the Basic user and password are form-urlencoded before base64).
	clientID, secret := form.Get("client_id"), form.Get("client_secret")
	out.authMethod = "client_secret_post"
	if user, pass, ok := r.BasicAuth(); ok {
		user, pass = formUnescape(user), formUnescape(pass)
		if (clientID != "" && clientID != user) || form.Has("client_secret") {
			return nil, aadsts.MalformedRequest() // two client authentication methods at once
		}
		clientID, secret = user, pass
		out.authMethod = "client_secret_basic"
	}
	if clientID == "" {
		return nil, aadsts.MissingParameter("client_id")
	}
	if looksLikeGUID(clientID) {
		out.clientID = strings.ToLower(clientID)
	}

	resource, aerr := requestedResource(form, v)
	if aerr != nil {
		return nil, aerr
	}

	app, err := queryApp(ctx, s.db, strings.ToLower(clientID))
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && app.TenantID != tenant.ID):
		return nil, aadsts.AppNotFound(truncate(clientID, maxEchoed), tenant.name())
	case err != nil:
		s.log.Error("app lookup failed", "error", err)
		return nil, aadsts.Transient()
	}
	if app.Disabled {
		return nil, aadsts.AppDisabled(app.ClientID, app.DisplayName)
	}

	acr, aerr := s.authenticateClient(ctx, rc, form, tenant, tenantSeg, app, secret, out)
	if aerr != nil {
		return nil, aerr
	}

	audience, ok := s.audienceFor(resource)
	if !ok {
		return nil, aadsts.ResourceNotFound(truncate(resource, maxEchoed), tenant.name())
	}
	tok, err := s.issueAccessToken(rc.Now, tenant, app, audience, acr)
	if err != nil {
		s.log.Error("issuing a token failed", "error", err)
		return nil, aadsts.Transient()
	}
	return tokenResponse(tok, v, resource), nil
}

// authenticateClient checks the client's credential and returns the appidacr it earns: "1" for a
// secret, "2" for a certificate.
func (s *Service) authenticateClient(ctx context.Context, rc *requestContext, form url.Values, tenant Tenant, tenantSeg string,
	app App, secret string, out *tokenOutcome) (string, *aadsts.Error) {
	assertion, assertionType := form.Get("client_assertion"), form.Get("client_assertion_type")
	switch {
	case assertion != "" && secret != "":
		return "", aadsts.MalformedRequest() // two client authentication methods at once
	case assertion != "" || assertionType != "":
		out.authMethod = "private_key_jwt"
		if assertionType == "" {
			return "", aadsts.MissingParameter("client_assertion_type")
		}
		if assertionType != clientAssertionType {
			return "", aadsts.AssertionTypeUnexpected()
		}
		if assertion == "" {
			return "", aadsts.NoClientCredential()
		}
		if aerr := s.verifyClientAssertion(ctx, rc.Now, tenant, tenantSeg, app, assertion); aerr != nil {
			return "", aerr
		}
		return "2", nil
	case secret == "":
		return "", aadsts.NoClientCredential()
	}
	result, _, err := s.checkSecret(ctx, app.ClientID, secret, rc.Now)
	if err != nil {
		s.log.Error("secret check failed", "client_id", app.ClientID, "error", err)
		return "", aadsts.Transient()
	}
	switch result {
	case secretValid:
		return "1", nil
	case secretExpired:
		return "", aadsts.SecretExpired(app.ClientID)
	default:
		return "", aadsts.WrongSecret(app.ClientID)
	}
}

// requestedResource reads the target of the request: resource= on v1, scope=<resource>/.default
// on v2 (ignoring the OpenID Connect scopes MSAL adds).
func requestedResource(form url.Values, v endpointVersion) (string, *aadsts.Error) {
	if v == tokenV1 {
		resource := strings.TrimSpace(form.Get("resource"))
		if resource == "" {
			// [unverified]: Entra v1 may default to a Graph resource instead of refusing.
			return "", aadsts.MissingParameter("resource")
		}
		return resource, nil
	}
	if form.Has("resource") {
		return "", aadsts.ResourceParameterOnV2()
	}
	scope := form.Get("scope")
	if strings.TrimSpace(scope) == "" {
		return "", aadsts.MissingParameter("scope")
	}
	var target string
	for f := range strings.FieldsSeq(scope) {
		if oidcScopes[strings.ToLower(f)] {
			continue
		}
		if target != "" {
			return "", aadsts.ScopeInvalid(truncate(scope, maxEchoed))
		}
		target = f
	}
	if target == "" {
		return "", aadsts.ScopeNotDefault(truncate(strings.TrimSpace(scope), maxEchoed))
	}
	resource, ok := strings.CutSuffix(target, "/.default")
	if !ok || resource == "" {
		return "", aadsts.ScopeNotDefault(truncate(target, maxEchoed))
	}
	return resource, nil
}

// audienceFor maps a requested resource to the aud of the token, or false when it is not this
// organization (AADSTS500011). The org URL may be named with or without a trailing slash, in any
// case; aud follows how it was named. The Dynamics CRM app ID is accepted as well.
func (s *Service) audienceFor(resource string) (string, bool) {
	if strings.EqualFold(resource, dynamicsCRMAppID) {
		return dynamicsCRMAppID, true
	}
	trimmed, slash := strings.CutSuffix(resource, "/")
	if !strings.EqualFold(trimmed, s.resource) {
		return "", false
	}
	if slash {
		return s.resource + "/", true
	}
	return s.resource, true
}

func tokenResponse(tok issuedToken, v endpointVersion, resource string) any {
	expiresIn := int64(tok.lifetime / time.Second)
	// ext_expires_in equals expires_in in every recorded Entra response (entra.md §1.4).
	if v == tokenV2 {
		return tokenResponseV2{
			TokenType:    "Bearer",
			ExpiresIn:    expiresIn,
			ExtExpiresIn: expiresIn,
			RefreshIn:    refreshIn(tok.lifetime),
			AccessToken:  tok.raw,
		}
	}
	resp := tokenResponseV1{
		TokenType:    "Bearer",
		ExpiresIn:    strconv.FormatInt(expiresIn, 10),
		ExtExpiresIn: strconv.FormatInt(expiresIn, 10),
		ExpiresOn:    strconv.FormatInt(tok.expires.Unix(), 10),
		NotBefore:    strconv.FormatInt(tok.notBefore.Unix(), 10),
		Resource:     resource,
		AccessToken:  tok.raw,
	}
	if ri := refreshIn(tok.lifetime); ri > 0 {
		resp.RefreshIn = strconv.FormatInt(ri, 10)
	}
	return resp
}

// formUnescape undoes the form-urlencoding RFC 6749 §2.3.1 applies to Basic credentials; a value
// that does not unescape is used as sent.
func formUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
