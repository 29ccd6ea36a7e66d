package dataverse

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
)

const (
	// moduleName and moduleVersion feed azcore's telemetry policy, which sends
	// "User-Agent: azsdk-go-dataverse/<version> (<go version>; <os>)".
	moduleName    = "dataverse"
	moduleVersion = "v0.1.0"

	// DefaultAPIVersion is the Web API version used in request URLs
	// ({org}/api/data/v9.2/) when ClientOptions.APIVersion is empty.
	DefaultAPIVersion = "v9.2"

	// DefaultMaxRetryWait bounds the total time one call spends waiting
	// between retries when ClientOptions.MaxRetryWait is zero. It matches the
	// 300-second window of the service protection limits: a call still
	// throttled after one whole window is better reported than hidden.
	DefaultMaxRetryWait = 5 * time.Minute
)

// ClientOptions configures a [Client]. A nil *ClientOptions is the same as
// the zero value, which selects every default.
//
// The embedded [azcore.ClientOptions] configures the azcore pipeline:
// Transport (an *http.Client or any policy.Transporter), Retry, Logging,
// Telemetry (the User-Agent), TracingProvider and extra PerCallPolicies /
// PerRetryPolicies. See the package documentation for how the retry policy
// is specialised for Dataverse.
type ClientOptions struct {
	azcore.ClientOptions

	// APIVersion is the Web API version in the URL path, "v9.2" by default.
	// It is never sent as an api-version query parameter.
	APIVersion string

	// MaxRetryWait bounds the total time a single call may spend waiting
	// between retries (Retry-After of throttled responses plus backoff).
	// When the next wait would cross the bound the call fails with the last
	// response instead. Zero means DefaultMaxRetryWait; negative means no
	// retry waits at all (every retry is given up).
	//
	// As azcore does, the client gives up on a response whose Retry-After
	// exceeds ClientOptions.Retry.MaxRetryDelay, so a MaxRetryDelay set below
	// the waits Dataverse asks for (up to minutes under service protection)
	// turns those 429s into immediate errors; leave it unset (it then
	// follows MaxRetryWait) and bound the wait here instead.
	MaxRetryWait time.Duration

	// MaxBatchResponseSize bounds the bytes of a $batch response the
	// client reads; a larger response fails ExecuteBatch (after the
	// service ran the batch). Zero means DefaultMaxBatchResponseSize. It
	// also bounds a GET sent through $batch because its URL is too long
	// (see List): that page is read whole into memory, not streamed.
	MaxBatchResponseSize int64

	// Governor tunes the Governor that paces the requests of this Client's
	// application user, shared by every Client of the process that
	// authenticates as the same application user to the same environment
	// (see [Client.Governor]). The first Client that sends for an application
	// user sets its initial and maximum concurrency.
	Governor GovernorOptions
}

// Client is a Dataverse Web API client for one environment (organisation).
//
// A Client is safe for concurrent use by multiple goroutines. It holds one
// azcore pipeline: one bearer-token policy (so one cached access token,
// refreshed 5 minutes before expiry by a single goroutine while others keep
// using the valid one) and one HTTP transport (so kept-alive connections are
// reused). Create one Client per environment and share it; creating a
// Client per request throws both caches away.
type Client struct {
	pl      runtime.Pipeline
	tracer  tracing.Tracer
	orgURL  string   // https://org.crm.dynamics.com (no trailing slash)
	baseURL *url.URL // https://org.crm.dynamics.com/api/data/v9.2/
	base    string   // baseURL.String()
	version string
	retry   *retrySettings
	cred    *challengedCredential // the caller's credential, as the bearer policy sees it
	// maxBatchResponse is ClientOptions.MaxBatchResponseSize resolved.
	maxBatchResponse int64
	// The governor: options, host of the environment (the registry's scope),
	// disabled, and the last token's Governor (governorOf).
	govOpts  GovernorOptions
	govHost  string
	govOff   bool
	governed atomic.Pointer[governedToken]
	// transport is the pipeline's transport as the lean first try uses it
	// (the caller's, wrapped by errorBodyLimiter); lean is nil when the
	// lean first try is not allowed (lean.go); leanHook, when set by a
	// test, sees every lean request before it is sent.
	transport *errorBodyLimiter
	lean      *leanSettings
	leanHook  func(*http.Request)
}

var apiVersionPattern = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// NewClient returns a client for the environment at orgURL, for example
// "https://contoso.crm.dynamics.com", authenticating with cred (typically
// an azidentity credential; the token scope is "<orgURL>/.default").
//
// orgURL must be an absolute https URL without query or fragment. A URL
// that already ends in /api/data/v9.x is accepted and its version is used
// unless opts sets another one. The client never follows links to other
// hosts, so the token is only ever sent to orgURL.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
func NewClient(orgURL string, cred azcore.TokenCredential, opts *ClientOptions) (*Client, error) {
	if opts == nil {
		opts = &ClientOptions{}
	}
	if cred == nil {
		return nil, invalidf("dataverse: NewClient: the credential is nil; pass an azcore.TokenCredential such as an azidentity.ClientSecretCredential")
	}
	version := opts.APIVersion
	if version == "" {
		version = opts.ClientOptions.APIVersion
	}
	org, urlVersion, err := parseOrgURL(orgURL, opts.InsecureAllowCredentialWithHTTP)
	if err != nil {
		return nil, err
	}
	switch {
	case version == "" && urlVersion != "":
		version = urlVersion
	case version == "":
		version = DefaultAPIVersion
	case urlVersion != "" && urlVersion != version:
		return nil, invalidf("dataverse: NewClient: the org URL names API version %s but ClientOptions.APIVersion is %s; pass the environment URL without /api/data/... or make them agree", urlVersion, version)
	}
	if !apiVersionPattern.MatchString(version) {
		return nil, invalidf("dataverse: NewClient: API version %q is not of the form v9.2", version)
	}
	base, err := url.Parse(org + "/api/data/" + version + "/")
	if err != nil {
		return nil, invalidf("dataverse: NewClient: %w", err)
	}
	c := &Client{
		orgURL:           org,
		baseURL:          base,
		base:             base.String(),
		version:          version,
		maxBatchResponse: opts.MaxBatchResponseSize,
		govOpts:          opts.Governor,
		govHost:          hostOf(org),
		govOff:           opts.Governor.Disabled,
	}
	if err := opts.Governor.validate(); err != nil {
		return nil, err
	}
	switch {
	case c.maxBatchResponse == 0:
		c.maxBatchResponse = DefaultMaxBatchResponseSize
	case c.maxBatchResponse < 0:
		return nil, invalidf("dataverse: NewClient: MaxBatchResponseSize %d is negative; 0 means the default of %d bytes", opts.MaxBatchResponseSize, DefaultMaxBatchResponseSize)
	}
	azc, err := c.newPipeline(cred, opts)
	if err != nil {
		return nil, err
	}
	c.pl = azc.Pipeline()
	c.tracer = azc.Tracer()
	c.lean = c.leanSettings(opts)
	return c, nil
}

// leanSettings decides whether this Client's GETs may take the lean first
// try (see lean.go), and returns what it needs; nil when they may not.
func (c *Client) leanSettings(opts *ClientOptions) *leanSettings {
	o := &opts.ClientOptions
	if len(o.PerCallPolicies) > 0 || len(o.PerRetryPolicies) > 0 || !c.retry.own || c.tracer.Enabled() {
		return nil
	}
	ua, keys, logs := probeLogging(o.Telemetry)
	if logs {
		return nil
	}
	s := &leanSettings{contextKeys: keys, tryTimeout: o.Retry.TryTimeout}
	if ua != "" {
		s.userAgent = []string{ua}
	}
	return s
}

// parseOrgURL validates an environment URL and returns it without a
// trailing slash, plus the API version if the URL ended in /api/data/vX.Y.
func parseOrgURL(raw string, allowHTTP bool) (org, version string, err error) {
	fail := func(why, fix string) (string, string, error) {
		return "", "", invalidf("dataverse: NewClient: invalid org URL %q: %s; %s", raw, why, fix)
	}
	const fix = "pass the environment URL, for example https://contoso.crm.dynamics.com"
	if strings.TrimSpace(raw) == "" {
		return fail("it is empty", fix)
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fail(err.Error(), fix)
	}
	switch {
	case !u.IsAbs() || u.Host == "":
		return fail("it is not an absolute URL", fix)
	case u.Scheme == "http" && !allowHTTP:
		return fail("it uses http; access tokens are only sent over https", fix)
	case u.Scheme != "https" && u.Scheme != "http":
		return fail("the scheme must be https", fix)
	case u.User != nil:
		return fail("it contains user information", fix)
	case u.RawQuery != "" || u.ForceQuery:
		return fail("it has a query string", fix)
	case u.Fragment != "":
		return fail("it has a fragment", fix)
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	if i := strings.LastIndex(p, "/api/data/"); i >= 0 {
		version = p[i+len("/api/data/"):]
		if !apiVersionPattern.MatchString(version) {
			return fail("it ends in /api/data/ but not in a version like v9.2", fix)
		}
		p = p[:i]
	}
	return u.Scheme + "://" + strings.ToLower(u.Host) + p, version, nil
}

// OrgURL returns the environment URL the client talks to, without a
// trailing slash (the audience of its access tokens).
func (c *Client) OrgURL() string { return c.orgURL }

// BaseURL returns the Web API base URL, "<org>/api/data/<version>/".
func (c *Client) BaseURL() string { return c.base }

// APIVersion returns the Web API version in the client's URLs ("v9.2").
func (c *Client) APIVersion() string { return c.version }

// scopes returns the token scope for the environment.
func (c *Client) scopes() []string { return []string{c.orgURL + "/.default"} }

// newPipeline builds the azcore pipeline: telemetry (User-Agent), the
// caller's per-call policies, azcore's retry policy with Dataverse's
// ShouldRetry, then per try: attemptPolicy, the bearer-token policy,
// governPolicy (the waits and the Governor), the caller's per-retry
// policies, logging, and the transport wrapped so error bodies are read
// only up to maxErrorBody bytes (c.transport, which the lean first try of
// lean.go uses too), under pipelineTransport, which answers the first try
// of a call whose lean first try failed with that try's outcome.
func (c *Client) newPipeline(cred azcore.TokenCredential, opts *ClientOptions) (*azcore.Client, error) {
	o := opts.ClientOptions // copy: never mutate the caller's options
	o.APIVersion = ""       // the version lives in the path, not in ?api-version=
	c.retry = newRetrySettings(o.Retry, opts.MaxRetryWait)
	o.Retry = c.retry.azcore
	c.transport = &errorBodyLimiter{next: transportOrDefault(o.Transport)}
	// The token never reaches the log, even when the caller allows the header.
	o.Logging.AllowedHeaders = withoutCredentialHeaders(o.Logging.AllowedHeaders)
	// Copy the caller's policy slices so appending never writes into them.
	o.PerCallPolicies = append([]policy.Policy(nil), o.PerCallPolicies...)
	o.PerRetryPolicies = append([]policy.Policy(nil), o.PerRetryPolicies...)
	// Last per call, so the caller's per-call policies still see the query (query_policy.go).
	o.PerCallPolicies = append(o.PerCallPolicies, deferQueryPolicy{})

	c.cred = &challengedCredential{cred: cred}
	o.Transport = &pipelineTransport{next: c.transport, cred: c.cred}
	bearer := runtime.NewBearerTokenPolicy(c.cred, c.scopes(), &policy.BearerTokenOptions{
		AuthorizationHandler: policy.AuthorizationHandler{
			OnChallenge: c.onChallenge,
		},
		InsecureAllowCredentialWithHTTP: o.InsecureAllowCredentialWithHTTP,
	})
	plOpts := runtime.PipelineOptions{
		AllowedHeaders:         loggedHeaders,
		AllowedQueryParameters: loggedQueryParameters,
		// restoreQueryPolicy puts back the query deferQueryPolicy kept from
		// the retry policy, before anything else on the try looks at the URL.
		// attemptPolicy runs next on every try so it sees the outcome of
		// the bearer policy (including its one challenge retry).
		// governPolicy comes after the bearer policy: the token names the
		// application user whose Governor admits the request.
		PerRetry: []policy.Policy{restoreQueryPolicy{}, policyFunc(c.attemptPolicy), bearer, policyFunc(c.governPolicy)},
		Tracing:  runtime.TracingOptions{Namespace: "Microsoft.Dynamics.CRM"},
	}
	azc, err := azcore.NewClient(moduleName, moduleVersion, plOpts, &o)
	if err != nil {
		return nil, invalidf("dataverse: NewClient: %w", err) // azcore refuses only bad options
	}
	return azc, nil
}
