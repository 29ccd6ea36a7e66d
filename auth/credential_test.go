package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/auth"
)

func getToken(t testing.TB, cred azcore.TokenCredential, scope string) (azcore.AccessToken, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
}

// The secret credential gets a real JWT over TLS trusted only through CAFile (httptest's
// certificate is in no system pool), with the claims the fake issued, and serves the second
// call from azidentity's cache.
func TestSecretCredentialGetsTokenThroughCAFile(t *testing.T) {
	t.Parallel()
	sts := newFakeSTS(t)
	cfg := sts.config(t)
	cred, err := auth.NewCredential(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := getToken(t, cred, cfg.Scope())
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if got := time.Until(tok.ExpiresOn); got < 50*time.Minute || got > time.Hour {
		t.Errorf("ExpiresOn in %v, want about an hour", got)
	}
	claims, err := auth.DecodeClaims(tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"appid": fakeClientID, "appidacr": "1", "tid": fakeTenantID, "idtyp": "app", "oid": fakeObjectID, "ver": "1.0"}
	got := map[string]string{"appid": claims.AppID, "appidacr": claims.AppIDACR, "tid": claims.TenantID, "idtyp": claims.IDType, "oid": claims.ObjectID, "ver": claims.Version}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{fakeOrgURL}, claims.Audience); diff != "" {
		t.Errorf("aud (-want +got):\n%s", diff)
	}

	if _, err := getToken(t, cred, cfg.Scope()); err != nil {
		t.Fatal(err)
	}
	if n := sts.tokenRequests(); n != 1 {
		t.Errorf("token requests = %d after two GetToken calls, want 1 (the second from cache)", n)
	}
	wantPaths := []string{
		"GET /" + fakeTenantID + "/v2.0/.well-known/openid-configuration",
		"POST /" + fakeTenantID + "/oauth2/v2.0/token",
	}
	if diff := cmp.Diff(wantPaths, sts.seen()); diff != "" {
		t.Errorf("requests to the STS (-want +got):\n%s", diff)
	}
}

// A tenant given as a verified domain works like the GUID.
func TestSecretCredentialTenantByDomain(t *testing.T) {
	t.Parallel()
	sts := newFakeSTS(t)
	cfg := sts.config(t)
	cfg.TenantID = fakeDomain
	cred, err := auth.NewCredential(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := getToken(t, cred, cfg.Scope())
	if err != nil {
		t.Fatal(err)
	}
	c, err := auth.DecodeClaims(tok.Token)
	if err != nil || c.TenantID != fakeTenantID {
		t.Fatalf("tid = %q, %v; want %s", c.TenantID, err, fakeTenantID)
	}
}

// recordingTransport passes requests for allowed hosts to next and refuses all others, recording
// every host asked for, so a test sees any attempt to reach Microsoft without leaving the box.
type recordingTransport struct {
	next    policy.Transporter
	allowed string
	mu      sync.Mutex
	hosts   []string
}

func (r *recordingTransport) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.hosts = append(r.hosts, req.URL.Host)
	r.mu.Unlock()
	if req.URL.Host != r.allowed {
		return nil, fmt.Errorf("test transport: refusing request to %s", req.URL.Host)
	}
	return r.next.Do(req)
}

func (r *recordingTransport) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Compact(slices.Clone(r.hosts))
}

// For an authority that is not a Microsoft login host, NewCredential disables instance
// discovery: the only host contacted is the authority. The control case shows that azidentity
// with discovery left on would call login.microsoftonline.com, so the assertion can fail.
func TestCustomAuthorityDisablesInstanceDiscovery(t *testing.T) {
	t.Parallel()
	sts := newFakeSTS(t)
	cfg := sts.config(t)
	hc, err := cfg.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	fakeHost := strings.TrimPrefix(sts.URL(), "https://")

	rec := &recordingTransport{next: hc, allowed: fakeHost}
	cred, err := auth.NewCredential(cfg, &auth.CredentialOptions{ClientOptions: azcore.ClientOptions{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := getToken(t, cred, cfg.Scope()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{fakeHost}, rec.seen()); diff != "" {
		t.Errorf("hosts contacted (-want +got):\n%s", diff)
	}
	if slices.Contains(sts.seen(), "GET /common/discovery/instance") {
		t.Error("the fake STS saw an instance discovery request")
	}

	control := &recordingTransport{next: hc, allowed: fakeHost}
	plain, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret.Reveal(),
		&azidentity.ClientSecretCredentialOptions{ClientOptions: azcore.ClientOptions{
			Transport: control, Cloud: cfg.Cloud().Configuration(), Retry: policy.RetryOptions{MaxRetries: -1},
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := getToken(t, plain, cfg.Scope()); err == nil {
		t.Error("control: azidentity with instance discovery got a token without login.microsoftonline.com")
	}
	if !slices.Contains(control.seen(), "login.microsoftonline.com") {
		t.Errorf("control: hosts contacted = %v, want login.microsoftonline.com among them", control.seen())
	}
}

// Without CAFile the emulator-style server is untrusted; the error says to set D365_CA_FILE.
// With a CAFile that holds some other CA, it says the file is the wrong one.
func TestUntrustedServerIsExplained(t *testing.T) {
	t.Parallel()
	// httptest servers all share one certificate, so the "wrong" CA is a fresh unrelated one.
	otherCA := newRSACert(t, "some other CA", keyB)

	cases := []struct {
		name   string
		caFile string
		want   []string
	}{
		{"no CA file", "", []string{"signed by a CA this machine does not trust", "set D365_CA_FILE (Config.CAFile)", "ca.pem"}},
		{"wrong CA file", writeTemp(t, "other-ca.pem", otherCA.certPEM), []string{"signed by a CA this machine does not trust", "D365_CA_FILE is", "does not hold the CA"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sts := newFakeSTS(t)
			cfg := sts.config(t)
			cfg.CAFile = tc.caFile
			cred, err := auth.NewCredential(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = getToken(t, cred, cfg.Scope())
			var ee *auth.ExplainedError
			if !errors.As(err, &ee) {
				t.Fatalf("err = %v (%T), want *auth.ExplainedError", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !strings.Contains(ee.Explanation, strings.TrimPrefix(sts.URL(), "https://")) {
				t.Errorf("explanation %q does not name the host", ee.Explanation)
			}
			// FailFastOnTLSErrors: one handshake, not azcore's four attempts with back-off.
			if n := sts.connections(); n != 1 {
				t.Errorf("connections = %d, want 1 (certificate errors must not be retried)", n)
			}
			t.Log(err)
		})
	}
}

// Each Entra failure the fake can produce comes back as *EntraError with the code, Entra's
// identifiers and the explanation, keeps the azidentity error reachable, and never carries the
// client secret in any rendering.
func TestEntraFailuresBecomeEntraErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		mutate     func(*auth.Config, *fakeSTS)
		code       int
		status     int
		oauthError string
		want       string // in Error()
	}{
		{"wrong secret", func(c *auth.Config, s *fakeSTS) { c.ClientSecret = "Wrong~secret~value~0000000000000000000000" },
			7000215, 401, "invalid_client", "AADSTS7000215: the client secret is wrong — use the secret's Value, not its Secret ID, and check it belongs to this app (" + fakeClientID + ")"},
		{"secret ID instead of value", func(c *auth.Config, s *fakeSTS) { c.ClientSecret = "0b1c2d3e-4f50-4617-8899-aabbccddeeff" },
			7000215, 401, "invalid_client", "the configured secret is shaped like a GUID"},
		{"unknown tenant", func(c *auth.Config, s *fakeSTS) { c.TenantID = "00000000-0000-4000-8000-000000000000" },
			90002, 400, "invalid_tenant", "AADSTS90002: tenant 00000000-0000-4000-8000-000000000000 does not exist at https://"},
		{"unknown client", func(c *auth.Config, s *fakeSTS) { c.ClientID = "00000000-0000-4000-8000-0000000000ff" },
			700016, 400, "unauthorized_client", "AADSTS700016: app 00000000-0000-4000-8000-0000000000ff was not found in tenant " + fakeTenantID},
		{"wrong org URL", func(c *auth.Config, s *fakeSTS) { c.OrgURL = "https://contoso2.crm.dynamics.com" },
			500011, 400, "invalid_resource", "AADSTS500011: Entra ID knows no resource named https://contoso2.crm.dynamics.com"},
		{"expired secret", func(c *auth.Config, s *fakeSTS) {
			s.force(&forcedFailure{status: 401, oauthError: "invalid_client", code: 7000222, message: "The provided client secret keys for app are expired."})
		}, 7000222, 401, "invalid_client", "AADSTS7000222: the client secret has expired"},
		{"app disabled", func(c *auth.Config, s *fakeSTS) {
			s.force(&forcedFailure{status: 400, oauthError: "unauthorized_client", code: 7000112, message: "Application is disabled."})
		}, 7000112, 400, "unauthorized_client", "AADSTS7000112: app " + fakeClientID + " is disabled"},
		{"conditional access", func(c *auth.Config, s *fakeSTS) {
			s.force(&forcedFailure{status: 400, oauthError: "invalid_grant", code: 53003, message: "Access has been blocked by Conditional Access policies."})
		}, 53003, 400, "invalid_grant", "AADSTS53003: a Conditional Access policy blocked the token"},
		{"request loop", func(c *auth.Config, s *fakeSTS) {
			s.force(&forcedFailure{status: 400, oauthError: "invalid_request", code: 50196, message: "The server terminated an operation because it encountered a client request loop."})
		}, 50196, 400, "invalid_request", "create one credential per process"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sts := newFakeSTS(t)
			cfg := sts.config(t)
			tc.mutate(&cfg, sts)
			cred, err := auth.NewCredential(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = getToken(t, cred, cfg.Scope())
			var ee *auth.EntraError
			if !errors.As(err, &ee) {
				t.Fatalf("err = %v (%T), want *auth.EntraError", err, err)
			}
			if ee.Code != tc.code || ee.StatusCode != tc.status || ee.OAuthError != tc.oauthError {
				t.Errorf("code, status, error = %d, %d, %q; want %d, %d, %q", ee.Code, ee.StatusCode, ee.OAuthError, tc.code, tc.status, tc.oauthError)
			}
			if !strings.Contains(ee.Error(), tc.want) {
				t.Errorf("Error() = %q\nwant it to contain %q", ee.Error(), tc.want)
			}
			if ee.TraceID == "" || ee.CorrelationID == "" || ee.Timestamp.IsZero() {
				t.Errorf("trace %q, correlation %q, timestamp %v: want all set", ee.TraceID, ee.CorrelationID, ee.Timestamp)
			}
			if strings.Contains(ee.Description, "Trace ID:") || !strings.HasPrefix(ee.Description, fmt.Sprintf("AADSTS%d:", tc.code)) {
				t.Errorf("Description = %q: want Entra's sentence without the trace lines", ee.Description)
			}
			var afe *azidentity.AuthenticationFailedError
			if !errors.As(err, &afe) || afe.RawResponse == nil {
				t.Fatal("errors.As(*azidentity.AuthenticationFailedError) failed on the wrapped error")
			}
			// The response body must stay readable for azidentity's own message.
			if !strings.Contains(afe.Error(), fmt.Sprintf("AADSTS%d", tc.code)) {
				t.Errorf("azidentity's message lost the body after parsing: %q", afe.Error())
			}
			for _, rendering := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%v", cred), fmt.Sprintf("%#v", cred)} {
				if strings.Contains(rendering, sts.secret) || (cfg.ClientSecret.IsSet() && strings.Contains(rendering, cfg.ClientSecret.Reveal())) {
					t.Fatalf("a rendering of the error or credential contains the secret: %q", rendering)
				}
			}
		})
	}
}

// A 429 from the token endpoint is an EntraError carrying Retry-After.
func TestThrottledTokenRequest(t *testing.T) {
	t.Parallel()
	sts := newFakeSTS(t)
	sts.force(&forcedFailure{status: http.StatusTooManyRequests, oauthError: "temporarily_unavailable", code: 50196,
		message: "The server terminated an operation because it encountered a client request loop.", header: http.Header{"Retry-After": {"7"}}})
	cfg := sts.config(t)
	// azcore's retry policy would retry the 429 three times after Retry-After; turn it off so
	// the test sees the first answer at once.
	cred, err := auth.NewCredential(cfg, &auth.CredentialOptions{ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = getToken(t, cred, cfg.Scope())
	var ee *auth.EntraError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want *auth.EntraError", err)
	}
	if n := sts.tokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1", n)
	}
	if ee.StatusCode != 429 || ee.RetryAfter != 7*time.Second || ee.Code != 50196 {
		t.Errorf("status %d, RetryAfter %v, code %d; want 429, 7s, 50196", ee.StatusCode, ee.RetryAfter, ee.Code)
	}
	if !strings.Contains(fmt.Sprintf("%+v", err), "Retry after:    7s") {
		t.Errorf("%%+v lacks the Retry-After line:\n%+v", err)
	}
}

// A scope that is not /.default (a caller bypassing Config.Scope) gets Entra's 1002012, explained.
func TestNonDefaultScope(t *testing.T) {
	t.Parallel()
	sts := newFakeSTS(t)
	cfg := sts.config(t)
	cred, err := auth.NewCredential(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = getToken(t, cred, fakeOrgURL+"/user_impersonation")
	var ee *auth.EntraError
	if !errors.As(err, &ee) || ee.Code != 1002012 {
		t.Fatalf("err = %v, want AADSTS1002012", err)
	}
	if want := "request exactly " + fakeOrgURL + "/.default"; !strings.Contains(ee.Error(), want) {
		t.Errorf("Error() = %q, want %q", ee.Error(), want)
	}
}

// A regional override would send the emulator's token requests to Microsoft; NewCredential
// refuses it. Not parallel: it sets process environment variables, as users do.
func TestRegionalOverrideRefusedForCustomAuthority(t *testing.T) {
	sts := newFakeSTS(t)
	for _, name := range []string{"AZURE_REGIONAL_AUTHORITY_NAME", "MSAL_FORCE_REGION"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("AZURE_REGIONAL_AUTHORITY_NAME", "")
			t.Setenv("MSAL_FORCE_REGION", "")
			t.Setenv(name, "westus2")
			_, err := auth.NewCredential(sts.config(t), nil)
			want := name + "=westus2 makes MSAL send token requests to a regional Microsoft host instead of the authority " + sts.URL() + "/: unset " + name
			var ce *auth.ConfigError
			if !errors.As(err, &ce) || err.Error() != want {
				t.Errorf("err = %v\nwant %s", err, want)
			}
			// A Microsoft authority may use a region.
			cfg := validBase()
			if _, err := auth.NewCredential(cfg, nil); err != nil {
				t.Errorf("public cloud with %s: %v", name, err)
			}
		})
	}
}

// Workload identity reads the federated token file and presents it as the client assertion.
func TestWorkloadIdentityCredential(t *testing.T) {
	t.Parallel()
	sts := newFakeSTS(t)
	const federated = "header.federated-token-from-kubernetes.signature"
	sts.trustFederatedToken(federated)
	cfg := sts.config(t)
	cfg.ClientSecret = ""
	cfg.Method = auth.MethodWorkloadIdentity
	cfg.FederatedTokenFile = writeTemp(t, "token", []byte(federated))
	cred, err := auth.NewCredential(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := getToken(t, cred, cfg.Scope())
	if err != nil {
		t.Fatal(err)
	}
	c, err := auth.DecodeClaims(tok.Token)
	if err != nil || c.AppIDACR != "2" || c.AppID != fakeClientID {
		t.Errorf("claims %+v, %v; want appid %s with appidacr 2", c, err, fakeClientID)
	}
	if slices.Contains(sts.seen(), "GET /common/discovery/instance") {
		t.Error("instance discovery was not disabled for workload identity")
	}
}

// The credential kinds that need a platform (IMDS, the az CLI) are built without contacting it,
// and name themselves without any secret.
func TestPlatformCredentialsConstruct(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  auth.Config
		want string
	}{
		{auth.Config{OrgURL: fakeOrgURL, Method: auth.MethodManagedIdentity}, "auth credential, managed-identity"},
		{auth.Config{OrgURL: fakeOrgURL, Method: auth.MethodManagedIdentity, ClientID: fakeClientID}, "auth credential, managed-identity, client " + fakeClientID},
		{auth.Config{OrgURL: fakeOrgURL, Method: auth.MethodAzureCLI, TenantID: fakeTenantID}, "auth credential, azure-cli, tenant " + fakeTenantID},
	} {
		cred, err := auth.NewCredential(tc.cfg, nil)
		if err != nil {
			t.Errorf("%v: %v", tc.cfg, err)
			continue
		}
		if got := fmt.Sprint(cred); got != tc.want {
			t.Errorf("%v: credential prints %q, want %q", tc.cfg, got, tc.want)
		}
	}
}
