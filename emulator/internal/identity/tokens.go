package identity

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// dynamicsCRMAppID is the application ID of the first-party "Dynamics CRM" app behind every
	// Dataverse organization; v1 requests may name it as the resource.
	dynamicsCRMAppID = "00000007-0000-0000-c000-000000000000"

	// stsIssuerPrefix starts the issuer of v1 access tokens: https://sts.windows.net/{tid}/.
	stsIssuerPrefix = "https://sts.windows.net/"

	// issuedAtBackdate is how far before the moment of issue iat and nbf are set, to absorb clock
	// skew between Entra and resources: the v1 sample token in Microsoft's access-token claims
	// reference has exp - iat = 3900 s for a one-hour token. [unverified] on a live token; set to
	// 0 to issue iat = now.
	issuedAtBackdate = 5 * time.Minute

	// refreshInThreshold and the rule in refreshIn: Entra adds refresh_in, half the lifetime, to
	// tokens that live longer than two hours (ESTS resiliency hint; azure-sdk-for-go #19213,
	// MSAL .NET #4062). [unverified] for confidential-client tokens; one rule, one constant.
	refreshInThreshold = 2 * time.Hour

	// maxAccessTokenBytes bounds what ValidateAccessToken will parse.
	maxAccessTokenBytes = 16 << 10

	// accessTokenVersion is the ver claim: Dataverse receives v1 tokens even from the v2 endpoint
	// (entra.md §1.7).
	accessTokenVersion = "1.0"
)

// refreshIn returns the refresh_in value, in seconds, Entra would send for a token of the given
// lifetime, or 0 when it sends none.
func refreshIn(lifetime time.Duration) int64 {
	if lifetime <= refreshInThreshold {
		return 0
	}
	return int64(lifetime/time.Second) / 2
}

// stsIssuer is the v1 issuer for a tenant.
func stsIssuer(tenantID string) string { return stsIssuerPrefix + tenantID + "/" }

// accessTokenClaims is the v1 app-only claim set Dataverse receives, in Entra's order. aud is a
// single string, as Entra writes it.
type accessTokenClaims struct {
	Audience  string           `json:"aud"`
	Issuer    string           `json:"iss"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	ExpiresAt *jwt.NumericDate `json:"exp"`
	AIO       string           `json:"aio"`
	AppID     string           `json:"appid"`
	AppIDACR  string           `json:"appidacr"`
	IDP       string           `json:"idp"`
	IDType    string           `json:"idtyp"`
	OID       string           `json:"oid"`
	RH        string           `json:"rh"`
	Subject   string           `json:"sub"`
	TenantID  string           `json:"tid"`
	UTI       string           `json:"uti"`
	Version   string           `json:"ver"`
}

func (c *accessTokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt, nil }
func (c *accessTokenClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt, nil }
func (c *accessTokenClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore, nil }
func (c *accessTokenClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *accessTokenClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *accessTokenClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Audience}, nil
}

// issuedToken is a freshly signed access token and what the token response reports about it.
type issuedToken struct {
	raw       string
	lifetime  time.Duration
	notBefore time.Time
	expires   time.Time
}

// issueAccessToken signs a v1 access token for app, issued by tenant, for audience.
// appIDACR is "1" for a secret and "2" for a certificate.
func (s *Service) issueAccessToken(now time.Time, tenant Tenant, app App, audience, appIDACR string) (issuedToken, error) {
	set := s.keys.Load()
	lifetime := s.TokenLifetime()
	issued := now.Add(-issuedAtBackdate)
	expires := now.Add(lifetime)
	iss := stsIssuer(tenant.ID)
	claims := &accessTokenClaims{
		Audience:  audience,
		Issuer:    iss,
		IssuedAt:  jwt.NewNumericDate(issued),
		NotBefore: jwt.NewNumericDate(issued),
		ExpiresAt: jwt.NewNumericDate(expires),
		AIO:       opaqueValue(48, base64.StdEncoding),
		AppID:     app.ClientID,
		AppIDACR:  appIDACR,
		IDP:       iss,
		IDType:    "app",
		OID:       app.ObjectID,
		RH:        "0.A" + opaqueValue(42, base64.RawURLEncoding) + ".",
		Subject:   app.ObjectID,
		TenantID:  tenant.ID,
		UTI:       opaqueValue(16, base64.RawURLEncoding),
		Version:   accessTokenVersion,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["x5t"] = set.active.kid
	tok.Header["kid"] = set.active.kid
	raw, err := tok.SignedString(set.active.priv)
	if err != nil {
		return issuedToken{}, fmt.Errorf("identity: sign access token: %w", err)
	}
	return issuedToken{raw: raw, lifetime: lifetime, notBefore: claims.NotBefore.Time, expires: claims.ExpiresAt.Time}, nil
}

// opaqueValue is n random bytes in the given encoding: the shape of Entra's opaque claims (aio,
// rh, uti), whose content resources must not interpret.
func opaqueValue(n int, enc *base64.Encoding) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return enc.EncodeToString(b)
}

// AccessToken is what ValidateAccessToken extracts from a valid access token.
type AccessToken struct {
	TenantID  string // tid
	AppID     string // appid: the client ID
	ObjectID  string // oid (= sub): the service principal
	AppIDACR  string // "1" secret, "2" certificate
	KeyID     string // kid of the signing key
	Audience  string // aud as issued
	IssuedAt  time.Time
	NotBefore time.Time
	Expires   time.Time
}

// TokenErrorKind classifies why a token was rejected.
type TokenErrorKind int

// The ways an access token can fail validation.
const (
	TokenMalformed   TokenErrorKind = iota + 1 // not a JWT, or claims missing or of the wrong type
	TokenSignature                             // unknown key, wrong algorithm, or signature mismatch
	TokenIssuer                                // iss is not https://sts.windows.net/{tid}/
	TokenAudience                              // aud is not this organization
	TokenExpired                               // exp has passed
	TokenNotYetValid                           // nbf is in the future
)

// TokenError is why ValidateAccessToken rejected a token. Reason is a sentence in words, safe to
// log and to show to the caller; it never contains the token.
type TokenError struct {
	Kind   TokenErrorKind
	Reason string
}

// Error returns the reason in words, as the request log records it.
func (e *TokenError) Error() string { return e.Reason }

func tokenErr(kind TokenErrorKind, format string, args ...any) *TokenError {
	return &TokenError{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// errUnknownSigningKey is what the key lookup returns for a kid/x5t this service never published.
var errUnknownSigningKey = errors.New("unknown signing key")

// ValidateAccessToken checks an access token the way Dataverse does: an RS256 signature by one of
// the published signing keys (current or rotated), issuer https://sts.windows.net/{tid}/,
// audience = the organization URL (with or without a trailing slash, or the Dynamics CRM app
// ID), and nbf/exp against Now with Options.ValidationSkew. Failures are *TokenError.
func (s *Service) ValidateAccessToken(raw string) (*AccessToken, error) {
	if raw == "" || len(raw) > maxAccessTokenBytes {
		return nil, tokenErr(TokenMalformed, "the token is empty or longer than %d bytes; it is not an access token", maxAccessTokenBytes)
	}
	set := s.keys.Load()
	var claims accessTokenClaims
	var signer *signingKey
	parser := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}), jwt.WithoutClaimsValidation())
	_, err := parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		id, _ := t.Header["kid"].(string)
		if id == "" {
			id, _ = t.Header["x5t"].(string)
		}
		k, ok := set.byKid[id]
		if !ok {
			return nil, errUnknownSigningKey
		}
		signer = k
		return &k.priv.PublicKey, nil
	})
	switch {
	case err == nil:
	case errors.Is(err, errUnknownSigningKey):
		return nil, tokenErr(TokenSignature, "the token is not signed by a key this emulator published (its kid is not in the JWKS)")
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, tokenErr(TokenMalformed, "the token is not a well-formed JWT (three base64url parts with a JSON header and claims)")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) && signer == nil:
		return nil, tokenErr(TokenSignature, "the token is not signed with RS256, the only algorithm Entra access tokens use")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, tokenErr(TokenSignature, "the token's signature does not verify against the emulator key it names; the token was altered after signing")
	default:
		return nil, tokenErr(TokenSignature, "the token is not signed by a key this emulator published")
	}

	if !looksLikeGUID(claims.TenantID) || claims.Issuer != stsIssuer(claims.TenantID) {
		return nil, tokenErr(TokenIssuer, "the token's issuer is not https://sts.windows.net/{tenant ID}/ for its tid claim")
	}
	if !s.acceptsAudience(claims.Audience) {
		return nil, tokenErr(TokenAudience, "the audience %q is not this organization (%s); request the token for scope %s/.default",
			truncate(claims.Audience, 200), s.resource, s.resource)
	}
	if claims.ExpiresAt == nil || claims.NotBefore == nil || claims.IssuedAt == nil || claims.AppID == "" || claims.OID == "" {
		return nil, tokenErr(TokenMalformed, "the token lacks one of the claims exp, nbf, iat, appid, oid")
	}
	now := s.now()
	if exp := claims.ExpiresAt.Time; !now.Before(exp.Add(s.skew)) {
		return nil, tokenErr(TokenExpired, "the token expired at %s", exp.UTC().Format(time.RFC3339))
	}
	if nbf := claims.NotBefore.Time; now.Before(nbf.Add(-s.skew)) {
		return nil, tokenErr(TokenNotYetValid, "the token is not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	return &AccessToken{
		TenantID:  claims.TenantID,
		AppID:     claims.AppID,
		ObjectID:  claims.OID,
		AppIDACR:  claims.AppIDACR,
		KeyID:     signer.kid,
		Audience:  claims.Audience,
		IssuedAt:  claims.IssuedAt.Time,
		NotBefore: claims.NotBefore.Time,
		Expires:   claims.ExpiresAt.Time,
	}, nil
}

// acceptsAudience reports whether aud names this organization: the org URL with or without a
// trailing slash (case-insensitive), or the Dynamics CRM application ID.
func (s *Service) acceptsAudience(aud string) bool {
	return strings.EqualFold(strings.TrimSuffix(aud, "/"), s.resource) || strings.EqualFold(aud, dynamicsCRMAppID)
}

// truncate shortens s for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
