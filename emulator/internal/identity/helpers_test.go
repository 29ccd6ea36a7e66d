package identity

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	_ "modernc.org/sqlite"
)

// Fixed identities used across the tests.
const (
	testTenantID     = "11111111-1111-4111-8111-111111111111"
	testTenantDomain = "contoso.onmicrosoft.com"
	testTenantName   = "Contoso"
	testClientID     = "22222222-2222-4222-8222-222222222222"
	testObjectID     = "33333333-3333-4333-8333-333333333333"
	testSecretID     = "44444444-4444-4444-8444-444444444444"
	testSecret       = "abc8Q~Zx.v-_RealLookingSecretValue0123456"
	testAppName      = "Contoso Integration"
	otherTenantID    = "55555555-5555-4555-8555-555555555555"
	otherClientID    = "66666666-6666-4666-8666-666666666666"
)

// keyPool hands out pre-generated RSA keys so that each test service does not spend ~100 ms
// (more under -race) generating its signing key. Consecutive keys differ, which is all rotation
// tests need.
var (
	keyPool     []*rsa.PrivateKey
	keyPoolNext atomic.Uint64
)

func TestMain(m *testing.M) {
	var wg sync.WaitGroup
	keyPool = make([]*rsa.PrivateKey, 4)
	for i := range keyPool {
		wg.Go(func() {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keyPool[i] = k
		})
	}
	wg.Wait()
	generateRSAKey = func() (*rsa.PrivateKey, error) {
		return keyPool[keyPoolNext.Add(1)%uint64(len(keyPool))], nil
	}
	os.Exit(m.Run())
}

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openTestDB opens (or reopens) a SQLite database file the way the emulator does.
func openTestDB(t testing.TB, path string) *testStorage {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &testStorage{DB: db}
}

// testStorage is the Storage the emulator's store gives the service, over a plain database:
// each WriteTx its own transaction, and restored plays the store's word after a restore.
type testStorage struct {
	*sql.DB
	mu    sync.Mutex
	hooks []func(context.Context) error
}

func (d *testStorage) WriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func (d *testStorage) OnRestore(fn func(context.Context) error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hooks = append(d.hooks, fn)
}

// restored runs the hooks registered with OnRestore, as the store does after a restore.
func (d *testStorage) restored(ctx context.Context) error {
	d.mu.Lock()
	hooks := d.hooks
	d.mu.Unlock()
	for _, fn := range hooks {
		if err := fn(ctx); err != nil {
			return err
		}
	}
	return nil
}

// env is a token service behind a real TLS server, seeded with one tenant and one app that has
// a secret and a certificate.
type env struct {
	svc    *Service
	db     *testStorage // svc's database
	srv    *httptest.Server
	clock  *testClock
	logs   *syncBuffer
	dbPath string
	cert   *testCert
	// tokenPosts counts POSTs to the token endpoints; discoveryGets counts discovery requests.
	tokenPosts, discoveryGets atomic.Int64
}

type envOption func(*Options)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	e := &env{clock: newTestClock(), logs: &syncBuffer{}, dbPath: filepath.Join(t.TempDir(), "entra.db")}
	// The base URL must be known before the service is created: the unstarted server already
	// has its listener.
	e.srv = httptest.NewUnstartedServer(nil)
	t.Cleanup(e.srv.Close)
	o := Options{
		BaseURL: "https://" + e.srv.Listener.Addr().String(),
		Now:     e.clock.Now,
		Logger:  slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, opt := range opts {
		opt(&o)
	}
	e.db = openTestDB(t, e.dbPath)
	svc, err := New(context.Background(), e.db, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.svc = svc
	e.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token"):
			e.tokenPosts.Add(1)
		case strings.Contains(r.URL.Path, "/discovery/") || strings.Contains(r.URL.Path, "/.well-known/"):
			e.discoveryGets.Add(1)
		}
		svc.ServeHTTP(w, r)
	})
	e.srv.StartTLS()
	e.seed(t)
	return e
}

func (e *env) seed(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	must(t, e.svc.EnsureTenant(ctx, Tenant{ID: testTenantID, Domain: testTenantDomain, DisplayName: testTenantName}))
	must(t, e.svc.EnsureApp(ctx, App{ClientID: testClientID, TenantID: testTenantID, ObjectID: testObjectID, DisplayName: testAppName}))
	must(t, e.svc.EnsureSecret(ctx, testClientID, Secret{ID: testSecretID, DisplayName: "test", Value: testSecret}))
	e.cert = sharedCert(t, 0)
	if _, err := e.svc.AddCertificate(ctx, testClientID, e.cert.cert); err != nil {
		t.Fatal(err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// tokenURL is the token endpoint of the given version for a tenant path segment.
func (e *env) tokenURL(tenant string, v endpointVersion) string {
	if v == tokenV1 {
		return e.srv.URL + "/" + tenant + "/oauth2/token"
	}
	return e.srv.URL + "/" + tenant + "/oauth2/v2.0/token"
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (e *env) do(t testing.TB, req *http.Request) response {
	t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.body); err != nil {
			t.Fatalf("response is not a JSON object: %v\n%s", err, raw)
		}
	}
	return r
}

func (e *env) post(t testing.TB, target string, form url.Values, header http.Header) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return e.do(t, req)
}

func (e *env) get(t testing.TB, target string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.do(t, req)
}

// secretForm is a valid v2 client-secret request.
func secretForm() url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {testClientID},
		"client_secret": {testSecret},
		"scope":         {"ORG/.default openid offline_access profile"},
	}
}

// withOrg replaces the ORG placeholder in the scope or resource of a form.
func (e *env) withOrg(f url.Values) url.Values {
	for _, k := range []string{"scope", "resource"} {
		if v, ok := f[k]; ok {
			f[k] = []string{strings.ReplaceAll(v[0], "ORG", e.svc.Resource())}
		}
	}
	return f
}

// testCert is a client certificate and its key.
type testCert struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

var (
	sharedCertsOnce sync.Once
	sharedCerts     [3]*testCert
)

// sharedCert returns one of three client certificates generated once per test binary.
func sharedCert(t testing.TB, i int) *testCert {
	t.Helper()
	sharedCertsOnce.Do(func() {
		for j := range sharedCerts {
			sharedCerts[j] = newTestCert(t, "client-"+string(rune('a'+j)), time.Now().Add(-24*time.Hour), time.Now().Add(10*365*24*time.Hour))
		}
	})
	return sharedCerts[i]
}

func newTestCert(t testing.TB, cn string, notBefore, notAfter time.Time) *testCert {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{key: key, cert: cert}
}

// assertionSpec describes a client assertion to build.
type assertionSpec struct {
	method     jwt.SigningMethod // default PS256
	thumbprint string            // "x5t#S256" (default) or "x5t" or "none"
	encoding   *base64.Encoding  // default RawURLEncoding
	claims     jwt.MapClaims     // overrides merged over the defaults
	signWith   *rsa.PrivateKey   // default the cert's key
	header     map[string]any    // extra header fields
}

// assertion builds a client assertion for the app, by default a valid one for the v2 endpoint.
func (e *env) assertion(t testing.TB, c *testCert, spec assertionSpec) string {
	t.Helper()
	now := e.clock.Now()
	claims := jwt.MapClaims{
		"aud": e.tokenURL(testTenantID, tokenV2),
		"iss": testClientID,
		"sub": testClientID,
		"jti": "b4b2b5b0-7d6b-4c53-9a1e-6c1f3a0e2d11",
		"nbf": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	}
	for k, v := range spec.claims {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	method := spec.method
	if method == nil {
		method = jwt.SigningMethodPS256
	}
	tok := jwt.NewWithClaims(method, claims)
	enc := spec.encoding
	if enc == nil {
		enc = base64.RawURLEncoding
	}
	switch spec.thumbprint {
	case "", "x5t#S256":
		sum := sha256.Sum256(c.cert.Raw)
		tok.Header["x5t#S256"] = enc.EncodeToString(sum[:])
	case "x5t":
		sum := sha1.Sum(c.cert.Raw)
		tok.Header["x5t"] = enc.EncodeToString(sum[:])
	}
	for k, v := range spec.header {
		tok.Header[k] = v
	}
	key := spec.signWith
	if key == nil {
		key = c.key
	}
	raw, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func assertionForm(assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {testClientID},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
		"scope":                 {"ORG/.default"},
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// decodeClaims returns the claims of a JWT without verifying it.
func decodeClaims(t testing.TB, raw string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}
