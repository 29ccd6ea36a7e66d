package identity

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestOpenIDConfiguration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.srv.URL
	host := strings.TrimPrefix(base, "https://")
	cases := []struct {
		path string
		want map[string]any
	}{
		{"/" + testTenantID + "/v2.0/.well-known/openid-configuration", map[string]any{
			"issuer":                 base + "/" + testTenantID + "/v2.0",
			"token_endpoint":         base + "/" + testTenantID + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/" + testTenantID + "/oauth2/v2.0/authorize",
			"jwks_uri":               base + "/" + testTenantID + "/discovery/v2.0/keys",
			"tenant_region_scope":    "NA",
			"cloud_instance_name":    host,
		}},
		// Addressed by domain, the document still names the tenant by ID.
		{"/" + testTenantDomain + "/v2.0/.well-known/openid-configuration", map[string]any{
			"issuer":         base + "/" + testTenantID + "/v2.0",
			"token_endpoint": base + "/" + testTenantID + "/oauth2/v2.0/token",
		}},
		{"/common/v2.0/.well-known/openid-configuration", map[string]any{
			"issuer":              base + "/{tenantid}/v2.0",
			"token_endpoint":      base + "/{tenantid}/oauth2/v2.0/token",
			"tenant_region_scope": nil,
		}},
		{"/" + testTenantDomain + "/.well-known/openid-configuration", map[string]any{
			"issuer":                 "https://sts.windows.net/" + testTenantID + "/",
			"token_endpoint":         base + "/" + testTenantID + "/oauth2/token",
			"authorization_endpoint": base + "/" + testTenantID + "/oauth2/authorize",
			"jwks_uri":               base + "/common/discovery/keys",
		}},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			t.Parallel()
			r := e.get(t, base+c.path)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			for k, want := range c.want {
				if got := r.body[k]; got != want {
					t.Errorf("%s = %v, want %v", k, got, want)
				}
			}
			methods, _ := r.body["token_endpoint_auth_methods_supported"].([]any)
			if len(methods) != 3 || methods[0] != "client_secret_post" || methods[1] != "private_key_jwt" || methods[2] != "client_secret_basic" {
				t.Errorf("token_endpoint_auth_methods_supported = %v", methods)
			}
		})
	}
}

func TestMetadataUnknownTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{
		"/" + otherTenantID + "/v2.0/.well-known/openid-configuration",
		"/nosuch.example.com/.well-known/openid-configuration",
		"/" + otherTenantID + "/discovery/v2.0/keys",
	} {
		r := e.get(t, e.srv.URL+p)
		checkAADError(t, r, http.StatusBadRequest, "invalid_tenant", 90002, "not found. Check to make sure you have the correct tenant ID")
	}
	checkAADError(t, e.get(t, e.srv.URL+"/bad_tenant/v2.0/.well-known/openid-configuration"), http.StatusBadRequest, "invalid_tenant", 900023,
		"is neither a valid DNS name")
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	active := e.svc.SigningKeys()[0]
	for _, c := range []struct {
		path, issuer string
	}{
		{"/common/discovery/keys", ""},
		{"/" + testTenantID + "/discovery/keys", ""},
		{"/" + testTenantDomain + "/discovery/v2.0/keys", e.srv.URL + "/" + testTenantID + "/v2.0"},
		{"/common/discovery/v2.0/keys", e.srv.URL + "/{tenantid}/v2.0"},
	} {
		r := e.get(t, e.srv.URL+c.path)
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", c.path, r.status)
		}
		ks, _ := r.body["keys"].([]any)
		if len(ks) != 1 {
			t.Fatalf("%s: %d keys, want 1", c.path, len(ks))
		}
		k := ks[0].(map[string]any)
		if k["kty"] != "RSA" || k["use"] != "sig" || k["kid"] != active.KeyID || k["x5t"] != active.KeyID {
			t.Errorf("%s: key %v, want RSA sig with kid = x5t = %s", c.path, k, active.KeyID)
		}
		if got, _ := k["issuer"].(string); got != c.issuer {
			t.Errorf("%s: issuer %q, want %q", c.path, got, c.issuer)
		}
		// x5c carries the certificate of the same key, and kid is its SHA-1 thumbprint.
		chain, _ := k["x5c"].([]any)
		if len(chain) != 1 {
			t.Fatalf("%s: x5c = %v", c.path, k["x5c"])
		}
		der, err := base64.StdEncoding.DecodeString(chain[0].(string))
		must(t, err)
		cert, err := x509.ParseCertificate(der)
		must(t, err)
		sum := sha1.Sum(der)
		if base64.RawURLEncoding.EncodeToString(sum[:]) != active.KeyID {
			t.Errorf("%s: kid is not the x5c certificate's thumbprint", c.path)
		}
		n, err := base64.RawURLEncoding.DecodeString(k["n"].(string))
		must(t, err)
		eb, err := base64.RawURLEncoding.DecodeString(k["e"].(string))
		must(t, err)
		pub := cert.PublicKey.(*rsa.PublicKey)
		if new(big.Int).SetBytes(n).Cmp(pub.N) != 0 || new(big.Int).SetBytes(eb).Int64() != int64(pub.E) || k["e"] != "AQAB" {
			t.Errorf("%s: n/e do not match the x5c certificate's key", c.path)
		}
	}
}

func TestInstanceDiscovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	host := strings.TrimPrefix(e.srv.URL, "https://")
	q := url.Values{"api-version": {"1.1"}, "authorization_endpoint": {e.srv.URL + "/" + testTenantID + "/oauth2/v2.0/authorize"}}
	r := e.get(t, e.srv.URL+"/common/discovery/instance?"+q.Encode())
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	if got, want := r.body["tenant_discovery_endpoint"], e.srv.URL+"/"+testTenantID+"/v2.0/.well-known/openid-configuration"; got != want {
		t.Errorf("tenant_discovery_endpoint = %v, want %s", got, want)
	}
	md, _ := r.body["metadata"].([]any)
	if len(md) == 0 {
		t.Fatal("no metadata")
	}
	first := md[0].(map[string]any)
	aliases, _ := first["aliases"].([]any)
	if first["preferred_network"] != host || len(aliases) != 1 || aliases[0] != host {
		t.Errorf("first metadata entry = %v, want the emulator host %s", first, host)
	}

	q.Set("authorization_endpoint", "https://login.evil.example/"+testTenantID+"/oauth2/v2.0/authorize")
	checkAADError(t, e.get(t, e.srv.URL+"/common/discovery/instance?"+q.Encode()), http.StatusBadRequest, "invalid_instance", 50049,
		"Unknown or invalid instance.")
	checkAADError(t, e.get(t, e.srv.URL+"/common/discovery/instance?api-version=1.1"), http.StatusBadRequest, "invalid_instance", 50049,
		"Unknown or invalid instance.")
}
