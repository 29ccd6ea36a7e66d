package cli

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
)

// debugBodyLimit is how much of a body --debug prints.
const debugBodyLimit = 4096

// redactedValue replaces every secret in a --debug trace.
const redactedValue = "[REDACTED]"

// debugTransport is the http.RoundTripper of --debug: it writes each request and response (line,
// headers, the start of a textual body) to w, with credentials redacted — the Authorization
// header, client_secret, client_assertion and tokens in bodies, and anything shaped like a JWT.
// It sits under azcore's pipeline, so it sees every try, retries included, of both the token
// requests and the Dataverse requests.
type debugTransport struct {
	next  http.RoundTripper
	trace *debugTrace
}

// debugTrace is where the debugTransports of one process write: their requests are numbered in
// one sequence (the token client and the Dataverse client are two transports), and one
// request's lines stay together.
type debugTrace struct {
	mu  sync.Mutex
	w   io.Writer
	seq int
}

// sensitiveHeaders are printed as [REDACTED].
var sensitiveHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"X-Identity-Header": true, "Secret": true,
}

// sensitiveFormFields are form fields (token requests) printed as [REDACTED].
var sensitiveFormFields = map[string]bool{
	"client_secret": true, "client_assertion": true, "assertion": true, "password": true,
	"refresh_token": true, "access_token": true, "code": true,
}

// jsonTokenField matches a token or secret member of a JSON body; jwtShape anything shaped like
// a JWT (header.payload.signature, base64url, starting "eyJ").
var (
	jsonTokenField = regexp.MustCompile(`("(?:access_token|refresh_token|id_token|client_secret|client_assertion|token|password)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	jwtShape       = regexp.MustCompile(`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)
)

// RoundTrip implements http.RoundTripper.
func (t *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody && req.GetBody != nil {
		// azcore's GetBody rewinds the one body rather than returning a copy: read the start
		// through it, then rewind again and send the request with that body.
		if rc, err := req.GetBody(); err == nil {
			reqBody, _ = io.ReadAll(io.LimitReader(rc, debugBodyLimit+1))
			if fresh, err := req.GetBody(); err == nil {
				req = req.Clone(req.Context())
				req.Body = fresh
			}
		}
	}
	tr := t.trace
	tr.mu.Lock()
	tr.seq++
	n := tr.seq
	var b strings.Builder
	fmt.Fprintf(&b, "> [%d] %s %s\n", n, req.Method, redactURL(req.URL))
	writeHeaders(&b, "> ", req.Header)
	writeBody(&b, "> ", req.Header.Get("Content-Type"), reqBody)
	io.WriteString(tr.w, b.String())
	tr.mu.Unlock()

	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	elapsed := time.Since(start).Round(time.Millisecond)
	b.Reset()
	if err != nil {
		fmt.Fprintf(&b, "< [%d] error after %s: %s\n", n, elapsed, redactText(err.Error()))
	} else {
		fmt.Fprintf(&b, "< [%d] %s %s (%s)\n", n, resp.Proto, resp.Status, elapsed)
		writeHeaders(&b, "< ", resp.Header)
		if resp.Body != nil && isTextual(resp.Header.Get("Content-Type")) {
			head, _ := io.ReadAll(io.LimitReader(resp.Body, debugBodyLimit+1))
			resp.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
			writeBody(&b, "< ", resp.Header.Get("Content-Type"), head)
		}
	}
	tr.mu.Lock()
	io.WriteString(tr.w, b.String())
	tr.mu.Unlock()
	return resp, err
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range h[name] {
			if sensitiveHeaders[http.CanonicalHeaderKey(name)] {
				scheme, _, found := strings.Cut(v, " ")
				if found && !strings.Contains(scheme, "=") {
					v = scheme + " " + redactedValue // keep "Bearer": which scheme was sent matters
				} else {
					v = redactedValue
				}
			} else {
				v = redactText(v)
			}
			fmt.Fprintf(b, "%s%s: %s\n", prefix, name, v)
		}
	}
}

func writeBody(b *strings.Builder, prefix, contentType string, body []byte) {
	if len(body) == 0 {
		return
	}
	if !isTextual(contentType) {
		fmt.Fprintf(b, "%s(%s body not shown)\n", prefix, contentType)
		return
	}
	truncated := len(body) > debugBodyLimit
	if truncated {
		body = body[:debugBodyLimit]
	}
	text := redactBody(contentType, string(body))
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(prefix + line + "\n")
	}
	if truncated {
		fmt.Fprintf(b, "%s… (first %d bytes shown)\n", prefix, debugBodyLimit)
	}
}

func isTextual(contentType string) bool {
	ct := strings.ToLower(contentType)
	return ct == "" || strings.Contains(ct, "json") || strings.HasPrefix(ct, "text/") ||
		strings.Contains(ct, "x-www-form-urlencoded") || strings.Contains(ct, "xml") || strings.Contains(ct, "multipart/mixed")
}

// redactBody removes secrets from a body: form fields by name, JSON members by name, and
// anything shaped like a JWT.
func redactBody(contentType, body string) string {
	if strings.Contains(strings.ToLower(contentType), "x-www-form-urlencoded") {
		if vals, err := url.ParseQuery(body); err == nil {
			parts := make([]string, 0, len(vals))
			keys := make([]string, 0, len(vals))
			for k := range vals {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for _, v := range vals[k] {
					if sensitiveFormFields[strings.ToLower(k)] {
						v = redactedValue
					}
					parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
				}
			}
			return redactText(strings.Join(parts, "&"))
		}
		return redactedValue // a form body that does not parse may hold anything
	}
	return redactText(jsonTokenField.ReplaceAllString(body, `${1}"`+redactedValue+`"`))
}

// redactText replaces anything shaped like a JWT.
func redactText(s string) string { return jwtShape.ReplaceAllString(s, redactedValue) }

// redactURL drops a URL's user info and redacts sensitive query parameters.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		changed := false
		for k := range q {
			if sensitiveFormFields[strings.ToLower(k)] || strings.EqualFold(k, "sig") {
				q.Set(k, redactedValue)
				changed = true
			}
		}
		if changed {
			c.RawQuery = q.Encode()
		}
	}
	return redactText(c.String())
}
