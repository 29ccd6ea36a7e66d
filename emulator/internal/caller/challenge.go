package caller

import "net/http"

// Challenge is the Web API's WWW-Authenticate value, as Dataverse sends it with a 401:
// "Bearer authorization_uri=<authority>/<tenant>/oauth2/authorize, resource_id=<org URL>/".
// authorizationURI is the authority's authorize endpoint and orgURL the environment URL without a
// trailing slash.
func Challenge(authorizationURI, orgURL string) string {
	return "Bearer authorization_uri=" + authorizationURI + ", resource_id=" + orgURL + "/"
}

// WriteUnauthorized answers 401 the way Dataverse answers an unauthenticated request: an empty
// body and the challenge (none when challenge is empty). Headers already set on w (Retry-After)
// are kept.
func WriteUnauthorized(w http.ResponseWriter, challenge string) {
	if challenge != "" {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}
