package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/identity"
	"github.com/d365s2s/d365/emulator/internal/traffic"
	"github.com/d365s2s/d365/emulator/internal/webapi"
)

// tokenAuthenticator turns the bearer token of a Web API request into the calling app, the way
// Dataverse does: the token must verify against the token service's published keys and be issued
// for this organization (else 401). Whether its tenant is the organization's is the Web API's
// question (webapi.Options.TenantID): a genuine token of another tenant is a caller that is not a
// member of the organization, 403 0x80072560. The traffic middleware calls identify first (to
// meter the caller); the Web API's Authenticate then reuses its result.
type tokenAuthenticator struct {
	identity  *identity.Service
	challenge string // the Web API's WWW-Authenticate value, for injected 401s
}

// authenticated is what identify hands the Web API through the traffic middleware.
type authenticated struct{ caller webapi.Caller }

var errNoBearer = errors.New("the request has no Authorization header with a Bearer access token")

// Authenticate implements webapi.Authenticator. A refusal's reason goes to the request log.
func (a *tokenAuthenticator) Authenticate(r *http.Request) (webapi.Caller, error) {
	if c, ok := traffic.CallerFromContext(r.Context()); ok {
		if d, ok := c.Detail.(authenticated); ok {
			return d.caller, nil
		}
	}
	caller, err := a.check(r)
	if err != nil {
		traffic.SetReason(r.Context(), err.Error())
		return webapi.Caller{}, err
	}
	return caller, nil
}

// identify tells the traffic middleware who sent a request: the token's tenant and app on the
// Web API (nobody when the token is refused: the Web API answers 401, unmetered), the tenant and
// client_id on the token endpoint.
func (a *tokenAuthenticator) identify(r *http.Request) traffic.Caller {
	if !strings.HasPrefix(r.URL.Path, "/api/data/") {
		return traffic.TokenRequestCaller(r)
	}
	caller, err := a.check(r)
	if err != nil {
		return traffic.Caller{}
	}
	return traffic.Caller{TenantID: caller.TenantID, AppID: caller.ApplicationID, Detail: authenticated{caller}}
}

// check validates the request's bearer token. Errors are sentences safe to log: they never hold
// the token.
func (a *tokenAuthenticator) check(r *http.Request) (webapi.Caller, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return webapi.Caller{}, errNoBearer
	}
	scheme, raw, _ := strings.Cut(header, " ")
	raw = strings.TrimSpace(raw)
	if !strings.EqualFold(scheme, "Bearer") {
		if isWord(scheme) {
			return webapi.Caller{}, fmt.Errorf("the Authorization header uses the %q scheme; Dataverse accepts only Bearer access tokens", scheme)
		}
		return webapi.Caller{}, errors.New("the Authorization header is not of the form \"Bearer <access token>\"")
	}
	if raw == "" {
		return webapi.Caller{}, errNoBearer
	}
	tok, err := a.identity.ValidateAccessToken(raw)
	if err != nil {
		return webapi.Caller{}, err
	}
	return webapi.Caller{TenantID: tok.TenantID, ApplicationID: tok.AppID, ObjectID: tok.ObjectID}, nil
}

// isWord reports whether s looks like an authentication scheme name (Basic, Negotiate, …), which
// is safe to echo in a message; anything else might be a credential pasted without its scheme.
func isWord(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}
