package caller

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const goodToken = "eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJhIn0.c2lnbmF0dXJl"

func validateGood(token string) (Caller, error) {
	if token == goodToken {
		return Caller{TenantID: tenantA, AppID: appA, ObjectID: "oid-1"}, nil
	}
	return Caller{}, errors.New("the access token's signature does not verify")
}

// The middleware identifies every kind of request once and hands the handler a typed caller;
// refusals say why without echoing what was sent.
func TestMiddlewareIdentifies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, method, path, authorization, body string
		want                                    Caller
	}{
		{"valid token", "GET", "/api/data/v9.2/WhoAmI", "Bearer " + goodToken, "",
			Caller{TenantID: tenantA, AppID: appA, ObjectID: "oid-1", Authenticated: true}},
		{"scheme case-insensitive", "GET", "/api/data/v9.2/WhoAmI", "bearer " + goodToken, "",
			Caller{TenantID: tenantA, AppID: appA, ObjectID: "oid-1", Authenticated: true}},
		{"forged token", "GET", "/api/data/v9.2/contacts", "Bearer forged." + secret + ".x", "",
			Caller{Refusal: "the access token's signature does not verify"}},
		{"no header", "GET", "/api/data/v9.2/contacts", "", "",
			Caller{Refusal: "the request has no Authorization header with a Bearer access token"}},
		{"empty bearer", "GET", "/api/data/v9.2/contacts", "Bearer  ", "",
			Caller{Refusal: "the request has no Authorization header with a Bearer access token"}},
		{"basic scheme", "GET", "/api/data/v9.2/contacts", "Basic " + secret, "",
			Caller{Refusal: `the Authorization header uses the "Basic" scheme; Dataverse accepts only Bearer access tokens`}},
		{"token without scheme", "GET", "/api/data/v9.2/contacts", secret + " x", "",
			Caller{Refusal: `the Authorization header is not of the form "Bearer <access token>"`}},
		{"token request", "POST", "/" + tenantA + "/oauth2/v2.0/token", "", "client_id=" + appB + "&client_secret=" + secret,
			Caller{TenantID: tenantA, AppID: appB}},
		{"discovery", "GET", "/" + tenantA + "/v2.0/.well-known/openid-configuration", "", "", Caller{}},
	} {
		var got Caller
		var seen, identified bool
		h := Middleware(validateGood)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = true
			got, identified = FromContext(r.Context())
		}))
		r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if tc.authorization != "" {
			r.Header.Set("Authorization", tc.authorization)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if !seen || !identified {
			t.Fatalf("%s: handler reached %v, caller in context %v", tc.name, seen, identified)
		}
		if got != tc.want {
			t.Errorf("%s: caller %+v, want %+v", tc.name, got, tc.want)
		}
		if strings.Contains(got.Refusal, secret) || strings.Contains(got.Refusal, goodToken) {
			t.Errorf("%s: the refusal %q echoes the credential", tc.name, got.Refusal)
		}
	}
}

// Without a validator no Web API caller is authenticated.
func TestMiddlewareWithoutValidator(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/api/data/v9.2/WhoAmI", nil)
	r.Header.Set("Authorization", "Bearer "+goodToken)
	if c := Identify(r, nil); c.Authenticated || c.Refusal == "" {
		t.Errorf("Identify without a validator = %+v, want an unauthenticated caller with a refusal", c)
	}
}

func TestFromContextWithoutMiddleware(t *testing.T) {
	t.Parallel()
	if c, ok := FromContext(httptest.NewRequest("GET", "/", nil).Context()); ok || c != (Caller{}) {
		t.Errorf("FromContext of a bare request = %+v, %v", c, ok)
	}
}

func TestWriteUnauthorized(t *testing.T) {
	t.Parallel()
	challenge := Challenge("https://emu.test/"+tenantA+"/oauth2/authorize", "https://emu.test")
	if want := "Bearer authorization_uri=https://emu.test/" + tenantA + "/oauth2/authorize, resource_id=https://emu.test/"; challenge != want {
		t.Errorf("Challenge = %q, want %q", challenge, want)
	}
	w := httptest.NewRecorder()
	w.Header().Set("Retry-After", "3")
	WriteUnauthorized(w, challenge)
	if w.Code != http.StatusUnauthorized || w.Body.Len() != 0 || w.Header().Get("WWW-Authenticate") != challenge ||
		w.Header().Get("Content-Length") != "0" || w.Header().Get("Retry-After") != "3" {
		t.Errorf("WriteUnauthorized: %d %q %v", w.Code, w.Body, w.Header())
	}
}
