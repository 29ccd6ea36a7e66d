package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/d365s2s/d365/auth"
	"github.com/d365s2s/d365/dataverse"
)

// tokenReuseMargin is how long before its expiry a cached token stops being reused: azidentity
// refreshes its in-memory tokens five minutes early too, so a reused token never expires during
// a command.
const tokenReuseMargin = 5 * time.Minute

// tokenCache keeps access tokens between d365 invocations where the OS has no keyring for
// azidentity's persistent cache (see tokencache_keyring.go): one file per authority host,
// tenant, client, resource (scope) and credential fingerprint in $XDG_CACHE_HOME/d365/tokens (or
// the platform's cache directory), mode 0600 in a 0700 directory, like the Azure CLI's
// msal_token_cache.json on Linux. The files hold bearer tokens: "d365 profile logout" deletes
// them.
type tokenCache struct {
	dir string
	now func() time.Time
}

// tokenKey identifies a cached token.
type tokenKey struct {
	AuthorityHost string `json:"authorityHost"`
	TenantID      string `json:"tenant"`
	ClientID      string `json:"clientId"`
	Scope         string `json:"scope"`
	// Credential is a fingerprint of the credential (see credentialFingerprint), so that a
	// rotated, wrong or expired secret gets its own token, or its own refusal, rather than the
	// token the old one earned.
	Credential string `json:"credential,omitempty"`
}

// cachedToken is one cache file: the key it was stored under (so logout can select by tenant
// and client), the token and its expiry.
type cachedToken struct {
	tokenKey
	Token     string    `json:"accessToken"`
	ExpiresOn time.Time `json:"expiresOn"`
}

// cacheDir is the d365 directory in the user's cache directory, XDG_CACHE_HOME first (through
// lookup, so that tests isolate it).
func cacheDir(lookup func(string) (string, bool)) (string, error) {
	if v, ok := lookup("XDG_CACHE_HOME"); ok && strings.TrimSpace(v) != "" {
		return filepath.Join(v, "d365"), nil
	}
	if !hasHome(lookup) {
		return "", errors.New("no cache directory for tokens: neither XDG_CACHE_HOME nor HOME is set")
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for tokens: %w (set XDG_CACHE_HOME)", err)
	}
	return filepath.Join(dir, "d365"), nil
}

func newTokenCache(lookup func(string) (string, bool)) (*tokenCache, error) {
	dir, err := cacheDir(lookup)
	if err != nil {
		return nil, err
	}
	return &tokenCache{dir: filepath.Join(dir, "tokens"), now: time.Now}, nil
}

// file is the cache file of a key: a hash, so that names reveal nothing and need no escaping.
func (c *tokenCache) file(k tokenKey) string {
	h := sha256.Sum256([]byte(strings.Join([]string{
		strings.ToLower(strings.TrimRight(k.AuthorityHost, "/")), strings.ToLower(k.TenantID),
		strings.ToLower(k.ClientID), strings.ToLower(k.Scope), k.Credential}, "\n")))
	return filepath.Join(c.dir, hex.EncodeToString(h[:16])+".json")
}

// get returns the cached token of k while it has more than tokenReuseMargin to live.
func (c *tokenCache) get(k tokenKey) (azcore.AccessToken, bool) {
	data, err := os.ReadFile(c.file(k))
	if err != nil {
		return azcore.AccessToken{}, false
	}
	var ct cachedToken
	if json.Unmarshal(data, &ct) != nil || ct.Token == "" || ct.tokenKey != k {
		return azcore.AccessToken{}, false
	}
	if !c.now().Add(tokenReuseMargin).Before(ct.ExpiresOn) {
		return azcore.AccessToken{}, false
	}
	return azcore.AccessToken{Token: ct.Token, ExpiresOn: ct.ExpiresOn}, true
}

// put stores a token for k (0600, written to a temporary file and renamed). A cache that cannot
// be written only costs a token request next time, so the error is for the caller to ignore.
func (c *tokenCache) put(k tokenKey, tok azcore.AccessToken) error {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(cachedToken{tokenKey: k, Token: tok.Token, ExpiresOn: tok.ExpiresOn.UTC()})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, ".token-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.file(k))
}

// clear deletes the cached tokens that match (every one when match is nil) and returns how
// many it deleted.
func (c *tokenCache) clear(match func(tokenKey) bool) (int, error) {
	entries, err := os.ReadDir(c.dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(c.dir, e.Name())
		if match != nil {
			var ct cachedToken
			data, err := os.ReadFile(path)
			if err == nil && json.Unmarshal(data, &ct) == nil && !match(ct.tokenKey) {
				continue
			}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}

// cachingCredential answers GetToken from the token cache and asks the credential it wraps
// only when the cache has no token with five minutes to live; the new token is stored.
type cachingCredential struct {
	inner         azcore.TokenCredential
	cache         *tokenCache
	authorityHost string
	tenantID      string
	clientID      string
	credential    string // credentialFingerprint
}

// credentialFingerprint identifies the credential a token was issued for without revealing it:
// a truncated, domain-separated SHA-256 of the client secret, or of the certificate file's path
// and contents. Stored in the cache file next to the token it earned.
func credentialFingerprint(cfg auth.Config) string {
	h := sha256.New()
	h.Write([]byte("d365 token cache credential\n"))
	switch {
	case cfg.ClientSecret.IsSet():
		h.Write([]byte("secret\n" + cfg.ClientSecret.Reveal()))
	case cfg.CertificatePath != "":
		h.Write([]byte("certificate\n" + cfg.CertificatePath + "\n"))
		if data, err := os.ReadFile(cfg.CertificatePath); err == nil {
			h.Write(data)
		}
	default:
		h.Write([]byte(string(cfg.Method)))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// key is the cache key of a token request; ok is false for requests that must not be cached
// (claims, several scopes).
func (c *cachingCredential) key(opts policy.TokenRequestOptions) (tokenKey, bool) {
	if opts.Claims != "" || len(opts.Scopes) != 1 {
		return tokenKey{}, false
	}
	tenant := c.tenantID
	if opts.TenantID != "" {
		tenant = opts.TenantID
	}
	return tokenKey{AuthorityHost: c.authorityHost, TenantID: tenant, ClientID: c.clientID, Scope: opts.Scopes[0], Credential: c.credential}, true
}

// GetToken implements azcore.TokenCredential.
func (c *cachingCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	k, cacheable := c.key(opts)
	if cacheable {
		if tok, ok := c.cache.get(k); ok {
			return tok, nil
		}
	}
	tok, err := c.inner.GetToken(ctx, opts)
	if err == nil && cacheable {
		_ = c.cache.put(k, tok) // best effort: see put
	}
	return tok, err
}

// RefreshToken implements dataverse.TokenRefresher: after a 401 the service rejected the cached
// token, so a new one is fetched (never from a cache) and replaces it.
func (c *cachingCredential) RefreshToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	var (
		tok azcore.AccessToken
		err error
	)
	if r, ok := c.inner.(dataverse.TokenRefresher); ok {
		tok, err = r.RefreshToken(ctx, opts)
	} else {
		tok, err = c.inner.GetToken(ctx, opts)
	}
	if err == nil {
		if k, cacheable := c.key(policy.TokenRequestOptions{Scopes: opts.Scopes, TenantID: opts.TenantID}); cacheable {
			_ = c.cache.put(k, tok)
		}
	}
	return tok, err
}

// String names the wrapped credential, never a token.
func (c *cachingCredential) String() string { return fmt.Sprint(c.inner) + " (token cache)" }
