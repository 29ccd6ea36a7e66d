package identity

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/d365s2s/d365/emulator/internal/aadsts"
)

// DefaultTokenLifetime is the access-token lifetime when Options.TokenLifetime is zero: Entra's
// recorded answer is expires_in=3599.
const DefaultTokenLifetime = 3599 * time.Second

// MaxTokenLifetime bounds SetTokenLifetime: Entra's configurable token lifetimes stop at one day.
const MaxTokenLifetime = 24 * time.Hour

// maxFormBytes bounds the body of a token request. MSAL's requests are well under 4 KiB; a client
// assertion with an x5c chain stays far below this.
const maxFormBytes = 64 << 10

// Options configure a Service.
type Options struct {
	// BaseURL is the https base URL (scheme and host, no path, no trailing slash) the service is
	// reached at, e.g. https://127.0.0.1:8365. It is the authority host: discovery documents,
	// issuers and client-assertion audiences are built from it.
	BaseURL string
	// Resource is the Dataverse organization URL tokens may be requested for, without a trailing
	// slash. Token requests may name it with or without a trailing slash (v1 resource=) or with
	// "/.default" (v2 scope=). Empty means BaseURL.
	Resource string
	// TokenLifetime is the lifetime of issued access tokens. Zero means DefaultTokenLifetime.
	TokenLifetime time.Duration
	// ValidationSkew is the clock skew ValidateAccessToken allows on nbf and exp. Zero (the
	// default) means none, so expiry can be tested in seconds; Dataverse itself allows about five
	// minutes.
	ValidationSkew time.Duration
	// Now returns the current time; the emulator adds its clock offset through it. Nil means
	// time.Now.
	Now func() time.Time
	// FirstSigningKey supplies the RSA key of the first signing key when the database holds
	// none, so that a caller can generate it (GenerateSigningKey) concurrently with its other
	// start-up work; it is called at most once. Nil means generating it then. Each Service must
	// get a key of its own: tokens of one emulator must not verify against another's keys.
	FirstSigningKey func() (*rsa.PrivateKey, error)
	// Logger receives one line per token request (tenant, client, outcome, AADSTS code, trace and
	// correlation IDs) and admin changes. Secrets, assertions and tokens are never logged. Nil
	// discards.
	Logger *slog.Logger
}

// Service is the Entra ID token service. It is an http.Handler for the token, discovery and key
// endpoints and holds the app registry. All methods are safe for concurrent use.
type Service struct {
	db       Storage
	baseURL  string
	baseHost string
	resource string
	skew     time.Duration
	now      func() time.Time
	log      *slog.Logger

	lifetime atomic.Int64 // time.Duration
	keys     atomic.Pointer[keySet]
	rotateMu sync.Mutex // serialises RotateSigningKey
}

// New creates the service over db. It creates its tables (prefix entra_) when absent and loads
// the persisted signing key, or generates and stores one on first use. It registers with
// db.OnRestore to bring its signing keys in line when the database is replaced underneath it.
//
// db is the database shared with the rest of the emulator (the store's ModuleTables). Every
// connection of its pool must see the same database (a file, or SQLite's memdb VFS; a plain
// ":memory:" pool would give each connection its own empty database).
func New(ctx context.Context, db Storage, opts Options) (*Service, error) {
	if db == nil {
		return nil, errors.New("identity: nil database")
	}
	base, host, err := parseBaseURL("BaseURL", opts.BaseURL)
	if err != nil {
		return nil, err
	}
	resource := base
	if opts.Resource != "" {
		if resource, _, err = parseBaseURL("Resource", opts.Resource); err != nil {
			return nil, err
		}
	}
	if opts.ValidationSkew < 0 {
		return nil, fmt.Errorf("identity: ValidationSkew %v is negative", opts.ValidationSkew)
	}
	s := &Service{
		db:       db,
		baseURL:  base,
		baseHost: host,
		resource: resource,
		skew:     opts.ValidationSkew,
		now:      opts.Now,
		log:      opts.Logger,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	lifetime := opts.TokenLifetime
	if lifetime == 0 {
		lifetime = DefaultTokenLifetime
	}
	if err := s.SetTokenLifetime(lifetime); err != nil {
		return nil, err
	}
	if err := createSchema(ctx, db); err != nil {
		return nil, err
	}
	if err := s.loadSigningKeys(ctx, opts.FirstSigningKey); err != nil {
		return nil, err
	}
	db.OnRestore(s.reconcileSigningKeys)
	return s, nil
}

// parseBaseURL checks that raw is an absolute https URL without path, query or fragment and
// returns it without a trailing slash, plus its host[:port].
func parseBaseURL(field, raw string) (string, string, error) {
	trimmed := strings.TrimRight(raw, "/")
	u, err := url.Parse(trimmed)
	if err != nil || trimmed == "" {
		return "", "", fmt.Errorf("identity: %s %q is not a URL; want e.g. https://127.0.0.1:8365", field, raw)
	}
	if u.Scheme != "https" || u.Host == "" {
		return "", "", fmt.Errorf("identity: %s %q must be an absolute https URL such as https://127.0.0.1:8365", field, raw)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("identity: %s %q must be scheme and host only, without path, query or user info", field, raw)
	}
	return u.Scheme + "://" + u.Host, u.Host, nil
}

// SetTokenLifetime changes the lifetime of access tokens issued from now on (1 second to
// MaxTokenLifetime). Tokens already issued keep theirs.
func (s *Service) SetTokenLifetime(d time.Duration) error {
	if d < time.Second || d > MaxTokenLifetime {
		return fmt.Errorf("identity: token lifetime %v is out of range; it must be between 1s and %v: %w", d, MaxTokenLifetime, ErrInvalid)
	}
	s.lifetime.Store(int64(d.Truncate(time.Second)))
	return nil
}

// TokenLifetime returns the lifetime of newly issued access tokens.
func (s *Service) TokenLifetime() time.Duration { return time.Duration(s.lifetime.Load()) }

// BaseURL returns the authority base URL the service was created with (no trailing slash).
func (s *Service) BaseURL() string { return s.baseURL }

// Resource returns the organization URL tokens are issued for (no trailing slash).
func (s *Service) Resource() string { return s.resource }

// requestContext carries the per-request values every Entra response needs: the time on the
// service's clock, the trace id, and the correlation id (Entra echoes the caller's
// client-request-id as correlation_id; MSAL sends a GUID there).
type requestContext struct {
	aadsts.Trace
}

func (s *Service) newRequestContext(r *http.Request) *requestContext {
	return &requestContext{aadsts.NewTrace(r, s.now())}
}

// ServeHTTP serves the Entra endpoints:
//
//	POST /{tenant}/oauth2/v2.0/token               v2 token endpoint
//	POST /{tenant}/oauth2/token                    v1 token endpoint
//	GET  /{tenant}/v2.0/.well-known/openid-configuration
//	GET  /{tenant}/.well-known/openid-configuration
//	GET  /{tenant}/discovery/keys, /{tenant}/discovery/v2.0/keys
//	GET  /common/discovery/instance
//
// {tenant} is the tenant's GUID, one of its domains, or common/organizations/consumers where
// Entra allows them. Anything else is 404.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(segs) < 2 || segs[0] == "" {
		http.NotFound(w, r)
		return
	}
	tenant, rest := segs[0], strings.Join(segs[1:], "/")
	switch rest {
	case "oauth2/v2.0/token":
		s.serveToken(w, r, tenant, tokenV2)
	case "oauth2/token":
		s.serveToken(w, r, tenant, tokenV1)
	case "v2.0/.well-known/openid-configuration":
		s.serveGet(w, r, func(rc *requestContext) { s.serveOpenIDConfiguration(w, r, rc, tenant, true) })
	case ".well-known/openid-configuration":
		s.serveGet(w, r, func(rc *requestContext) { s.serveOpenIDConfiguration(w, r, rc, tenant, false) })
	case "discovery/keys":
		s.serveGet(w, r, func(rc *requestContext) { s.serveKeys(w, r, rc, tenant, false) })
	case "discovery/v2.0/keys":
		s.serveGet(w, r, func(rc *requestContext) { s.serveKeys(w, r, rc, tenant, true) })
	case "discovery/instance":
		s.serveGet(w, r, func(rc *requestContext) { s.serveInstanceDiscovery(w, r, rc, tenant) })
	default:
		http.NotFound(w, r)
	}
}

// serveGet allows GET and HEAD only, like Entra's metadata endpoints.
func (s *Service) serveGet(w http.ResponseWriter, r *http.Request, serve func(*requestContext)) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	serve(s.newRequestContext(r))
}

// writeJSON writes v with Entra's response headers.
func writeJSON(w http.ResponseWriter, rc *requestContext, status int, v any, cacheable bool) {
	h := w.Header()
	aadsts.SetHeaders(h, rc.Trace)
	if cacheable {
		h.Set("Cache-Control", "max-age=86400, private")
		h.Del("Pragma")
	}
	body, err := json.Marshal(v)
	if err != nil { // only plain structs and maps of strings are encoded here
		http.Error(w, "internal error encoding the response", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeAADError writes e in Entra's error shape and status.
func writeAADError(w http.ResponseWriter, rc *requestContext, e *aadsts.Error) {
	aadsts.Write(w, e, rc.Trace, 0)
}
