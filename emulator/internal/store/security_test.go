package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// newStore opens an in-memory store with an application user holding
// System Administrator, and returns the store and that user.
func TestSeededOrganization(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	org := s.Organization()
	for _, id := range []string{org.OrganizationID, org.BusinessUnitID, org.BaseCurrencyID, org.SystemAdministratorRoleID} {
		if _, err := uuid.Parse(id); err != nil {
			t.Errorf("seed id %q: %v", id, err)
		}
	}
	if p.BusinessUnitID.String() != org.BusinessUnitID || p.OrganizationID.String() != org.OrganizationID {
		t.Errorf("principal BU/org = %s/%s", p.BusinessUnitID, p.OrganizationID)
	}
	if p.AccessMode != 4 || p.FullName != "Test App" || p.RoleCount != 1 {
		t.Errorf("principal = %+v", p)
	}
	for _, name := range []string{"prvReadContact", "prvCreateAccount", "prvWriteUser", "prvDeleteActivity", "prvAppendToAccount", PrivilegeActOnBehalfOf} {
		if d := p.Depth(name); d != DepthOrganization {
			t.Errorf("System Administrator %s depth = %v", name, d)
		}
	}
	if p.Depth("prvDeleteUser") != DepthNone {
		t.Error("prvDeleteUser must not exist")
	}
	ctx := context.Background()
	bu, err := s.Retrieve(ctx, p, table(t, s, "businessunit"), uuid.MustParse(org.BusinessUnitID), cols(t, table(t, s, "businessunit"), "name"))
	if err != nil || bu.Values[0] != "emulator" {
		t.Errorf("root business unit = %+v, %v", bu, err)
	}
}

func TestPrivilegesAndDepth(t *testing.T) {
	t.Parallel()
	s, admin := newStore(t, nil)
	ctx := context.Background()
	contact, account := table(t, s, "contact"), table(t, s, "account")
	if _, err := s.EnsureRole(ctx, "Contact Reader", []RolePrivilege{{Name: "prvReadContact", Depth: DepthUser}, {Name: "prvCreateContact", Depth: DepthUser}}); err != nil {
		t.Fatal(err)
	}
	const app2 = "99999999-2222-3333-4444-555555555555"
	uid, err := s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: app2, AzureADObjectID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", FullName: "Reader", RoleNames: []string{"Contact Reader"}})
	if err != nil {
		t.Fatal(err)
	}
	reader, err := s.ApplicationUser(ctx, app2)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Create(ctx, reader, account, fields(t, account, "name", "x"))
	var se *Error
	if !errors.As(err, &se) || classOf(se) != classPrivilegeDenied || se.Kind != KindPrivilege || se.Privilege != "prvCreateAccount" {
		t.Fatalf("create account without privilege: %v, want PrivilegeDenied naming prvCreateAccount", err)
	}
	wantStart := fmt.Sprintf("Principal user (Id=%s, type=8, roleCount=1, privilegeCount=2, accessMode='NonInteractive', AADObjectId='aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', MetadataCachePrivilegesCount=", uid)
	wantEnd := fmt.Sprintf("is missing prvCreateAccount privilege (Id=%s) on OTC=1 for entity 'account' (LocalizedName='Account'). context.Caller=%s. Consider adding missed privilege to one of the principal (user/team) roles.", s.privileges["prvCreateAccount"], uid)
	if !strings.HasPrefix(se.Message, wantStart) || !strings.HasSuffix(se.Message, wantEnd) {
		t.Errorf("message = %q", se.Message)
	}
	// User depth: the reader sees its own contact, not the admin's.
	mine, err := s.Create(ctx, reader, contact, fields(t, contact, "lastname", "Mine"))
	if err != nil {
		t.Fatal(err)
	}
	theirs, _ := s.Create(ctx, admin, contact, fields(t, contact, "lastname", "Theirs"))
	if _, err := s.Retrieve(ctx, reader, contact, mine.ID, nil); err != nil {
		t.Errorf("own contact: %v", err)
	}
	if _, err := s.Retrieve(ctx, reader, contact, theirs.ID, nil); KindOf(err) != KindAccess {
		t.Errorf("other's contact: %v", err)
	}
	page, err := s.Query(ctx, reader, Query{Table: contact, Columns: cols(t, contact, "lastname")})
	if err != nil || len(page.Rows) != 1 || page.Rows[0].Values[0] != "Mine" {
		t.Errorf("reader's query = %+v, %v", page, err)
	}
	page, _ = s.Query(ctx, admin, Query{Table: contact, Columns: cols(t, contact, "lastname")})
	if len(page.Rows) != 2 {
		t.Errorf("admin sees %d contacts", len(page.Rows))
	}
	// Lookups need Append on the table and AppendTo on the target.
	_, err = s.Create(ctx, reader, contact, fields(t, contact, "lastname", "x", "parentcustomerid", Ref{Table: "contact", ID: mine.ID}))
	if !errors.As(err, &se) || !strings.Contains(se.Message, "missing prvAppendContact privilege") {
		t.Errorf("bind without Append: %v", err)
	}
	// No roles, disabled, unknown app.
	if err := s.SetUserRoles(ctx, uid, nil); err != nil {
		t.Fatal(err)
	}
	_, err = s.ApplicationUser(ctx, app2)
	if !errors.As(err, &se) || classOf(se) != classUserNotAssignedRoles || se.Message != fmt.Sprintf("The user (Id = %s) has not been assigned any roles.", uid) {
		t.Errorf("no roles: %v", err)
	}
	if err := s.SetUserDisabled(ctx, uid, true); err != nil {
		t.Fatal(err)
	}
	_, err = s.ApplicationUser(ctx, app2)
	if !errors.As(err, &se) || se.Kind != KindDisabled || !strings.HasPrefix(se.Message, "The user with SystemUserId="+uid+" in OrganizationContext=") {
		t.Errorf("disabled: %v", err)
	}
	_, err = s.ApplicationUser(ctx, uuid.NewString())
	if !errors.As(err, &se) || classOf(se) != classUserNotMemberOfOrg || se.Message != "The user is not a member of the organization." {
		t.Errorf("unknown app: %v", err)
	}
}

func TestEnsureApplicationUserIsIdempotentAndAtomic(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	again, err := s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: strings.ToUpper(testAppID), RoleNames: []string{SystemAdministrator}})
	if err != nil || again != p.UserID.String() {
		t.Errorf("second EnsureApplicationUser = %s, %v; want %s", again, err, p.UserID)
	}
	const app3 = "33333333-2222-3333-4444-555555555555"
	_, err = s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: app3, RoleNames: []string{SystemAdministrator, "No Such Role"}})
	if err == nil || !strings.Contains(err.Error(), `"No Such Role"`) {
		t.Errorf("unknown role: %v", err)
	}
	if _, err := s.ApplicationUser(ctx, app3); KindOf(err) != KindNoUser {
		t.Errorf("failed EnsureApplicationUser left a user behind: %v", err)
	}
}

func TestGlobalPrivileges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, admin := newStore(t, nil)
	names := s.PrivilegeNames()
	for _, name := range []string{PrivilegeActOnBehalfOf, PrivilegeBypassCustomPlugins, PrivilegeBypassCustomBusinessLogic} {
		if !slices.Contains(names, name) {
			t.Errorf("privilege catalogue lacks %s", name)
		}
		if admin.Depth(name) != DepthOrganization {
			t.Errorf("System Administrator holds %s at %v, want Global", name, admin.Depth(name))
		}
		if err := s.RequirePrivilege(admin, name); err != nil {
			t.Errorf("RequirePrivilege(admin, %s) = %v", name, err)
		}
	}
	if _, err := s.EnsureRole(ctx, "Plain", []RolePrivilege{{Name: "prvReadContact", Depth: DepthOrganization}}); err != nil {
		t.Fatal(err)
	}
	const plainApp = "22222222-2222-3333-4444-555555555555"
	if _, err := s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: plainApp, RoleNames: []string{"Plain"}}); err != nil {
		t.Fatal(err)
	}
	plain, err := s.ApplicationUser(ctx, plainApp)
	if err != nil {
		t.Fatal(err)
	}
	err = s.RequirePrivilege(plain, PrivilegeBypassCustomPlugins)
	var se *Error
	if !errors.As(err, &se) || se.Kind != KindPrivilege || classOf(se) != classPrivilegeDenied || se.Privilege != PrivilegeBypassCustomPlugins ||
		!strings.Contains(se.Message, "is missing prvBypassCustomPlugins privilege (Id="+privilegeID(PrivilegeBypassCustomPlugins)+")") ||
		!strings.HasPrefix(se.Message, "Principal user (Id="+plain.UserID.String()+", type=8,") {
		t.Errorf("RequirePrivilege(plain) = %v, want PrivilegeDenied naming the user and prvBypassCustomPlugins", err)
	}
}

// A snapshot taken before the catalogue gained a global privilege restores, and the privilege
// is back afterwards, held by System Administrator.
func TestRestoreOfSnapshotWithoutNewGlobalPrivilege(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, nil)
	path := filepath.Join(t.TempDir(), "old.db")
	sn, err := s.SnapshotToFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	old, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`DELETE FROM "_dv_roleprivilege" WHERE "privilegeid" IN (SELECT "privilegeid" FROM "_dv_privilege" WHERE "name" = 'prvBypassCustomBusinessLogic')`,
		`DELETE FROM "_dv_privilege" WHERE "name" = 'prvBypassCustomBusinessLogic'`,
	} {
		if _, err := old.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	if err := s.Restore(ctx, sn); err != nil {
		t.Fatalf("Restore of a snapshot without %s: %v", PrivilegeBypassCustomBusinessLogic, err)
	}
	admin, err := s.ApplicationUser(ctx, testAppID)
	if err != nil {
		t.Fatal(err)
	}
	if admin.Depth(PrivilegeBypassCustomBusinessLogic) != DepthOrganization {
		t.Errorf("after the restore System Administrator holds %s at %v, want Global", PrivilegeBypassCustomBusinessLogic, admin.Depth(PrivilegeBypassCustomBusinessLogic))
	}
}
