package emulator

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/identity"
	"github.com/d365s2s/d365/emulator/internal/webapi"
)

// tokenAuthenticator turns the bearer token of a Web API request into the calling app, the way
// Dataverse does: the token must verify against the token service's published keys, be issued for
// this organization, and come from the organization's own tenant.
type tokenAuthenticator struct {
	identity *identity.Service
	tenantID string
}

var errNoBearer = errors.New("the request has no Authorization header with a Bearer access token")

func (a *tokenAuthenticator) Authenticate(r *http.Request) (webapi.Caller, error) {
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
	if !strings.EqualFold(tok.TenantID, a.tenantID) {
		return webapi.Caller{}, fmt.Errorf("the token was issued by tenant %s, but this organization belongs to tenant %s", tok.TenantID, a.tenantID)
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
