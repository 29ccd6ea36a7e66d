package traffic

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// maxFormPeek bounds how much of a token request's body TokenRequestCaller reads to find
// client_id. Token requests are a few hundred bytes (a certificate assertion a few KB).
const maxFormPeek = 64 << 10

// TokenRequestCaller identifies the caller of an Entra token request (/{tenant}/oauth2/...): the
// tenant as written in the path and the client_id of the form body (or of HTTP Basic
// authentication, client_secret_basic). It reads at most 64 KiB of the body and puts back a body
// that yields the same bytes, so the token endpoint still sees the whole form. It reads nothing
// else: the secret and assertion are neither kept nor returned. For other paths it returns the
// zero Caller.
func TokenRequestCaller(r *http.Request) Caller {
	if !isTokenPath(r.URL.Path) {
		return Caller{}
	}
	tenant, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	c := Caller{TenantID: tenant}
	if user, _, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(user); err == nil {
			c.AppID = id
		}
	}
	if c.AppID != "" || r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody {
		return c
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return c
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxFormPeek))
	switch {
	case err != nil:
		// The body failed mid-read: hand on what arrived, then the same failure.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), errReader{err}), r.Body}
	case len(buf) < maxFormPeek:
		r.Body = readCloser{bytes.NewReader(buf), r.Body}
	default:
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), r.Body), r.Body}
	}
	c.AppID = formValue(buf, "client_id")
	return c
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// formValue returns the first value of key in a urlencoded form without parsing (or keeping)
// the other fields.
func formValue(form []byte, key string) string {
	for len(form) > 0 {
		var pair []byte
		pair, form, _ = bytes.Cut(form, []byte("&"))
		k, v, _ := bytes.Cut(pair, []byte("="))
		if string(k) != key {
			continue
		}
		s, err := url.QueryUnescape(string(v))
		if err != nil {
			return ""
		}
		return s
	}
	return ""
}

// isGUID reports whether s is a GUID in the 8-4-4-4-12 form (a tenant ID rather than a domain).
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// isTokenPath reports whether path is an Entra OAuth 2.0 endpoint: /{tenant}/oauth2/...
func isTokenPath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return false
	}
	tenant, rest, ok := strings.Cut(rest, "/")
	return ok && tenant != "" && strings.HasPrefix(rest, "oauth2/")
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
