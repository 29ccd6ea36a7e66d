package auth

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// CredentialOptions are the optional settings of [NewCredential]. The zero value is ready to use.
type CredentialOptions struct {
	// ClientOptions configures the credential's HTTP pipeline: Transport, Retry, Logging,
	// Telemetry, tracing. Cloud is ignored: the authority comes from [Config.Cloud]. Logging
	// never includes bodies (Logging.IncludeBody is ignored) nor the values of headers that carry
	// credentials (Authorization, X-IDENTITY-HEADER, Secret), whatever Logging.AllowedHeaders says.
	//
	// A nil Transport means [Config.HTTPClient], which trusts the Config's CAFile. A caller that
	// supplies its own Transport is responsible for trusting CAFile itself; the CLI passes the
	// one Config.HTTPClient it also gives the Dataverse client, so the process shares one pool.
	ClientOptions azcore.ClientOptions

	// Cache persists tokens across processes (see azidentity/cache). The default keeps them in
	// memory, in this credential only.
	Cache azidentity.Cache

	// SendCertificateChain sends the certificate chain (x5c) with each client assertion, which
	// Subject Name/Issuer certificate authentication requires.
	SendCertificateChain bool
}

// NewCredential builds the azidentity credential the Config describes — client secret, client
// certificate (PEM or PKCS#12), managed identity, workload identity or Azure CLI — aimed at the
// authority of [Config.Cloud]. It validates the Config first and returns a *[ConfigError] or
// *[CertificateError] naming what to fix.
//
// When the authority is not a Microsoft login host (the emulator, a private authority) instance
// discovery is disabled, so MSAL never calls login.microsoftonline.com to vet the host. That
// leaves trust in the authority to this configuration: it must be https and, for the emulator,
// trusted through CAFile.
//
// The returned credential turns Entra ID failures into *[EntraError] and network/TLS failures
// into *[ExplainedError]; the azidentity error stays reachable with errors.As.
//
// Create one credential per process (per tenant and app) and share it between goroutines and
// clients: tokens are cached inside the credential instance, so a credential created per
// request asks Entra ID for a new token every time and soon meets AADSTS50196 or HTTP 429.
func NewCredential(cfg Config, opts *CredentialOptions) (azcore.TokenCredential, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.normalized()
	method, err := cfg.CredentialMethod()
	if err != nil {
		return nil, err
	}
	var o CredentialOptions
	if opts != nil {
		o = *opts
	}
	clientOpts := o.ClientOptions
	if clientOpts.Transport == nil {
		hc, err := cfg.HTTPClient()
		if err != nil {
			return nil, err
		}
		clientOpts.Transport = hc
	}
	// Token requests carry the client secret or assertion and responses carry the token: never
	// let a caller's logging options write those bodies to a log.
	clientOpts.Logging.IncludeBody = false
	// Nor the headers that carry credentials: a caller that allows "Authorization" for its own
	// diagnostics must not log a managed identity's Basic key or X-IDENTITY-HEADER secret.
	clientOpts.Logging.AllowedHeaders = withoutCredentialHeaders(clientOpts.Logging.AllowedHeaders)
	// A fresh slice: the caller's PerRetryPolicies must not be appended to in place.
	clientOpts.PerRetryPolicies = append(append([]policy.Policy(nil), clientOpts.PerRetryPolicies...), FailFastOnTLSErrors())
	cl := cfg.Cloud()
	clientOpts.Cloud = cl.Configuration()
	disableDiscovery := !cl.MicrosoftHost
	if err := regionOverride(cl); err != nil {
		return nil, err
	}

	var inner azcore.TokenCredential
	switch method {
	case MethodSecret:
		inner, err = azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret.Reveal(),
			&azidentity.ClientSecretCredentialOptions{
				ClientOptions:            clientOpts,
				Cache:                    o.Cache,
				DisableInstanceDiscovery: disableDiscovery,
			})
	case MethodCertificate:
		certs, key, lerr := loadCertificate(cfg.CertificatePath, cfg.CertificatePassword)
		if lerr != nil {
			return nil, lerr
		}
		inner, err = azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key,
			&azidentity.ClientCertificateCredentialOptions{
				ClientOptions:            clientOpts,
				Cache:                    o.Cache,
				DisableInstanceDiscovery: disableDiscovery,
				SendCertificateChain:     o.SendCertificateChain,
			})
	case MethodManagedIdentity:
		miOpts := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: clientOpts}
		if cfg.ClientID != "" {
			miOpts.ID = azidentity.ClientID(cfg.ClientID)
		}
		inner, err = azidentity.NewManagedIdentityCredential(miOpts)
	case MethodWorkloadIdentity:
		inner, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions:            clientOpts,
			Cache:                    o.Cache,
			ClientID:                 cfg.ClientID,
			TenantID:                 cfg.TenantID,
			TokenFilePath:            cfg.FederatedTokenFile,
			DisableInstanceDiscovery: disableDiscovery,
		})
	case MethodAzureCLI:
		inner, err = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: cfg.TenantID})
	default:
		return nil, fmt.Errorf("auth method %q is not supported by NewCredential", method)
	}
	if err != nil {
		return nil, explainWith(fmt.Errorf("creating the %s credential: %w", method, err), newHints(cfg, method))
	}
	return &credential{inner: inner, method: method, hints: newHints(cfg, method)}, nil
}

// credentialHeaders carry credentials on token requests: Authorization (Azure Arc managed
// identity sends its key as Basic), X-IDENTITY-HEADER (App Service) and Secret (Service Fabric,
// Azure ML). They are logged REDACTED even when CredentialOptions.ClientOptions.Logging
// allows them.
var credentialHeaders = []string{"Authorization", "Proxy-Authorization", "X-IDENTITY-HEADER", "Secret"}

// withoutCredentialHeaders returns a copy of allowed without the credential headers (compared
// case-insensitively, as azcore's logging matches names). The caller's slice is not modified.
func withoutCredentialHeaders(allowed []string) []string {
	out := make([]string, 0, len(allowed))
	for _, name := range allowed {
		if !slices.ContainsFunc(credentialHeaders, func(c string) bool { return strings.EqualFold(strings.TrimSpace(name), c) }) {
			out = append(out, name)
		}
	}
	return out
}

// credential wraps an azidentity credential and explains its failures.
type credential struct {
	inner  azcore.TokenCredential
	method Method
	hints  hints
}

// GetToken implements azcore.TokenCredential.
func (c *credential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.inner.GetToken(ctx, opts)
	if err != nil {
		return azcore.AccessToken{}, explainWith(err, c.hints)
	}
	return tok, nil
}

// RefreshToken returns a new access token from the token service, never one from the
// credential's cache; the new token replaces the cached one, so GetToken returns it from then on.
// It is for a service that rejected a token the cache still holds for valid (revoked, or the
// service's clock runs ahead): the dataverse client calls it after a 401 challenge (it
// implements dataverse.TokenRefresher, which this package cannot import).
//
// azidentity has no "skip the cache" switch, but MSAL never answers a request carrying claims
// from its cache, so the request carries the claims of a continuous-access-evaluation
// challenge: a token issued not before now (see refreshClaims). The Azure CLI credential keeps
// no cache and refuses claims, so it is simply asked again.
func (c *credential) RefreshToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if c.method != MethodAzureCLI && opts.Claims == "" {
		opts.Claims = refreshClaims(time.Now())
	}
	return c.GetToken(ctx, opts)
}

// refreshClaims is the claims request that makes MSAL fetch a new token: the "nbf" claim of a
// CAE token-revocation challenge ({"access_token":{"nbf":{"essential":true,"value":"<unix
// time>"}}}), asking for a token issued at or after now. Resources send this shape in their CAE
// challenges and azidentity passes it to Entra for the client-credentials grant; that Entra
// honours it for an app without CAE-enabled resources is [unverified] (the emulator accepts any
// claims). Change it here only.
func refreshClaims(now time.Time) string {
	return `{"access_token":{"nbf":{"essential":true,"value":"` + strconv.FormatInt(now.Unix(), 10) + `"}}}`
}

// String names the credential kind and app, never the secret.
func (c *credential) String() string {
	parts := []string{"auth credential", string(c.method)}
	if c.hints.clientID != "" {
		parts = append(parts, "client "+c.hints.clientID)
	}
	if c.hints.tenantID != "" {
		parts = append(parts, "tenant "+c.hints.tenantID)
	}
	return strings.Join(parts, ", ")
}

// GoString keeps %#v from dumping the wrapped credential.
func (c *credential) GoString() string { return "&auth.credential{" + c.String() + "}" }

// regionEnvVars make MSAL replace the authority with a regional Microsoft host
// ({region}.login.microsoft.com). azidentity and MSAL read them from the process environment.
var regionEnvVars = []string{"AZURE_REGIONAL_AUTHORITY_NAME", "MSAL_FORCE_REGION"}

// regionOverride refuses a regional override for an authority that is not Microsoft's: tokens
// would be requested from Microsoft instead of the emulator or private authority configured.
func regionOverride(cl Cloud) error {
	if cl.MicrosoftHost {
		return nil
	}
	for _, name := range regionEnvVars {
		if v := os.Getenv(name); v != "" {
			return &ConfigError{Problems: []Problem{{Setting: settingAuthorityHost, Message: fmt.Sprintf(
				"%s=%s makes MSAL send token requests to a regional Microsoft host instead of the authority %s: unset %s",
				name, v, cl.AuthorityHost, name)}}}
		}
	}
	return nil
}
