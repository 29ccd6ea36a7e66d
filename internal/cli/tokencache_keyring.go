package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity/cache"

	"github.com/d365s2s/d365/auth"
)

// keyringCachePrefix starts the name of every azidentity persistent cache d365 creates.
const keyringCachePrefix = "d365-"

// newPersistentCache is azidentity/cache.New. On Linux it encrypts the
// cache file with a key kept in the user's kernel keyring (keyctl), which some containers'
// seccomp profiles refuse; on macOS it uses the Keychain and on Windows DPAPI. It fails where
// none is available, and d365 falls back to its own 0600 file cache.
func newPersistentCache(name string) (azidentity.Cache, error) {
	return cache.New(&cache.Options{Name: name})
}

// keyringCacheName names the persistent cache of one app and credential: the client's hash
// first, so that "profile logout" finds an app's caches by name, then a hash of the tenant,
// authority and credential fingerprint, so that another secret (a rotated, wrong or expired
// one) never gets the tokens the old one earned. Neither reveals a value.
func keyringCacheName(cfg auth.Config) string {
	return keyringCachePrefix + clientHash(cfg.ClientID) + "-" +
		shortHash(strings.ToLower(cfg.TenantID)+"\n"+strings.ToLower(cfg.Cloud().AuthorityHost)+"\n"+credentialFingerprint(cfg))
}

func clientHash(clientID string) string { return shortHash("client\n" + strings.ToLower(clientID)) }

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:6])
}

// keyringCacheDir is where azidentity/cache keeps its files: $XDG_CACHE_HOME/.IdentityService,
// else ~/.cache/.IdentityService (it reads the process environment itself).
func keyringCacheDir() (string, error) {
	d := os.Getenv("XDG_CACHE_HOME")
	if d == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		d = filepath.Join(home, ".cache")
	}
	return filepath.Join(d, ".IdentityService"), nil
}

// persistentCacheFor returns azidentity's persistent cache for cfg when the platform has a
// keyring and the method uses MSAL's cache (secret, certificate, workload identity); ok is false
// otherwise. The process environment must be the one the command reads (a test's fake
// environment must not reach the real user's cache).
func persistentCacheFor(cfg auth.Config, lookup func(string) (string, bool), newCache func(string) (azidentity.Cache, error)) (azidentity.Cache, bool) {
	if v, _ := lookup("XDG_CACHE_HOME"); v != os.Getenv("XDG_CACHE_HOME") {
		return azidentity.Cache{}, false
	}
	method, err := cfg.CredentialMethod()
	if err != nil || (method != auth.MethodSecret && method != auth.MethodCertificate && method != auth.MethodWorkloadIdentity) {
		return azidentity.Cache{}, false
	}
	c, err := newCache(keyringCacheName(cfg))
	if err != nil {
		return azidentity.Cache{}, false
	}
	return c, true
}

// clearKeyringCaches deletes the persistent cache files d365 created: of one client, or every
// one when clientID is empty. Without its file a cache is empty; the key in the keyring goes at
// the next reboot.
func clearKeyringCaches(clientID string) (int, error) {
	dir, err := keyringCacheDir()
	if err != nil {
		return 0, nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	prefix := keyringCachePrefix
	if clientID != "" {
		prefix += clientHash(clientID) + "-"
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}
