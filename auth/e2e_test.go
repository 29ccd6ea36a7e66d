package auth_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/auth"
	"github.com/d365s2s/d365/emulator"
)

// End-to-end: the real emulator over HTTPS, configured the way a user configures d365 — the
// environment variables `d365 emulator` prints — and its CA trusted through D365_CA_FILE.
func TestEmulatorEndToEnd(t *testing.T) {
	t.Parallel()
	em, err := emulator.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.Close() })
	creds := em.Credentials()
	caFile := writeTemp(t, "ca.pem", em.CACertPEM())
	env := map[string]string{
		auth.EnvOrgURL:        em.OrgURL(),
		auth.EnvTenantID:      creds.TenantID,
		auth.EnvClientID:      creds.ClientID,
		auth.EnvClientSecret:  creds.ClientSecret,
		auth.EnvAuthorityHost: em.AuthorityHost(),
		auth.EnvCAFile:        caFile,
	}
	load := func(t *testing.T, override auth.Config) auth.Config {
		t.Helper()
		cfg, err := auth.LoadConfig(override, auth.MapLookup(env))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	token := func(t *testing.T, cfg auth.Config, scope string) (string, error) {
		t.Helper()
		cred, err := auth.NewCredential(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
		return tok.Token, err
	}
	entraError := func(t *testing.T, err error, code int) *auth.EntraError {
		t.Helper()
		var ee *auth.EntraError
		if !errors.As(err, &ee) || ee.Code != code {
			t.Fatalf("err = %v, want *auth.EntraError with AADSTS%d", err, code)
		}
		var afe *azidentity.AuthenticationFailedError
		if !errors.As(err, &afe) {
			t.Error("the azidentity error is not reachable")
		}
		for _, s := range []string{err.Error(), fmtPlusV(err)} {
			if strings.Contains(s, creds.ClientSecret) {
				t.Errorf("the error contains the emulator's client secret: %s", s)
			}
		}
		return ee
	}

	t.Run("secret credential gets a token with the app's claims", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, auth.Config{})
		if cfg.Cloud().MicrosoftHost {
			t.Fatal("the emulator's authority counts as a Microsoft host; instance discovery would leave the machine")
		}
		tok, err := token(t, cfg, cfg.Scope())
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		c, err := auth.DecodeClaims(tok)
		if err != nil {
			t.Fatal(err)
		}
		if c.AppID != creds.ClientID || c.TenantID != creds.TenantID || c.AppIDACR != "1" || c.IDType != "app" {
			t.Errorf("appid %q tid %q appidacr %q idtyp %q; want %s, %s, 1, app", c.AppID, c.TenantID, c.AppIDACR, c.IDType, creds.ClientID, creds.TenantID)
		}
		if len(c.Audience) != 1 || strings.TrimRight(c.Audience[0], "/") != strings.TrimRight(em.OrgURL(), "/") {
			t.Errorf("aud = %v, want %s", c.Audience, em.OrgURL())
		}
		if c.Issuer != "https://sts.windows.net/"+creds.TenantID+"/" {
			t.Errorf("iss = %q", c.Issuer)
		}
		if d := time.Until(c.ExpiresAt); d < 50*time.Minute || d > 61*time.Minute {
			t.Errorf("exp in %v, want about an hour", d)
		}
	})

	t.Run("tenant named by its domain", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, auth.Config{TenantID: emulator.DefaultTenantDomain})
		if _, err := token(t, cfg, cfg.Scope()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("wrong secret is AADSTS7000215", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, auth.Config{ClientSecret: "Wrong~secret~for~the~emulator~000000000000"})
		_, err := token(t, cfg, cfg.Scope())
		ee := entraError(t, err, 7000215)
		if ee.StatusCode != 401 || ee.OAuthError != "invalid_client" || ee.Explanation != "the client secret is wrong" {
			t.Errorf("status %d, error %q, explanation %q", ee.StatusCode, ee.OAuthError, ee.Explanation)
		}
		if !strings.HasPrefix(ee.Error(), "AADSTS7000215: the client secret is wrong — use the secret's Value, not its Secret ID") {
			t.Errorf("Error() = %q", ee.Error())
		}
	})

	t.Run("secret ID instead of the value", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, auth.Config{ClientSecret: emulator.DefaultClientSecretID})
		_, err := token(t, cfg, cfg.Scope())
		ee := entraError(t, err, 7000215)
		if !strings.Contains(ee.Fix, "shaped like a GUID") {
			t.Errorf("Fix = %q, want the Secret ID hint", ee.Fix)
		}
	})

	t.Run("unknown tenant is AADSTS90002", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, auth.Config{TenantID: "00000000-0000-4000-8000-00000000dead"})
		_, err := token(t, cfg, cfg.Scope())
		ee := entraError(t, err, 90002)
		if !strings.Contains(ee.Error(), "tenant 00000000-0000-4000-8000-00000000dead does not exist at "+em.AuthorityHost()) {
			t.Errorf("Error() = %q", ee.Error())
		}
	})

	t.Run("unknown client is AADSTS700016", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, auth.Config{ClientID: "00000000-0000-4000-8000-00000000beef"})
		_, err := token(t, cfg, cfg.Scope())
		ee := entraError(t, err, 700016)
		if !strings.Contains(ee.Error(), "app 00000000-0000-4000-8000-00000000beef was not found in tenant "+creds.TenantID) {
			t.Errorf("Error() = %q", ee.Error())
		}
	})

	t.Run("another resource is AADSTS500011", func(t *testing.T) {
		t.Parallel()
		u, _ := url.Parse(em.OrgURL())
		other := "https://localhost:" + u.Port()
		cfg := load(t, auth.Config{OrgURL: other})
		_, err := token(t, cfg, cfg.Scope())
		ee := entraError(t, err, 500011)
		if !strings.Contains(ee.Error(), "knows no resource named "+other) {
			t.Errorf("Error() = %q", ee.Error())
		}
	})

	t.Run("a scope that is not .default is AADSTS1002012", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, auth.Config{})
		_, err := token(t, cfg, strings.TrimRight(em.OrgURL(), "/")+"/user_impersonation")
		entraError(t, err, 1002012)
	})

	t.Run("without the CA file the emulator is untrusted", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, auth.Config{})
		cfg.CAFile = ""
		_, err := token(t, cfg, cfg.Scope())
		var xe *auth.ExplainedError
		if !errors.As(err, &xe) || !strings.Contains(err.Error(), "set D365_CA_FILE") {
			t.Fatalf("err = %v, want the CA explanation", err)
		}
	})

	t.Run("the environment's challenge names the emulator's tenant", func(t *testing.T) {
		t.Parallel()
		cfg := load(t, auth.Config{})
		hc, err := cfg.HTTPClient()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ch, err := auth.DiscoverChallenge(ctx, hc, cfg.OrgURL)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.EqualFold(ch.TenantID, creds.TenantID) || ch.AuthorityHost != em.AuthorityHost() {
			t.Errorf("challenge = %+v, want tenant %s at %s", ch, creds.TenantID, em.AuthorityHost())
		}
		if err := cfg.CheckChallenge(ch); err != nil {
			t.Errorf("CheckChallenge on the emulator's own settings: %v", err)
		}
	})
}
