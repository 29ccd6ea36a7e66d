package emulator

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/d365s2s/d365/emulator/internal/caller"
	"github.com/d365s2s/d365/emulator/internal/scenario"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/ca"
	"github.com/d365s2s/d365/emulator/internal/identity"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/d365s2s/d365/emulator/internal/traffic"
	"github.com/d365s2s/d365/emulator/internal/webapi"
)

// DefaultTokenLifetime is the lifetime of the access tokens the emulator issues unless
// Options.TokenLifetime says otherwise; Entra's default answer is expires_in=3599.
const DefaultTokenLifetime = 3599 * time.Second

// Options configure an Emulator. The zero value (or a nil *Options) is an in-memory emulator on a
// free loopback port, seeded with the default tenant, app and application user.
type Options struct {
	// Addr is the TCP address to listen on. Empty means "127.0.0.1:0", a free loopback port.
	Addr string

	// DataDir, when not empty, is a directory where the emulator keeps its state: the SQLite
	// database (app registrations, signing keys, records), its certificate authority (ca.pem and
	// ca-key.pem), the seeded state Reset returns to (seed.db) and named snapshots
	// (snapshots/*.db). A restart on the same directory keeps all of it. Empty means in memory.
	DataDir string

	// Scenario, when set, replaces the default seed with its tenants, apps, application users,
	// roles, tables and rows (see Scenario and LoadScenario). It is applied on the first start of
	// a data directory (its tables on every start), or on every start in memory.
	Scenario *Scenario

	// TokenLifetime is the lifetime of issued access tokens. Zero means the scenario's
	// tokenLifetime, else DefaultTokenLifetime.
	TokenLifetime time.Duration

	// Limits are the service protection limits; nil means the scenario's, else Dataverse's
	// (LimitsDefault). LimitsOff turns throttling off; a test that wants a 429 quickly sets,
	// say, Limits{Requests: 2, Window: time.Second}.
	Limits *Limits

	// Faults are fault rules in force from the start (after the scenario's).
	Faults []FaultRule

	// FaultSeed seeds the fault rules' probabilities so a failing test replays; zero means the
	// scenario's, else a fixed default.
	FaultSeed int64

	// Logger receives the emulator's logs (requests, rejections and their reasons). Nil discards
	// them. Secrets and tokens are never logged.
	Logger *slog.Logger

	// ReadHeaderTimeout bounds how long a client may take to send a request's headers; the
	// connection is closed when it runs out. Zero means DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration

	// BodyReadTimeout bounds how long a client may take to send a request's body once its
	// headers have arrived. The body is read before the request is metered, so a slow sender
	// neither holds one of its application user's concurrent slots nor spends execution time;
	// one that runs out of time is answered 408. Zero means DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
}

// Defaults of Options.ReadHeaderTimeout and Options.BodyReadTimeout: generous for any client on
// loopback, short enough that a stalled one is let go.
const (
	DefaultReadHeaderTimeout = 30 * time.Second
	DefaultBodyReadTimeout   = 60 * time.Second
)

// Emulator is a running local Entra ID token service and Dataverse Web API over HTTPS. Its URL is
// both the authority host and the Dataverse organization URL. Create one with New and stop it with
// Close. All methods are safe for concurrent use.
type Emulator struct {
	url      string
	ca       *ca.Authority
	client   *http.Client
	server   *http.Server
	listener net.Listener
	store    *store.Store
	identity *identity.Service
	traffic  *traffic.Controller
	logger   *slog.Logger
	creds    Credentials
	clock    *clock
	dataDir  string
	dirLock  *dataDirLock // held from New to the end of Close

	// orgTenantID is the tenant the organization belongs to; tokenLifetime the configured
	// lifetime Reset returns to; systemUserID the SYSTEM user admin writes run as.
	orgTenantID   string
	tokenLifetime time.Duration
	systemUserID  uuid.UUID
	// initialLimits and initialFaults are the traffic settings of the start, for Reset.
	initialLimits Limits
	initialFaults []FaultRule

	// expireChangeTrackingInDays is the configured ExpireChangeTrackingInDays Reset returns to.
	expireChangeTrackingInDays int

	// stateMu serialises the operations that replace or copy the whole state (reset, snapshot,
	// restore, key rotation). snapshots are the in-memory snapshots by name; seedSnap is the
	// seeded state.
	stateMu   sync.Mutex
	snapshots map[string]*store.Snapshot
	seedSnap  *store.Snapshot

	conns     *connTracker
	serveErr  chan error
	closeOnce sync.Once
	closeErr  error
}

// New starts an emulator and returns once it accepts connections. On first start (or always, when
// in memory) it seeds one tenant, one app registration with a client secret, and an application
// user for that app holding the System Administrator role (Credentials returns them), or applies
// Options.Scenario instead. A scenario error fails New with a message naming the scenario file,
// line and field; nothing is left behind in the data directory.
func New(opts *Options) (*Emulator, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.TokenLifetime < 0 {
		return nil, invalidf("token lifetime %v is negative", o.TokenLifetime)
	}
	if o.ReadHeaderTimeout < 0 || o.BodyReadTimeout < 0 {
		return nil, invalidf("read timeouts must not be negative (header %v, body %v)", o.ReadHeaderTimeout, o.BodyReadTimeout)
	}
	if o.ReadHeaderTimeout == 0 {
		o.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if o.BodyReadTimeout == 0 {
		o.BodyReadTimeout = DefaultBodyReadTimeout
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	// Check the whole scenario before touching anything.
	var plan *scenario.Plan
	sch := schema.Builtin()
	if o.Scenario != nil {
		var err error
		if plan, err = o.Scenario.plan(); err != nil {
			return nil, err
		}
		sch = plan.Schema
	}
	if o.TokenLifetime == 0 {
		o.TokenLifetime = DefaultTokenLifetime
		if plan != nil && plan.TokenLifetime > 0 {
			o.TokenLifetime = plan.TokenLifetime
		}
	}
	var dirLock *dataDirLock
	if o.DataDir != "" {
		var err error
		if dirLock, err = prepareDataDir(o.DataDir); err != nil {
			return nil, err
		}
	}
	freshDB := true
	if o.DataDir != "" {
		if _, err := os.Stat(filepath.Join(o.DataDir, store.FileName)); !errors.Is(err, fs.ErrNotExist) {
			freshDB = false
		}
	}
	// A new database needs a token signing key: generating it (RSA 2048) is the slowest step of
	// a start, so it runs beside the rest. Every emulator generates its own.
	var firstKey func() (*rsa.PrivateKey, error)
	if freshDB {
		firstKey = startSigningKey()
	}

	e := &Emulator{
		logger:        logger,
		serveErr:      make(chan error, 1),
		conns:         newConnTracker(),
		clock:         &clock{},
		dataDir:       o.DataDir,
		dirLock:       dirLock,
		tokenLifetime: o.TokenLifetime,
		snapshots:     map[string]*store.Snapshot{},
	}
	ok := false
	defer func() {
		if !ok {
			e.shutdown()
			if freshDB && o.DataDir != "" {
				// A first start that failed leaves no half-seeded database behind.
				for _, name := range []string{store.FileName, seedFile} {
					for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
						os.Remove(filepath.Join(o.DataDir, name+suffix))
					}
				}
			}
		}
	}()

	now := time.Now()
	authority, err := ca.LoadOrCreate(o.DataDir, now)
	if err != nil {
		return nil, err
	}
	e.ca = authority

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen on %s: %w", o.Addr, err)
	}
	e.listener = ln
	e.url = baseURL(ln.Addr().(*net.TCPAddr), o.Addr)

	u, _ := url.Parse(e.url)
	leaf, err := authority.Leaf(u.Hostname(), now)
	if err != nil {
		return nil, err
	}

	ctx := context.Background()
	e.store, err = store.Open(ctx, o.DataDir, &store.Options{
		Schema: sch,
		Now:    e.clock.Now,
		Logger: logger.With("component", "store"),
	})
	if err != nil {
		return nil, fmt.Errorf("emulator: open store: %w", err)
	}
	e.identity, err = identity.New(ctx, e.store.ModuleTables(), identity.Options{
		BaseURL:         e.url,
		Resource:        e.url,
		TokenLifetime:   o.TokenLifetime,
		Now:             e.clock.Now,
		FirstSigningKey: firstKey,
		Logger:          logger.With("component", "entra"),
	})
	if err != nil {
		return nil, fmt.Errorf("emulator: start token service: %w", err)
	}
	if err := e.seed(ctx, plan); err != nil {
		return nil, err
	}
	if err := e.initChangeTracking(plan); err != nil {
		return nil, err
	}

	api, err := webapi.New(webapi.Options{
		Store:            e.store,
		OrgURL:           e.url,
		AuthorizationURI: e.url + "/" + e.orgTenantID + "/oauth2/authorize",
		TenantID:         e.orgTenantID,
		Logger:           logger.With("component", "webapi"),
	})
	if err != nil {
		return nil, fmt.Errorf("emulator: start web API: %w", err)
	}
	if err := e.newTraffic(&o, plan, caller.Middleware(tokenValidator(e.identity)), api); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/api/data/", api)
	mux.Handle("/_emulator/", e.adminHandler())
	mux.Handle("/", e.identity)

	e.server = &http.Server{
		Handler:           e.traffic.Wrap(mux),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		ConnState:         e.conns.track,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{leaf},
		},
	}
	pool := x509.NewCertPool()
	pool.AddCert(authority.Cert)
	e.client = &http.Client{Transport: &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}}

	go func() { e.serveErr <- e.server.ServeTLS(ln, "", "") }()
	logger.Info("emulator listening", "url", e.url, "data_dir", o.DataDir, "tenant_id", e.orgTenantID)
	ok = true
	return e, nil
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

// TenantID is the ID of the organization's tenant (the seeded tenant, or the scenario's
// organization tenant). The Web API serves only this tenant's tokens: a valid token issued by
// another tenant gets 403 0x80072560 "The user is not a member of the organization.", as a caller
// without an application user does.
func (e *Emulator) TenantID() string { return e.orgTenantID }

// Credentials returns the seeded app registration's tenant, client ID and client secret; with a
// scenario, the first of its apps that has a secret (empty ClientID and ClientSecret when none
// has). On a restart on a data directory they are what the stored state accepts: the app and
// tenant IDs of the first start, and the secret only when the emulator knows a value the stored
// hashes still accept (the seeded one, or the scenario's). Otherwise ClientSecret is empty, since
// secrets are kept hashed: AddSecret (`d365 emulator app secret add --app <id>`) makes a new one.
func (e *Emulator) Credentials() Credentials { return e.creds }

// CACertPEM returns the emulator's CA certificate in PEM form. Clients must trust it to talk to
// the emulator; HTTPClient already does.
func (e *Emulator) CACertPEM() []byte { return append([]byte(nil), e.ca.CertPEM...) }

// CACertPool returns a certificate pool holding only the emulator's CA.
func (e *Emulator) CACertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(e.ca.Cert)
	return pool
}

// HTTPClient returns an HTTP client that trusts the emulator's CA. It shares one transport (and
// its keep-alive connections) across calls.
func (e *Emulator) HTTPClient() *http.Client { return e.client }

// shutdownGrace bounds how long Close waits for requests in flight; flushGrace is how long it
// then lets HTTP/2 connections flush their last frames before closing them (instead of the
// second net/http waits for the client to hang up after GOAWAY).
const (
	shutdownGrace = 5 * time.Second
	flushGrace    = 100 * time.Millisecond
)

// Close stops the emulator: it stops accepting connections, waits for requests in flight (at most
// five seconds), closes every connection as soon as none is left, and closes the store. It is
// safe to call more than once.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.shutdown() })
	return e.closeErr
}

func (e *Emulator) shutdown() error {
	var errs []error
	if e.client != nil {
		// Close the emulator's own client connections first: an HTTP/2 server waits up to a
		// second for a client to hang up after its GOAWAY, and most clients of an emulator in a
		// test share this client's transport.
		e.client.CloseIdleConnections()
	}
	if e.server != nil {
		// Shutdown stops accepting, closes idle connections and waits for requests in flight.
		// Once none is left, close everything at once: HTTP/2 connections of other clients
		// would otherwise linger a second after GOAWAY for the client to hang up.
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		shut := make(chan error, 1)
		go func() { shut <- e.server.Shutdown(ctx) }()
		quiet := e.conns.waitQuiet(ctx)
		var shutErr error
		shutDone := false
		if quiet {
			// HTTP/2 reports a connection idle just before it flushes the last frames of the
			// response: give that a moment (Shutdown returns at once when only HTTP/1
			// connections were left), then close what is left.
			select {
			case shutErr = <-shut:
				shutDone = true
			case <-time.After(flushGrace):
			}
		}
		e.server.Close()
		cancel()
		if !shutDone {
			shutErr = <-shut
		}
		if !quiet && shutErr != nil {
			errs = append(errs, fmt.Errorf("emulator: requests still running after %v were cut off: %w", shutdownGrace, shutErr))
		}
		if err := <-e.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	} else if e.listener != nil {
		e.listener.Close()
	}
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	e.stateMu.Lock() // a Snapshot or Restore still running finishes first
	for _, sn := range e.snapshots {
		sn.Close()
	}
	clear(e.snapshots)
	if e.seedSnap != nil {
		e.seedSnap.Close()
	}
	e.stateMu.Unlock()
	if e.store != nil {
		if err := e.store.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	// Last: the next emulator on the directory may start once the database is closed.
	if err := e.dirLock.release(); err != nil {
		errs = append(errs, fmt.Errorf("emulator: unlock the data directory: %w", err))
	}
	return errors.Join(errs...)
}
