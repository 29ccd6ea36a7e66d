package caller

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

var errNoBearer = errors.New("the request has no Authorization header with a Bearer access token")

// Bearer returns the access token of r's Authorization header ("Bearer <token>"). Its errors are
// sentences safe to log: they never hold the header's value, only a scheme name that looks like
// one.
func Bearer(r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return "", errNoBearer
	}
	scheme, raw, _ := strings.Cut(header, " ")
	raw = strings.TrimSpace(raw)
	if !strings.EqualFold(scheme, "Bearer") {
		if isWord(scheme) {
			return "", fmt.Errorf("the Authorization header uses the %q scheme; Dataverse accepts only Bearer access tokens", scheme)
		}
		return "", errors.New("the Authorization header is not of the form \"Bearer <access token>\"")
	}
	if raw == "" {
		return "", errNoBearer
	}
	return raw, nil
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
