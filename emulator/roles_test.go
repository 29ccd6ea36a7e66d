package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// Taking prvReadContact away from a role while its app is running turns the app's next read
// into 403 0x80040220; giving it back (over HTTP) lets it read again; removing the role leaves
// the app user without roles.
func TestEditingARoleMidRun(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	const roleName = "Contact reader"
	if _, err := emu.CreateRole(ctx, roleName, []emulator.RolePrivilege{
		{Name: "prvReadContact", Depth: emulator.DepthOrganization}, {Name: "prvCreateContact", Depth: emulator.DepthOrganization},
	}); err != nil {
		t.Fatal(err)
	}
	app, secret := newApp(t, emu, "contact reader", roleName)
	token := mustToken(t, emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret))
	if res := callAPI(t, emu, token, http.MethodGet, "contacts", ""); res.status != http.StatusOK {
		t.Fatalf("read with prvReadContact: %d %s", res.status, res.message)
	}

	role, err := emu.SetRolePrivileges(ctx, roleName, []emulator.RolePrivilege{{Name: "prvcreatecontact", Depth: emulator.DepthUser}})
	if err != nil {
		t.Fatal(err)
	}
	if len(role.Privileges) != 1 || role.Privileges[0] != (emulator.RolePrivilege{Name: "prvCreateContact", Depth: emulator.DepthUser}) {
		t.Errorf("role after SetRolePrivileges = %+v", role)
	}
	res := callAPI(t, emu, token, http.MethodGet, "contacts", "")
	if res.status != http.StatusForbidden || res.code != "0x80040220" || !strings.Contains(res.message, "missing prvReadContact privilege") {
		t.Errorf("read after prvReadContact was taken away: %d %s %q, want 403 0x80040220 naming prvReadContact", res.status, res.code, res.message)
	}

	var patched emulator.Role
	if st := adminCall(t, emu, http.MethodPatch, "roles/"+strings.ReplaceAll(roleName, " ", "%20"),
		map[string]any{"privileges": []string{"prvReadContact:organization"}}, &patched); st != http.StatusOK || len(patched.Privileges) != 1 || patched.Privileges[0].Name != "prvReadContact" {
		t.Errorf("PATCH roles/%s = %d %+v", roleName, st, patched)
	}
	if res := callAPI(t, emu, token, http.MethodGet, "contacts", ""); res.status != http.StatusOK {
		t.Errorf("read after PATCH gave prvReadContact back: %d %s", res.status, res.message)
	}

	if st := adminCall(t, emu, http.MethodDelete, "roles/"+role.ID, nil, nil); st != http.StatusNoContent {
		t.Errorf("DELETE roles/{id} = %d, want 204", st)
	}
	if _, err := emu.Role(ctx, roleName); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("Role after RemoveRole: %v, want ErrNotFound", err)
	}
	if u, err := emu.ApplicationUser(ctx, app.ClientID); err != nil || len(u.Roles) != 0 {
		t.Errorf("application user after its role was removed = %+v, %v; want no roles", u, err)
	}
	if res := callAPI(t, emu, token, http.MethodGet, "contacts", ""); res.status != http.StatusForbidden || !strings.Contains(res.message, "has not been assigned any roles") {
		t.Errorf("read after the role was removed: %d %q, want 403 has not been assigned any roles", res.status, res.message)
	}
}

func TestRoleEditErrors(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	if _, err := emu.CreateRole(ctx, "Editable", []emulator.RolePrivilege{{Name: "prvReadContact"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
		text string
	}{
		{"set System Administrator", second(emu.SetRolePrivileges(ctx, emulator.DefaultRoleName, nil)), emulator.ErrInvalid, "cannot change the privileges of the System Administrator role"},
		{"remove System Administrator", emu.RemoveRole(ctx, emulator.DefaultRoleName), emulator.ErrInvalid, "cannot remove the System Administrator role"},
		{"set an unknown role", second(emu.SetRolePrivileges(ctx, "Nope", nil)), emulator.ErrNotFound, `no security role is named "Nope"`},
		{"remove an unknown role", emu.RemoveRole(ctx, "Nope"), emulator.ErrNotFound, `no security role is named "Nope"`},
		{"set an unknown privilege", second(emu.SetRolePrivileges(ctx, "Editable", []emulator.RolePrivilege{{Name: "prvReadContacts"}})), emulator.ErrInvalid, "did you mean prvReadContact?"},
	} {
		if !errors.Is(tc.err, tc.want) || !strings.Contains(tc.err.Error(), tc.text) {
			t.Errorf("%s: %v, want %v with %q", tc.name, tc.err, tc.want, tc.text)
		}
	}
	if r, err := emu.Role(ctx, "Editable"); err != nil || len(r.Privileges) != 1 || r.Privileges[0].Name != "prvReadContact" {
		t.Errorf("role after a failed SetRolePrivileges = %+v, %v; want it unchanged", r, err)
	}
	var e adminErr
	if st := adminCall(t, emu, http.MethodPatch, "roles/Editable", map[string]any{}, &e); st != http.StatusBadRequest || !strings.Contains(e.Error.Message, `{"privileges"`) {
		t.Errorf("PATCH without privileges = %d %+v", st, e)
	}
	if st := adminCall(t, emu, http.MethodDelete, "roles/"+strings.ReplaceAll(emulator.DefaultRoleName, " ", "%20"), nil, &e); st != http.StatusBadRequest || e.Error.Code != "Invalid" {
		t.Errorf("DELETE System Administrator = %d %+v, want 400 Invalid", st, e)
	}
}

// An application user moves to another business unit, by the Go API or over HTTP.
func TestApplicationUserBusinessUnit(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	sales, err := emu.CreateBusinessUnit(ctx, "Sales", "")
	if err != nil {
		t.Fatal(err)
	}
	creds := emu.Credentials()
	before, err := emu.ApplicationUser(ctx, creds.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.SetApplicationUserBusinessUnit(ctx, creds.ClientID, "sales"); err != nil {
		t.Fatal(err)
	}
	if u, _ := emu.ApplicationUser(ctx, creds.ClientID); u.BusinessUnitID != sales.ID || u.BusinessUnit != "Sales" || len(u.Roles) != len(before.Roles) {
		t.Errorf("after the move: %+v, want business unit Sales (%s) and the same roles", u, sales.ID)
	}
	var u emulator.ApplicationUser
	if st := adminCall(t, emu, http.MethodPatch, "appusers/"+creds.ClientID, map[string]any{"businessUnit": before.BusinessUnitID}, &u); st != http.StatusOK || u.BusinessUnitID != before.BusinessUnitID {
		t.Errorf("PATCH appusers businessUnit = %d %+v", st, u)
	}
	var e adminErr
	if st := adminCall(t, emu, http.MethodPatch, "appusers/"+creds.ClientID, map[string]any{"businessUnit": "Nowhere"}, &e); st != http.StatusNotFound {
		t.Errorf("PATCH to an unknown business unit = %d %+v, want 404", st, e)
	}
	if err := emu.SetApplicationUserBusinessUnit(ctx, creds.ClientID, " "); !errors.Is(err, emulator.ErrInvalid) {
		t.Errorf("empty business unit: %v, want ErrInvalid", err)
	}
}

func second[T any](_ T, err error) error { return err }
