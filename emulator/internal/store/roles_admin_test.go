package store

import (
	"context"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// navigationOf returns t's navigation property for a relationship.
func navigationOf(t testing.TB, tb *schema.Table, relationship string) *schema.NavigationProperty {
	t.Helper()
	for _, n := range tb.Navigations {
		if n.Relationship.SchemaName == relationship {
			return n
		}
	}
	t.Fatalf("%s has no navigation property for %s", tb.LogicalName, relationship)
	return nil
}

func TestSetRolePrivilegesAndRemoveRole(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, admin := newStore(t, nil)
	const app = "22222222-2222-3333-4444-555555555555"
	roleID, err := s.EnsureRole(ctx, "Editor", []RolePrivilege{{Name: "prvReadContact", Depth: DepthOrganization}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: app, FullName: "Editor App", RoleNames: []string{"Editor"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.ApplicationUser(ctx, app) // cached from here on
	if err != nil {
		t.Fatal(err)
	}
	if p.Depth("prvReadContact") != DepthOrganization || p.Depth("prvCreateContact") != DepthNone {
		t.Fatalf("before: read %d, create %d", p.Depth("prvReadContact"), p.Depth("prvCreateContact"))
	}

	// Replacing the privileges takes effect for the cached principal.
	if err := s.SetRolePrivileges(ctx, roleID, []RolePrivilege{
		{Name: "prvCreateContact", Depth: DepthBusinessUnit}, {Name: "prvCreateContact", Depth: DepthUser},
	}); err != nil {
		t.Fatal(err)
	}
	privs, err := s.RolePrivileges(ctx, roleID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]RolePrivilege{{"prvCreateContact", DepthBusinessUnit}}, privs); diff != "" {
		t.Errorf("privileges after SetRolePrivileges (-want +got):\n%s", diff)
	}
	if p, _ = s.ApplicationUser(ctx, app); p.Depth("prvReadContact") != DepthNone || p.Depth("prvCreateContact") != DepthBusinessUnit {
		t.Errorf("after: read %d, create %d", p.Depth("prvReadContact"), p.Depth("prvCreateContact"))
	}

	// Refusals change nothing.
	for _, tc := range []struct {
		name string
		err  error
		kind Kind
	}{
		{"unknown privilege", s.SetRolePrivileges(ctx, roleID, []RolePrivilege{{Name: "prvReadContact", Depth: DepthUser}, {Name: "prvFly", Depth: DepthUser}}), KindValidation},
		{"bad depth", s.SetRolePrivileges(ctx, roleID, []RolePrivilege{{Name: "prvReadContact", Depth: 3}}), KindValidation},
		{"unknown role", s.SetRolePrivileges(ctx, uuid.NewString(), nil), KindNotFound},
		{"not a GUID", s.SetRolePrivileges(ctx, "Editor", nil), KindValidation},
		{"System Administrator", s.SetRolePrivileges(ctx, s.Organization().SystemAdministratorRoleID, nil), KindValidation},
		{"remove System Administrator", s.RemoveRole(ctx, s.Organization().SystemAdministratorRoleID), KindValidation},
		{"remove unknown role", s.RemoveRole(ctx, uuid.NewString()), KindNotFound},
	} {
		if KindOf(tc.err) != tc.kind {
			t.Errorf("%s: %v (kind %d); want kind %d", tc.name, tc.err, KindOf(tc.err), tc.kind)
		}
	}
	if got, _ := s.RolePrivileges(ctx, roleID); !cmp.Equal(got, privs) {
		t.Errorf("privileges after refused changes = %v; want %v", got, privs)
	}
	if all, _ := s.RolePrivileges(ctx, s.Organization().SystemAdministratorRoleID); len(all) != len(s.PrivilegeNames()) {
		t.Errorf("System Administrator holds %d of %d privileges", len(all), len(s.PrivilegeNames()))
	}

	// RemoveRole takes the role from its users and teams.
	team := table(t, s, "team")
	w, err := s.Create(ctx, admin, team, fields(t, team, "name", "Editors",
		"businessunitid", Ref{Table: "businessunit", ID: uuid.MustParse(s.Organization().BusinessUnitID)}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, func(tx *Tx) error {
		return tx.Associate(ctx, admin, navigationOf(t, team, "teamroles_association"), w.ID, uuid.MustParse(roleID))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRole(ctx, roleID); err != nil {
		t.Fatal(err)
	}
	roles, _ := s.Roles(ctx)
	for _, r := range roles {
		if r.ID == roleID {
			t.Errorf("role still listed: %+v", r)
		}
	}
	var links int
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM "systemuserroles" WHERE "roleid" = ?1) +
		(SELECT count(*) FROM "teamroles" WHERE "roleid" = ?1) + (SELECT count(*) FROM "_dv_roleprivilege" WHERE "roleid" = ?1)`, roleID).Scan(&links); err != nil {
		t.Fatal(err)
	}
	if links != 0 {
		t.Errorf("%d links to the removed role remain", links)
	}
	// The user now has no role at all: the documented no-roles refusal.
	if _, err := s.ApplicationUser(ctx, app); KindOf(err) != KindNoRoles {
		t.Errorf("user of the removed role: %v; want KindNoRoles", err)
	}
}
