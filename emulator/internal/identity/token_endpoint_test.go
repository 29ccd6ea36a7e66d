package identity

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// checkAADError asserts an Entra error response: status, OAuth error, AADSTS code, the
// description's wording and the shape of every field.
func checkAADError(t *testing.T, r response, status int, oauth string, code int, contains string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
	if r.body == nil {
		t.Fatalf("error body is not JSON: %q (Content-Type %q)", r.raw, r.header.Get("Content-Type"))
	}
	if got := r.body["error"]; got != oauth {
		t.Errorf("error = %v, want %s", got, oauth)
	}
	codes, _ := r.body["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != json.Number(strconv.Itoa(code)) {
		t.Errorf("error_codes = %v, want [%d]", r.body["error_codes"], code)
	}
	desc, _ := r.body["error_description"].(string)
	prefix := "AADSTS" + strconv.Itoa(code) + ": "
	if !strings.HasPrefix(desc, prefix) {
		t.Errorf("error_description = %q, want prefix %q", desc, prefix)
	}
	if !strings.Contains(desc, contains) {
		t.Errorf("error_description = %q, want it to contain %q", desc, contains)
	}
	traceID, _ := r.body["trace_id"].(string)
	corrID, _ := r.body["correlation_id"].(string)
	ts, _ := r.body["timestamp"].(string)
	if _, err := time.Parse("2006-01-02 15:04:05Z", ts); err != nil {
		t.Errorf("timestamp %q is not in Entra's format: %v", ts, err)
	}
	if !guidRE.MatchString(traceID) || !guidRE.MatchString(corrID) {
		t.Errorf("trace_id %q / correlation_id %q are not GUIDs", traceID, corrID)
	}
	suffix := "\r\nTrace ID: " + traceID + "\r\nCorrelation ID: " + corrID + "\r\nTimestamp: " + ts
	if !strings.HasSuffix(desc, suffix) {
		t.Errorf("error_description = %q, want suffix %q", desc, suffix)
	}
	if got, want := r.body["error_uri"], "https://login.microsoftonline.com/error?code="+strconv.Itoa(code); got != want {
		t.Errorf("error_uri = %v, want %s", got, want)
	}
	if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store, no-cache" {
		t.Errorf("Cache-Control = %q", got)
	}
}

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

const (
	disabledClientID = "77777777-7777-4777-8777-777777777777"
	expiredSecretID  = "88888888-8888-4888-8888-888888888888"
	expiredSecret    = "old8Q~ThisSecretExpiredLastNight000000000"
)

// newErrorEnv adds what the error table needs beside the default app: a second tenant with its
// own app, a disabled app, and an expired secret on the default app.
func newErrorEnv(t *testing.T) *env {
	e := newEnv(t)
	ctx := context.Background()
	must(t, e.svc.EnsureTenant(ctx, Tenant{ID: otherTenantID, Domain: "fabrikam.onmicrosoft.com"}))
	must(t, e.svc.EnsureApp(ctx, App{ClientID: otherClientID, TenantID: otherTenantID}))
	must(t, e.svc.EnsureSecret(ctx, otherClientID, Secret{ID: "99999999-9999-4999-8999-999999999999", Value: testSecret}))
	must(t, e.svc.EnsureApp(ctx, App{ClientID: disabledClientID, TenantID: testTenantID, DisplayName: "Retired Sync", Disabled: true}))
	must(t, e.svc.EnsureSecret(ctx, disabledClientID, Secret{ID: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", Value: testSecret}))
	must(t, e.svc.EnsureSecret(ctx, testClientID, Secret{ID: expiredSecretID, Value: expiredSecret, Expires: e.clock.Now().Add(-time.Hour)}))
	return e
}

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	e := newErrorEnv(t)
	org := e.svc.Resource()

	type tc struct {
		name     string
		method   string // default POST
		v        endpointVersion
		tenant   string // default testTenantID
		form     func(url.Values)
		rawBody  string // replaces the form when set
		ctype    string
		header   http.Header
		status   int
		oauth    string
		code     int
		contains string
	}
	cases := []tc{
		{name: "unknown tenant GUID", tenant: otherClientID, status: 400, oauth: "invalid_request", code: 90002,
			contains: "Tenant '" + otherClientID + "' not found. Check to make sure you have the correct tenant ID"},
		{name: "unknown tenant domain", tenant: "nosuch.onmicrosoft.com", status: 400, oauth: "invalid_request", code: 90002,
			contains: "Tenant 'nosuch.onmicrosoft.com' not found"},
		{name: "empty GUID tenant", tenant: emptyGUID, status: 400, oauth: "invalid_request", code: 90002,
			contains: "Tenant identifiers may not be an empty GUID."},
		{name: "malformed tenant", tenant: "not_a_tenant", status: 400, oauth: "invalid_request", code: 900023,
			contains: "Specified tenant identifier 'not_a_tenant' is neither a valid DNS name, nor a valid external domain."},
		{name: "common endpoint", tenant: "common", status: 400, oauth: "invalid_request", code: 9001023,
			contains: "The grant type is not supported over the /common or /consumers endpoints."},
		{name: "unknown client id", form: func(f url.Values) { f.Set("client_id", "deadbeef-0000-4000-8000-000000000000") },
			status: 400, oauth: "unauthorized_client", code: 700016,
			contains: "Application with identifier 'deadbeef-0000-4000-8000-000000000000' was not found in the directory 'Contoso'."},
		{name: "client of another tenant", form: func(f url.Values) { f.Set("client_id", otherClientID) },
			status: 400, oauth: "unauthorized_client", code: 700016, contains: "Application with identifier '" + otherClientID + "' was not found"},
		{name: "wrong secret", form: func(f url.Values) { f.Set("client_secret", "not-the-secret") },
			status: 401, oauth: "invalid_client", code: 7000215,
			contains: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + testClientID + "'."},
		{name: "secret ID instead of value", form: func(f url.Values) { f.Set("client_secret", testSecretID) },
			status: 401, oauth: "invalid_client", code: 7000215, contains: "not the client secret ID"},
		{name: "no secret", form: func(f url.Values) { f.Del("client_secret") }, status: 401, oauth: "invalid_client", code: 7000218,
			contains: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."},
		{name: "empty secret", form: func(f url.Values) { f.Set("client_secret", "") }, status: 401, oauth: "invalid_client", code: 7000218,
			contains: "'client_assertion' or 'client_secret'"},
		{name: "expired secret", form: func(f url.Values) { f.Set("client_secret", expiredSecret) }, status: 401, oauth: "invalid_client", code: 7000222,
			contains: "The provided client secret keys for app '" + testClientID + "' are expired."},
		{name: "scope not .default", form: func(f url.Values) { f.Set("scope", org+"/user_impersonation") },
			status: 400, oauth: "invalid_scope", code: 1002012,
			contains: "The provided value for scope " + org + "/user_impersonation is not valid. Client credential flows must have a scope value with /.default suffixed"},
		{name: "only OIDC scopes", form: func(f url.Values) { f.Set("scope", "openid profile") }, status: 400, oauth: "invalid_scope", code: 1002012,
			contains: "The provided value for scope openid profile is not valid."},
		{name: "two resources", form: func(f url.Values) { f.Set("scope", org+"/.default https://graph.microsoft.com/.default") },
			status: 400, oauth: "invalid_scope", code: 70011, contains: "The provided value for the input parameter 'scope' is not valid."},
		{name: "no scope", form: func(f url.Values) { f.Del("scope") }, status: 400, oauth: "invalid_request", code: 900144,
			contains: "The request body must contain the following parameter: 'scope'."},
		{name: "resource on v2", form: func(f url.Values) { f.Set("resource", org) }, status: 400, oauth: "invalid_request", code: 901002,
			contains: "The 'resource' request parameter is not supported."},
		{name: "another organization", form: func(f url.Values) { f.Set("scope", "https://other.crm.dynamics.com/.default") },
			status: 400, oauth: "invalid_resource", code: 500011,
			contains: "The resource principal named https://other.crm.dynamics.com was not found in the tenant named Contoso."},
		{name: "v1 resource with a path", v: tokenV1,
			form:   func(f url.Values) { f.Del("scope"); f.Set("resource", org+"/XRMServices/2011/Organization.svc") },
			status: 400, oauth: "invalid_resource", code: 500011, contains: "The resource principal named " + org + "/XRMServices/2011/Organization.svc was not found"},
		{name: "v1 without resource", v: tokenV1, form: func(f url.Values) { f.Del("scope") }, status: 400, oauth: "invalid_request", code: 900144,
			contains: "'resource'"},
		{name: "disabled app", form: func(f url.Values) { f.Set("client_id", disabledClientID) }, status: 400, oauth: "unauthorized_client", code: 7000112,
			contains: "Application '" + disabledClientID + "'(Retired Sync) is disabled."},
		{name: "no grant type", form: func(f url.Values) { f.Del("grant_type") }, status: 400, oauth: "invalid_request", code: 900144,
			contains: "'grant_type'"},
		{name: "password grant", form: func(f url.Values) { f.Set("grant_type", "password") }, status: 400, oauth: "unsupported_grant_type", code: 70003,
			contains: "The app requested an unsupported grant type 'password'."},
		{name: "no client id", form: func(f url.Values) { f.Del("client_id") }, status: 400, oauth: "invalid_request", code: 900144,
			contains: "'client_id'"},
		{name: "GET", method: http.MethodGet, status: 400, oauth: "invalid_request", code: 900561,
			contains: "The endpoint only accepts POST, OPTIONS requests. Received a GET request."},
		{name: "JSON body", rawBody: `{"grant_type":"client_credentials"}`, ctype: "application/json", status: 400, oauth: "invalid_request", code: 900144,
			contains: "'grant_type'"},
		{name: "repeated client_id", rawBody: "grant_type=client_credentials&client_id=a&client_id=b", status: 400, oauth: "invalid_request", code: 9002313,
			contains: "Invalid request. Request is malformed or invalid."},
		{name: "bad percent-encoding", rawBody: "grant_type=client_credentials&client_id=%zz", status: 400, oauth: "invalid_request", code: 9002313,
			contains: "Request is malformed"},
		{name: "body over 64 KiB", rawBody: "grant_type=client_credentials&x=" + strings.Repeat("a", maxFormBytes), status: 400, oauth: "invalid_request", code: 9002313,
			contains: "Request is malformed"},
		{name: "secret and assertion", form: func(f url.Values) {
			f.Set("client_assertion_type", clientAssertionType)
			f.Set("client_assertion", "a.b.c")
		}, status: 400, oauth: "invalid_request", code: 9002313, contains: "Request is malformed"},
		{name: "Basic and body secret", header: http.Header{"Authorization": {"Basic " + basic(testClientID, testSecret)}},
			status: 400, oauth: "invalid_request", code: 9002313, contains: "Request is malformed"},
		{name: "wrong Basic secret", form: func(f url.Values) { f.Del("client_secret") },
			header: http.Header{"Authorization": {"Basic " + basic(testClientID, "nope")}},
			status: 401, oauth: "invalid_client", code: 7000215, contains: "Invalid client secret provided."},
		{name: "unexpected assertion type", form: func(f url.Values) {
			f.Del("client_secret")
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			f.Set("client_assertion", "x")
		}, status: 400, oauth: "invalid_request", code: 90011, contains: "Unexpected client assertion type."},
		{name: "assertion without type", form: func(f url.Values) { f.Del("client_secret"); f.Set("client_assertion", "x") },
			status: 400, oauth: "invalid_request", code: 900144, contains: "'client_assertion_type'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := c.v
			if v == 0 {
				v = tokenV2
			}
			tenant := c.tenant
			if tenant == "" {
				tenant = testTenantID
			}
			form := e.withOrg(secretForm())
			if c.form != nil {
				c.form(form)
			}
			body := form.Encode()
			if c.rawBody != "" {
				body = c.rawBody
			}
			method := c.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, e.tokenURL(tenant, v), strings.NewReader(body))
			must(t, err)
			ctype := c.ctype
			if ctype == "" {
				ctype = "application/x-www-form-urlencoded"
			}
			req.Header.Set("Content-Type", ctype)
			for k, vs := range c.header {
				req.Header[k] = vs
			}
			checkAADError(t, e.do(t, req), c.status, c.oauth, c.code, c.contains)
		})
	}
}

func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(user) + ":" + url.QueryEscape(pass)))
}

func TestErrorEchoesClientRequestID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const reqID = "0f8fad5b-d9cb-469f-a165-70867728950e"
	form := e.withOrg(secretForm())
	form.Set("client_secret", "wrong")
	r := e.post(t, e.tokenURL(testTenantID, tokenV2), form, http.Header{"Client-Request-Id": {reqID}, "Return-Client-Request-Id": {"true"}})
	checkAADError(t, r, 401, "invalid_client", 7000215, "Invalid client secret")
	if r.body["correlation_id"] != reqID {
		t.Errorf("correlation_id = %v, want the client-request-id %s", r.body["correlation_id"], reqID)
	}
	if got := r.header.Get("client-request-id"); got != reqID {
		t.Errorf("client-request-id header = %q, want it echoed", got)
	}
	if r.header.Get("x-ms-request-id") != r.body["trace_id"] {
		t.Errorf("x-ms-request-id %q differs from trace_id %v", r.header.Get("x-ms-request-id"), r.body["trace_id"])
	}
}

func TestTokenV2Response(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	form := e.withOrg(secretForm())
	form.Set("claims", `{"access_token":{"xms_cc":{"values":["CP1"]}}}`)
	form.Set("client_info", "1")
	r := e.post(t, e.tokenURL(testTenantID, tokenV2), form, nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	want := map[string]any{"token_type": "Bearer", "expires_in": json.Number("3599"), "ext_expires_in": json.Number("3599")}
	raw, _ := r.body["access_token"].(string)
	got := map[string]any{"token_type": r.body["token_type"], "expires_in": r.body["expires_in"], "ext_expires_in": r.body["ext_expires_in"]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("v2 response (-want +got):\n%s", diff)
	}
	if _, ok := r.body["refresh_in"]; ok {
		t.Errorf("refresh_in present for a 1-hour token: %v", r.body["refresh_in"])
	}
	if len(r.body) != 4 {
		t.Errorf("v2 response has fields %v, want exactly token_type, expires_in, ext_expires_in, access_token", keys(r.body))
	}
	checkAccessToken(t, e, raw, e.svc.Resource(), "1")
}

func TestTokenV1Response(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testSecret}, "resource": {e.svc.Resource()}}
	r := e.post(t, e.tokenURL(testTenantID, tokenV1), form, nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	raw, _ := r.body["access_token"].(string)
	_, claims := decodeClaims(t, raw)
	want := map[string]any{
		"token_type":     "Bearer",
		"expires_in":     "3599",
		"ext_expires_in": "3599",
		"expires_on":     string(claims["exp"].(json.Number)),
		"not_before":     string(claims["nbf"].(json.Number)),
		"resource":       e.svc.Resource(),
		"access_token":   raw,
	}
	if diff := cmp.Diff(want, r.body); diff != "" {
		t.Errorf("v1 response (-want +got):\n%s", diff)
	}
	if exp := e.clock.Now().Add(3599 * time.Second).Unix(); want["expires_on"] != strconv.FormatInt(exp, 10) {
		t.Errorf("expires_on = %v, want now+3599 = %d", want["expires_on"], exp)
	}
	checkAccessToken(t, e, raw, e.svc.Resource(), "1")
}

// checkAccessToken validates raw and compares its claims with what Dataverse receives.
func checkAccessToken(t *testing.T, e *env, raw, aud, acr string) {
	t.Helper()
	tok, err := e.svc.ValidateAccessToken(raw)
	if err != nil {
		t.Fatalf("ValidateAccessToken: %v", err)
	}
	active := e.svc.SigningKeys()[0]
	now := e.clock.Now()
	wantTok := &AccessToken{
		TenantID: testTenantID, AppID: testClientID, ObjectID: testObjectID, AppIDACR: acr, KeyID: active.KeyID, Audience: aud,
		IssuedAt: now.Add(-issuedAtBackdate), NotBefore: now.Add(-issuedAtBackdate), Expires: now.Add(e.svc.TokenLifetime()),
	}
	if diff := cmp.Diff(wantTok, tok); diff != "" {
		t.Errorf("validated token (-want +got):\n%s", diff)
	}
	header, claims := decodeClaims(t, raw)
	if header["alg"] != "RS256" || header["typ"] != "JWT" || header["kid"] != active.KeyID || header["x5t"] != active.KeyID {
		t.Errorf("header = %v, want RS256 JWT with kid = x5t = %s", header, active.KeyID)
	}
	iss := "https://sts.windows.net/" + testTenantID + "/"
	fixed := map[string]any{"aud": aud, "iss": iss, "idp": iss, "appid": testClientID, "appidacr": acr, "oid": testObjectID,
		"sub": testObjectID, "tid": testTenantID, "idtyp": "app", "ver": "1.0"}
	for k, want := range fixed {
		if claims[k] != want {
			t.Errorf("claim %s = %v, want %v", k, claims[k], want)
		}
	}
	for _, k := range []string{"aio", "rh", "uti"} {
		if s, _ := claims[k].(string); s == "" {
			t.Errorf("opaque claim %s missing", k)
		}
	}
	for _, k := range []string{"azp", "azpacr", "roles", "scp"} {
		if _, ok := claims[k]; ok {
			t.Errorf("claim %s present; v1 app-only tokens for Dataverse carry none", k)
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestTokenSuccessVariants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const oddSecretID = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	const oddSecret = "p+a/s s:w%rd=1&x"
	must(t, e.svc.EnsureSecret(context.Background(), testClientID, Secret{ID: oddSecretID, Value: oddSecret}))
	org := e.svc.Resource()
	cases := []struct {
		name    string
		v       endpointVersion
		tenant  string
		form    url.Values
		header  http.Header
		wantAud string
	}{
		{"v2 by domain", tokenV2, testTenantDomain, e.withOrg(secretForm()), nil, org},
		{"v2 by upper-case domain", tokenV2, strings.ToUpper(testTenantDomain), e.withOrg(secretForm()), nil, org},
		{"v2 by upper-case GUID", tokenV2, strings.ToUpper(testTenantID), e.withOrg(secretForm()), nil, org},
		{"v2 org with trailing slash", tokenV2, testTenantID,
			url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testSecret}, "scope": {org + "//.default"}}, nil, org + "/"},
		{"v2 Dynamics CRM app ID", tokenV2, testTenantID,
			url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testSecret}, "scope": {dynamicsCRMAppID + "/.default"}}, nil, dynamicsCRMAppID},
		{"v1 Dynamics CRM app ID", tokenV1, testTenantID,
			url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testSecret}, "resource": {dynamicsCRMAppID}}, nil, dynamicsCRMAppID},
		{"v1 org with trailing slash", tokenV1, testTenantDomain,
			url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testSecret}, "resource": {org + "/"}}, nil, org + "/"},
		{"Basic, form-encoded per RFC 6749", tokenV2, testTenantID,
			url.Values{"grant_type": {"client_credentials"}, "scope": {org + "/.default"}},
			http.Header{"Authorization": {"Basic " + basic(testClientID, oddSecret)}}, org},
		{"Basic, plain", tokenV1, testTenantID,
			url.Values{"grant_type": {"client_credentials"}, "resource": {org}},
			http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(testClientID+":"+testSecret))}}, org},
		{"Basic with the same client_id in the body", tokenV2, testTenantID,
			url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "scope": {org + "/.default"}},
			http.Header{"Authorization": {"Basic " + basic(testClientID, testSecret)}}, org},
		{"upper-case client ID", tokenV2, testTenantID,
			url.Values{"grant_type": {"client_credentials"}, "client_id": {strings.ToUpper(testClientID)}, "client_secret": {testSecret}, "scope": {org + "/.default"}}, nil, org},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := e.post(t, e.tokenURL(c.tenant, c.v), c.form, c.header)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			raw, _ := r.body["access_token"].(string)
			checkAccessToken(t, e, raw, c.wantAud, "1")
			if c.v == tokenV1 {
				if r.body["resource"] != c.form.Get("resource") {
					t.Errorf("v1 resource = %v, want the requested %q", r.body["resource"], c.form.Get("resource"))
				}
				if _, ok := r.body["expires_in"].(string); !ok {
					t.Errorf("v1 expires_in is %T, want a string", r.body["expires_in"])
				}
			} else if _, ok := r.body["expires_in"].(json.Number); !ok {
				t.Errorf("v2 expires_in is %T, want a number", r.body["expires_in"])
			}
		})
	}
}

func TestRefreshIn(t *testing.T) {
	t.Parallel()
	cases := []struct {
		lifetime  time.Duration
		v2        any // refresh_in in the v2 response; nil = absent
		v1        any
		expiresIn string
	}{
		{time.Hour, nil, nil, "3600"},
		{2 * time.Hour, nil, nil, "7200"},
		{2*time.Hour + 2*time.Second, json.Number("3601"), "3601", "7202"},
		{24 * time.Hour, json.Number("43200"), "43200", "86400"},
	}
	e := newEnv(t)
	for _, c := range cases {
		// One service, lifetimes set in turn: not parallel.
		must(t, e.svc.SetTokenLifetime(c.lifetime))
		r2 := e.post(t, e.tokenURL(testTenantID, tokenV2), e.withOrg(secretForm()), nil)
		r1 := e.post(t, e.tokenURL(testTenantID, tokenV1),
			url.Values{"grant_type": {"client_credentials"}, "client_id": {testClientID}, "client_secret": {testSecret}, "resource": {e.svc.Resource()}}, nil)
		if r2.body["refresh_in"] != c.v2 || r1.body["refresh_in"] != c.v1 {
			t.Errorf("lifetime %v: refresh_in v2 %v v1 %v, want %v and %v", c.lifetime, r2.body["refresh_in"], r1.body["refresh_in"], c.v2, c.v1)
		}
		if r2.body["expires_in"] != json.Number(c.expiresIn) || r2.body["ext_expires_in"] != json.Number(c.expiresIn) || r1.body["expires_in"] != c.expiresIn {
			t.Errorf("lifetime %v: expires_in v2 %v ext %v v1 %v, want %s", c.lifetime, r2.body["expires_in"], r2.body["ext_expires_in"], r1.body["expires_in"], c.expiresIn)
		}
	}
	for _, bad := range []time.Duration{0, 999 * time.Millisecond, MaxTokenLifetime + time.Second} {
		if err := e.svc.SetTokenLifetime(bad); err == nil {
			t.Errorf("SetTokenLifetime(%v) accepted", bad)
		}
	}
}

func TestTokenOptionsAndMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	req, err := http.NewRequest(http.MethodOptions, e.tokenURL(testTenantID, tokenV2), nil)
	must(t, err)
	r := e.do(t, req)
	if r.status != http.StatusNoContent || r.header.Get("Allow") != "POST, OPTIONS" {
		t.Errorf("OPTIONS: status %d Allow %q", r.status, r.header.Get("Allow"))
	}
	req, err = http.NewRequest(http.MethodPost, e.srv.URL+"/"+testTenantID+"/v2.0/.well-known/openid-configuration", nil)
	must(t, err)
	if r := e.do(t, req); r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST to discovery: status %d, want 405", r.status)
	}
	for _, p := range []string{"/", "/x", "/" + testTenantID + "/oauth2/v2.0/authorize", "/" + testTenantID + "/nothing/here"} {
		if r := e.get(t, e.srv.URL+p); r.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, r.status)
		}
	}
}
