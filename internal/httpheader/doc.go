// Package httpheader reads the two response headers that both the auth and the dataverse
// packages act on: Retry-After (RFC 9110 §10.2.3), which Entra and Dataverse send with a 429 or
// 503, and the WWW-Authenticate Bearer challenge (RFC 9110 §11.6.1), which Dataverse sends with
// a 401 to name the authority and the resource a token must come from.
//
// It lives under internal/ so that auth and dataverse share one reading of these headers
// without dataverse importing auth (see docs/architecture.md). It holds no protocol knowledge
// beyond the header grammar; what a value means is the caller's business.
package httpheader
