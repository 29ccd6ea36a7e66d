package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of an access token that matter for Dataverse server-to-server access,
// decoded for display (reference entra.md §1.7). Times are UTC.
type Claims struct {
	Audience  []string       `json:"aud,omitempty"`      // the org URL the token is for
	Issuer    string         `json:"iss,omitempty"`      // https://sts.windows.net/{tid}/ for v1 tokens
	AppID     string         `json:"appid,omitempty"`    // the client ID (v2 tokens: azp)
	AppIDACR  string         `json:"appidacr,omitempty"` // how the app authenticated: "1" secret, "2" certificate (v2: azpacr)
	ObjectID  string         `json:"oid,omitempty"`      // the service principal's object ID
	Subject   string         `json:"sub,omitempty"`      // same as oid for app tokens
	TenantID  string         `json:"tid,omitempty"`      // the tenant that issued the token
	IDType    string         `json:"idtyp,omitempty"`    // "app" for app-only tokens
	Version   string         `json:"ver,omitempty"`      // "1.0" or "2.0"
	IssuedAt  time.Time      `json:"iat,omitzero"`       // when the token was issued
	NotBefore time.Time      `json:"nbf,omitzero"`       // start of validity
	ExpiresAt time.Time      `json:"exp,omitzero"`       // end of validity
	Roles     []string       `json:"roles,omitempty"`    // app roles; Dataverse S2S tokens normally carry none
	Raw       map[string]any `json:"-"`                  // every claim as decoded JSON
}

// ErrNotJWT is wrapped by every error of [DecodeClaims]: the input is not a decodable JWT.
var ErrNotJWT = errors.New("not a JWT access token")

// DecodeClaims decodes an access token's payload for display. It does NOT verify the signature
// or the lifetime: never base an authorisation decision on its result. A leading "Bearer " is
// ignored. Errors wrap [ErrNotJWT] and never contain the input.
func DecodeClaims(token string) (Claims, error) {
	token = strings.TrimSpace(token)
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	if token == "" {
		return Claims{}, fmt.Errorf("%w: the input is empty", ErrNotJWT)
	}
	switch n := strings.Count(token, ".") + 1; n {
	case 3:
	case 5:
		return Claims{}, fmt.Errorf("%w: it has 5 segments, so it is an encrypted token (JWE) whose claims cannot be read", ErrNotJWT)
	default:
		return Claims{}, fmt.Errorf("%w: it has %d dot-separated segments, a JWT has 3 (header.payload.signature)", ErrNotJWT, n)
	}

	raw := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(token, raw)
	// ParseUnverified reports an unknown "alg" after decoding the claims; for display that
	// does not matter. Its other errors can quote decoded bytes, so they are not wrapped.
	if err != nil && !errors.Is(err, jwt.ErrTokenUnverifiable) {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "decode header"):
			return Claims{}, fmt.Errorf("%w: the header segment is not base64url-encoded JSON", ErrNotJWT)
		case strings.Contains(msg, "decode claim"):
			return Claims{}, fmt.Errorf("%w: the payload segment is not base64url-encoded JSON", ErrNotJWT)
		case strings.Contains(msg, "signature"):
			return Claims{}, fmt.Errorf("%w: the signature segment is not base64url", ErrNotJWT)
		}
		return Claims{}, fmt.Errorf("%w: the token is malformed", ErrNotJWT)
	}

	c := Claims{Raw: map[string]any(raw)}
	c.Audience, _ = raw.GetAudience()
	c.Issuer = str(raw, "iss")
	c.AppID = firstNonEmpty(str(raw, "appid"), str(raw, "azp"))
	c.AppIDACR = firstNonEmpty(str(raw, "appidacr"), str(raw, "azpacr"))
	c.ObjectID = str(raw, "oid")
	c.Subject = str(raw, "sub")
	c.TenantID = str(raw, "tid")
	c.IDType = str(raw, "idtyp")
	c.Version = str(raw, "ver")
	c.IssuedAt = numericDate(raw.GetIssuedAt)
	c.NotBefore = numericDate(raw.GetNotBefore)
	c.ExpiresAt = numericDate(raw.GetExpirationTime)
	switch roles := raw["roles"].(type) {
	case []any:
		for _, r := range roles {
			if s, ok := r.(string); ok {
				c.Roles = append(c.Roles, s)
			}
		}
	case string:
		c.Roles = []string{roles}
	}
	return c, nil
}

func str(m jwt.MapClaims, k string) string {
	s, _ := m[k].(string)
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func numericDate(get func() (*jwt.NumericDate, error)) time.Time {
	d, err := get()
	if err != nil || d == nil {
		return time.Time{}
	}
	return d.UTC()
}
