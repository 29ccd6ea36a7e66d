package emulator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/d365s2s/d365/emulator/internal/identity"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/d365s2s/d365/emulator/internal/webapi"
)

// DefaultTokenLifetime is the lifetime of the access tokens the emulator issues unless
// Options.TokenLifetime says otherwise; Entra's default answer is expires_in=3599.
const DefaultTokenLifetime = 3599 * time.Second

// Options configure an Emulator. The zero value (or a nil *Options) is an in-memory emulator on a
// free loopback port.
type Options struct {
	// Addr is the TCP address to listen on. Empty means "127.0.0.1:0", a free loopback port.
	Addr string

	// DataDir, when not empty, is a directory where the emulator keeps its state: the SQLite
	// database (app registrations, signing keys, records) and its certificate authority (ca.pem and
	// ca-key.pem). A restart on the same directory keeps all of it. Empty means in memory.
	DataDir string

	// TokenLifetime is the lifetime of issued access tokens. Zero means DefaultTokenLifetime.
	TokenLifetime time.Duration

	// Logger receives the emulator's logs (requests, rejections and their reasons). Nil discards
	// them. Secrets and tokens are never logged.
	Logger *slog.Logger
}

// Emulator is a running local Entra ID token service and Dataverse Web API over HTTPS. Its URL is
// both the authority host and the Dataverse organization URL. Create one with New and stop it with
// Close. All methods are safe for concurrent use.
type Emulator struct {
	url      string
	ca       *certificateAuthority
	client   *http.Client
	server   *http.Server
	listener net.Listener
	store    *store.Store
	identity *identity.Service
	logger   *slog.Logger
	creds    Credentials

	serveErr  chan error
	closeOnce sync.Once
	closeErr  error
}

// New starts an emulator and returns once it accepts connections. On first start (or always, when
// in memory) it seeds one tenant, one app registration with a client secret, and an application
// user for that app holding the System Administrator role; Credentials returns them.
func New(opts *Options) (*Emulator, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.TokenLifetime == 0 {
		o.TokenLifetime = DefaultTokenLifetime
	}
	if o.TokenLifetime < 0 {
		return nil, fmt.Errorf("emulator: token lifetime %v is negative", o.TokenLifetime)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("emulator: create data directory: %w", err)
		}
	}

	e := &Emulator{logger: logger, serveErr: make(chan error, 1)}
	ok := false
	defer func() {
		if !ok {
			e.shutdown()
		}
	}()

	now := time.Now()
	ca, err := loadOrCreateCA(o.DataDir, now)
	if err != nil {
		return nil, err
	}
	e.ca = ca

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen on %s: %w", o.Addr, err)
	}
	e.listener = ln
	e.url = baseURL(ln.Addr().(*net.TCPAddr), o.Addr)

	u, _ := url.Parse(e.url)
	leaf, err := ca.leafCertificate(u.Hostname(), now)
	if err != nil {
		return nil, err
	}

	ctx := context.Background()
	e.store, err = store.Open(ctx, o.DataDir, nil)
	if err != nil {
		return nil, fmt.Errorf("emulator: open store: %w", err)
	}
	e.identity, err = identity.New(ctx, e.store.DB(), identity.Options{
		BaseURL:       e.url,
		Resource:      e.url,
		TokenLifetime: o.TokenLifetime,
		Logger:        logger.With("component", "entra"),
	})
	if err != nil {
		return nil, fmt.Errorf("emulator: start token service: %w", err)
	}
	if err := e.seed(ctx); err != nil {
		return nil, err
	}
	api, err := webapi.New(webapi.Options{
		Store:            e.store,
		Authenticator:    &tokenAuthenticator{identity: e.identity, tenantID: DefaultTenantID},
		OrgURL:           e.url,
		AuthorizationURI: e.url + "/" + DefaultTenantID + "/oauth2/authorize",
		Logger:           logger.With("component", "webapi"),
	})
	if err != nil {
		return nil, fmt.Errorf("emulator: start web API: %w", err)
	}

	mux := http.NewServeMux()
	mux.Handle("/api/data/", api)
	mux.HandleFunc("GET /_emulator/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	})
	mux.Handle("/", e.identity)

	e.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{leaf},
		},
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	e.client = &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}}
	e.creds = Credentials{TenantID: DefaultTenantID, ClientID: DefaultClientID, ClientSecret: DefaultClientSecret}

	go func() { e.serveErr <- e.server.ServeTLS(ln, "", "") }()
	logger.Info("emulator listening", "url", e.url, "data_dir", o.DataDir)
	ok = true
	return e, nil
}

// seed creates the default tenant, app registration, secret and application user when absent.
func (e *Emulator) seed(ctx context.Context) error {
	if err := e.identity.EnsureTenant(ctx, identity.Tenant{
		ID: DefaultTenantID, Domain: DefaultTenantDomain, DisplayName: "d365 emulator tenant",
	}); err != nil {
		return fmt.Errorf("emulator: seed tenant: %w", err)
	}
	if err := e.identity.EnsureApp(ctx, identity.App{
		ClientID: DefaultClientID, TenantID: DefaultTenantID, ObjectID: DefaultServicePrincipalID,
		DisplayName: DefaultAppName,
	}); err != nil {
		return fmt.Errorf("emulator: seed app registration: %w", err)
	}
	if err := e.identity.EnsureSecret(ctx, DefaultClientID, identity.Secret{
		ID: DefaultClientSecretID, DisplayName: "seeded by the emulator", Value: DefaultClientSecret,
	}); err != nil {
		return fmt.Errorf("emulator: seed client secret: %w", err)
	}
	if _, err := e.store.EnsureApplicationUser(ctx, store.ApplicationUser{
		ApplicationID: DefaultClientID, AzureADObjectID: DefaultServicePrincipalID,
		FullName: DefaultAppName, RoleNames: []string{DefaultRoleName},
	}); err != nil {
		return fmt.Errorf("emulator: seed application user: %w", err)
	}
	return nil
}

// baseURL is the https URL clients use: the listen host (loopback when unspecified) and the port
// actually bound.
func baseURL(addr *net.TCPAddr, requested string) string {
	host, _, _ := net.SplitHostPort(requested)
	switch {
	case host == "" || host == "0.0.0.0" || host == "::":
		host = "127.0.0.1"
	case host == "localhost":
		// keep the name: it is in the certificate
	default:
		if ip := net.ParseIP(host); ip != nil {
			host = ip.String() // canonical form, e.g. ::1
		}
	}
	return "https://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// URL is the emulator's base URL, for example https://127.0.0.1:8365. It is the authority host and
// the organization URL.
func (e *Emulator) URL() string { return e.url }

// OrgURL is the Dataverse organization (environment) URL: the resource tokens are requested for
// (scope OrgURL()+"/.default") and the base of the Web API at OrgURL()+"/api/data/v9.2/".
func (e *Emulator) OrgURL() string { return e.url }

// AuthorityHost is the Entra authority host to give token clients (azidentity's
// Cloud.ActiveDirectoryAuthorityHost, AZURE_AUTHORITY_HOST).
func (e *Emulator) AuthorityHost() string { return e.url + "/" }

// TenantID is the ID of the seeded tenant.
func (e *Emulator) TenantID() string { return e.creds.TenantID }

// Credentials returns the seeded app registration's tenant, client ID and client secret.
func (e *Emulator) Credentials() Credentials { return e.creds }

// CACertPEM returns the emulator's CA certificate in PEM form. Clients must trust it to talk to
// the emulator; HTTPClient already does.
func (e *Emulator) CACertPEM() []byte { return append([]byte(nil), e.ca.certPEM...) }

// CACertPool returns a certificate pool holding only the emulator's CA.
func (e *Emulator) CACertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(e.ca.cert)
	return pool
}

// HTTPClient returns an HTTP client that trusts the emulator's CA. It shares one transport (and
// its keep-alive connections) across calls.
func (e *Emulator) HTTPClient() *http.Client { return e.client }

// Close stops the emulator: it stops accepting connections, waits briefly for requests in flight,
// and closes the store. It is safe to call more than once.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.shutdown() })
	return e.closeErr
}

func (e *Emulator) shutdown() error {
	var errs []error
	if e.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := e.server.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			e.server.Close()
		}
		cancel()
		if err := <-e.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	} else if e.listener != nil {
		e.listener.Close()
	}
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	if e.store != nil {
		if err := e.store.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
