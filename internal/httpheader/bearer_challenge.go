package httpheader

import "strings"

// BearerChallenge finds the first Bearer challenge in WWW-Authenticate header values and
// returns its authorization_uri and resource_id parameters (or their older names authorization
// and resource; the first occurrence of each wins). ok reports whether a Bearer challenge was
// found at all.
//
// RFC 9110 §11.6.1: one header value may hold several challenges separated by commas, each a
// scheme followed by auth-params name=value, the value a token or a quoted-string (with
// backslash escapes); names and the scheme are case-insensitive and white space may surround
// "=". Dataverse sends its values bare although they hold ':' and '/', which tokens may not,
// so a bare value runs to the next comma or white space.
func BearerChallenge(values []string) (authorizationURI, resourceID string, ok bool) {
	for _, v := range values {
		sc := challengeScanner{s: v}
		for {
			sc.skip(" \t,")
			scheme := sc.token()
			if scheme == "" {
				if sc.i >= len(sc.s) {
					break
				}
				sc.i++ // a stray '=' or '"' where a scheme should start
				continue
			}
			bearer := strings.EqualFold(scheme, "Bearer")
			for {
				mark := sc.i
				sc.skip(" \t,")
				name := sc.token()
				sc.skip(" \t")
				if name == "" || !sc.consume('=') {
					sc.i = mark // the next challenge's scheme, or the end
					break
				}
				sc.skip(" \t")
				value := sc.value()
				if !bearer {
					continue
				}
				switch strings.ToLower(name) {
				case "authorization_uri", "authorization":
					if authorizationURI == "" {
						authorizationURI = value
					}
				case "resource_id", "resource":
					if resourceID == "" {
						resourceID = value
					}
				}
			}
			if bearer {
				return authorizationURI, resourceID, true
			}
		}
	}
	return "", "", false
}

// challengeScanner walks one WWW-Authenticate header value.
type challengeScanner struct {
	s string
	i int
}

// skip advances past any of the bytes in set.
func (c *challengeScanner) skip(set string) {
	for c.i < len(c.s) && strings.IndexByte(set, c.s[c.i]) >= 0 {
		c.i++
	}
}

// token reads a scheme or parameter name: up to white space, ',', '=' or '"'.
func (c *challengeScanner) token() string {
	start := c.i
	for c.i < len(c.s) && strings.IndexByte(" \t,=\"", c.s[c.i]) < 0 {
		c.i++
	}
	return c.s[start:c.i]
}

// consume advances past b if it is next.
func (c *challengeScanner) consume(b byte) bool {
	if c.i < len(c.s) && c.s[c.i] == b {
		c.i++
		return true
	}
	return false
}

// value reads a quoted-string (unescaped; an unterminated one runs to the end) or a bare value
// up to white space or ','.
func (c *challengeScanner) value() string {
	if !c.consume('"') {
		start := c.i
		for c.i < len(c.s) && strings.IndexByte(" \t,", c.s[c.i]) < 0 {
			c.i++
		}
		return c.s[start:c.i]
	}
	var b strings.Builder
	for c.i < len(c.s) {
		ch := c.s[c.i]
		c.i++
		switch {
		case ch == '\\' && c.i < len(c.s):
			b.WriteByte(c.s[c.i])
			c.i++
		case ch == '"':
			return b.String()
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}
