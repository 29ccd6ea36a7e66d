package dataverse

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// governors is the process-wide registry: one Governor per application user (environment host,
// tenant, object id). Entries are never removed: a process talks to few application users, and
// a governor must outlive the Clients that share it.
var governors struct {
	mu sync.Mutex
	m  map[string]*Governor
}

// governorFor returns the Governor registered under key, creating it with o when there is none
// (the first Client of an application user sets its options).
func governorFor(key string, o GovernorOptions) *Governor {
	governors.mu.Lock()
	defer governors.mu.Unlock()
	if g, ok := governors.m[key]; ok {
		return g
	}
	if governors.m == nil {
		governors.m = make(map[string]*Governor)
	}
	g := newGovernor(o)
	governors.m[key] = g
	return g
}

// governedToken is the last Authorization header a Client saw and the Governor of its
// application user, so that the per-request lookup is one atomic load and a string compare.
type governedToken struct {
	authorization string
	gov           *Governor
}

// tokenClaims are the access-token claims that identify an application user. Entra ID v1 tokens
// name the client appid, v2 tokens azp; both carry tid and oid (the service principal).
type tokenClaims struct {
	TenantID string `json:"tid"`
	ObjectID string `json:"oid"`
	AppID    string `json:"appid"`
	AZP      string `json:"azp"`
}

// appUserKey identifies the application user an access token stands for, at host. The token's
// claims are decoded without verifying the signature: the key only groups requests, and the
// service verifies the token. A token that is not a JWT falls back to the credential's identity
// (its address; owner, the Client, when the credential is not a pointer, so that no field of a
// credential value ever lands in a key).
func appUserKey(host, token string, cred, owner any) string {
	if c, ok := decodeClaims(token); ok {
		id := c.ObjectID
		if id == "" {
			id = c.AppID
		}
		if id == "" {
			id = c.AZP
		}
		if id != "" {
			return host + "|" + c.TenantID + "|" + id
		}
	}
	if v := reflect.ValueOf(cred); v.Kind() == reflect.Pointer {
		return fmt.Sprintf("%s|credential %#x", host, v.Pointer())
	}
	return fmt.Sprintf("%s|client %p", host, owner)
}

// decodeClaims reads the payload of a JWT (header.payload.signature, base64url) without
// verifying it.
func decodeClaims(token string) (tokenClaims, bool) {
	_, rest, ok := strings.Cut(token, ".")
	if !ok {
		return tokenClaims{}, false
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok {
		return tokenClaims{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return tokenClaims{}, false
	}
	var c tokenClaims
	if json.Unmarshal(raw, &c) != nil {
		return tokenClaims{}, false
	}
	return c, true
}

// governorOf returns the Governor of the application user whose token authorization carries;
// the last one is cached on the Client.
func (c *Client) governorOf(authorization string) *Governor {
	if e := c.governed.Load(); e != nil && e.authorization == authorization {
		return e.gov
	}
	token, _ := strings.CutPrefix(authorization, "Bearer ")
	g := governorFor(appUserKey(c.govHost, token, c.cred.cred, c), c.govOpts)
	c.governed.Store(&governedToken{authorization: authorization, gov: g})
	return g
}

// Governor returns the process-wide [Governor] of the application user this Client
// authenticates as: the one shared by every Client and job of the process that talks to the
// same environment as the same application user (tenant and object id, read from the access
// token). Use its Limit to size a pool of workers, and its Stats to report throttling.
//
// It needs an access token: the one of the last request, or one from the credential (usually
// from its cache). A Client made with GovernorOptions.Disabled still returns the Governor, but
// its own requests do not pass it.
func (c *Client) Governor(ctx context.Context) (*Governor, error) {
	if e := c.governed.Load(); e != nil {
		return e.gov, nil
	}
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: c.scopes()})
	if err != nil {
		return nil, fmt.Errorf("dataverse: Governor: getting an access token to identify the application user: %w", err)
	}
	return c.governorOf("Bearer " + tok.Token), nil
}

// hostOf is the host (and port) of the environment URL, lower-cased: the governors' scope.
func hostOf(orgURL string) string {
	u, err := url.Parse(orgURL)
	if err != nil {
		return orgURL
	}
	return strings.ToLower(u.Host)
}
