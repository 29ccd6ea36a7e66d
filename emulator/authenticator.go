package emulator

import (
	"github.com/d365s2s/d365/emulator/internal/caller"
	"github.com/d365s2s/d365/emulator/internal/identity"
)

// tokenValidator validates a Web API bearer token the way Dataverse does: it must verify against
// the token service's published keys and be issued for this organization (else 401). Whether its
// tenant is the organization's is the Web API's question (webapi.Options.TenantID): a genuine
// token of another tenant is a caller that is not a member of the organization, 403 0x80072560.
// The caller-identity middleware (caller.Middleware) calls it once per Web API request; the
// traffic middleware and the Web API read the caller it puts in the request context. Its errors
// are sentences safe to log: they never hold the token.
func tokenValidator(ids *identity.Service) caller.Validator {
	return func(raw string) (caller.Caller, error) {
		tok, err := ids.ValidateAccessToken(raw)
		if err != nil {
			return caller.Caller{}, err
		}
		return caller.Caller{TenantID: tok.TenantID, AppID: tok.AppID, ObjectID: tok.ObjectID}, nil
	}
}
