package webapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/store"
)

// Under impersonation the rights are the intersection of both users'; when
// the intersection drops a privilege the impersonated user holds, the 403
// names the caller, who is the one missing it.
func TestImpersonationErrorNamesThePrincipalMissingThePrivilege(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	if _, err := e.store.EnsureRole(ctx, "Delegate", []store.RolePrivilege{{Name: store.PrivilegeActOnBehalfOf, Depth: store.DepthOrganization}}); err != nil {
		t.Fatal(err)
	}
	reader, err := e.store.ApplicationUser(ctx, readerAppID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetUserRoles(ctx, reader.UserID.String(), []string{"Contact Manager", "Delegate"}); err != nil {
		t.Fatal(err)
	}
	admin, err := e.store.ApplicationUser(ctx, adminAppID)
	if err != nil {
		t.Fatal(err)
	}
	id := e.createContact(map[string]any{"lastname": "Kept"})

	// The System Administrator may delete contacts; the delegate may not.
	r := e.call(http.MethodDelete, api+"contacts("+id+")", tokenReader, nil, "MSCRMCallerID", admin.UserID.String())
	expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id="+reader.UserID.String()+", type=8, roleCount=2,")
	if _, msg := r.errorOf(t); !strings.Contains(msg, "is missing prvDeleteContact privilege") || !strings.HasSuffix(msg, "context.Caller="+reader.UserID.String()+". Consider adding missed privilege to one of the principal (user/team) roles.") {
		t.Errorf("message = %q", msg)
	}
	// Both hold prvReadContact: the intersection keeps it.
	if r := e.call(http.MethodGet, api+"contacts("+id+")?$select=lastname", tokenReader, nil, "MSCRMCallerID", admin.UserID.String()); r.status != http.StatusOK {
		t.Errorf("read as the administrator: %d %s", r.status, r.body)
	}
	// The administrator holds prvReadAccount and the delegate does not:
	// again the delegate is named.
	r = e.call(http.MethodGet, api+"accounts", tokenReader, nil, "MSCRMCallerID", admin.UserID.String())
	expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id="+reader.UserID.String())

	// The impersonated user lacking a privilege the caller holds is named
	// as before: the administrator impersonating the contact-only reader.
	r = e.call(http.MethodDelete, api+"contacts("+id+")", tokenAdmin, nil, "MSCRMCallerID", reader.UserID.String())
	expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id="+reader.UserID.String()+", type=8, roleCount=2,")
	if _, msg := r.errorOf(t); !strings.HasSuffix(msg, "context.Caller="+admin.UserID.String()+". Consider adding missed privilege to one of the principal (user/team) roles.") {
		t.Errorf("message = %q", msg)
	}
}
