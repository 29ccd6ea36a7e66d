package traffic

import (
	"github.com/d365s2s/d365/emulator/internal/caller"
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/aadsts"
	"github.com/d365s2s/d365/emulator/internal/dverr"
)

// Dataverse's answer to a request with more than one Authorization header. [unverified] No
// Microsoft page says what the service does with two; RFC 9110 §5.3 forbids repeating a field that
// is not a list, and serving such a request by one of them would let a proxy and the service
// disagree on who the caller is, so it is refused as malformed: 400 with the generic code.
const (
	ambiguousAuthorizationCode    = dverr.CodeAmbiguousAuthorization
	ambiguousAuthorizationMessage = "The request has more than one Authorization header. Send exactly one: Authorization: Bearer <access token>."
)

// refuseAmbiguousAuthorization answers a request that carries two or more Authorization headers
// with 400, in the shape of the endpoint it was sent to, without reading any of them.
func refuseAmbiguousAuthorization(ex *exchange, r *http.Request) {
	ex.answered = true
	ex.internal = "the request has more than one Authorization header"
	switch {
	case strings.HasPrefix(r.URL.Path, apiPrefix):
		ex.code = ambiguousAuthorizationCode
		writeDataverseError(ex, http.StatusBadRequest, ambiguousAuthorizationCode, ambiguousAuthorizationMessage, 0)
	case caller.IsTokenPath(r.URL.Path):
		e := aadsts.MalformedRequest()
		aadsts.Write(ex, e, aadsts.NewTrace(r, ex.start), 0)
	default:
		http.Error(ex, ambiguousAuthorizationMessage, http.StatusBadRequest)
	}
}
