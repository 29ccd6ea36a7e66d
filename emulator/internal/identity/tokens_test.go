package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// issue signs a token for the test app through the service's own issuing path.
func (e *env) issue(t *testing.T, audience string) string {
	t.Helper()
	tenant, err := e.svc.Tenant(context.Background(), testTenantID)
	must(t, err)
	app, err := e.svc.App(context.Background(), testClientID)
	must(t, err)
	tok, err := e.svc.issueAccessToken(e.clock.Now(), tenant, app, audience, "1")
	must(t, err)
	return tok.raw
}

// forge signs arbitrary claims with key, naming kid in the header.
func forge(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	must(t, err)
	return s
}

func validClaims(e *env) jwt.MapClaims {
	now := e.clock.Now()
	return jwt.MapClaims{
		"aud": e.svc.Resource(), "iss": stsIssuer(testTenantID), "tid": testTenantID, "appid": testClientID, "oid": testObjectID,
		"sub": testObjectID, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "ver": "1.0", "appidacr": "1",
	}
}

func TestValidateAccessTokenRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	active := e.svc.keys.Load().active
	foreignKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)

	with := func(k string, v any) jwt.MapClaims {
		c := validClaims(e)
		c[k] = v
		return c
	}
	good := e.issue(t, e.svc.Resource())
	parts := strings.Split(good, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), testObjectID, otherClientID, 2))) + "." + parts[2]

	cases := []struct {
		name   string
		raw    string
		kind   TokenErrorKind
		reason string
	}{
		{"empty", "", TokenMalformed, "not an access token"},
		{"not a JWT", "abc.def", TokenMalformed, "not a well-formed JWT"},
		{"foreign key, unknown kid", forge(t, jwt.SigningMethodRS256, foreignKey, "someone-elses-kid", validClaims(e)), TokenSignature,
			"the token is not signed by a key this emulator published"},
		{"foreign key, no kid", forge(t, jwt.SigningMethodRS256, foreignKey, "", validClaims(e)), TokenSignature,
			"not signed by a key this emulator published"},
		{"foreign key with our kid", forge(t, jwt.SigningMethodRS256, foreignKey, active.kid, validClaims(e)), TokenSignature,
			"does not verify against the emulator key it names"},
		{"tampered payload", tampered, TokenSignature, "altered after signing"},
		{"HS256 with our kid", forge(t, jwt.SigningMethodHS256, []byte("secret"), active.kid, validClaims(e)), TokenSignature,
			"not signed with RS256"},
		{"v2 issuer", forge(t, jwt.SigningMethodRS256, active.priv, active.kid, with("iss", "https://login.microsoftonline.com/"+testTenantID+"/v2.0")),
			TokenIssuer, "issuer is not https://sts.windows.net/"},
		{"issuer of another tenant", forge(t, jwt.SigningMethodRS256, active.priv, active.kid, with("iss", stsIssuer(otherTenantID))),
			TokenIssuer, "for its tid claim"},
		{"wrong audience", e.issue(t, "https://other.crm.dynamics.com"), TokenAudience,
			`the audience "https://other.crm.dynamics.com" is not this organization (` + e.svc.Resource() + ")"},
		{"audience with a path", e.issue(t, e.svc.Resource()+"/api/data"), TokenAudience, "is not this organization"},
		{"no exp", forge(t, jwt.SigningMethodRS256, active.priv, active.kid, with("exp", nil)), TokenMalformed, "lacks one of the claims"},
		{"expired", forge(t, jwt.SigningMethodRS256, active.priv, active.kid, with("exp", e.clock.Now().Unix())), TokenExpired,
			"the token expired at 2026-03-14T15:09:26Z"},
		{"not yet valid", forge(t, jwt.SigningMethodRS256, active.priv, active.kid, with("nbf", e.clock.Now().Add(time.Second).Unix())), TokenNotYetValid,
			"the token is not valid before 2026-03-14T15:09:27Z"},
		{"array audience", forge(t, jwt.SigningMethodRS256, active.priv, active.kid, with("aud", []string{e.svc.Resource()})), TokenMalformed,
			"not a well-formed JWT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tok, err := e.svc.ValidateAccessToken(c.raw)
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("ValidateAccessToken = %+v, %v; want a *TokenError", tok, err)
			}
			if te.Kind != c.kind || !strings.Contains(te.Reason, c.reason) {
				t.Errorf("error = kind %d %q, want kind %d containing %q", te.Kind, te.Reason, c.kind, c.reason)
			}
			if c.raw != "" && (strings.Contains(err.Error(), c.raw) || strings.Contains(err.Error(), strings.Split(c.raw, ".")[0]+".")) {
				t.Error("the error contains the token")
			}
		})
	}
}

func TestValidateAccessTokenExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	must(t, e.svc.SetTokenLifetime(5*time.Second))
	raw := e.issue(t, e.svc.Resource())
	e.clock.Advance(4 * time.Second)
	if _, err := e.svc.ValidateAccessToken(raw); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	e.clock.Advance(time.Second)
	_, err := e.svc.ValidateAccessToken(raw)
	var te *TokenError
	if !errors.As(err, &te) || te.Kind != TokenExpired || te.Reason != "the token expired at 2026-03-14T15:09:31Z" {
		t.Fatalf("at expiry: %v, want TokenExpired at 15:09:31Z", err)
	}

	skewed := newEnv(t, func(o *Options) { o.ValidationSkew = 5 * time.Minute })
	must(t, skewed.svc.SetTokenLifetime(5*time.Second))
	raw = skewed.issue(t, skewed.svc.Resource())
	skewed.clock.Advance(5*time.Second + 4*time.Minute)
	if _, err := skewed.svc.ValidateAccessToken(raw); err != nil {
		t.Errorf("within a 5-minute validation skew: %v", err)
	}
	skewed.clock.Advance(time.Minute)
	if _, err := skewed.svc.ValidateAccessToken(raw); err == nil {
		t.Error("accepted past exp + skew")
	}
}

func TestValidateAccessTokenAudienceForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, aud := range []string{e.svc.Resource(), e.svc.Resource() + "/", strings.ToUpper(e.svc.Resource()), dynamicsCRMAppID} {
		if _, err := e.svc.ValidateAccessToken(e.issue(t, aud)); err != nil {
			t.Errorf("aud %q: %v", aud, err)
		}
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := e.svc.SigningKeys()
	if len(before) != 1 || !before[0].Active {
		t.Fatalf("a new service publishes %+v, want one active key", before)
	}
	old := e.issue(t, e.svc.Resource())

	info, err := e.svc.RotateSigningKey(context.Background())
	must(t, err)
	after := e.svc.SigningKeys()
	if len(after) != 2 || after[0].KeyID != info.KeyID || !after[0].Active || after[1].KeyID != before[0].KeyID || after[1].Active {
		t.Fatalf("after rotation keys = %+v, want the new active key first and the old one still published", after)
	}
	fresh := e.issue(t, e.svc.Resource())
	for name, raw := range map[string]string{"old": old, "new": fresh} {
		tok, err := e.svc.ValidateAccessToken(raw)
		if err != nil {
			t.Fatalf("%s token after rotation: %v", name, err)
		}
		want := before[0].KeyID
		if name == "new" {
			want = info.KeyID
		}
		if tok.KeyID != want {
			t.Errorf("%s token signed by %s, want %s", name, tok.KeyID, want)
		}
	}
	// The JWKS publishes both keys.
	r := e.get(t, e.srv.URL+"/common/discovery/keys")
	ks, _ := r.body["keys"].([]any)
	if len(ks) != 2 {
		t.Fatalf("JWKS has %d keys after rotation, want 2", len(ks))
	}
}
