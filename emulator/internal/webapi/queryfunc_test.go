package webapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestQueryFunctions drives the Microsoft.Dynamics.CRM query functions of
// $filter over the fixture of the FetchXML suite (now = 2024-05-15 12:00
// UTC; see newFetchFixture).
func TestQueryFunctions(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	fn := func(name, args string) string {
		return "Microsoft.Dynamics.CRM." + name + "(PropertyName=" + args + ")"
	}
	tests := []struct {
		filter string
		want   []string
	}{
		{fn("In", `'lastname',PropertyValues=["Adams","O'Neil"]`), []string{"Adams", "O'Neil"}},
		{fn("NotIn", `'numberofchildren',PropertyValues=["1","2"]`), []string{"O'Neil"}},
		{fn("Between", `'annualincome',PropertyValues=["100","900"]`), []string{"Adams", "O'Neil"}},
		{fn("NotBetween", `'numberofchildren',PropertyValues=["2","2"]`), []string{"Adams", "O'Neil"}},
		{fn("Today", `'createdon'`), []string{"Adams", "O'Neil"}},
		{fn("Yesterday", `'createdon'`), []string{"Brown"}},
		{fn("LastXDays", `'createdon',PropertyValue=7`), []string{"Adams", "Brown", "Clark", "O'Neil"}},
		{fn("NextXDays", `'createdon',PropertyValue=3`), []string{"Adams"}},
		{fn("LastXHours", `'createdon',PropertyValue=2`), []string{"Adams", "O'Neil"}},
		{fn("OlderThanXDays", `'createdon',PropertyValue=30`), []string{"Davis"}},
		{fn("On", `'createdon',PropertyValue='2024-05-10'`), []string{"Clark"}},
		{fn("OnOrAfter", `'createdon',PropertyValue='2024-05-14'`), []string{"Adams", "Brown", "O'Neil"}},
		{fn("OnOrBefore", `'createdon',PropertyValue='2024-05-10'`), []string{"Clark", "Davis"}},
		{fn("ThisWeek", `'createdon'`), []string{"Adams", "Brown", "O'Neil"}},
		{fn("LastMonth", `'createdon'`), []string{"Davis"}},
		{fn("EqualUserId", `'_createdby_value'`), []string{"Adams", "Brown", "Clark", "Davis", "O'Neil"}},
		{fn("NotEqualUserId", `'_createdby_value'`), nil},
		{fn("ContainValues", `'new_hobbies',PropertyValues=["1","3"]`), []string{"Adams"}},
		{fn("DoesNotContainValues", `'new_hobbies',PropertyValues=["1"]`), []string{"Brown"}},
		{fn("LastXDays", `@p,PropertyValue=@n`) + "&@p='createdon'&@n=1", []string{"Adams", "Brown", "O'Neil"}},
	}
	for _, tt := range tests {
		r := f.call(http.MethodGet, api+"contacts?$select=lastname&$orderby=lastname&$filter="+tt.filter, tokenAdmin, nil)
		got := column(r.rows(t), "lastname")
		if len(got) == 0 {
			got = nil
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.filter, diff)
		}
	}
	r := f.call(http.MethodGet, api+"contacts?$filter="+fn("LastXDays", `'lastname',PropertyValue=2`), tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x80060888", "The function 'Microsoft.Dynamics.CRM.LastXDays' applies only to date and time columns.")
}

// The PropertyName of a query function is a column's logical name, as in
// the reference's examples; lookups are named by their logical name
// (ownerid, primarycontactid), and EqualUserId and EqualBusinessId also
// apply to the primary keys of systemuser and businessunit.
func TestQueryFunctionsByLogicalName(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	fn := func(name, args string) string {
		return "Microsoft.Dynamics.CRM." + name + "(PropertyName=" + args + ")"
	}
	me := f.call(http.MethodGet, api+"WhoAmI", tokenAdmin, nil).json(t)
	userID, buID := me["UserId"].(string), me["BusinessUnitId"].(string)
	tests := []struct {
		set, filter, key string
		want             []string
	}{
		{"contacts", fn("EqualUserId", `'ownerid'`), "lastname", []string{"Adams", "Brown", "Clark", "Davis", "O'Neil"}},
		{"contacts", fn("NotEqualUserId", `'ownerid'`), "lastname", nil},
		{"contacts", fn("EqualUserId", `'createdby'`), "lastname", []string{"Adams", "Brown", "Clark", "Davis", "O'Neil"}},
		{"contacts", fn("EqualBusinessId", `'owningbusinessunit'`), "lastname", []string{"Adams", "Brown", "Clark", "Davis", "O'Neil"}},
		{"contacts", fn("In", `'parentcustomerid',PropertyValues=["`+f.accounts["Contoso"]+`"]`), "lastname", []string{"Adams", "Clark"}},
		{"contacts", fn("NotIn", `'lastname',PropertyValues=["Adams","Brown","Clark"]`), "lastname", []string{"Davis", "O'Neil"}},
		{"contacts", fn("LastXDays", `'createdon',PropertyValue=2`), "lastname", []string{"Adams", "Brown", "O'Neil"}},
		{"accounts", fn("In", `'primarycontactid',PropertyValues=["`+f.contacts["Adams"]+`","`+f.contacts["Brown"]+`"]`), "name", []string{"Contoso", "Fabrikam"}},
		{"accounts", fn("EqualUserId", `'ownerid'`), "name", []string{"Contoso", "Fabrikam", "Litware"}},
		{"systemusers", fn("EqualUserId", `'systemuserid'`), "systemuserid", []string{userID}},
		{"businessunits", fn("EqualBusinessId", `'businessunitid'`), "businessunitid", []string{buID}},
		// Web API property names still work.
		{"accounts", fn("In", `'_primarycontactid_value',PropertyValues=["`+f.contacts["Brown"]+`"]`), "name", []string{"Fabrikam"}},
	}
	for _, tt := range tests {
		r := f.call(http.MethodGet, api+tt.set+"?$select="+tt.key+"&$orderby="+tt.key+"&$filter="+tt.filter, tokenAdmin, nil)
		got := column(r.rows(t), tt.key)
		if len(got) == 0 {
			got = nil
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s?$filter=%s (-want +got):\n%s", tt.set, tt.filter, diff)
		}
	}
	for _, bad := range []struct{ set, filter, message string }{
		{"contacts", fn("EqualUserId", `'contactid'`), "The function 'Microsoft.Dynamics.CRM.EqualUserId' applies only to lookup columns that reference a systemuser, or to the primary key of systemuser, not to 'contactid'."},
		{"contacts", fn("EqualBusinessId", `'ownerid'`), "The function 'Microsoft.Dynamics.CRM.EqualBusinessId' applies only to lookup columns that reference a businessunit"},
		{"contacts", fn("In", `'LastName',PropertyValues=["x"]`), "Could not find a property named 'LastName' on type 'Microsoft.Dynamics.CRM.contact'."},
	} {
		r := f.call(http.MethodGet, api+bad.set+"?$filter="+bad.filter, tokenAdmin, nil)
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", bad.filter, r.status, r.body)
			continue
		}
		if _, msg := r.errorOf(t); !strings.HasPrefix(msg, bad.message) {
			t.Errorf("%s: message %q; want %q", bad.filter, msg, bad.message)
		}
	}
}
