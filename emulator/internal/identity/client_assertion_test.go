package identity

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestClientAssertionAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	type variant struct {
		method     jwt.SigningMethod
		thumbprint string
		encoding   *base64.Encoding
	}
	var variants []variant
	for _, m := range []jwt.SigningMethod{jwt.SigningMethodPS256, jwt.SigningMethodRS256} {
		for _, tp := range []string{"x5t", "x5t#S256"} {
			for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.StdEncoding} {
				variants = append(variants, variant{m, tp, enc})
			}
		}
	}
	for _, v := range variants {
		encName := "base64url"
		if v.encoding == base64.StdEncoding {
			encName = "padded-base64"
		}
		t.Run(v.method.Alg()+"/"+v.thumbprint+"/"+encName, func(t *testing.T) {
			t.Parallel()
			a := e.assertion(t, e.cert, assertionSpec{method: v.method, thumbprint: v.thumbprint, encoding: v.encoding})
			r := e.post(t, e.tokenURL(testTenantID, tokenV2), e.withOrg(assertionForm(a)), nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			checkAccessToken(t, e, r.body["access_token"].(string), e.svc.Resource(), "2")
		})
	}

	// Audience forms: v1 or v2 token endpoint, tenant by ID or domain, either endpoint.
	for _, c := range []struct {
		name     string
		endpoint endpointVersion
		tenant   string
		aud      string
	}{
		{"v1 aud at v2 endpoint", tokenV2, testTenantID, e.tokenURL(testTenantID, tokenV1)},
		{"domain aud", tokenV2, testTenantDomain, e.tokenURL(testTenantDomain, tokenV2)},
		{"GUID aud at domain-addressed endpoint", tokenV2, testTenantDomain, e.tokenURL(testTenantID, tokenV2)},
		{"v1 endpoint", tokenV1, testTenantID, e.tokenURL(testTenantID, tokenV1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := e.assertion(t, e.cert, assertionSpec{claims: jwt.MapClaims{"aud": c.aud}})
			form := assertionForm(a)
			if c.endpoint == tokenV1 {
				form.Del("scope")
				form.Set("resource", e.svc.Resource())
			}
			r := e.post(t, e.tokenURL(c.tenant, c.endpoint), e.withOrg(form), nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			checkAccessToken(t, e, r.body["access_token"].(string), e.svc.Resource(), "2")
		})
	}
}

func TestClientAssertionRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := e.clock.Now()
	unregistered := sharedCert(t, 1)
	expiredCert := newTestCert(t, "expired", now.Add(-48*time.Hour), now.Add(-time.Hour))
	if _, err := e.svc.AddCertificate(context.Background(), testClientID, expiredCert.cert); err != nil {
		t.Fatal(err)
	}
	sha1Hex := func(c *testCert) string {
		s := sha1.Sum(c.cert.Raw)
		return strings.ToUpper(hex.EncodeToString(s[:]))
	}
	nowText := "Current time: 2026-03-14T15:09:26.0000000Z"

	cases := []struct {
		name     string
		raw      func() string
		form     func(string) map[string]string
		status   int
		oauth    string
		code     int
		contains string
	}{
		{name: "audience of another host", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{claims: jwt.MapClaims{"aud": "https://login.microsoftonline.com/" + testTenantID + "/oauth2/v2.0/token"}})
		}, status: 401, oauth: "invalid_client", code: 700023, contains: "Client assertion audience claim does not match Realm issuer."},
		{name: "audience of another tenant", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{claims: jwt.MapClaims{"aud": e.tokenURL(otherTenantID, tokenV2)}})
		}, status: 401, oauth: "invalid_client", code: 700023, contains: "does not match Realm issuer"},
		{name: "audience list", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{claims: jwt.MapClaims{"aud": []string{e.srv.URL + "/" + testTenantID + "/v2.0", e.tokenURL(testTenantID, tokenV2)}}})
		}, status: 400, oauth: "invalid_request", code: 50027, contains: "JWT token is invalid or malformed."},
		{name: "expired", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{claims: jwt.MapClaims{"nbf": now.Add(-20 * time.Minute).Unix(), "exp": now.Add(-6 * time.Minute).Unix()}})
		}, status: 401, oauth: "invalid_client", code: 700024,
			contains: "Client assertion is not within its valid time range. " + nowText + ", assertion valid from 2026-03-14T14:49:26.0000000Z, expiry time of assertion 2026-03-14T15:03:26.0000000Z."},
		{name: "not yet valid", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{claims: jwt.MapClaims{"nbf": now.Add(6 * time.Minute).Unix(), "exp": now.Add(16 * time.Minute).Unix()}})
		}, status: 401, oauth: "invalid_client", code: 700024, contains: nowText + ", assertion valid from 2026-03-14T15:15:26.0000000Z"},
		{name: "no exp", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{claims: jwt.MapClaims{"exp": nil}})
		}, status: 401, oauth: "invalid_client", code: 700024, contains: "expiry time of assertion 1970-01-01T00:00:00.0000000Z"},
		{name: "unregistered certificate", raw: func() string {
			return e.assertion(t, unregistered, assertionSpec{thumbprint: "x5t"})
		}, status: 401, oauth: "invalid_client", code: 700027,
			contains: "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '" + sha1Hex(unregistered) + "'"},
		{name: "registered thumbprint, other key", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{signWith: unregistered.key})
		}, status: 401, oauth: "invalid_client", code: 700027,
			contains: "Client assertion contains an invalid signature. [Reason - Key was found, but use of the key to verify the signature failed."},
		{name: "expired certificate", raw: func() string {
			return e.assertion(t, expiredCert, assertionSpec{thumbprint: "x5t"})
		}, status: 401, oauth: "invalid_client", code: 700027, contains: "[Reason - The key used is expired., Thumbprint of key used by client: '" + sha1Hex(expiredCert) + "'"},
		{name: "issuer is not the client", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{claims: jwt.MapClaims{"iss": otherClientID, "sub": otherClientID}})
		}, status: 401, oauth: "invalid_client", code: 700021, contains: "Client assertion application identifier doesn't match 'client_id' parameter."},
		{name: "subject differs from issuer", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{claims: jwt.MapClaims{"sub": "someone-else"}})
		}, status: 401, oauth: "invalid_client", code: 50048, contains: "Subject must match the issuer claim in the client assertion."},
		{name: "HS256", raw: func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"aud": e.tokenURL(testTenantID, tokenV2), "iss": testClientID, "sub": testClientID})
			s, err := tok.SignedString([]byte("shared"))
			must(t, err)
			return s
		}, status: 400, oauth: "invalid_request", code: 5002730, contains: "Invalid JWT token. Unsupported key for the signing algorithm."},
		{name: "unknown alg", raw: func() string {
			return b64json(`{"alg":"XY999","typ":"JWT"}`) + "." + b64json(`{"iss":"x"}`) + ".c2ln"
		}, status: 400, oauth: "invalid_request", code: 5002730, contains: "Unsupported key for the signing algorithm."},
		{name: "alg none", raw: func() string {
			return b64json(`{"alg":"none","typ":"JWT"}`) + "." + b64json(`{"iss":"`+testClientID+`","sub":"`+testClientID+`"}`) + "."
		}, status: 400, oauth: "invalid_request", code: 5002730, contains: "Unsupported key"},
		{name: "no thumbprint", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{thumbprint: "none"})
		}, status: 400, oauth: "invalid_request", code: 50027, contains: "Invalid JWT token. No certificate thumbprint specified in token header."},
		{name: "thumbprint of the wrong size", raw: func() string {
			return e.assertion(t, e.cert, assertionSpec{thumbprint: "none", header: map[string]any{"x5t": "AAAA"}})
		}, status: 400, oauth: "invalid_request", code: 50027, contains: "JWT token is invalid or malformed."},
		{name: "not a JWT", raw: func() string { return "not-a-jwt" },
			status: 400, oauth: "invalid_request", code: 50027, contains: "JWT token is invalid or malformed."},
		{name: "claims not JSON", raw: func() string { return b64json(`{"alg":"PS256"}`) + ".bm90IGpzb24.c2ln" },
			status: 400, oauth: "invalid_request", code: 50027, contains: "JWT token is invalid or malformed."},
		{name: "client_id of another app", raw: func() string { return e.assertion(t, e.cert, assertionSpec{}) },
			form: func(string) map[string]string {
				return map[string]string{"client_id": "deadbeef-0000-4000-8000-000000000000"}
			},
			status: 400, oauth: "unauthorized_client", code: 700016, contains: "Application with identifier 'deadbeef-0000-4000-8000-000000000000' was not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			form := e.withOrg(assertionForm(c.raw()))
			if c.form != nil {
				for k, v := range c.form(form.Get("client_assertion")) {
					form.Set(k, v)
				}
			}
			checkAADError(t, e.post(t, e.tokenURL(testTenantID, tokenV2), form, nil), c.status, c.oauth, c.code, c.contains)
		})
	}
}

// TestClientAssertionClockSkew checks the five-minute tolerance on exp and nbf.
func TestClientAssertionClockSkew(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := e.clock.Now()
	for name, claims := range map[string]jwt.MapClaims{
		"expired 4 minutes ago":          {"nbf": now.Add(-14 * time.Minute).Unix(), "exp": now.Add(-4 * time.Minute).Unix()},
		"valid from in 4 minutes":        {"nbf": now.Add(4 * time.Minute).Unix(), "exp": now.Add(14 * time.Minute).Unix()},
		"no nbf (MSAL always sends one)": {"nbf": nil},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := e.post(t, e.tokenURL(testTenantID, tokenV2), e.withOrg(assertionForm(e.assertion(t, e.cert, assertionSpec{claims: claims}))), nil)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
		})
	}
}

// TestClientAssertionX5C accepts an assertion that names its certificate only through x5c.
func TestClientAssertionX5C(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.assertion(t, e.cert, assertionSpec{thumbprint: "none", header: map[string]any{"x5c": []string{base64.StdEncoding.EncodeToString(e.cert.cert.Raw)}}})
	r := e.post(t, e.tokenURL(testTenantID, tokenV2), e.withOrg(assertionForm(a)), nil)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
}

func b64json(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
