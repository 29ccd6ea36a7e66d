package cli

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/auth"
)

// countingCredential issues numbered tokens and counts the requests.
type countingCredential struct {
	calls, refreshes int
	lifetime         time.Duration
	now              func() time.Time
}

func (c *countingCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls++
	return azcore.AccessToken{Token: "token-" + string(rune('0'+c.calls)), ExpiresOn: c.now().Add(c.lifetime)}, nil
}

func (c *countingCredential) RefreshToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.refreshes++
	return c.GetToken(ctx, o)
}

// A token is reused by a later process (a new cachingCredential over the same directory) until
// five minutes before it expires; another scope, tenant, client or credential gets its own.
func TestTokenCacheReuse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	inner := &countingCredential{lifetime: time.Hour, now: clock}
	newCred := func(tenant, client, credential string) *cachingCredential {
		return &cachingCredential{inner: inner, cache: &tokenCache{dir: dir, now: clock},
			authorityHost: "https://login.example/", tenantID: tenant, clientID: client, credential: credential}
	}
	ctx := context.Background()
	scope := policy.TokenRequestOptions{Scopes: []string{"https://org.example/.default"}}
	get := func(c *cachingCredential, o policy.TokenRequestOptions) string {
		t.Helper()
		tok, err := c.GetToken(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Token
	}

	first := get(newCred("t", "c", "s1"), scope)
	steps := []struct {
		name      string
		advance   time.Duration
		cred      *cachingCredential
		opts      policy.TokenRequestOptions
		wantCalls int
	}{
		{"the next process reuses it", 0, newCred("t", "c", "s1"), scope, 1},
		{"54 minutes later still", 54 * time.Minute, newCred("t", "c", "s1"), scope, 1},
		{"another credential (a rotated secret)", 0, newCred("t", "c", "s2"), scope, 2},
		{"another client", 0, newCred("t", "other", "s1"), scope, 3},
		{"another tenant", 0, newCred("t2", "c", "s1"), scope, 4},
		{"another resource", 0, newCred("t", "c", "s1"), policy.TokenRequestOptions{Scopes: []string{"https://other.example/.default"}}, 5},
		{"claims are never answered from the cache", 0, newCred("t", "c", "s1"), policy.TokenRequestOptions{Scopes: scope.Scopes, Claims: "{}"}, 6},
		{"within five minutes of expiry a new one", time.Minute + time.Second, newCred("t", "c", "s1"), scope, 7},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		got := get(s.cred, s.opts)
		if inner.calls != s.wantCalls {
			t.Fatalf("%s: %d token requests, want %d", s.name, inner.calls, s.wantCalls)
		}
		if s.wantCalls == 1 && got != first {
			t.Fatalf("%s: got %q, want the cached %q", s.name, got, first)
		}
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
	}
}

// RefreshToken (after a 401) bypasses the cache and replaces the cached token.
func TestTokenCacheRefreshReplaces(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	inner := &countingCredential{lifetime: time.Hour, now: clock}
	cache := &tokenCache{dir: filepath.Join(t.TempDir(), "tokens"), now: clock}
	c := &cachingCredential{inner: inner, cache: cache, tenantID: "t", clientID: "c"}
	opts := policy.TokenRequestOptions{Scopes: []string{"s/.default"}}
	a, _ := c.GetToken(context.Background(), opts)
	b, _ := c.RefreshToken(context.Background(), opts)
	again, _ := c.GetToken(context.Background(), opts)
	if inner.refreshes != 1 || a.Token == b.Token || again.Token != b.Token {
		t.Fatalf("refreshes %d, tokens %q %q %q: want the refreshed token cached", inner.refreshes, a.Token, b.Token, again.Token)
	}
	if fi, err := os.Stat(cache.dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode: %v %v, want 0700", fi.Mode().Perm(), err)
	}
}

// clear deletes the selected tokens only.
func TestTokenCacheClear(t *testing.T) {
	t.Parallel()
	cache := &tokenCache{dir: t.TempDir(), now: time.Now}
	exp := azcore.AccessToken{Token: "x", ExpiresOn: time.Now().Add(time.Hour)}
	for _, k := range []tokenKey{{TenantID: "t", ClientID: "a"}, {TenantID: "t", ClientID: "b"}, {TenantID: "u", ClientID: "a"}} {
		if err := cache.put(k, exp); err != nil {
			t.Fatal(err)
		}
	}
	n, err := cache.clear(func(k tokenKey) bool { return k.ClientID == "a" })
	if err != nil || n != 2 {
		t.Fatalf("clear a: %d, %v; want 2", n, err)
	}
	if _, ok := cache.get(tokenKey{TenantID: "t", ClientID: "b"}); !ok {
		t.Fatal("b's token was deleted too")
	}
	if n, _ := cache.clear(nil); n != 1 {
		t.Fatalf("clear all: %d, want 1", n)
	}
	empty := &tokenCache{dir: filepath.Join(t.TempDir(), "never-made")}
	if n, err := empty.clear(nil); n != 0 || err != nil {
		t.Fatalf("clear of a missing dir: %d, %v", n, err)
	}
}

// Without HOME or XDG_* in the environment a command is given, no user directory is used.
func TestNoUserDirsWithoutHome(t *testing.T) {
	t.Parallel()
	none := func(string) (string, bool) { return "", false }
	if _, err := newTokenCache(none); err == nil {
		t.Error("newTokenCache found a directory without HOME")
	}
	if _, err := newProfileStore(none); err == nil {
		t.Error("newProfileStore found a directory without HOME")
	}
	xdg := func(k string) (string, bool) {
		return map[string]string{"XDG_CACHE_HOME": "/c", "XDG_CONFIG_HOME": "/f"}[k], true
	}
	if c, err := newTokenCache(xdg); err != nil || c.dir != filepath.FromSlash("/c/d365/tokens") {
		t.Errorf("cache dir %v, %v", c, err)
	}
	if s, err := newProfileStore(xdg); err != nil || s.path != filepath.FromSlash("/f/d365/config.json") {
		t.Errorf("profile path %v, %v", s, err)
	}
}

// The persistent cache is azidentity's where the OS has a keyring, d365's 0600 files where it
// has none, and no cache with --no-token-cache or without a home directory; a test's fake
// environment never reaches the real user's keyring cache.
func TestTokenCacheChoice(t *testing.T) {
	t.Parallel()
	cfg := auth.Config{OrgURL: "https://org.crm.dynamics.com", TenantID: tenantA, ClientID: clientA, ClientSecret: "s"}
	keyring := func(string) (azidentity.Cache, error) { return azidentity.Cache{}, nil }
	noKeyring := func(string) (azidentity.Cache, error) { return azidentity.Cache{}, errors.New("no keyring") }
	dir := t.TempDir()
	tests := []struct {
		name        string
		env         map[string]string
		noCache     bool
		newCache    func(string) (azidentity.Cache, error)
		wantKeyring bool
		wantFileDir string
	}{
		{"no keyring: files", map[string]string{"XDG_CACHE_HOME": dir}, false, noKeyring, false, filepath.Join(dir, "d365", "tokens")},
		{"a fake environment never reaches the keyring cache", map[string]string{"XDG_CACHE_HOME": dir}, false, keyring, os.Getenv("XDG_CACHE_HOME") == dir, filepath.Join(dir, "d365", "tokens")},
		{"--no-token-cache", map[string]string{"XDG_CACHE_HOME": dir}, true, keyring, false, ""},
		{"no home", map[string]string{}, false, keyring, false, ""},
	}
	for _, tt := range tests {
		g := &globalOptions{streams: &IOStreams{LookupEnv: func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }},
			noTokenCache: tt.noCache, newPersistentCache: tt.newCache}
		got := g.tokenCacheFor(cfg)
		gotDir := ""
		if got.tokenCache != nil {
			gotDir = got.tokenCache.dir
		}
		if got.hasPersistent != tt.wantKeyring || (!got.hasPersistent && gotDir != tt.wantFileDir) {
			t.Errorf("%s: keyring %v, files %q; want keyring %v, files %q", tt.name, got.hasPersistent, gotDir, tt.wantKeyring, tt.wantFileDir)
		}
	}
	// The keyring cache's name separates credentials and leads with the client's hash.
	other := cfg
	other.ClientSecret = "rotated"
	if a, b := keyringCacheName(cfg), keyringCacheName(other); a == b || !strings.HasPrefix(b, keyringCachePrefix+clientHash(clientA)+"-") || strings.Contains(a, clientA) {
		t.Errorf("cache names %q and %q", a, b)
	}
}
