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

// maxConnsPerHost bounds the connections the default transport opens to
// one environment, and keeps as many idle: above the Governor's maximum
// concurrency (52, DefaultGovernorMaxConcurrency), so that every request
// the Governor admits has a connection of its own and none is reopened.
const maxConnsPerHost = 64

// defaultUsesHTTP2 is the default transport's protocol choice: HTTP/1.1
// keep-alive connections, one per request in flight, measured faster for
// parallel calls than HTTP/2 streams on one connection (docs/benchmarks.md,
// BenchmarkE2EParallelTransport), and spread over the environment's web
// servers as Microsoft advises for parallel work (service protection limits
// count per web server).
const defaultUsesHTTP2 = false

var (
	defaultTransportOnce sync.Once
	defaultTransport     *http.Client
)

// transportOrDefault returns t, or a process-wide HTTP client shared by all
// Clients created without a Transport, so connections are pooled across
// them (see newHTTPClient).
func transportOrDefault(t policy.Transporter) policy.Transporter {
	if t != nil {
		return t
	}
	defaultTransportOnce.Do(func() {
		defaultTransport = newHTTPClient(&tls.Config{MinVersion: tls.VersionTLS12}, defaultUsesHTTP2)
	})
	return defaultTransport
}

// NewHTTPClient returns an HTTP client like the one a Client uses when
// ClientOptions.Transport is nil (an HTTP/1.1 keep-alive pool sized for
// the Governor, no cookie jar, proxy from the environment), with tlsConfig:
// pass it as ClientOptions.Transport to trust extra roots (a private CA, the
// emulator's) without giving those up. A nil tlsConfig means TLS 1.2 or
// later with the system roots. Each call makes a new connection pool: make
// one per process.
func NewHTTPClient(tlsConfig *tls.Config) *http.Client {
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return newHTTPClient(tlsConfig, defaultUsesHTTP2)
}

// newHTTPClient returns the HTTP client a Client uses when none is given. It
// mirrors azcore's default (proxy from the environment, TLS 1.2 or later)
// and differs in three ways, each for parallel work
// (https://learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests):
//
//   - It has no cookie jar, so the server-affinity cookie Dataverse sets is
//     never sent back: each request may go to any web server, and the
//     service protection limits, which count per web server, spread. (A
//     caller who wants affinity passes an *http.Client with a Jar.)
//   - It keeps maxConnsPerHost connections per host open, enough for every
//     request the Governor admits.
//   - It speaks HTTP/1.1 unless http2: a keep-alive pool spreads requests
//     over several connections, where HTTP/2 multiplexes them on one (and
//     so one web server).
func newHTTPClient(tlsConfig *tls.Config, http2 bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if !http2 && slices.Contains(tlsConfig.NextProtos, "h2") {
		// A configuration that offers h2 in ALPN would get an HTTP/2
		// connection the HTTP/1.1 transport cannot read.
		tlsConfig = tlsConfig.Clone()
		// (Clone shares the slice: filter into a new one.)
		var protos []string
		for _, p := range tlsConfig.NextProtos {
			if p != "h2" {
				protos = append(protos, p)
			}
		}
		tlsConfig.NextProtos = protos
	}
	tr.TLSClientConfig = tlsConfig
	tr.MaxConnsPerHost = maxConnsPerHost
	tr.MaxIdleConnsPerHost = maxConnsPerHost
	tr.MaxIdleConns = max(tr.MaxIdleConns, maxConnsPerHost)
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(http2)
	tr.Protocols = &p
	tr.ForceAttemptHTTP2 = http2
	return &http.Client{Transport: tr}
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
