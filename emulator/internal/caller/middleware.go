package caller

import (
	"net/http"
	"strings"
)

// apiPrefix is the Dataverse Web API's path prefix: there the caller is a bearer token's.
const apiPrefix = "/api/data/"

// Validator validates a bearer access token (signature, issuer, audience, lifetime) and returns
// its caller with TenantID, AppID and ObjectID set. An error is the reason in words, safe to log:
// it must never contain the token.
type Validator func(token string) (Caller, error)

// Middleware returns the caller-identity middleware: it identifies the caller of each request
// (see Identify) and hands next the request with that Caller in its context. validate checks
// Web API bearer tokens; nil refuses every token (no Web API caller is authenticated).
func Middleware(validate Validator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), Identify(r, validate))))
		})
	}
}

// Identify says who sent r: on the Web API, the caller of its bearer token (validated by
// validate; a missing or refused token gives a Caller with only Refusal set); on the token
// endpoint, TokenRequest's tenant and client_id; elsewhere nobody. It may replace r.Body with a
// reader of the same bytes (see TokenRequest).
func Identify(r *http.Request, validate Validator) Caller {
	if !strings.HasPrefix(r.URL.Path, apiPrefix) {
		return TokenRequest(r)
	}
	token, err := Bearer(r)
	if err != nil {
		return Caller{Refusal: err.Error()}
	}
	if validate == nil {
		return Caller{Refusal: "the emulator validates no access tokens"}
	}
	c, err := validate(token)
	if err != nil {
		return Caller{Refusal: err.Error()}
	}
	c.Authenticated, c.Refusal = true, ""
	return c
}
