// Package caller says who sent a request to the emulator, once per request, for every module
// that needs to know.
//
// One middleware (Middleware) identifies the caller and puts a typed Caller in the request
// context; the traffic middleware (limits, faults, request log) and the Web API only read it
// (FromContext). On the Web API (/api/data/) the caller is the application of a validated bearer
// access token; on the Entra token endpoint (/{tenant}/oauth2/...) it is the tenant of the path
// and the client_id of the form, which is what service protection and fault rules match on.
//
// The Web API's 401 challenge is built here too (Challenge, WriteUnauthorized), so the Web API's
// own 401 and an injected one carry the same WWW-Authenticate value.
//
// The package imports nothing of the emulator's, so traffic, webapi and the emulator root can
// all import it without a cycle.
package caller
