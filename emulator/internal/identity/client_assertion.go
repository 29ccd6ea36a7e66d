package identity

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/d365s2s/d365/emulator/internal/aadsts"
)

const (
	// clientAssertionType is the only client_assertion_type Entra accepts (RFC 7523).
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

	// assertionClockSkew is the tolerance on a client assertion's nbf and exp ("the usual five
	// minutes", as in Microsoft.IdentityModel's default ClockSkew).
	assertionClockSkew = 5 * time.Minute
)

// assertionAlgorithms are the signature algorithms Entra accepts on client assertions: PS256
// (current docs, MSAL Go for Entra) and RS256 (legacy, ADAL and older MSALs).
var assertionAlgorithms = []string{jwt.SigningMethodPS256.Alg(), jwt.SigningMethodRS256.Alg()}

// unixEpoch is what Entra prints for an assertion time that is absent.
var unixEpoch = time.Unix(0, 0).UTC()

// verifyClientAssertion authenticates app with a private_key_jwt client assertion: a JWT signed
// by the private key of a certificate registered on the app, naming the certificate by its SHA-1
// (x5t) or SHA-256 (x5t#S256) thumbprint, with iss = sub = client ID and aud = this token
// endpoint. It returns nil when the assertion is good.
func (s *Service) verifyClientAssertion(ctx context.Context, now time.Time, tenant Tenant, tenantSeg string, app App, raw string) *aadsts.Error {
	var claims jwt.RegisteredClaims
	tok, _, err := jwt.NewParser(jwt.WithoutClaimsValidation()).ParseUnverified(raw, &claims)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenUnverifiable) { // an alg golang-jwt does not know
			return aadsts.AssertionAlgorithm()
		}
		return aadsts.AssertionMalformed()
	}
	if alg := tok.Method.Alg(); alg != assertionAlgorithms[0] && alg != assertionAlgorithms[1] {
		return aadsts.AssertionAlgorithm()
	}
	if !strings.EqualFold(claims.Issuer, app.ClientID) {
		return aadsts.AssertionClientMismatch()
	}
	if claims.Subject != claims.Issuer {
		return aadsts.AssertionSubjectMismatch()
	}
	if len(claims.Audience) != 1 {
		// Entra rejects an audience list (even one that contains the token endpoint) as malformed.
		return aadsts.AssertionMalformed()
	}
	if !s.isTokenEndpoint(claims.Audience[0], tenant, tenantSeg) {
		return aadsts.AssertionAudience()
	}

	sha1Want, sha256Want, aerr := assertionThumbprints(tok.Header)
	if aerr != nil {
		return aerr
	}
	shown := strings.ToUpper(hex.EncodeToString(sha1Want))
	if sha256Want != nil {
		shown = strings.ToUpper(hex.EncodeToString(sha256Want))
	}
	certs, err := s.loadCertificates(ctx, app.ClientID)
	if err != nil {
		s.log.Error("loading certificates failed", "client_id", app.ClientID, "error", err)
		return aadsts.Transient()
	}
	var cert *registeredCertificate
	for i := range certs {
		c := &certs[i]
		if (sha256Want != nil && bytes.Equal(c.sha256, sha256Want)) || (sha1Want != nil && bytes.Equal(c.sha1, sha1Want)) {
			cert = c
			break
		}
	}
	if cert == nil {
		return aadsts.CertificateNotRegistered(shown, app.ClientID)
	}
	if now.After(cert.NotAfter) {
		return aadsts.CertificateExpired(shown, aadsts.KeyPeriod(cert.NotBefore, cert.NotAfter), app.ClientID)
	}
	verifier := jwt.NewParser(jwt.WithValidMethods(assertionAlgorithms), jwt.WithoutClaimsValidation())
	if _, err := verifier.ParseWithClaims(raw, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return cert.key, nil }); err != nil {
		return aadsts.AssertionSignature(shown, aadsts.KeyPeriod(cert.NotBefore, cert.NotAfter), app.ClientID)
	}

	notBefore, expires := unixEpoch, unixEpoch
	if claims.NotBefore != nil {
		notBefore = claims.NotBefore.Time
	}
	if claims.ExpiresAt != nil {
		expires = claims.ExpiresAt.Time
	}
	if now.After(expires.Add(assertionClockSkew)) || now.Before(notBefore.Add(-assertionClockSkew)) {
		return aadsts.AssertionTime(now, notBefore, expires)
	}
	return nil
}

// isTokenEndpoint reports whether aud is this emulator's v1 or v2 token endpoint for the tenant,
// named by its ID, its domain or the path segment the request used.
func (s *Service) isTokenEndpoint(aud string, tenant Tenant, tenantSeg string) bool {
	for _, seg := range [...]string{tenant.ID, tenant.Domain, tenantSeg} {
		prefix := s.baseURL + "/" + seg + "/oauth2/"
		if len(aud) < len(prefix) || !strings.EqualFold(aud[:len(prefix)], prefix) {
			continue
		}
		switch strings.ToLower(aud[len(prefix):]) {
		case "token", "v2.0/token":
			return true
		}
	}
	return false
}

// assertionThumbprints reads the certificate thumbprint a client assertion names: x5t#S256
// (SHA-256) and/or x5t (SHA-1), each accepted in base64url or padded standard base64 (MSAL Go
// sends the latter). Without either, the first x5c certificate's thumbprints are used.
func assertionThumbprints(header map[string]any) (sha1Sum, sha256Sum []byte, _ *aadsts.Error) {
	if v, ok := header["x5t#S256"]; ok {
		b, ok := decodeThumbprint(v, sha256.Size)
		if !ok {
			return nil, nil, aadsts.AssertionMalformed()
		}
		sha256Sum = b
	}
	if v, ok := header["x5t"]; ok {
		b, ok := decodeThumbprint(v, sha1.Size)
		if !ok {
			return nil, nil, aadsts.AssertionMalformed()
		}
		sha1Sum = b
	}
	if sha1Sum != nil || sha256Sum != nil {
		return sha1Sum, sha256Sum, nil
	}
	if chain, ok := header["x5c"].([]any); ok && len(chain) > 0 {
		s, _ := chain[0].(string)
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(der) == 0 {
			return nil, nil, aadsts.AssertionMalformed()
		}
		s1, s256 := sha1.Sum(der), sha256.Sum256(der)
		return s1[:], s256[:], nil
	}
	return nil, nil, aadsts.AssertionNoThumbprint()
}

// decodeThumbprint decodes a base64 thumbprint of the given size in any of the four base64
// alphabets/paddings.
func decodeThumbprint(v any, size int) ([]byte, bool) {
	s, ok := v.(string)
	if !ok || s == "" || len(s) > 128 {
		return nil, false
	}
	for _, enc := range [...]*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == size {
			return b, true
		}
	}
	return nil, false
}
