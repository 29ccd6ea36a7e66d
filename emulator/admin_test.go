package emulator_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/emulator"
)

// TestAdminErrors checks that each admin method says what was wrong with the sentinel callers
// test for, and with words that name the object.
func TestAdminErrors(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	app, _ := newApp(t, emu, "existing", emulator.DefaultRoleName)
	if _, err := emu.CreateRole(ctx, "Existing role", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.CreateBusinessUnit(ctx, "Existing unit", ""); err != nil {
		t.Fatal(err)
	}
	const missing = "00000000-0000-4000-8000-00000000dead"
	tests := []struct {
		name string
		call func() error
		want error
		says string
	}{
		{"tenant without domain", func() error { _, err := emu.AddTenant(ctx, emulator.Tenant{}); return err }, emulator.ErrInvalid, "needs a domain"},
		{"tenant with a bad domain", func() error { _, err := emu.AddTenant(ctx, emulator.Tenant{Domain: "not a domain.com"}); return err }, emulator.ErrInvalid, "not a DNS name"},
		{"tenant domain taken", func() error {
			_, err := emu.AddTenant(ctx, emulator.Tenant{Domain: emulator.DefaultTenantDomain})
			return err
		}, emulator.ErrConflict, emulator.DefaultTenantDomain},
		{"unknown tenant", func() error { _, err := emu.Tenant(ctx, "nowhere.onmicrosoft.com"); return err }, emulator.ErrNotFound, "nowhere.onmicrosoft.com"},
		{"app in an unknown tenant", func() error {
			_, err := emu.CreateApp(ctx, emulator.NewApp{Tenant: "nowhere.onmicrosoft.com"})
			return err
		}, emulator.ErrNotFound, "nowhere.onmicrosoft.com"},
		{"app client ID taken", func() error { _, err := emu.CreateApp(ctx, emulator.NewApp{ClientID: app.ClientID}); return err }, emulator.ErrConflict, app.ClientID},
		{"app client ID not a GUID", func() error { _, err := emu.CreateApp(ctx, emulator.NewApp{ClientID: "my-app"}); return err }, emulator.ErrInvalid, "not a GUID"},
		{"unknown app", func() error { _, err := emu.App(ctx, missing); return err }, emulator.ErrNotFound, missing},
		{"disable unknown app", func() error { return emu.SetAppEnabled(ctx, missing, false) }, emulator.ErrNotFound, missing},
		{"secret for unknown app", func() error { _, _, err := emu.AddSecret(ctx, missing, emulator.NewSecret{}); return err }, emulator.ErrNotFound, missing},
		{"remove unknown secret", func() error { return emu.RemoveSecret(ctx, app.ClientID, missing) }, emulator.ErrNotFound, missing},
		{"certificate that is not one", func() error { _, err := emu.AddCertificate(ctx, app.ClientID, []byte("hello")); return err }, emulator.ErrInvalid, "does not parse"},
		{"certificate with an EC key", func() error { _, err := emu.AddCertificate(ctx, app.ClientID, ecCertPEM(t)); return err }, emulator.ErrInvalid, "need RSA"},
		{"remove unknown certificate", func() error { return emu.RemoveCertificate(ctx, app.ClientID, "ABCDEF") }, emulator.ErrNotFound, "ABCDEF"},
		{"application user for unknown app", func() error {
			_, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: missing})
			return err
		}, emulator.ErrNotFound, missing},
		{"second application user", func() error {
			_, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: app.ClientID})
			return err
		}, emulator.ErrConflict, "already has application user"},
		{"application user with unknown role", func() error {
			other, _ := newApp(t, emu, "other")
			_, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: other.ClientID, Roles: []string{"Salesperson"}})
			return err
		}, emulator.ErrNotFound, "Salesperson"},
		{"application user in unknown business unit", func() error {
			other, _ := newApp(t, emu, "other bu")
			_, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: other.ClientID, BusinessUnit: "Narnia"})
			return err
		}, emulator.ErrNotFound, "Narnia"},
		{"roles of unknown application user", func() error { return emu.SetApplicationUserRoles(ctx, missing, nil) }, emulator.ErrNotFound, missing},
		{"role name taken", func() error { _, err := emu.CreateRole(ctx, "existing ROLE", nil); return err }, emulator.ErrConflict, "existing ROLE"},
		{"plural privilege", func() error {
			_, err := emu.CreateRole(ctx, "r1", []emulator.RolePrivilege{{Name: "prvReadContacts"}})
			return err
		}, emulator.ErrInvalid, "did you mean prvReadContact?"},
		{"privilege depth", func() error {
			_, err := emu.CreateRole(ctx, "r2", []emulator.RolePrivilege{{Name: "prvReadContact", Depth: "everywhere"}})
			return err
		}, emulator.ErrInvalid, "everywhere"},
		{"business unit name taken", func() error { _, err := emu.CreateBusinessUnit(ctx, "Existing unit", ""); return err }, emulator.ErrConflict, "Existing unit"},
		{"business unit under unknown parent", func() error { _, err := emu.CreateBusinessUnit(ctx, "Child", "Narnia"); return err }, emulator.ErrNotFound, "Narnia"},
		{"token lifetime too short", func() error { return emu.SetTokenLifetime(0) }, emulator.ErrInvalid, "between 1s and 24h"},
		{"snapshot name with a slash", func() error { return emu.Snapshot(ctx, "../x") }, emulator.ErrInvalid, "not allowed"},
		{"restore unknown snapshot", func() error { return emu.Restore(ctx, "never-saved") }, emulator.ErrNotFound, "never-saved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not mention %q", err, tt.says)
			}
			for _, other := range []error{emulator.ErrNotFound, emulator.ErrConflict, emulator.ErrInvalid} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
		})
	}
}

func ecCertPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ec"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestAdminDataverseObjects(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()

	sales, err := emu.CreateBusinessUnit(ctx, "Sales", "")
	if err != nil {
		t.Fatal(err)
	}
	emea, err := emu.CreateBusinessUnit(ctx, "Sales EMEA", "Sales")
	if err != nil {
		t.Fatal(err)
	}
	if emea.ParentID != sales.ID {
		t.Errorf("Sales EMEA parent = %s, want %s", emea.ParentID, sales.ID)
	}
	units, err := emu.BusinessUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(units) != 3 || units[0].ParentID != "" || units[1].Name != "Sales" || units[2].Name != "Sales EMEA" {
		t.Errorf("business units = %+v, want the root, Sales, Sales EMEA", units)
	}

	role, err := emu.CreateRole(ctx, "Contact reader", []emulator.RolePrivilege{
		{Name: "prvreadcontact"}, // any case; the depth defaults to organization
		mustPrivilege(t, "prvWriteContact:Local"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []emulator.RolePrivilege{{Name: "prvReadContact", Depth: emulator.DepthOrganization}, {Name: "prvWriteContact", Depth: emulator.DepthBusinessUnit}}
	if diff := cmp.Diff(want, role.Privileges); diff != "" {
		t.Errorf("role privileges (-want +got):\n%s", diff)
	}

	app, _ := newApp(t, emu, "Contact sync")
	user, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: app.ClientID, Roles: []string{"contact reader"}, BusinessUnit: "Sales EMEA"})
	if err != nil {
		t.Fatal(err)
	}
	wantUser := emulator.ApplicationUser{
		UserID: user.UserID, ApplicationID: app.ClientID, ObjectID: app.ObjectID, FullName: "Contact sync",
		BusinessUnitID: emea.ID, BusinessUnit: "Sales EMEA", Roles: []string{"Contact reader"},
	}
	if diff := cmp.Diff(wantUser, user); diff != "" {
		t.Errorf("application user (-want +got):\n%s", diff)
	}
	if err := emu.SetApplicationUserRoles(ctx, app.ClientID, []string{"Contact reader", emulator.DefaultRoleName}); err != nil {
		t.Fatal(err)
	}
	if err := emu.SetApplicationUserEnabled(ctx, app.ClientID, false); err != nil {
		t.Fatal(err)
	}
	users, err := emu.ApplicationUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got *emulator.ApplicationUser
	for i := range users {
		if users[i].ApplicationID == app.ClientID {
			got = &users[i]
		}
	}
	if got == nil || !got.Disabled || strings.Join(got.Roles, ",") != "Contact reader,System Administrator" {
		t.Errorf("listed application user = %+v, want disabled with both roles", got)
	}
	if len(users) != 2 {
		t.Errorf("%d application users, want 2 (the seeded one and ours)", len(users))
	}
	if role.ID == "" || len(emu.Privileges()) < 50 {
		t.Errorf("role %+v, %d privileges", role, len(emu.Privileges()))
	}
}

func mustPrivilege(t *testing.T, s string) emulator.RolePrivilege {
	t.Helper()
	p, err := emulator.ParsePrivilege(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretsListNeverHoldValues(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	app, err := emu.CreateApp(ctx, emulator.NewApp{DisplayName: "listing"})
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	info, value, err := emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{DisplayName: "ci", Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	if len(value) != 40 || value[3:6] != "8Q~" {
		t.Errorf("generated secret value is not shaped like Entra's (40 characters, 8Q~ at 3)")
	}
	if info.Hint != value[:3] || !info.Expires.Equal(expires) || info.DisplayName != "ci" {
		t.Errorf("secret = %+v", info)
	}
	list, err := emu.Secrets(ctx, app.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]emulator.Secret{info}, list); diff != "" {
		t.Errorf("Secrets (-added +listed):\n%s", diff)
	}
	if _, _, err := emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{Value: "bad\x00secret-value"}); err == nil ||
		strings.Contains(err.Error(), "secret-value") || !errors.Is(err, emulator.ErrInvalid) {
		t.Errorf("bad secret value: %v, want ErrInvalid that does not repeat the value", err)
	}
	for _, s := range []string{fmtV(emulator.NewSecret{Value: "hidden-value"}), fmtSharpV(emulator.NewSecret{Value: "hidden-value"}),
		fmtV(emulator.ScenarioSecret{Value: "hidden-value"}), fmtSharpV(emulator.ScenarioSecret{Value: "hidden-value"})} {
		if strings.Contains(s, "hidden-value") {
			t.Errorf("formatting shows the secret: %s", s)
		}
	}
}

// TestDisabledBusinessUnitLocksItsUsersOut: disabling a business unit refuses every request of
// the application users in it and under it with the disabled-user 403, says so in the request
// log, refuses impersonating them, and enabling it again lets them back in.
func TestDisabledBusinessUnitLocksItsUsersOut(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	if _, err := emu.CreateBusinessUnit(ctx, "Sales", ""); err != nil {
		t.Fatal(err)
	}
	emea, err := emu.CreateBusinessUnit(ctx, "Sales EMEA", "Sales")
	if err != nil {
		t.Fatal(err)
	}
	app, secret := newApp(t, emu, "EMEA sync")
	user, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: app.ClientID, Roles: []string{emulator.DefaultRoleName}, BusinessUnit: "Sales EMEA"})
	if err != nil {
		t.Fatal(err)
	}
	token := mustToken(t, emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret))
	creds := emu.Credentials()
	admin := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))

	who := callAPI(t, emu, token, http.MethodGet, "WhoAmI", "")
	if who.status != http.StatusOK || who.body["BusinessUnitId"] != emea.ID {
		t.Fatalf("WhoAmI before disabling = %d %v, want 200 in Sales EMEA", who.status, who.body)
	}
	orgID, _ := who.body["OrganizationId"].(string)

	// Disabling the parent disables the child, where the user is.
	if err := emu.SetBusinessUnitEnabled(ctx, "sales", false); err != nil {
		t.Fatal(err)
	}
	if got := disabledUnits(t, emu); !slices.Equal(got, []string{"Sales", "Sales EMEA"}) {
		t.Errorf("disabled business units = %q, want Sales and the unit under it", got)
	}
	wantMessage := "The user with SystemUserId=" + user.UserID + " in OrganizationContext=" + orgID +
		" cannot access the system: the business unit 'Sales EMEA' (Id=" + emea.ID + ") is disabled."
	for _, path := range []string{"WhoAmI", "contacts?$top=1"} {
		res := callAPI(t, emu, token, http.MethodGet, path, "")
		if res.status != http.StatusForbidden || res.code != "0x80040225" || !strings.HasPrefix(res.message, wantMessage) {
			t.Errorf("GET %s in a disabled business unit = %d %s %q, want 403 0x80040225 starting %q", path, res.status, res.code, res.message, wantMessage)
		}
	}
	entries := emu.RequestLog(emulator.LogFilter{Status: []int{http.StatusForbidden}, AppID: app.ClientID})
	if len(entries) != 2 {
		t.Fatalf("request log has %d 403s of the app, want 2: %+v", len(entries), entries)
	}
	for _, e := range entries {
		if e.Code != "0x80040225" || !strings.Contains(e.Reason, "the business unit 'Sales EMEA' (Id="+emea.ID+") is disabled") {
			t.Errorf("log entry = %+v, want code 0x80040225 and a reason naming the business unit", e)
		}
	}
	// Impersonating a user of a disabled business unit fails as impersonating a disabled user.
	if res := impersonate(t, emu, admin, user.UserID); res.status != http.StatusForbidden || res.code != "0x80040225" || !strings.HasPrefix(res.message, wantMessage) {
		t.Errorf("impersonating the user = %d %s %q, want 403 0x80040225 starting %q", res.status, res.code, res.message, wantMessage)
	}
	// The seeded app's user, in the root business unit, is not affected.
	if res := callAPI(t, emu, admin, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
		t.Errorf("WhoAmI of the root business unit's user = %d %s", res.status, res.message)
	}

	// The child cannot be enabled under its disabled parent; nothing changes.
	if err := emu.SetBusinessUnitEnabled(ctx, emea.ID, true); !errors.Is(err, emulator.ErrInvalid) || !strings.Contains(err.Error(), `enable "Sales" instead`) {
		t.Errorf("enabling Sales EMEA under disabled Sales: %v, want ErrInvalid saying to enable Sales", err)
	}
	if got := disabledUnits(t, emu); !slices.Equal(got, []string{"Sales", "Sales EMEA"}) {
		t.Errorf("disabled business units after the refused enable = %q", got)
	}

	// Enabling the parent enables the child: the user's next requests succeed.
	if err := emu.SetBusinessUnitEnabled(ctx, "Sales", true); err != nil {
		t.Fatal(err)
	}
	if got := disabledUnits(t, emu); len(got) != 0 {
		t.Errorf("disabled business units after enabling Sales = %q, want none", got)
	}
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK || res.body["UserId"] != user.UserID {
		t.Errorf("WhoAmI after enabling = %d %s %q, want 200", res.status, res.code, res.message)
	}
	if res := impersonate(t, emu, admin, user.UserID); res.status != http.StatusOK || res.body["UserId"] != user.UserID {
		t.Errorf("impersonating after enabling = %d %s %q, want 200 as the user", res.status, res.code, res.message)
	}

	// A disabled user in a disabled business unit is refused as a disabled user.
	if err := emu.SetBusinessUnitEnabled(ctx, "Sales EMEA", false); err != nil {
		t.Fatal(err)
	}
	if err := emu.SetApplicationUserEnabled(ctx, app.ClientID, false); err != nil {
		t.Fatal(err)
	}
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusForbidden || res.code != "0x80040225" ||
		!strings.Contains(res.message, "is disabled. Disabled users cannot access the system.") {
		t.Errorf("WhoAmI of a disabled user in a disabled business unit = %d %s %q", res.status, res.code, res.message)
	}
	if got := disabledUnits(t, emu); !slices.Equal(got, []string{"Sales EMEA"}) {
		t.Errorf("disabled business units = %q, want Sales EMEA alone (disabling a child leaves its parent)", got)
	}
}

func TestSetBusinessUnitEnabledErrors(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	units, err := emu.BusinessUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root := units[0]
	if _, err := emu.CreateBusinessUnit(ctx, "Archive", ""); err != nil {
		t.Fatal(err)
	}
	if err := emu.SetBusinessUnitEnabled(ctx, "Archive", false); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want error
		says string
	}{
		{"disable the root by name", func() error { return emu.SetBusinessUnitEnabled(ctx, root.Name, false) }, emulator.ErrInvalid, "Root Business unit cannot be disabled."},
		{"disable the root by ID", func() error { return emu.SetBusinessUnitEnabled(ctx, root.ID, false) }, emulator.ErrInvalid, "is the root business unit"},
		{"unknown business unit", func() error { return emu.SetBusinessUnitEnabled(ctx, "Narnia", false) }, emulator.ErrNotFound, "Narnia"},
		{"child of a disabled unit", func() error { _, err := emu.CreateBusinessUnit(ctx, "Archive 2019", "Archive"); return err }, emulator.ErrInvalid, `parent business unit "Archive" is disabled`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %v, want %v mentioning %q", err, tt.want, tt.says)
			}
		})
	}
	// Nothing changed: the root is enabled, Archive has no child, enabling the root is a no-op.
	if err := emu.SetBusinessUnitEnabled(ctx, root.ID, true); err != nil {
		t.Errorf("enabling the (enabled) root: %v", err)
	}
	if got := disabledUnits(t, emu); !slices.Equal(got, []string{"Archive"}) {
		t.Errorf("disabled business units = %q, want Archive alone", got)
	}
	if units, _ := emu.BusinessUnits(ctx); len(units) != 2 {
		t.Errorf("business units = %+v, want the root and Archive", units)
	}
}

// disabledUnits returns the names of the disabled business units, in listing order.
func disabledUnits(t *testing.T, emu *emulator.Emulator) []string {
	t.Helper()
	units, err := emu.BusinessUnits(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, bu := range units {
		if bu.Disabled {
			names = append(names, bu.Name)
		}
	}
	return names
}

// impersonate calls WhoAmI with the token, impersonating the user (MSCRMCallerID).
func impersonate(t *testing.T, emu *emulator.Emulator, token, userID string) apiResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, emu.OrgURL()+"/api/data/v9.2/WhoAmI", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("MSCRMCallerID", userID)
	resp, err := emu.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	res := apiResult{status: resp.StatusCode}
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("WhoAmI as %s: %d, body is not JSON: %v", userID, resp.StatusCode, err)
	}
	res.body = body
	if e, ok := body["error"].(map[string]any); ok {
		res.code, _ = e["code"].(string)
		res.message, _ = e["message"].(string)
	}
	return res
}

// A business unit created through the Web API under a disabled one is not flagged itself, yet
// its users are refused: the check walks up to the root.
func TestUserUnderADisabledAncestorIsRefused(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	archive, err := emu.CreateBusinessUnit(ctx, "Archive", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.SetBusinessUnitEnabled(ctx, "Archive", false); err != nil {
		t.Fatal(err)
	}
	creds := emu.Credentials()
	admin := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
	if res := callAPI(t, emu, admin, http.MethodPost, "businessunits", `{"name":"Archive 2019","parentbusinessunitid@odata.bind":"businessunits(`+archive.ID+`)"}`); res.status != http.StatusNoContent {
		t.Fatalf("POST businessunits under Archive: %d %s %q", res.status, res.code, res.message)
	}
	child, err := emu.BusinessUnit(ctx, "Archive 2019")
	if err != nil || child.Disabled || child.ParentID != archive.ID {
		t.Fatalf("Archive 2019 = %+v, %v; want an enabled unit under Archive", child, err)
	}
	app, secret := newApp(t, emu, "archivist")
	if _, err := emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: app.ClientID, Roles: []string{emulator.DefaultRoleName}, BusinessUnit: child.ID}); err != nil {
		t.Fatal(err)
	}
	token := mustToken(t, emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret))
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusForbidden || res.code != "0x80040225" ||
		!strings.Contains(res.message, "the business unit 'Archive' (Id="+archive.ID+") is disabled") {
		t.Errorf("WhoAmI under disabled Archive = %d %s %q, want 403 0x80040225 naming Archive", res.status, res.code, res.message)
	}
	if err := emu.SetBusinessUnitEnabled(ctx, "Archive", true); err != nil {
		t.Fatal(err)
	}
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
		t.Errorf("WhoAmI after enabling Archive = %d %s %q, want 200", res.status, res.code, res.message)
	}
}
