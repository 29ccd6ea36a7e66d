package caller

import "context"

// Caller is who sent a request. The zero Caller is an unknown one: no bearer token on the Web
// API, or a request that is neither a Web API nor a token request.
type Caller struct {
	// TenantID is the tenant: the tid claim of a validated access token, or on the token
	// endpoint the {tenant} of the path as written (a GUID or a domain).
	TenantID string
	// AppID is the application (client) id: the appid/azp claim of a validated access token,
	// or the client_id of a token request.
	AppID string
	// ObjectID is the oid claim of a validated access token: the service principal's object
	// id. Empty on the token endpoint.
	ObjectID string
	// Authenticated reports that the Web API request carried a valid access token issued for
	// this environment, so TenantID, AppID and ObjectID are its claims. A token of another
	// tenant is authenticated too: whether its tenant is the organization's is the Web API's
	// question (403, not 401).
	Authenticated bool
	// Refusal says, when a Web API request's token was missing or refused, why: a sentence safe
	// to log, never holding the token. The Web API answers such a request 401 and the request
	// log gives this reason.
	Refusal string
}

type contextKey struct{}

// NewContext returns ctx carrying c. Only the caller-identity middleware (Middleware) should
// call it in the emulator; tests of the modules that read the caller may call it directly.
func NewContext(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, contextKey{}, c)
}

// FromContext returns the Caller that Middleware put in ctx; ok is false when the request did
// not come through it.
func FromContext(ctx context.Context) (c Caller, ok bool) {
	c, ok = ctx.Value(contextKey{}).(Caller)
	return c, ok
}
