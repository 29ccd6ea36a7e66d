package webapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFetchXMLAggregates(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	n := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		name, query string
		want        []map[string]any
	}{
		{"every function", `<fetch aggregate="true"><entity name="contact">
  <attribute name="annualincome" alias="avg" aggregate="avg" />
  <attribute name="contactid" alias="n" aggregate="count" />
  <attribute name="annualincome" alias="cc" aggregate="countcolumn" />
  <attribute name="numberofchildren" alias="kinds" aggregate="countcolumn" distinct="true" />
  <attribute name="annualincome" alias="sum" aggregate="sum" />
  <attribute name="annualincome" alias="min" aggregate="min" />
  <attribute name="annualincome" alias="max" aggregate="max" />
</entity></fetch>`, []map[string]any{{"avg": n("1166.8333"), "n": n("5"), "cc": n("3"), "kinds": n("3"), "sum": n("3500.5000"), "min": n("100.5000"), "max": n("2500.0000")}}},
		{"groupby with order by alias, null group keys omitted", `<fetch aggregate="true"><entity name="contact">
  <attribute name="numberofchildren" alias="kids" groupby="true" />
  <attribute name="contactid" alias="n" aggregate="count" />
  <attribute name="annualincome" alias="total" aggregate="sum" />
  <order alias="kids" descending="true" />
</entity></fetch>`, []map[string]any{
			{"kids": n("3"), "n": n("1"), "total": n("900.0000")},
			{"kids": n("2"), "n": n("2"), "total": n("2500.0000")},
			{"kids": n("1"), "n": n("1"), "total": n("100.5000")},
			{"n": n("1")},
		}},
		{"order by an aggregate", `<fetch aggregate="true"><entity name="contact">
  <attribute name="numberofchildren" alias="kids" groupby="true" />
  <attribute name="contactid" alias="n" aggregate="count" />
  <order alias="n" descending="true" /><order alias="kids" />
  <filter><condition attribute="numberofchildren" operator="not-null" /></filter>
</entity></fetch>`, []map[string]any{{"kids": n("2"), "n": n("2")}, {"kids": n("1"), "n": n("1")}, {"kids": n("3"), "n": n("1")}}},
		{"groupby on a link-entity column", `<fetch aggregate="true"><entity name="contact">
  <attribute name="contactid" alias="n" aggregate="count" />
  <link-entity name="account" from="accountid" to="parentcustomerid" alias="a">
    <attribute name="name" alias="company" groupby="true" />
    <attribute name="revenue" alias="revenue" aggregate="max" />
  </link-entity>
  <order alias="company" />
</entity></fetch>`, []map[string]any{{"n": n("2"), "company": "Contoso", "revenue": n("1000.0000")}, {"n": n("1"), "company": "Fabrikam", "revenue": n("2500.5000")}}},
		{"date grouping", `<fetch aggregate="true"><entity name="contact">
  <attribute name="createdon" alias="year" groupby="true" dategrouping="year" />
  <attribute name="createdon" alias="month" groupby="true" dategrouping="month" />
  <attribute name="contactid" alias="n" aggregate="count" />
  <order alias="month" />
</entity></fetch>`, []map[string]any{{"year": n("2024"), "month": n("4"), "n": n("1")}, {"year": n("2024"), "month": n("5"), "n": n("4")}}},
		{"count and page over groups", `<fetch aggregate="true" count="1" page="2"><entity name="contact">
  <attribute name="numberofchildren" alias="kids" groupby="true" />
  <filter><condition attribute="numberofchildren" operator="not-null" /></filter>
</entity></fetch>`, []map[string]any{{"kids": n("2")}}},
		{"a groupby without alias is named by its attribute", `<fetch aggregate="true"><entity name="contact">
  <attribute name="gendercode" groupby="true" /><attribute name="contactid" alias="n" aggregate="count" />
  <filter><condition attribute="gendercode" operator="not-null" /></filter>
</entity></fetch>`, []map[string]any{{"gendercode": n("1"), "n": n("1")}, {"gendercode": n("2"), "n": n("1")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.fetch("contacts", tt.query)
			if diff := cmp.Diff(tt.want, r.rows(t)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if m := r.json(t); m["@odata.context"] != f.org+api+"$metadata#contacts" {
				t.Errorf("@odata.context = %v", m["@odata.context"])
			}
		})
	}
	// Annotations: the aggregated column's name, formatted values, and
	// the lookup annotations of a lookup group key.
	r := f.fetch("contacts", `<fetch aggregate="true"><entity name="contact">
  <attribute name="parentcustomerid" alias="parent" groupby="true" />
  <attribute name="annualincome" alias="total" aggregate="sum" />
  <attribute name="contactid" alias="n" aggregate="count" />
  <filter><condition attribute="lastname" operator="eq" value="Brown" /></filter>
</entity></fetch>`, "Prefer", `odata.include-annotations="*"`)
	want := map[string]any{
		"parent": f.accounts["Fabrikam"], "parent@OData.Community.Display.V1.AttributeName": "parentcustomerid",
		"parent@OData.Community.Display.V1.FormattedValue": "Fabrikam", "parent@Microsoft.Dynamics.CRM.lookuplogicalname": "account",
		"total": n("2500.0000"), "total@OData.Community.Display.V1.AttributeName": "annualincome", "total@OData.Community.Display.V1.FormattedValue": "$2,500.00",
		"n": n("1"), "n@OData.Community.Display.V1.AttributeName": "contactid", "n@OData.Community.Display.V1.FormattedValue": "1",
	}
	if diff := cmp.Diff([]map[string]any{want}, r.rows(t)); diff != "" {
		t.Errorf("annotated aggregate (-want +got):\n%s", diff)
	}
	// aggregatelimit lowers the 50,000-row limit.
	r = f.fetch("contacts", `<fetch aggregate="true" aggregatelimit="3"><entity name="contact"><attribute name="contactid" alias="n" aggregate="count" /></entity></fetch>`)
	expectError(t, r, http.StatusBadRequest, "0x8004e023", "The maximum record limit is exceeded. Reduce the number of records.")
}

func TestApplyOverRelatedTables(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	n := func(s string) json.Number { return json.Number(s) }
	tests := []struct {
		query string
		want  []map[string]any
	}{
		// The documented example: the group key of a related column is
		// named <table>_<column>; Litware, without primary contact or
		// revenue, has neither.
		{"$apply=groupby((primarycontactid/fullname),aggregate(revenue with sum as total))",
			[]map[string]any{{}, {"contact_fullname": "Ann Adams", "total": n("1000.0000")}, {"contact_fullname": "Bob Brown", "total": n("2500.5000")}}},
		{"$apply=filter(revenue gt 2000)/groupby((primarycontactid/fullname))", []map[string]any{{"contact_fullname": "Bob Brown"}}},
		{"$apply=groupby((primarycontactid/fullname))&$orderby=primarycontactid/fullname desc",
			[]map[string]any{{"contact_fullname": "Bob Brown"}, {"contact_fullname": "Ann Adams"}, {}}},
		{"$apply=aggregate(primarycontactid/annualincome with sum as income,primarycontactid/numberofchildren with max as kids,$count as n)",
			[]map[string]any{{"income": n("2600.5000"), "kids": n("2"), "n": n("3")}}},
		{"$apply=groupby((primarycontactid/parentcustomerid_account/name),aggregate($count as n))",
			[]map[string]any{{"n": n("1")}, {"account_name": "Contoso", "n": n("1")}, {"account_name": "Fabrikam", "n": n("1")}}},
		{"$apply=groupby((_primarycontactid_value,primarycontactid/lastname))&$orderby=primarycontactid/lastname",
			[]map[string]any{{}, {"_primarycontactid_value": f.contacts["Adams"], "contact_lastname": "Adams"}, {"_primarycontactid_value": f.contacts["Brown"], "contact_lastname": "Brown"}}},
	}
	for _, tt := range tests {
		r := f.call(http.MethodGet, api+"accounts?"+tt.query, tokenAdmin, nil)
		if diff := cmp.Diff(tt.want, r.rows(t)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, diff)
		}
	}
	// Formatted values and attribute names under annotations.
	r := f.call(http.MethodGet, api+"contacts?$apply=groupby((gendercode),aggregate($count as count,annualincome with sum as total))&$orderby=gendercode", tokenAdmin, nil,
		"Prefer", `odata.include-annotations="*"`)
	rows := r.rows(t)
	want := map[string]any{
		"gendercode": n("1"), "gendercode@OData.Community.Display.V1.FormattedValue": "Male",
		"count": n("1"), "count@OData.Community.Display.V1.FormattedValue": "1",
		"total": n("2500.0000"), "total@OData.Community.Display.V1.FormattedValue": "$2,500.00", "total@OData.Community.Display.V1.AttributeName": "annualincome",
	}
	if len(rows) != 3 {
		t.Fatalf("groups: %v", rows)
	}
	if diff := cmp.Diff(want, rows[1]); diff != "" {
		t.Errorf("annotated group (-want +got):\n%s", diff)
	}
	// Refused as Dataverse refuses them.
	for q, msg := range map[string]string{
		"$apply=groupby((primarycontactid/fullname),aggregate($count as n))&$orderby=n": "The query node SingleValueOpenPropertyAccess is not supported",
		"$apply=groupby((ownerid/fullname))":                                            "Grouping or aggregating through the navigation property 'ownerid', which may reference several tables, is not supported",
		"$apply=groupby((primarycontactid/FullName))":                                   "Could not find a property named 'FullName' on type 'Microsoft.Dynamics.CRM.contact'.",
		"$apply=groupby((Account_Tasks/subject))":                                       "The collection-valued navigation property 'Account_Tasks' can only be used with any or all.",
		"$apply=aggregate(primarycontactid/fullname with sum as s)":                     "The aggregation method 'sum' cannot be applied to the column 'fullname' of type 'Edm.String'.",
	} {
		r := f.call(http.MethodGet, api+"accounts?"+q, tokenAdmin, nil)
		code := "0x80060888"
		if msg[:5] == "Could" {
			code = "0x0"
		}
		expectError(t, r, http.StatusBadRequest, code, msg)
	}
}
