package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/d365s2s/d365/emulator"
)

// newApp registers an app with one secret and, when roles are given, an application user holding
// them. It returns the app and the secret's value.
func newApp(t *testing.T, emu *emulator.Emulator, name string, roles ...string) (emulator.App, string) {
	t.Helper()
	ctx := context.Background()
	app, err := emu.CreateApp(ctx, emulator.NewApp{DisplayName: name})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{DisplayName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if roles != nil {
		if _, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: app.ClientID, Roles: roles}); err != nil {
			t.Fatal(err)
		}
	}
	return app, secret
}

func TestClientSecretCredentialGetsATokenDataverseAccepts(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	app, secret := newApp(t, emu, "secret app", emulator.DefaultRoleName)
	token := mustToken(t, emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret))

	c := claims(t, token)
	for k, want := range map[string]string{"appid": app.ClientID, "appidacr": "1", "oid": app.ObjectID, "tid": emu.TenantID(), "ver": "1.0"} {
		if c[k] != want {
			t.Errorf("claim %s = %v, want %s", k, c[k], want)
		}
	}
	res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", "")
	user, err := emu.ApplicationUser(context.Background(), app.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if res.status != http.StatusOK || res.body["UserId"] != user.UserID {
		t.Errorf("WhoAmI = %d %v, want 200 with UserId %s", res.status, res.body, user.UserID)
	}
}

func TestClientCertificateCredentialWithACertificateAddedByGoAndByHTTP(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	for _, how := range []string{"go", "http"} {
		t.Run(how, func(t *testing.T) {
			app, err := emu.CreateApp(ctx, emulator.NewApp{DisplayName: "cert app " + how})
			if err != nil {
				t.Fatal(err)
			}
			c := clientCert(t, 0)
			if how == "go" {
				info, err := emu.AddCertificate(ctx, app.ClientID, c.pem)
				if err != nil {
					t.Fatal(err)
				}
				if info.DisplayName != c.cert.Subject.CommonName || len(info.ThumbprintSHA1) != 40 {
					t.Errorf("certificate = %+v", info)
				}
			} else {
				var info emulator.Certificate
				if st := adminCall(t, emu, http.MethodPost, "apps/"+app.ClientID+"/certificates", map[string]string{"pem": string(c.pem)}, &info); st != http.StatusCreated {
					t.Fatalf("POST certificates: %d", st)
				}
				if info.ClientID != app.ClientID {
					t.Errorf("certificate = %+v", info)
				}
			}
			if _, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: app.ClientID, Roles: []string{emulator.DefaultRoleName}}); err != nil {
				t.Fatal(err)
			}
			token := mustToken(t, emu, certCredential(t, emu, emu.TenantID(), app.ClientID, c))
			if got := claims(t, token)["appidacr"]; got != "2" {
				t.Errorf("appidacr = %v, want 2 (certificate)", got)
			}
			if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
				t.Errorf("WhoAmI with the certificate token: %d %s", res.status, res.message)
			}
		})
	}
}

// TestEntraErrors reaches each Entra failure of the admin surface with azidentity, with its code.
func TestEntraErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		// setup prepares an emulator of its own and returns the credential to try.
		setup func(t *testing.T, emu *emulator.Emulator) func() error
		want  int
	}{
		{"secret already expired", func(t *testing.T, emu *emulator.Emulator) func() error {
			app, _ := newApp(t, emu, "expired")
			_, secret, err := emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{Expires: emu.Now().Add(-24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			return tryToken(emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret))
		}, 7000222},
		{"secret expired by the clock", func(t *testing.T, emu *emulator.Emulator) func() error {
			app, _ := newApp(t, emu, "expiring")
			_, secret, err := emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{Expires: emu.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			cred := secretCredential(t, emu, emu.TenantID(), app.ClientID, secret)
			if _, err := getToken(emu, cred); err != nil {
				t.Fatalf("token before expiry: %v", err)
			}
			emu.SetClockOffset(2 * time.Hour)
			return tryToken(emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret))
		}, 7000222},
		{"certificate not registered", func(t *testing.T, emu *emulator.Emulator) func() error {
			app, _ := newApp(t, emu, "cert")
			if _, err := emu.AddCertificate(ctx, app.ClientID, clientCert(t, 0).pem); err != nil {
				t.Fatal(err)
			}
			return tryToken(emu, certCredential(t, emu, emu.TenantID(), app.ClientID, clientCert(t, 1)))
		}, 700027},
		{"assertion outside its time window", func(t *testing.T, emu *emulator.Emulator) func() error {
			app, _ := newApp(t, emu, "skewed")
			c := clientCert(t, 0)
			if _, err := emu.AddCertificate(ctx, app.ClientID, c.pem); err != nil {
				t.Fatal(err)
			}
			// MSAL signs with the client's clock; the emulator's runs an hour ahead.
			emu.SetClockOffset(time.Hour)
			return tryToken(emu, certCredential(t, emu, emu.TenantID(), app.ClientID, c))
		}, 700024},
		{"app disabled", func(t *testing.T, emu *emulator.Emulator) func() error {
			app, secret := newApp(t, emu, "disabled")
			if err := emu.SetAppEnabled(ctx, app.ClientID, false); err != nil {
				t.Fatal(err)
			}
			return tryToken(emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret))
		}, 7000112},
		{"app removed", func(t *testing.T, emu *emulator.Emulator) func() error {
			app, secret := newApp(t, emu, "removed")
			if err := emu.RemoveApp(ctx, app.ClientID); err != nil {
				t.Fatal(err)
			}
			return tryToken(emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret))
		}, 700016},
		{"secret ID instead of value", func(t *testing.T, emu *emulator.Emulator) func() error {
			app, _ := newApp(t, emu, "pasted id")
			secrets, err := emu.Secrets(ctx, app.ClientID)
			if err != nil {
				t.Fatal(err)
			}
			return tryToken(emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secrets[0].ID))
		}, 7000215},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := start(t, nil)
			err := tt.setup(t, emu)()
			if err == nil {
				t.Fatal("got a token, want an Entra error")
			}
			if got := aadstsCode(t, err); got != tt.want {
				t.Errorf("AADSTS%d, want AADSTS%d: %v", got, tt.want, err)
			}
		})
	}
}

func tryToken(emu *emulator.Emulator, cred azcore.TokenCredential) func() error {
	return func() error { _, err := getToken(emu, cred); return err }
}

func TestSecretRotationWithTwoSecretsAtOnce(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	app, oldSecret := newApp(t, emu, "rotating", emulator.DefaultRoleName)
	newInfo, newSecret, err := emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{DisplayName: "next"})
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := emu.Secrets(ctx, app.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 2 {
		t.Fatalf("%d secrets, want 2 during the rotation", len(secrets))
	}
	for name, s := range map[string]string{"old": oldSecret, "new": newSecret} {
		if _, err := getToken(emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, s)); err != nil {
			t.Errorf("%s secret during the rotation: %v", name, err)
		}
	}
	if err := emu.RemoveSecret(ctx, app.ClientID, secrets[0].ID); err != nil {
		t.Fatal(err)
	}
	_, err = getToken(emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, oldSecret))
	if err == nil || aadstsCode(t, err) != 7000215 {
		t.Errorf("old secret after its removal: %v, want AADSTS7000215", err)
	}
	if _, err := getToken(emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, newSecret)); err != nil {
		t.Errorf("new secret after the rotation: %v", err)
	}
	if secrets[1].ID != newInfo.ID || secrets[1].Hint != newSecret[:3] {
		t.Errorf("second secret = %+v, want ID %s and hint %q", secrets[1], newInfo.ID, newSecret[:3])
	}
}

func TestTenantsByDomainAndSideBySide(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	creds := emu.Credentials()
	token := mustToken(t, emu, secretCredential(t, emu, emulator.DefaultTenantDomain, creds.ClientID, creds.ClientSecret))
	if tid := claims(t, token)["tid"]; tid != emulator.DefaultTenantID {
		t.Errorf("tid of a token asked by domain = %v, want %s", tid, emulator.DefaultTenantID)
	}

	other, err := emu.AddTenant(ctx, emulator.Tenant{Domain: "fabrikam.onmicrosoft.com", DisplayName: "Fabrikam"})
	if err != nil {
		t.Fatal(err)
	}
	app, err := emu.CreateApp(ctx, emulator.NewApp{DisplayName: "fabrikam app", Tenant: "fabrikam.onmicrosoft.com"})
	if err != nil {
		t.Fatal(err)
	}
	if app.TenantID != other.ID {
		t.Errorf("app tenant = %s, want %s", app.TenantID, other.ID)
	}
	_, secret, err := emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{})
	if err != nil {
		t.Fatal(err)
	}
	// The app lives in Fabrikam only: asking the organization's tenant is AADSTS700016.
	if _, err := getToken(emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret)); err == nil || aadstsCode(t, err) != 700016 {
		t.Errorf("token from the wrong tenant: %v, want AADSTS700016", err)
	}
	fabToken := mustToken(t, emu, secretCredential(t, emu, "fabrikam.onmicrosoft.com", app.ClientID, secret))
	if tid := claims(t, fabToken)["tid"]; tid != other.ID {
		t.Errorf("tid = %v, want %s", tid, other.ID)
	}
	// The organization belongs to the default tenant: Fabrikam's genuine token authenticates, but
	// its caller is not a member of the organization.
	res := callAPI(t, emu, fabToken, http.MethodGet, "WhoAmI", "")
	if res.status != http.StatusForbidden || res.code != "0x80072560" || res.message != "The user is not a member of the organization." {
		t.Errorf("WhoAmI with another tenant's token = %d %s %q, want 403 0x80072560 \"The user is not a member of the organization.\"", res.status, res.code, res.message)
	}
	tenants, err := emu.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tenants) != 2 {
		t.Errorf("tenants = %+v, want 2", tenants)
	}
}

func TestRotatedSigningKeyLeavesOldTokensValid(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	creds := emu.Credentials()
	old := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
	oldKid := header(t, old)["kid"]

	key, err := emu.RotateSigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !key.Active || key.KeyID == oldKid {
		t.Fatalf("rotated key = %+v, want a new active key", key)
	}
	fresh := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
	if kid := header(t, fresh)["kid"]; kid != key.KeyID {
		t.Errorf("new token kid = %v, want %s", kid, key.KeyID)
	}
	for name, tok := range map[string]string{"old": old, "new": fresh} {
		if res := callAPI(t, emu, tok, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
			t.Errorf("WhoAmI with the %s token after rotation: %d %s", name, res.status, res.message)
		}
	}
	resp, err := emu.HTTPClient().Get(emu.URL() + "/" + creds.TenantID + "/discovery/v2.0/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jwks struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jwks); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range jwks.Keys {
		kids = append(kids, k.Kid)
	}
	if len(kids) != 2 || !strings.Contains(strings.Join(kids, " "), oldKid.(string)) {
		t.Errorf("JWKS kids = %v, want the new and the old key", kids)
	}
}

// TestDataverseAuthorizationOutcomes: a valid token is not enough; the application user and its
// roles decide, with Dataverse's codes.
func TestDataverseAuthorizationOutcomes(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	if _, err := emu.CreateRole(ctx, "Accounts only", []emulator.RolePrivilege{{Name: "prvReadAccount", Depth: emulator.DepthOrganization}}); err != nil {
		t.Fatal(err)
	}
	type setup func(t *testing.T, app emulator.App)
	tests := []struct {
		name        string
		roles       []string // nil: no application user
		then        setup
		path        string
		status      int
		code        string
		messagePart string
	}{
		{"no application user", nil, nil, "WhoAmI", http.StatusForbidden, "0x80072560", "The user is not a member of the organization."},
		{"application user without roles", []string{}, nil, "WhoAmI", http.StatusForbidden, "0x80042f09", "has not been assigned any roles"},
		{"disabled application user", []string{emulator.DefaultRoleName}, func(t *testing.T, app emulator.App) {
			if err := emu.SetApplicationUserEnabled(ctx, app.ClientID, false); err != nil {
				t.Fatal(err)
			}
		}, "WhoAmI", http.StatusForbidden, "", "is disabled. Disabled users cannot access the system."},
		{"role without contact privileges", []string{"Accounts only"}, nil, "contacts", http.StatusForbidden, "0x80040220", "is missing prvReadContact privilege"},
		{"removed application user", []string{emulator.DefaultRoleName}, func(t *testing.T, app emulator.App) {
			if err := emu.RemoveApplicationUser(ctx, app.ClientID); err != nil {
				t.Fatal(err)
			}
		}, "WhoAmI", http.StatusForbidden, "0x80072560", "The user is not a member of the organization."},
		{"roles taken away", []string{emulator.DefaultRoleName}, func(t *testing.T, app emulator.App) {
			if err := emu.SetApplicationUserRoles(ctx, app.ClientID, nil); err != nil {
				t.Fatal(err)
			}
		}, "WhoAmI", http.StatusForbidden, "0x80042f09", "has not been assigned any roles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app, secret := newApp(t, emu, tt.name, tt.roles...)
			if tt.then != nil {
				tt.then(t, app)
			}
			token := mustToken(t, emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret))
			res := callAPI(t, emu, token, http.MethodGet, tt.path, "")
			if res.status != tt.status || (tt.code != "" && res.code != tt.code) || !strings.Contains(res.message, tt.messagePart) {
				t.Errorf("GET %s = %d %s %q, want %d %s containing %q", tt.path, res.status, res.code, res.message, tt.status, tt.code, tt.messagePart)
			}
		})
	}
}

// A second tenant's app reaches the Web API as a caller outside the organization: 403
// 0x80072560 even when an application user exists for its client ID (the tenant is checked
// first), while tokens that fail validation keep the 401 challenge. The request log names the
// refusal.
func TestSecondTenantTokenIsNotAMemberOfTheOrganization(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	if _, err := emu.AddTenant(ctx, emulator.Tenant{Domain: "contoso2.onmicrosoft.com"}); err != nil {
		t.Fatal(err)
	}
	app, err := emu.CreateApp(ctx, emulator.NewApp{DisplayName: "second tenant app", Tenant: "contoso2.onmicrosoft.com"})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: app.ClientID, Roles: []string{emulator.DefaultRoleName}}); err != nil {
		t.Fatal(err)
	}
	token := mustToken(t, emu, secretCredential(t, emu, "contoso2.onmicrosoft.com", app.ClientID, secret))
	if tid := claims(t, token)["tid"]; tid != app.TenantID {
		t.Fatalf("token tid = %v, want the second tenant %s", tid, app.TenantID)
	}
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodGet, "WhoAmI", ""},
		{http.MethodGet, "contacts?$top=1", ""},
		{http.MethodPost, "contacts", `{"lastname":"x"}`},
	} {
		res := callAPI(t, emu, token, tc.method, tc.path, tc.body)
		if res.status != http.StatusForbidden || res.code != "0x80072560" || res.message != "The user is not a member of the organization." {
			t.Errorf("%s %s with the second tenant's token = %d %s %q, want 403 0x80072560", tc.method, tc.path, res.status, res.code, res.message)
		}
	}
	// Nothing was written on its behalf.
	creds := emu.Credentials()
	own := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
	if res := callAPI(t, emu, own, http.MethodGet, "contacts?$select=lastname", ""); res.status != http.StatusOK || len(res.body["value"].([]any)) != 0 {
		t.Errorf("contacts after the refused create = %d %v, want none", res.status, res.body["value"])
	}
	if res := callAPI(t, emu, "forged.token.value", http.MethodGet, "WhoAmI", ""); res.status != http.StatusUnauthorized {
		t.Errorf("forged token = %d, want 401", res.status)
	}

	entries := emu.RequestLog(emulator.LogFilter{Status: []int{http.StatusForbidden}, AppID: app.ClientID})
	if len(entries) != 3 {
		t.Fatalf("request log has %d 403s of the second tenant's app, want 3: %+v", len(entries), entries)
	}
	for _, e := range entries {
		if e.TenantID != app.TenantID || e.Code != "0x80072560" || !strings.Contains(e.Reason, "not a member of the organization") {
			t.Errorf("log entry = %+v, want tenant %s, code 0x80072560 and the reason", e, app.TenantID)
		}
	}
}

// Every emulator generates a token signing key of its own (beside the rest of its start-up): two
// emulators never publish the same key, so one's tokens never verify against the other's.
func TestEmulatorsHaveSigningKeysOfTheirOwn(t *testing.T) {
	t.Parallel()
	var moduli [2]string
	for i := range moduli {
		emu := start(t, nil)
		resp, err := emu.HTTPClient().Get(emu.URL() + "/" + emu.TenantID() + "/discovery/v2.0/keys")
		if err != nil {
			t.Fatal(err)
		}
		var jwks struct {
			Keys []struct {
				N string `json:"n"`
			} `json:"keys"`
		}
		err = json.NewDecoder(resp.Body).Decode(&jwks)
		resp.Body.Close()
		if err != nil || len(jwks.Keys) != 1 || jwks.Keys[0].N == "" {
			t.Fatalf("emulator %d JWKS: %+v, %v", i, jwks, err)
		}
		moduli[i] = jwks.Keys[0].N
	}
	if moduli[0] == moduli[1] {
		t.Error("two emulators publish the same signing key")
	}
}
