package adminclient_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/adminclient"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

func newClient(t *testing.T, emu *emulator.Emulator) *adminclient.Client {
	t.Helper()
	c, err := adminclient.New(emu.URL(), emu.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func selfSignedDER(t *testing.T) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "adminclient test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestClientMatchesEmulator drives every kind of admin call through the client and checks the
// in-process *Emulator sees the same state.
func TestClientMatchesEmulator(t *testing.T) {
	t.Parallel()
	env := emulatortest.New(t, nil)
	emu, c, ctx := env.Emulator, newClient(t, env.Emulator), context.Background()

	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	tenant, err := c.AddTenant(ctx, emulator.Tenant{Domain: "fabrikam.onmicrosoft.com", DisplayName: "Fabrikam"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := emu.Tenant(ctx, "fabrikam.onmicrosoft.com"); err != nil || got != tenant {
		t.Fatalf("Tenant = %+v, %v; the client added %+v", got, err, tenant)
	}
	in := 24 * time.Hour
	created, err := c.CreateAppWithSecret(ctx, emulator.NewApp{DisplayName: "sync", Tenant: tenant.ID},
		adminclient.SecretRequest{DisplayName: "first", ExpiresIn: &in})
	if err != nil {
		t.Fatal(err)
	}
	if created.Secret == nil || created.Secret.Value == "" || created.TenantID != tenant.ID {
		t.Fatalf("CreateAppWithSecret = %+v, want an app of %s with a secret value", created, tenant.ID)
	}
	if d := created.Secret.Expires.Sub(emu.Now()); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("the secret expires in %s, want 24h on the emulator's clock", d)
	}
	bare, err := c.CreateApp(ctx, emulator.NewApp{DisplayName: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	sec, value, err := c.AddSecret(ctx, bare.ClientID, emulator.NewSecret{DisplayName: "ci", Expires: expires})
	if err != nil || value == "" || !sec.Expires.Equal(expires) {
		t.Fatalf("AddSecret = %+v, %q, %v", sec, value, err)
	}
	cert, err := c.AddCertificate(ctx, bare.ClientID, selfSignedDER(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetAppEnabled(ctx, bare.ClientID, false); err != nil {
		t.Fatal(err)
	}
	role, err := c.CreateRole(ctx, "Reader", []emulator.RolePrivilege{{Name: "prvReadContact", Depth: emulator.DepthOrganization}})
	if err != nil {
		t.Fatal(err)
	}
	if role, err = c.SetRolePrivilegesFromText(ctx, role.Name, []string{"prvReadContact:user", "prvWriteContact"}); err != nil {
		t.Fatal(err)
	}
	bu, err := c.CreateBusinessUnit(ctx, "Sales", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: created.ClientID, Roles: []string{"Reader"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetApplicationUserBusinessUnit(ctx, created.ClientID, "Sales"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetApplicationUserRoles(ctx, created.ClientID, []string{"Reader", emulator.DefaultRoleName}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetApplicationUserEnabled(ctx, created.ClientID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetBusinessUnitEnabled(ctx, bu.ID, false); err != nil {
		t.Fatal(err)
	}
	added, err := c.AddFault(ctx, emulator.FaultRule{Match: emulator.FaultMatch{Table: "contacts"}, Action: emulator.FaultAction{Kind: emulator.ActionDrop}})
	if err != nil || added.ID == "" {
		t.Fatalf("AddFault = %+v, %v", added, err)
	}
	if err := c.SetClockOffset(ctx, -2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.SetTokenLifetime(ctx, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RotateSigningKey(ctx); err != nil {
		t.Fatal(err)
	}

	// Every read of the client agrees with the emulator's own.
	same := func(what string, viaClient, inProcess any, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if diff := cmp.Diff(inProcess, viaClient); diff != "" {
			t.Errorf("%s over HTTP differs from the emulator's (-emulator +client):\n%s", what, diff)
		}
	}
	apps, err := c.Apps(ctx, "")
	wantApps, _ := emu.Apps(ctx, "")
	same("Apps", apps, wantApps, err)
	app, err := c.App(ctx, bare.ClientID)
	wantApp, _ := emu.App(ctx, bare.ClientID)
	same("App", app, wantApp, err)
	if !app.Disabled {
		t.Error("SetAppEnabled(false) left the app enabled")
	}
	secrets, err := c.Secrets(ctx, bare.ClientID)
	wantSecrets, _ := emu.Secrets(ctx, bare.ClientID)
	same("Secrets", secrets, wantSecrets, err)
	certs, err := c.Certificates(ctx, bare.ClientID)
	wantCerts, _ := emu.Certificates(ctx, bare.ClientID)
	same("Certificates", certs, wantCerts, err)
	if len(certs) != 1 || certs[0].ThumbprintSHA1 != cert.ThumbprintSHA1 {
		t.Errorf("Certificates = %+v, want the one added", certs)
	}
	users, err := c.ApplicationUsers(ctx)
	wantUsers, _ := emu.ApplicationUsers(ctx)
	same("ApplicationUsers", users, wantUsers, err)
	user, err := c.ApplicationUser(ctx, created.ClientID)
	wantUser, _ := emu.ApplicationUser(ctx, created.ClientID)
	same("ApplicationUser", user, wantUser, err)
	if !user.Disabled || user.BusinessUnit != "Sales" || len(user.Roles) != 2 {
		t.Errorf("ApplicationUser = %+v, want disabled, in Sales, with two roles", user)
	}
	roles, err := c.Roles(ctx)
	wantRoles, _ := emu.Roles(ctx)
	same("Roles", roles, wantRoles, err)
	gotRole, err := c.Role(ctx, "reader")
	wantRole, _ := emu.Role(ctx, "reader")
	same("Role", gotRole, wantRole, err)
	units, err := c.BusinessUnits(ctx)
	wantUnits, _ := emu.BusinessUnits(ctx)
	same("BusinessUnits", units, wantUnits, err)
	unit, err := c.BusinessUnit(ctx, "Sales")
	wantUnit, _ := emu.BusinessUnit(ctx, "Sales")
	same("BusinessUnit", unit, wantUnit, err)
	privs, err := c.Privileges(ctx)
	same("Privileges", privs, emu.Privileges(), err)
	tenants, err := c.Tenants(ctx)
	wantTenants, _ := emu.Tenants(ctx)
	same("Tenants", tenants, wantTenants, err)
	faults, err := c.Faults(ctx)
	same("Faults", faults, emu.Faults(), err)
	limits, err := c.Limits(ctx)
	same("Limits", limits, emu.Limits(), err)
	keys, err := c.SigningKeys(ctx)
	same("SigningKeys", keys, emu.SigningKeys(), err)
	offset, err := c.ClockOffset(ctx)
	same("ClockOffset", offset, emu.ClockOffset(), err)
	lifetime, err := c.TokenLifetime(ctx)
	same("TokenLifetime", lifetime, emu.TokenLifetime(), err)

	// Removal, snapshots and reset.
	if err := c.Snapshot(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveCertificate(ctx, bare.ClientID, cert.ThumbprintSHA1); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveSecret(ctx, bare.ClientID, sec.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveApplicationUser(ctx, created.ClientID); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveRole(ctx, "Reader"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveApp(ctx, bare.ClientID); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveFault(ctx, added.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.App(ctx, bare.ClientID); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("after RemoveApp: App = %v, want ErrNotFound", err)
	}
	if err := c.Restore(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.App(ctx, bare.ClientID); err != nil {
		t.Errorf("after Restore: App = %v, want the app back", err)
	}
	names, err := c.Snapshots(ctx)
	wantNames, _ := emu.Snapshots()
	same("Snapshots", names, wantNames, err)
	if err := c.RemoveSnapshot(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := c.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.ClearRequestLog(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.App(ctx, created.ClientID); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("after Reset: App = %v, want ErrNotFound", err)
	}
	if emu.ClockOffset() != 0 {
		t.Errorf("after Reset the clock offset is %s, want 0", emu.ClockOffset())
	}
}

// TestAnswersReencodeAsServed checks that a value the client decoded encodes to the bytes the
// emulator sent: what lets the CLI print typed values byte for byte as the admin API answers.
func TestAnswersReencodeAsServed(t *testing.T) {
	t.Parallel()
	env := emulatortest.New(t, nil)
	emu, c, ctx := env.Emulator, newClient(t, env.Emulator), context.Background()
	if _, err := c.CreateAppWithSecret(ctx, emulator.NewApp{DisplayName: "a<b>&c"}, adminclient.SecretRequest{Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddFault(ctx, emulator.FaultRule{Description: "x<y", Match: emulator.FaultMatch{Table: "accounts", Methods: []string{"GET"}},
		Trigger: emulator.FaultTrigger{Nth: 2, For: time.Minute}, Action: emulator.FaultAction{Kind: emulator.ActionLatency, Delay: time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Snapshot(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	// Requests for the log, with durations that do not fall on whole microseconds.
	for range 5 {
		resp, err := emu.HTTPClient().Get(emu.URL() + "/api/data/v9.2/WhoAmI")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	raw := func(path string) []byte {
		t.Helper()
		resp, err := emu.HTTPClient().Get(emu.URL() + "/_emulator/" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	for _, tt := range []struct {
		path  string
		fetch func() (any, error)
	}{
		{"tenants", func() (any, error) { return c.Tenants(ctx) }},
		{"apps", func() (any, error) { return c.Apps(ctx, "") }},
		{"apps/" + emulator.DefaultClientID + "/secrets", func() (any, error) { return c.Secrets(ctx, emulator.DefaultClientID) }},
		{"appusers", func() (any, error) { return c.ApplicationUsers(ctx) }},
		{"roles", func() (any, error) { return c.Roles(ctx) }},
		{"businessunits", func() (any, error) { return c.BusinessUnits(ctx) }},
		{"privileges", func() (any, error) { return c.Privileges(ctx) }},
		{"snapshots", func() (any, error) { return c.Snapshots(ctx) }},
		{"signing-keys", func() (any, error) { return c.SigningKeys(ctx) }},
		{"limits", func() (any, error) { return c.Limits(ctx) }},
		{"faults", func() (any, error) { return c.FaultList(ctx) }},
		{"log", func() (any, error) {
			entries, err := c.RequestLog(ctx, emulator.LogFilter{})
			return struct {
				Entries []emulator.LogEntry `json:"entries"`
			}{entries}, err
		}},
	} {
		v, err := tt.fetch()
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		got, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if want := bytes.TrimSuffix(raw(tt.path), []byte("\n")); !bytes.Equal(got, want) {
			t.Errorf("GET /_emulator/%s re-encoded:\n got %s\nwant %s", tt.path, got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	env := emulatortest.New(t, nil)
	c, ctx := newClient(t, env.Emulator), context.Background()
	const missing = "00000000-0000-4000-8000-00000000dead"
	for _, tt := range []struct {
		name   string
		call   func() error
		status int
		code   string
		is     error
	}{
		{"unknown app", func() error { _, err := c.App(ctx, missing); return err }, 404, "NotFound", emulator.ErrNotFound},
		{"client ID taken", func() error {
			_, err := c.CreateApp(ctx, emulator.NewApp{ClientID: env.Credentials.ClientID})
			return err
		}, 409, "Conflict", emulator.ErrConflict},
		{"privilege typo", func() error { _, err := c.CreateRoleFromText(ctx, "r", []string{"prvReadContacts"}); return err }, 400, "Invalid", emulator.ErrInvalid},
		{"bad log status", func() error { _, err := c.Log(ctx, adminclient.LogQuery{Statuses: "abc"}); return err }, 400, "Invalid", emulator.ErrInvalid},
		{"unknown fault", func() error { return c.RemoveFault(ctx, "nope") }, 404, "NotFound", emulator.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var apiErr *adminclient.Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.Code != tt.code || apiErr.Message == "" {
				t.Fatalf("err = %#v, want a %d %s *adminclient.Error with a message", err, tt.status, tt.code)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
		})
	}

	// A closed emulator is a transport error, not an *Error.
	emu, err := emulator.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := newClient(t, emu)
	emu.Close()
	var apiErr *adminclient.Error
	if err := closed.Health(ctx); err == nil || errors.As(err, &apiErr) {
		t.Errorf("Health of a closed emulator = %v, want a transport error", err)
	}
}

func TestNewRefusesANonURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "127.0.0.1:8365", "not a url"} {
		if _, err := adminclient.New(u, nil); err == nil {
			t.Errorf("New(%q) = nil error, want one", u)
		}
	}
}
