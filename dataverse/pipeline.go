package dataverse

import (
	"crypto/tls"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// maxErrorBody bounds how much of a non-2xx response body is read: enough
// for any Dataverse error envelope with its annotations, small enough that a
// misbehaving proxy cannot make an error cost megabytes.
const maxErrorBody = 64 << 10

// loggedHeaders are response and request headers whose values azcore's
// logging policy prints as they are. Every other header (Authorization
// first of all) is printed as REDACTED.
var loggedHeaders = []string{
	"x-ms-service-request-id",
	"REQ_ID",
	"Retry-After",
	"x-ms-ratelimit-burst-remaining-xrm-requests",
	"x-ms-ratelimit-time-remaining-xrm-requests",
	"OData-EntityId",
	"OData-Version",
	"OData-MaxVersion",
	"Preference-Applied",
	"Prefer",
	"ETag",
	"If-Match",
	"If-None-Match",
	"Location",
	"WWW-Authenticate",
	"Content-ID",
	"MSCRM.SolutionUniqueName",
	"MSCRM.BypassCustomPluginExecution",
	"MSCRM.BypassBusinessLogicExecution",
	"MSCRM.SuppressDuplicateDetection",
	"Consistency",
}

// credentialHeaders carry credentials. They are always logged REDACTED:
// newPipeline drops them from ClientOptions.Logging.AllowedHeaders, whatever
// their spelling, because azcore would otherwise print the access token; and
// the request a *ResponseError keeps has none of them (withoutCredentials).
var credentialHeaders = []string{"Authorization", "Proxy-Authorization"}

// isCredentialHeader reports whether name is one of credentialHeaders,
// compared case-insensitively.
func isCredentialHeader(name string) bool {
	name = strings.TrimSpace(name)
	return slices.ContainsFunc(credentialHeaders, func(c string) bool { return strings.EqualFold(name, c) })
}

// withoutCredentialHeaders returns a copy of allowed without the
// credential headers (compared case-insensitively, as azcore's logging
// matches names). The caller's slice is never modified.
func withoutCredentialHeaders(allowed []string) []string {
	out := make([]string, 0, len(allowed))
	for _, name := range allowed {
		if !isCredentialHeader(name) {
			out = append(out, name)
		}
	}
	return out
}

// loggedQueryParameters are query options printed as they are; $filter,
// $apply, fetchXml and skip tokens can carry data values and stay REDACTED.
var loggedQueryParameters = []string{"$select", "$top", "$count", "$orderby"}

// policyFunc adapts a function to policy.Policy.
type policyFunc func(*policy.Request) (*http.Response, error)

// Do implements policy.Policy.
func (f policyFunc) Do(req *policy.Request) (*http.Response, error) { return f(req) }

var (
	defaultTransportOnce sync.Once
	defaultTransport     *http.Client
)

// transportOrDefault returns t, or a process-wide HTTP client shared by all
// Clients created without a Transport, so connections are pooled across them.
// It mirrors azcore's default (proxy from environment, TLS 1.2 or later) and
// keeps more idle connections per host, because Dataverse allows 52
// concurrent requests per user and a client that parallelises would
// otherwise reopen connections.
func transportOrDefault(t policy.Transporter) policy.Transporter {
	if t != nil {
		return t
	}
	defaultTransportOnce.Do(func() {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		tr.MaxIdleConnsPerHost = 64
		tr.ForceAttemptHTTP2 = true
		defaultTransport = &http.Client{Transport: tr}
	})
	return defaultTransport
}

// errorBodyLimiter wraps the transport so that the body of a non-2xx
// response yields at most maxErrorBody bytes. azcore's body-download policy
// reads error bodies completely; this bounds what it can read.
type errorBodyLimiter struct {
	next policy.Transporter
}

// Do implements policy.Transporter.
func (t *errorBodyLimiter) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.next.Do(req)
	if err == nil && resp != nil && resp.StatusCode >= 300 && resp.Body != nil {
		resp.Body = &limitedBody{rc: resp.Body, left: maxErrorBody}
	}
	return resp, err
}

// limitedBody reads at most left bytes of rc, then reports io.EOF.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

// Read implements io.Reader.
func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

// Close closes the underlying body.
func (b *limitedBody) Close() error { return b.rc.Close() }
