package dataverse

import (
	"net/http"

	"github.com/d365s2s/d365/internal/httpheader"
)

// parseChallenge reads the Bearer challenge of a 401 response, nil when it has none.
func parseChallenge(h http.Header) *Challenge {
	uri, resource, ok := httpheader.BearerChallenge(h.Values("WWW-Authenticate"))
	if !ok {
		return nil
	}
	return &Challenge{AuthorizationURI: uri, ResourceID: resource}
}
