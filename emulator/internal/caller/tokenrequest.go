package caller

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxFormPeek bounds how much of a token request's body TokenRequest reads to find client_id.
// Token requests are a few hundred bytes (a certificate assertion a few KB).
const maxFormPeek = 64 << 10

// TokenRequest identifies the caller of an Entra token request (/{tenant}/oauth2/...): the
// tenant as written in the path and the client_id of the form body (or of HTTP Basic
// authentication, client_secret_basic). It reads at most 64 KiB of the body and puts back a body
// that yields the same bytes, so the token endpoint still sees the whole form. It reads nothing
// else: the secret and assertion are neither kept nor returned. For other paths it returns the
// zero Caller.
func TokenRequest(r *http.Request) Caller {
	if !IsTokenPath(r.URL.Path) {
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

// IsTokenPath reports whether path is an Entra OAuth 2.0 endpoint: /{tenant}/oauth2/...
func IsTokenPath(path string) bool {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return false
	}
	tenant, rest, ok := strings.Cut(rest, "/")
	return ok && tenant != "" && strings.HasPrefix(rest, "oauth2/")
}
