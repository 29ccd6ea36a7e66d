package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/pflag"

	"github.com/d365s2s/d365/auth"
	"github.com/d365s2s/d365/dataverse"
)

// connectionFlags hold the values of the connection flags (connectionFlagTable). Only flags the
// user set count; the rest come from the environment.
type connectionFlags struct {
	values map[string]*string
}

func (c *connectionFlags) register(fs *pflag.FlagSet) {
	c.values = map[string]*string{}
	for _, f := range connectionFlagTable {
		usage := f.usage + " (env " + f.env + ")"
		if f.secret {
			usage += "; prefer the environment variable: a flag is visible to other users in the process list"
		}
		c.values[f.name] = fs.String(f.name, "", usage)
	}
}

// config returns the auth.Config the flags describe, before the environment fills the gaps.
func (c *connectionFlags) config() auth.Config {
	get := func(flag string) string {
		if p := c.values[flag]; p != nil {
			return *p
		}
		return ""
	}
	return auth.Config{
		OrgURL:              get(flagOrgURL),
		TenantID:            get(flagTenantID),
		ClientID:            get(flagClientID),
		ClientSecret:        auth.Secret(get(flagClientSecret)),
		CertificatePath:     get(flagCertificatePath),
		CertificatePassword: auth.Secret(get(flagCertificatePassword)),
		AuthorityHost:       get(flagAuthorityHost),
		CAFile:              get(flagCAFile),
		Method:              auth.Method(get(flagMethod)),
		FederatedTokenFile:  get(flagFederatedTokenFile),
	}
}

// session is what a command needs to talk to one environment: the settings, one credential and
// one client sharing one HTTP transport.
type session struct {
	cfg    auth.Config
	cred   azcore.TokenCredential
	client *dataverse.Client
}

// connect reads the settings (flags, then the connection string, then environment, then the
// profile), prints warnings about likely mistakes, and builds the credential and the Dataverse
// client. Nothing is sent yet, unless a connection string without a tenant makes d365 ask the
// environment for it (as ServiceClient does).
func (g *globalOptions) connect() (*session, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(g.streams.ErrOut, "d365: warning: "+flagNames.Replace(w))
	}
	httpClient, err := g.httpClient(cfg)
	if err != nil {
		return nil, usageError(err)
	}
	opts := g.tokenCacheFor(cfg)
	if opts.dataverseHTTP, err = g.dataverseHTTPClient(cfg); err != nil {
		return nil, usageError(err)
	}
	s, err := buildSession(cfg, httpClient, opts)
	g.session = s
	return s, err
}

// httpClient is cfg's HTTP client, tracing to stderr with --debug.
func (g *globalOptions) httpClient(cfg auth.Config) (*http.Client, error) {
	httpClient, err := cfg.HTTPClient()
	if err != nil {
		return nil, err
	}
	if g.debug {
		httpClient.Transport = &debugTransport{next: httpClient.Transport, trace: g.debugTrace()}
	}
	return httpClient, nil
}

// debugTrace is the process's --debug trace, shared by its transports.
func (g *globalOptions) debugTrace() *debugTrace {
	if g.trace == nil {
		g.trace = &debugTrace{w: g.streams.ErrOut}
	}
	return g.trace
}

// dataverseHTTPClient is the HTTP client of the session's Dataverse calls: the dataverse
// package's own (an HTTP/1.1 pool sized for the Governor, no affinity cookie, so that an import
// or an export spreads over the environment's web servers, whose service protection limits are
// counted each on its own) with cfg's trusted roots, tracing to stderr with --debug. The
// token requests keep cfg's client.
func (g *globalOptions) dataverseHTTPClient(cfg auth.Config) (*http.Client, error) {
	tlsConfig, err := cfg.TLSConfig()
	if err != nil {
		return nil, err
	}
	httpClient := dataverse.NewHTTPClient(tlsConfig)
	if g.debug {
		httpClient.Transport = &debugTransport{next: httpClient.Transport, trace: g.debugTrace()}
	}
	return httpClient, nil
}

// sessionOptions are the optional parts of a session.
type sessionOptions struct {
	// dataverseHTTP, when set, is the HTTP client of Dataverse calls (the credential keeps the
	// session's); nil means the session's for both.
	dataverseHTTP *http.Client
	// persistent is azidentity's persistent cache (the OS keyring), when there is one.
	persistent    azidentity.Cache
	hasPersistent bool
	// tokenCache is d365's 0600 file cache, where there is no keyring. Neither: tokens live in
	// this process only.
	tokenCache *tokenCache
}

// tokenCacheFor chooses where tokens outlive the process: azidentity's persistent cache where
// the OS has a keyring, else d365's 0600 files; nowhere with --no-token-cache or without a home
// directory. --debug says which.
func (g *globalOptions) tokenCacheFor(cfg auth.Config) sessionOptions {
	var opts sessionOptions
	lookup := g.streams.lookupEnv
	if _, err := cacheDir(lookup); g.noTokenCache || err != nil {
		return opts // no XDG_CACHE_HOME nor HOME: a test's environment, say
	}
	kind := "none (no cache directory)"
	newCache := g.newPersistentCache
	if newCache == nil {
		newCache = newPersistentCache
	}
	if c, ok := persistentCacheFor(cfg, lookup, newCache); ok {
		opts.persistent, opts.hasPersistent = c, true
		kind = "azidentity persistent cache (OS keyring)"
	} else if fc, err := newTokenCache(lookup); err == nil {
		opts.tokenCache = fc
		kind = "0600 files in " + fc.dir
	}
	if g.debug {
		fmt.Fprintln(g.streams.ErrOut, "d365: token cache: "+kind)
	}
	return opts
}

func newSession(cfg auth.Config, httpClient *http.Client) (*session, error) {
	return buildSession(cfg, httpClient, sessionOptions{})
}

func buildSession(cfg auth.Config, httpClient *http.Client, opts sessionOptions) (*session, error) {
	credOpts := &auth.CredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Transport:        httpClient,
			PerRetryPolicies: []policy.Policy{failFastOnUnreachable{}},
		},
	}
	if opts.hasPersistent {
		credOpts.Cache = opts.persistent
	}
	cred, err := auth.NewCredential(cfg, credOpts)
	if err != nil {
		return nil, usageError(err)
	}
	if opts.tokenCache != nil {
		cred = &cachingCredential{inner: cred, cache: opts.tokenCache,
			authorityHost: cfg.Cloud().AuthorityHost, tenantID: cfg.TenantID, clientID: cfg.ClientID,
			credential: credentialFingerprint(cfg)}
	}
	dataverseHTTP := httpClient
	if opts.dataverseHTTP != nil {
		dataverseHTTP = opts.dataverseHTTP
	}
	client, err := dataverse.NewClient(cfg.OrgURL, cred, &dataverse.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Transport: dataverseHTTP,
			// An untrusted certificate does not become trusted by asking again, nor does a
			// host that does not resolve: fail at once with the explanation instead of after
			// azcore's retries.
			PerRetryPolicies: []policy.Policy{auth.FailFastOnTLSErrors(), failFastOnUnreachable{}},
		},
	})
	if err != nil {
		return nil, usageError(err)
	}
	return &session{cfg: cfg, cred: cred, client: client}, nil
}

// token gets an access token for the session's organization.
func (s *session) token(ctx context.Context) (azcore.AccessToken, error) {
	return s.cred.GetToken(ctx, tokenRequest(s.cfg))
}

// explain turns an error into the one to show: Entra and network failures explained by auth, a
// 401 compared with the settings (another tenant, cloud or organization is the usual cause),
// everything else as it is.
func (s *session) explain(err error) error {
	var re *dataverse.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusUnauthorized && re.Challenge != nil {
		ch, cerr := auth.NewChallenge(re.Challenge.AuthorizationURI, re.Challenge.ResourceID)
		if cerr == nil {
			if mismatch := s.cfg.CheckChallenge(ch); mismatch != nil {
				return fmt.Errorf("%w\n%v", err, mismatch)
			}
		}
	}
	return err
}

// explain turns an error into the one to show: Entra and network failures explained by auth,
// Dataverse errors as they are (they already say status, code, message and a hint). Where auth's
// message names a Config field, the flag that sets it is named instead (see flagNames).
func explain(err error) error {
	var re *dataverse.ResponseError
	if errors.As(err, &re) {
		return err
	}
	return withFlagNames(auth.Explain(err))
}

func isEntraError(err error) bool {
	var ee *auth.EntraError
	return errors.As(err, &ee)
}

func isServiceError(err error) bool {
	var re *dataverse.ResponseError
	return errors.As(err, &re)
}
