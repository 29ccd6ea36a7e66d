package webapi_test

import (
	"net/http"
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
