package traffic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/d365s2s/d365/emulator/internal/caller"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test callers. The tokens look like JWTs so that redaction and the no-token-in-log checks are
// meaningful; identifyTest maps them to callers the way the emulator validates real ones.
const (
	tenantA = "6a2b1c3d-0000-4000-8000-00000000000a"
	appA    = "11111111-1111-4111-8111-111111111111"
	appB    = "22222222-2222-4222-8222-222222222222"
	tokenA  = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhcHBpZCI6IjExMTExMTExIn0.c2lnbmF0dXJlLWEtc2VjcmV0"
	tokenB  = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhcHBpZCI6IjIyMjIyMjIyIn0.c2lnbmF0dXJlLWItc2VjcmV0"
	badTok  = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjF9.ZXhwaXJlZC1zaWduYXR1cmU"
	secret  = "Xy8Q~super.secret-value_123"
)

var testCallers = map[string]caller.Caller{
	tokenA: {TenantID: tenantA, AppID: appA},
	tokenB: {TenantID: tenantA, AppID: appB},
}

const testChallenge = "Bearer authorization_uri=https://emu.test/" + tenantA + "/oauth2/authorize, resource_id=https://emu.test/"

func bearerCaller(r *http.Request) (caller.Caller, bool) {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return caller.Caller{}, false
	}
	c, ok := testCallers[raw]
	return c, ok
}

// validateTest stands for the emulator's token validation: the test tokens are valid, any
// other is refused.
func validateTest(token string) (caller.Caller, error) {
	if c, ok := testCallers[token]; ok {
		return c, nil
	}
	return caller.Caller{}, errors.New("the access token's signature does not verify against the token service's keys")
}

// identityTest is the identity middleware the emulator would pass: bearer tokens on the Web
// API, the token request form elsewhere.
var identityTest = caller.Middleware(validateTest)

// identifyAs is an identity middleware that says every request comes from c.
func identifyAs(c caller.Caller) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(caller.NewContext(r.Context(), c)))
		})
	}
}

// fakeClock is a settable clock: the emulator's clock (Now) and the monotonic clock the limits
// run on (Since). Advance moves both, as time passing does; Jump moves only the emulator's
// clock, as SetClockOffset does.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	elapsed time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Since() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.elapsed
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.elapsed += d
	c.mu.Unlock()
}

func (c *fakeClock) Jump(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// backend is a small stand-in for the emulator's handlers.
//
//	/api/data/v9.2/block      signals entered, then waits for release (or the client to go away)
//	/api/data/v9.2/slow?ms=N  advances the fake clock by N ms (execution time)
//	/api/data/v9.2/jump?d=D   moves the emulator's clock by the duration D, as SetClockOffset does
//	/api/data/v9.2/forbidden  403 with Dataverse's envelope
//	/api/data/...             200 {"value":[]}
//	/{tenant}/oauth2/v2.0/token  200 token for client_secret=secret, else Entra 401 AADSTS7000215
type backend struct {
	clock   *fakeClock
	entered chan struct{}
	release chan struct{}
	// forms receives each token request's client_secret as the token endpoint saw it.
	forms chan string
}

func newBackend(clock *fakeClock) *backend {
	return &backend{clock: clock, entered: make(chan struct{}, 256), release: make(chan struct{}), forms: make(chan string, 64)}
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/data/") {
		b.serveAPI(w, r)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		b.serveToken(w, r)
		return
	}
	http.NotFound(w, r)
}

func (b *backend) serveAPI(w http.ResponseWriter, r *http.Request) {
	// Like the Web API: read the caller the identity middleware put in the context.
	c, ok := caller.FromContext(r.Context())
	if !ok {
		http.Error(w, "the request did not come through the identity middleware", http.StatusInternalServerError)
		return
	}
	if !c.Authenticated {
		if _, valid := bearerCaller(r); valid {
			http.Error(w, "the validated caller did not reach the handler", http.StatusInternalServerError)
			return
		}
		caller.WriteUnauthorized(w, testChallenge)
		return
	}
	switch strings.TrimPrefix(r.URL.Path, "/api/data/v9.2/") {
	case "block":
		b.entered <- struct{}{}
		select {
		case <-b.release:
		case <-r.Context().Done():
		}
	case "slow":
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		b.clock.Advance(time.Duration(ms) * time.Millisecond)
	case "jump":
		d, _ := time.ParseDuration(r.URL.Query().Get("d"))
		b.clock.Jump(d)
	case "forbidden":
		w.Header().Set("Content-Type", contentTypeOData)
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"error":{"code":"0x80040220","message":"Principal user (Id=7f0c, type=8) is missing prvReadContact privilege (Id=886b) on OTC=2 for entity 'contact'."}}`)
		return
	}
	w.Header().Set("Content-Type", contentTypeOData)
	io.WriteString(w, `{"value":[]}`)
}

func (b *backend) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	select {
	case b.forms <- r.PostForm.Get("client_secret"):
	default:
	}
	if r.PostForm.Get("client_secret") == secret {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"`+tokenA+`"}`)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	io.WriteString(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '`+appA+`'.\r\nTrace ID: 0b1c\r\nCorrelation ID: 9d2e\r\nTimestamp: 2025-03-14 09:00:00Z","error_codes":[7000215],"timestamp":"2025-03-14 09:00:00Z","trace_id":"0b1c","correlation_id":"9d2e","error_uri":"https://login.microsoftonline.com/error?code=7000215"}`)
}

// env is a controller in front of a backend behind a real TLS server.
type env struct {
	t       *testing.T
	c       *Controller
	clock   *fakeClock
	backend *backend
	srv     *httptest.Server
	client  *http.Client
}

type envConfig struct {
	limits  *Limits
	faults  []FaultRule
	seed    int64
	http2   bool
	realNow bool
	logSize int
	opts    func(*Options)
}

func newEnv(t *testing.T, cfg envConfig) *env {
	t.Helper()
	clock := newFakeClock()
	opts := Options{
		Limits:    cfg.limits,
		Faults:    cfg.faults,
		Seed:      cfg.seed,
		Now:       clock.Now,
		Identity:  identityTest,
		Challenge: testChallenge,
		LogSize:   cfg.logSize,
	}
	if cfg.realNow {
		opts.Now = nil
	}
	if cfg.opts != nil {
		cfg.opts(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if !cfg.realNow {
		c.since = clock.Since
	}
	b := newBackend(clock)
	mux := http.NewServeMux()
	c.RegisterAdmin(mux)
	mux.Handle("/", b)
	srv := httptest.NewUnstartedServer(c.Wrap(mux))
	srv.EnableHTTP2 = cfg.http2
	srv.Config.ErrorLog = log.New(handshakeNoiseFilter{}, "", log.LstdFlags)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 100
	return &env{t: t, c: c, clock: clock, backend: b, srv: srv, client: client}
}

// handshakeNoiseFilter drops "TLS handshake error" lines: the client's spare dials, still
// handshaking when a test closes its server, are not failures. Everything else goes to stderr.
type handshakeNoiseFilter struct{}

func (handshakeNoiseFilter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("TLS handshake error")) {
		return len(p), nil
	}
	return os.Stderr.Write(p)
}

// result is a response read in full.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) envelope(t *testing.T) (code, message string) {
	t.Helper()
	var env dataverseError
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("body %q is not Dataverse's error envelope: %v", r.body, err)
	}
	return env.Error.Code, env.Error.Message
}

func (e *env) do(ctx context.Context, method, path, token string, body io.Reader, header http.Header) (result, error) {
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	return result{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// get sends a Web API GET and fails the test on a transport error.
func (e *env) get(path, token string) result {
	e.t.Helper()
	r, err := e.do(context.Background(), http.MethodGet, "/api/data/v9.2/"+path, token, nil, nil)
	if err != nil {
		e.t.Fatalf("GET %s: %v", path, err)
	}
	return r
}

// token posts a client-credentials request with this secret.
func (e *env) token(secretValue string, header http.Header) result {
	e.t.Helper()
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {appA},
		"client_secret": {secretValue},
		"scope":         {"https://emu.test/.default"},
	}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	for k, v := range header {
		h[k] = v
	}
	r, err := e.do(context.Background(), http.MethodPost, "/"+tenantA+"/oauth2/v2.0/token", "", strings.NewReader(form.Encode()), h)
	if err != nil {
		e.t.Fatalf("token request: %v", err)
	}
	return r
}

// admin sends an admin API request with a JSON body.
func (e *env) admin(method, path, body string) result {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := e.do(context.Background(), method, "/_emulator/"+path, "", rd, http.Header{"Content-Type": {"application/json"}})
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// lastLog returns the newest log entry.
func (e *env) lastLog() LogEntry {
	e.t.Helper()
	entries := e.c.Log(LogFilter{})
	if len(entries) == 0 {
		e.t.Fatal("the request log is empty")
	}
	return entries[len(entries)-1]
}

// waitFor polls cond until it holds (readiness, not timing: the deadline only bounds a hang).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(data))
}
