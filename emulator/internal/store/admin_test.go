package store

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func TestSystemUserHoldsSystemAdministrator(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	org := s.Organization()
	id, err := uuid.Parse(org.SystemUserID)
	if err != nil {
		t.Fatalf("SystemUserID %q: %v", org.SystemUserID, err)
	}
	sys, err := s.User(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if sys.FullName != "SYSTEM" || !sys.Disabled || sys.RoleCount != 1 || sys.Depth("prvCreateBusinessUnit") != DepthOrganization {
		t.Errorf("SYSTEM = %+v (roles %d), want the disabled SYSTEM user holding System Administrator", sys, sys.RoleCount)
	}
}

func TestAdminRolesAndBusinessUnits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, nil)
	org := s.Organization()
	readerID, err := s.EnsureRole(ctx, "Reader", []RolePrivilege{
		{Name: "prvReadContact", Depth: DepthBusinessUnit}, {Name: "prvReadAccount", Depth: DepthOrganization},
	})
	if err != nil {
		t.Fatal(err)
	}
	roles, err := s.Roles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Role{{ID: readerID, Name: "Reader", BusinessUnitID: org.BusinessUnitID},
		{ID: org.SystemAdministratorRoleID, Name: SystemAdministrator, BusinessUnitID: org.BusinessUnitID}}
	if diff := cmp.Diff(want, roles); diff != "" {
		t.Errorf("Roles (-want +got):\n%s", diff)
	}
	privs, err := s.RolePrivileges(ctx, readerID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]RolePrivilege{{"prvReadAccount", DepthOrganization}, {"prvReadContact", DepthBusinessUnit}}, privs); diff != "" {
		t.Errorf("RolePrivileges (-want +got):\n%s", diff)
	}
	if privs, err := s.RolePrivileges(ctx, uuid.NewString()); err != nil || privs == nil || len(privs) != 0 {
		t.Errorf("RolePrivileges of an unknown role = %v, %v; want an empty list", privs, err)
	}
	all, _ := s.RolePrivileges(ctx, org.SystemAdministratorRoleID)
	if len(all) != len(s.PrivilegeNames()) {
		t.Errorf("System Administrator holds %d privileges, want all %d", len(all), len(s.PrivilegeNames()))
	}

	sales, err := s.CreateBusinessUnit(ctx, "Sales", "")
	if err != nil {
		t.Fatal(err)
	}
	west, err := s.CreateBusinessUnit(ctx, "West", sales.ID)
	if err != nil {
		t.Fatal(err)
	}
	units, err := s.BusinessUnits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantUnits := []BusinessUnit{{ID: org.BusinessUnitID, Name: "emulator"}, {ID: sales.ID, Name: "Sales", ParentID: org.BusinessUnitID},
		{ID: west.ID, Name: "West", ParentID: sales.ID}}
	if diff := cmp.Diff(wantUnits, units); diff != "" {
		t.Errorf("BusinessUnits (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name, parent string
		kind         Kind
	}{
		{"SALES", "", KindDuplicate},
		{"East", uuid.NewString(), KindNotFound},
		{" ", "", KindValidation},
	} {
		if _, err := s.CreateBusinessUnit(ctx, tc.name, tc.parent); KindOf(err) != tc.kind {
			t.Errorf("CreateBusinessUnit(%q, %q) = %v, want kind %d", tc.name, tc.parent, err, tc.kind)
		}
	}
	if units2, _ := s.BusinessUnits(ctx); len(units2) != 3 {
		t.Errorf("refused creates left %d business units, want 3", len(units2))
	}
}

func TestAdminApplicationUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, admin := newStore(t, nil)
	org := s.Organization()
	sales, err := s.CreateBusinessUnit(ctx, "Sales", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureRole(ctx, "Reader", []RolePrivilege{{Name: "prvReadContact", Depth: DepthOrganization}}); err != nil {
		t.Fatal(err)
	}
	const salesApp, objectID = "33333333-2222-3333-4444-555555555555", "44444444-2222-3333-4444-555555555555"
	salesUser, err := s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: salesApp, AzureADObjectID: objectID, FullName: "A Sales App",
		RoleNames: []string{"Reader", SystemAdministrator}, BusinessUnitID: sales.ID, Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	// An unknown business unit writes nothing.
	if _, err := s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: uuid.NewString(), BusinessUnitID: uuid.NewString()}); KindOf(err) != KindNotFound {
		t.Errorf("EnsureApplicationUser in an unknown business unit = %v, want KindNotFound", err)
	}
	users, err := s.ApplicationUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []ApplicationUserInfo{
		{UserID: salesUser, ApplicationID: salesApp, ObjectID: objectID, FullName: "A Sales App", BusinessUnitID: sales.ID, BusinessUnitName: "Sales",
			Disabled: true, Roles: []string{"Reader", SystemAdministrator}},
		{UserID: admin.UserID.String(), ApplicationID: testAppID, FullName: "Test App", BusinessUnitID: org.BusinessUnitID, BusinessUnitName: "emulator",
			Roles: []string{SystemAdministrator}},
	}
	if diff := cmp.Diff(want, users); diff != "" {
		t.Errorf("ApplicationUsers (-want +got):\n%s", diff)
	}

	if err := s.SetUserBusinessUnit(ctx, salesUser, org.BusinessUnitID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserBusinessUnit(ctx, salesUser, uuid.NewString()); KindOf(err) != KindNotFound {
		t.Errorf("SetUserBusinessUnit to an unknown business unit = %v, want KindNotFound", err)
	}
	if err := s.SetUserBusinessUnit(ctx, uuid.NewString(), org.BusinessUnitID); KindOf(err) != KindNotFound {
		t.Errorf("SetUserBusinessUnit of an unknown user = %v, want KindNotFound", err)
	}
	u, err := s.User(ctx, uuid.MustParse(salesUser))
	if err != nil || u.BusinessUnitID.String() != org.BusinessUnitID {
		t.Errorf("user after SetUserBusinessUnit = %+v, %v; want the root business unit", u, err)
	}

	if err := s.RemoveApplicationUser(ctx, salesApp); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveApplicationUser(ctx, salesApp); KindOf(err) != KindNotFound {
		t.Errorf("second RemoveApplicationUser = %v, want KindNotFound", err)
	}
	if _, err := s.ApplicationUser(ctx, salesApp); KindOf(err) != KindNoUser {
		t.Errorf("ApplicationUser after removal = %v, want KindNoUser", err)
	}
	// The row stays, unlinked and disabled, last modified by SYSTEM.
	u, err = s.User(ctx, uuid.MustParse(salesUser))
	if err != nil || u.ApplicationID != "" || u.ObjectID != "" || !u.Disabled {
		t.Errorf("removed user = %+v, %v; want it unlinked and disabled", u, err)
	}
	su := table(t, s, "systemuser")
	row, err := s.Retrieve(ctx, admin, su, uuid.MustParse(salesUser), cols(t, su, "modifiedby"))
	if err != nil || row.Values[0] != (Ref{Table: "systemuser", ID: uuid.MustParse(org.SystemUserID)}) {
		t.Errorf("modifiedby of the removed user = %v, %v; want SYSTEM", row, err)
	}
	if users, _ := s.ApplicationUsers(ctx); len(users) != 1 {
		t.Errorf("application users after the removal = %+v, want the test app only", users)
	}
	// The app may get a new application user.
	if id, err := s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: salesApp}); err != nil || id == salesUser {
		t.Errorf("new application user after removal = %s, %v; want a new one", id, err)
	}
}
