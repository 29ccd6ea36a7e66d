package auth_test

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/auth"
)

// fakeSTS is a minimal Entra ID token service over real HTTPS (httptest TLS), shaped after the
// reference (entra.md §1, §2.5): v2 OIDC discovery and the v2 token endpoint for one tenant
// (by GUID or domain) and one app with a secret and registered certificates. It answers
// failures with Entra's JSON error shape and status codes, and records every request path.
type fakeSTS struct {
	srv      *httptest.Server
	tenantID string
	domain   string
	clientID string
	secret   string
	orgURL   string
	signer   *rsa.PrivateKey

	mu       sync.Mutex
	certs    []*x509.Certificate // registered certificates
	requests []string            // "METHOD /path" of every request
	tokens   int                 // token requests seen
	claims   []string            // the claims parameter of each token request ("" when absent)
	conns    int                 // TCP connections accepted
	forced   *forcedFailure      // when set, every token request fails like this
	// federated is a workload-identity token the app trusts as a client assertion (what a
	// federated identity credential does in Entra); empty means none.
	federated string
}

// forcedFailure makes the token endpoint fail with a given Entra error.
type forcedFailure struct {
	status     int
	oauthError string
	code       int
	message    string
	header     http.Header
}

const (
	fakeTenantID = "11111111-2222-4333-8444-555555555555"
	fakeDomain   = "contoso.onmicrosoft.com"
	fakeClientID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	fakeObjectID = "99999999-8888-4777-8666-555555555555"
	fakeOrgURL   = "https://contoso.crm.dynamics.com"
)

func newFakeSTS(t testing.TB) *fakeSTS {
	t.Helper()
	key := rsaKey(t, "fake STS token signing key")
	s := &fakeSTS{
		tenantID: fakeTenantID,
		domain:   fakeDomain,
		clientID: fakeClientID,
		// Shaped like a real secret value (40 characters with '~'); unique per fake so a test
		// can search output for it.
		secret: "Fk8Q~" + strings.ReplaceAll(uuid.NewString(), "-", "")[:30] + "abcd",
		orgURL: fakeOrgURL,
		signer: key,
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// Tests that distrust the server provoke TLS handshake errors on purpose; keep them quiet.
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
		}
	}
	s.srv.StartTLS()
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the authority host.
func (s *fakeSTS) URL() string { return s.srv.URL }

// writeCAFile writes the server's certificate as PEM, the way a user saves the emulator's ca.pem.
func (s *fakeSTS) writeCAFile(t testing.TB) string {
	return writeTemp(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}))
}

// config is a valid secret configuration against this fake, trusting it through CAFile.
func (s *fakeSTS) config(t testing.TB) auth.Config {
	return auth.Config{
		OrgURL:        s.orgURL,
		TenantID:      s.tenantID,
		ClientID:      s.clientID,
		ClientSecret:  auth.Secret(s.secret),
		AuthorityHost: s.URL(),
		CAFile:        s.writeCAFile(t),
	}
}

func (s *fakeSTS) registerCert(c *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs = append(s.certs, c)
}

func (s *fakeSTS) trustFederatedToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.federated = token
}

func (s *fakeSTS) force(f *forcedFailure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced = f
}

func (s *fakeSTS) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *fakeSTS) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *fakeSTS) tokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

// claimsSeen returns the claims parameter of each token request so far.
func (s *fakeSTS) claimsSeen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.claims)
}

func (s *fakeSTS) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	s.mu.Unlock()

	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 {
		http.NotFound(w, r)
		return
	}
	tenant, rest := parts[0], strings.Join(parts[1:], "/")
	known := strings.EqualFold(tenant, s.tenantID) || strings.EqualFold(tenant, s.domain)
	switch {
	case r.Method == http.MethodGet && rest == "v2.0/.well-known/openid-configuration":
		if !known {
			s.entraError(w, r, http.StatusBadRequest, "invalid_tenant", 90002,
				fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
			return
		}
		base := s.URL() + "/" + tenant
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                s.URL() + "/" + s.tenantID + "/v2.0",
			"token_endpoint":                        base + "/oauth2/v2.0/token",
			"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
			"jwks_uri":                              s.URL() + "/" + s.tenantID + "/discovery/v2.0/keys",
			"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		})
	case r.Method == http.MethodPost && rest == "oauth2/v2.0/token":
		if !known {
			s.entraError(w, r, http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found.", tenant))
			return
		}
		s.token(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *fakeSTS) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokens++
	forced := s.forced
	certs := slices.Clone(s.certs)
	federated := s.federated
	s.mu.Unlock()
	if forced != nil {
		for k, v := range forced.header {
			w.Header()[k] = v
		}
		s.entraError(w, r, forced.status, forced.oauthError, forced.code, forced.message)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.entraError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	s.mu.Lock()
	s.claims = append(s.claims, r.PostForm.Get("claims"))
	s.mu.Unlock()
	if r.PostForm.Get("grant_type") != "client_credentials" {
		s.entraError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
		return
	}
	clientID := r.PostForm.Get("client_id")
	if clientID != s.clientID {
		s.entraError(w, r, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, s.tenantID))
		return
	}
	// MSAL appends "openid offline_access profile"; Entra ignores them for app tokens.
	var resource string
	for _, sc := range strings.Fields(r.PostForm.Get("scope")) {
		switch sc {
		case "openid", "offline_access", "profile":
			continue
		}
		if !strings.HasSuffix(sc, "/.default") {
			s.entraError(w, r, http.StatusBadRequest, "invalid_scope", 1002012,
				fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", sc))
			return
		}
		resource = strings.TrimSuffix(sc, "/.default")
	}
	if resource != s.orgURL {
		s.entraError(w, r, http.StatusBadRequest, "invalid_resource", 500011,
			fmt.Sprintf("The resource principal named %s was not found in the tenant named %s.", resource, s.tenantID))
		return
	}
	acr := "1"
	switch {
	case r.PostForm.Has("client_secret"):
		if r.PostForm.Get("client_secret") != s.secret {
			s.entraError(w, r, http.StatusUnauthorized, "invalid_client", 7000215,
				fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", s.clientID))
			return
		}
	case r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" &&
		federated != "" && r.PostForm.Get("client_assertion") == federated:
		acr = "2"
	case r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
		if code, msg := s.checkAssertion(r.PostForm.Get("client_assertion"), certs, "https://"+r.Host+r.URL.Path); code != 0 {
			s.entraError(w, r, http.StatusUnauthorized, "invalid_client", code, msg)
			return
		}
		acr = "2"
	default:
		s.entraError(w, r, http.StatusUnauthorized, "invalid_client", 7000218,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"aud": s.orgURL, "iss": "https://sts.windows.net/" + s.tenantID + "/",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"appid": s.clientID, "appidacr": acr, "idp": "https://sts.windows.net/" + s.tenantID + "/",
		"idtyp": "app", "oid": fakeObjectID, "sub": fakeObjectID, "tid": s.tenantID, "ver": "1.0",
	})
	tok.Header["kid"] = "fake-key-1"
	signed, err := tok.SignedString(s.signer)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": signed})
}

// checkAssertion verifies a private_key_jwt client assertion the way Entra does: the header's
// thumbprint names a registered certificate whose key signed it; aud is the token endpoint; iss
// and sub are the client ID; the time window holds.
func (s *fakeSTS) checkAssertion(assertion string, certs []*x509.Certificate, endpoint string) (int, string) {
	var found *x509.Certificate
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"PS256", "RS256"}), jwt.WithAudience(endpoint),
		jwt.WithIssuer(s.clientID), jwt.WithSubject(s.clientID), jwt.WithExpirationRequired(), jwt.WithLeeway(5*time.Minute)).
		ParseWithClaims(assertion, claims, func(tok *jwt.Token) (any, error) {
			x5t, _ := tok.Header["x5t#S256"].(string)
			for _, c := range certs {
				sum := sha256.Sum256(c.Raw)
				if x5t == base64.StdEncoding.EncodeToString(sum[:]) || x5t == base64.RawURLEncoding.EncodeToString(sum[:]) {
					found = c
					return c.PublicKey, nil
				}
			}
			return nil, fmt.Errorf("no registered certificate with thumbprint %q", x5t)
		})
	switch {
	case found == nil:
		return 700027, fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '…', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]", s.clientID)
	case err != nil:
		return 700024, "Client assertion is not within its valid time range."
	}
	return 0, ""
}

// entraError writes Entra's error JSON (entra.md §1.5), with the trace and correlation IDs
// appended to the description the way Entra does; the correlation ID echoes client-request-id.
func (s *fakeSTS) entraError(w http.ResponseWriter, r *http.Request, status int, oauthError string, code int, message string) {
	trace := uuid.NewString()
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = uuid.NewString()
	}
	ts := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	writeJSON(w, status, map[string]any{
		"error":             oauthError,
		"error_description": fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", code, message, trace, corr, ts),
		"error_codes":       []int{code},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         fmt.Sprintf("%s/error?code=%d", s.URL(), code),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
