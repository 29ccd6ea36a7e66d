package traffic

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// isGUID reports whether s is a GUID in the 8-4-4-4-12 form (a tenant ID rather than a domain).
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// tableOf returns the first resource segment of a Web API path without its key or navigation:
// /api/data/v9.2/contacts(<id>)/x -> "contacts", /api/data/v9.2/$batch -> "$batch".
func tableOf(path string) string {
	rest := strings.TrimPrefix(path, apiPrefix)
	_, rest, ok := strings.Cut(rest, "/") // the version
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "(/"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// sensitiveParams are query parameters whose values are never logged.
var sensitiveParams = []string{
	"access_token", "id_token", "refresh_token", "token", "client_secret", "client_assertion",
	"assertion", "code", "password", "sig", "signature", "key", "secret",
}

// logQuery is the query string the request log keeps: a Web API URL's (it says what was asked,
// and is redacted when read); none for other URLs, whose queries may carry anything.
func logQuery(r *http.Request) string {
	if !strings.HasPrefix(r.URL.Path, apiPrefix) {
		return ""
	}
	return r.URL.RawQuery
}

// redactQuery replaces the values of sensitive parameters, and any value that looks like a JWT,
// with REDACTED. It allocates only when it changes something.
func redactQuery(q string) string {
	if !needsRedaction(q) {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	for i, part := range strings.Split(q, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		k, v, hasValue := strings.Cut(part, "=")
		if hasValue && (isSensitiveParam(k) || looksLikeJWT(v)) {
			b.WriteString(k)
			b.WriteString("=REDACTED")
			continue
		}
		b.WriteString(part)
	}
	return b.String()
}

func needsRedaction(q string) bool {
	rest := q
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		k, v, _ := strings.Cut(part, "=")
		if isSensitiveParam(k) || looksLikeJWT(v) {
			return true
		}
	}
	return false
}

func isSensitiveParam(k string) bool {
	if uk, err := url.QueryUnescape(k); err == nil {
		k = uk
	}
	for _, s := range sensitiveParams {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

// looksLikeJWT spots a JWS compact serialisation ("eyJ…" header, or "Bearer eyJ…").
func looksLikeJWT(v string) bool {
	return strings.Contains(v, "eyJ") && strings.Count(v, ".") >= 2
}
