package webapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// A condition on related rows reads them: a caller whose role cannot read
// the related table gets the 403 $expand and FetchXML link-entity give,
// whether the rows are reached by a lookup path or a lambda, in $filter,
// $orderby, $apply or a query function, never a silently empty result.
func TestRelatedConditionsNeedReadPrivilege(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	seedContacts(e)
	tests := []struct{ query, privilege string }{
		{"$filter=owninguser/fullname eq 'x'", "prvReadUser"},
		{"$filter=parentcustomerid_account/name eq 'x'", "prvReadAccount"},
		{"$filter=ownerid/fullname eq 'x'", "prvReadUser"},
		{"$filter=Contact_Tasks/any(t:t/subject eq 'x')", "prvReadActivity"},
		{"$filter=Contact_Tasks/any()", "prvReadActivity"},
		{"$orderby=owninguser/fullname", "prvReadUser"},
		{"$apply=groupby((parentcustomerid_account/name))", "prvReadAccount"},
		{"$filter=Microsoft.Dynamics.CRM.In(PropertyName='parentcustomerid_account/name',PropertyValues=[\"x\"])", "prvReadAccount"},
		{"$expand=owninguser($select=fullname)", "prvReadUser"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.call(http.MethodGet, api+"contacts?"+tt.query, tokenReader, nil)
			expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id=")
			if _, msg := r.errorOf(t); !strings.Contains(msg, "is missing "+tt.privilege+" privilege") {
				t.Errorf("message %q does not name %s", msg, tt.privilege)
			}
		})
	}
	// Conditions on the caller's own table still work, and the admin may
	// follow the same paths.
	if rows := e.call(http.MethodGet, api+"contacts?$select=lastname&$filter=lastname eq 'Bravo'", tokenReader, nil).rows(t); len(rows) != 1 {
		t.Errorf("reader on contacts: %v", rows)
	}
	if r := e.call(http.MethodGet, api+"contacts?$select=lastname&$filter=owninguser/fullname ne 'x'", tokenAdmin, nil); r.status != http.StatusOK {
		t.Errorf("admin lookup path: %d %s", r.status, r.body)
	}
}
