package webapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFetchXMLColumnsAndShape(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	// The request of the documentation's example: attributes, an order,
	// a like filter and a lookup condition.
	r := f.fetch("contacts", `<fetch mapping="logical" output-format="xml-platform" version="1.0" distinct="false" no-lock="true">
  <entity name="contact">
    <attribute name="fullname" />
    <attribute name="annualincome" />
    <attribute name="parentcustomerid" />
    <order descending="true" attribute="fullname" />
    <filter type="and">
      <condition value="%a%" attribute="fullname" operator="like" />
      <condition value="`+f.accounts["Contoso"]+`" attribute="parentcustomerid" operator="eq" />
    </filter>
  </entity>
</fetch>`)
	rows := r.rows(t)
	m := r.json(t)
	wantContext := f.org + api + "$metadata#contacts(fullname,annualincome,_parentcustomerid_value,parentcustomerid,_transactioncurrencyid_value,transactioncurrencyid,contactid,parentcustomerid_account(),transactioncurrencyid())"
	if m["@odata.context"] != wantContext {
		t.Errorf("@odata.context = %v\nwant %s", m["@odata.context"], wantContext)
	}
	if diff := cmp.Diff([]string{"Cid Clark", "Ann Adams"}, column(rows, "fullname")); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	// Null columns are omitted: Cid has no income, so no income and no
	// currency; the primary key and the ETag are always there.
	if diff := cmp.Diff([]string{"@odata.etag", "_parentcustomerid_value", "contactid", "fullname"}, sortedKeys(rows[0])); diff != "" {
		t.Errorf("Cid's properties (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"@odata.etag", "_parentcustomerid_value", "_transactioncurrencyid_value", "annualincome", "contactid", "fullname"}, sortedKeys(rows[1])); diff != "" {
		t.Errorf("Ann's properties (-want +got):\n%s", diff)
	}
	if rows[1]["contactid"] != f.contacts["Adams"] || rows[1]["_parentcustomerid_value"] != f.accounts["Contoso"] ||
		rows[1]["annualincome"] != json.Number("100.5000") || !strings.HasPrefix(rows[1]["@odata.etag"].(string), `W/"`) {
		t.Errorf("Ann's row = %v", rows[1])
	}

	// Formatted values, lookup annotations and attribute names with
	// Prefer: odata.include-annotations="*".
	r = f.fetch("contacts", `<fetch><entity name="contact">
  <attribute name="annualincome" /><attribute name="creditonhold" /><attribute name="gendercode" /><attribute name="birthdate" />
  <attribute name="parentcustomerid" /><attribute name="createdon" alias="whencreated" /><attribute name="new_hobbies" />
  <filter><condition attribute="lastname" operator="eq" value="adams" /></filter>
</entity></fetch>`, "Prefer", `odata.include-annotations="*"`)
	if got := r.header.Get("Preference-Applied"); got != `odata.include-annotations="*"` {
		t.Errorf("Preference-Applied = %q", got)
	}
	row := r.rows(t)[0]
	want := map[string]any{
		"annualincome@OData.Community.Display.V1.FormattedValue": "$100.50",
		"creditonhold@OData.Community.Display.V1.FormattedValue": "Yes",
		"creditonhold": true,
		"gendercode@OData.Community.Display.V1.FormattedValue": "Female",
		"gendercode": json.Number("2"),
		"birthdate@OData.Community.Display.V1.FormattedValue": "5/1/1980",
		"birthdate": "1980-05-01",
		"_parentcustomerid_value@OData.Community.Display.V1.FormattedValue":           "Contoso",
		"_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty": "parentcustomerid_account",
		"_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":            "account",
		"whencreated@OData.Community.Display.V1.AttributeName":                        "createdon",
		"whencreated@OData.Community.Display.V1.FormattedValue":                       "5/15/2024 12:00 PM",
		"whencreated": "2024-05-15T12:00:00Z",
		"new_hobbies@OData.Community.Display.V1.FormattedValue": "Reading; Sailing",
		"new_hobbies": "1,2",
		"_transactioncurrencyid_value@Microsoft.Dynamics.CRM.lookuplogicalname":            "transactioncurrency",
		"_transactioncurrencyid_value@Microsoft.Dynamics.CRM.associatednavigationproperty": "transactioncurrencyid",
	}
	for k, v := range want {
		if diff := cmp.Diff(v, row[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	if _, ok := row["whencreated@Microsoft.Dynamics.CRM.associatednavigationproperty"]; ok {
		t.Error("an aliased value has an associatednavigationproperty annotation")
	}
	// Only the named annotation when one is named.
	r = f.fetch("contacts", `<fetch><entity name="contact"><attribute name="gendercode" /><filter><condition attribute="lastname" operator="eq" value="Adams" /></filter></entity></fetch>`,
		"Prefer", `odata.include-annotations="OData.Community.Display.V1.FormattedValue"`)
	if diff := cmp.Diff([]string{"@odata.etag", "contactid", "gendercode", "gendercode@OData.Community.Display.V1.FormattedValue"}, sortedKeys(r.rows(t)[0])); diff != "" {
		t.Errorf("named annotation (-want +got):\n%s", diff)
	}

	// all-attributes, top and no attributes at all.
	r = f.fetch("contacts", `<fetch top="2"><entity name="contact"><all-attributes /><order attribute="lastname" /></entity></fetch>`)
	rows = r.rows(t)
	if len(rows) != 2 || rows[0]["lastname"] != "Adams" || rows[0]["emailaddress1"] != nil || rows[0]["_ownerid_value"] == nil || rows[0]["createdon"] == nil {
		t.Errorf("all-attributes: %v", rows)
	}
	if _, ok := r.json(t)["@Microsoft.Dynamics.CRM.morerecords"]; ok {
		t.Error("top gives morerecords")
	}
	rows = f.fetch("accounts", `<fetch><entity name="account"><order attribute="name" /></entity></fetch>`).rows(t)
	if len(rows) != 3 || len(rows[0]) != 2 || rows[0]["accountid"] != f.accounts["Contoso"] {
		t.Errorf("no attributes: only the key and the ETag: %v", rows)
	}
	// distinct returns distinct values, without key or ETag.
	rows = f.fetch("contacts", `<fetch distinct="true"><entity name="contact"><attribute name="numberofchildren" /><order attribute="numberofchildren" descending="true" /></entity></fetch>`).rows(t)
	if diff := cmp.Diff([]map[string]any{{"numberofchildren": json.Number("3")}, {"numberofchildren": json.Number("2")}, {"numberofchildren": json.Number("1")}, {}}, rows); diff != "" {
		t.Errorf("distinct (-want +got):\n%s", diff)
	}
	// $count=true and returntotalrecordcount alongside a FetchXML query.
	r = f.fetchAs(tokenAdmin, "contacts", `<fetch count="2" returntotalrecordcount="true"><entity name="contact"><attribute name="lastname" /></entity></fetch>`, "$count=true",
		"Prefer", `odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"`)
	m = r.json(t)
	if m["@odata.count"] != json.Number("5") || m["@Microsoft.Dynamics.CRM.totalrecordcount"] != json.Number("5") || m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] != false || len(r.rows(t)) != 2 {
		t.Errorf("counts: %s", r.body)
	}
}

func TestFetchXMLOperators(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	me := f.call(http.MethodGet, api+"WhoAmI", tokenAdmin, nil).json(t)["UserId"].(string)
	tests := []struct {
		name, condition string
		want            []string
	}{
		{"eq ignores case", `<condition attribute="lastname" operator="eq" value="BROWN" />`, []string{"Brown"}},
		{"ne", `<condition attribute="numberofchildren" operator="ne" value="2" />`, []string{"Adams", "O'Neil"}},
		{"neq", `<condition attribute="numberofchildren" operator="neq" value="2" />`, []string{"Adams", "O'Neil"}},
		{"gt", `<condition attribute="annualincome" operator="gt" value="900" />`, []string{"Brown"}},
		{"ge", `<condition attribute="annualincome" operator="ge" value="900" />`, []string{"Brown", "O'Neil"}},
		{"lt", `<condition attribute="numberofchildren" operator="lt" value="2" />`, []string{"Adams"}},
		{"le", `<condition attribute="numberofchildren" operator="le" value="2" />`, []string{"Adams", "Brown", "Clark"}},
		{"like", `<condition attribute="lastname" operator="like" value="%r%" />`, []string{"Brown", "Clark"}},
		{"like with a set", `<condition attribute="lastname" operator="like" value="[a-c]%" />`, []string{"Adams", "Brown", "Clark"}},
		{"not-like", `<condition attribute="lastname" operator="not-like" value="%r%" />`, []string{"Adams", "Davis", "O'Neil"}},
		{"begins-with", `<condition attribute="lastname" operator="begins-with" value="c" />`, []string{"Clark"}},
		{"not-begin-with", `<condition attribute="lastname" operator="not-begin-with" value="c" />`, []string{"Adams", "Brown", "Davis", "O'Neil"}},
		{"ends-with", `<condition attribute="lastname" operator="ends-with" value="S" />`, []string{"Adams", "Davis"}},
		{"not-end-with", `<condition attribute="lastname" operator="not-end-with" value="s" />`, []string{"Brown", "Clark", "O'Neil"}},
		{"in", `<condition attribute="lastname" operator="in"><value>Adams</value><value>O'Neil</value></condition>`, []string{"Adams", "O'Neil"}},
		{"not-in", `<condition attribute="numberofchildren" operator="not-in"><value>1</value><value>2</value></condition>`, []string{"O'Neil"}},
		{"between", `<condition attribute="annualincome" operator="between"><value>100</value><value>900</value></condition>`, []string{"Adams", "O'Neil"}},
		{"not-between", `<condition attribute="numberofchildren" operator="not-between"><value>2</value><value>2</value></condition>`, []string{"Adams", "O'Neil"}},
		{"null", `<condition attribute="annualincome" operator="null" />`, []string{"Clark", "Davis"}},
		{"not-null", `<condition attribute="emailaddress1" operator="not-null" />`, []string{"Davis"}},
		{"boolean", `<condition attribute="creditonhold" operator="eq" value="1" />`, []string{"Adams"}},
		{"choice", `<condition attribute="gendercode" operator="eq" value="1" />`, []string{"Brown"}},
		{"lookup with a braced GUID", `<condition attribute="parentcustomerid" operator="eq" value="{` + strings.ToUpper(f.accounts["Fabrikam"]) + `}" />`, []string{"Brown"}},
		{"primary key", `<condition attribute="contactid" operator="eq" value="` + f.contacts["Davis"] + `" />`, []string{"Davis"}},
		{"date", `<condition attribute="birthdate" operator="eq" value="1980-05-01" />`, []string{"Adams"}},
		{"today", `<condition attribute="createdon" operator="today" />`, []string{"Adams", "O'Neil"}},
		{"yesterday", `<condition attribute="createdon" operator="yesterday" />`, []string{"Brown"}},
		{"last-x-days", `<condition attribute="createdon" operator="last-x-days" value="7" />`, []string{"Adams", "Brown", "Clark", "O'Neil"}},
		{"next-x-days", `<condition attribute="createdon" operator="next-x-days" value="3" />`, []string{"Adams"}},
		{"last-x-hours", `<condition attribute="createdon" operator="last-x-hours" value="2" />`, []string{"Adams", "O'Neil"}},
		{"olderthan-x-days", `<condition attribute="createdon" operator="olderthan-x-days" value="30" />`, []string{"Davis"}},
		{"on", `<condition attribute="createdon" operator="on" value="2024-05-10" />`, []string{"Clark"}},
		{"on-or-after", `<condition attribute="createdon" operator="on-or-after" value="2024-05-14" />`, []string{"Adams", "Brown", "O'Neil"}},
		{"on-or-before", `<condition attribute="createdon" operator="on-or-before" value="2024-05-10" />`, []string{"Clark", "Davis"}},
		{"this-month", `<condition attribute="createdon" operator="this-month" />`, []string{"Adams", "Brown", "Clark", "O'Neil"}},
		{"last-month", `<condition attribute="createdon" operator="last-month" />`, []string{"Davis"}},
		{"eq-userid", `<condition attribute="createdby" operator="eq-userid" />`, []string{"Adams", "Brown", "Clark", "Davis", "O'Neil"}},
		{"ne-userid", `<condition attribute="ownerid" operator="ne-userid" />`, nil},
		{"contain-values", `<condition attribute="new_hobbies" operator="contain-values"><value>1</value><value>3</value></condition>`, []string{"Adams"}},
		{"not-contain-values", `<condition attribute="new_hobbies" operator="not-contain-values"><value>1</value></condition>`, []string{"Brown"}},
		{"valueof", `<condition attribute="modifiedon" operator="eq" valueof="createdon" />`, []string{"Adams", "Brown", "Clark", "Davis", "O'Neil"}},
		{"or filter", `<filter type="or"><condition attribute="lastname" operator="eq" value="Adams" /><condition attribute="lastname" operator="eq" value="Davis" /></filter>`, []string{"Adams", "Davis"}},
		{"nested filters", `<filter type="or"><filter><condition attribute="numberofchildren" operator="eq" value="2" /><condition attribute="annualincome" operator="null" /></filter><condition attribute="lastname" operator="eq" value="Davis" /></filter>`, []string{"Clark", "Davis"}},
		{"polymorphic lookup to a contact", `<condition attribute="parentcustomerid" operator="eq" value="` + f.contacts["Adams"] + `" />`, []string{"O'Neil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.condition
			if !strings.HasPrefix(body, "<filter") {
				body = "<filter>" + body + "</filter>"
			}
			r := f.fetch("contacts", `<fetch><entity name="contact"><attribute name="lastname" /><order attribute="lastname" />`+body+`</entity></fetch>`)
			var got []string
			for _, row := range r.rows(t) {
				got = append(got, row["lastname"].(string))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	_ = me
}

func TestFetchXMLLinkEntities(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	// Inner many-to-one with an alias: the linked column is "alias.column"
	// and carries the AttributeName annotation.
	r := f.fetch("accounts", `<fetch><entity name="account"><attribute name="name" /><order attribute="name" />
  <link-entity name="contact" from="contactid" to="primarycontactid" link-type="inner" alias="pc">
    <attribute name="fullname" /><attribute name="parentcustomerid" /><attribute name="annualincome" alias="income" />
  </link-entity></entity></fetch>`, "Prefer", `odata.include-annotations="*"`)
	rows := r.rows(t)
	if diff := cmp.Diff([]string{"Contoso", "Fabrikam"}, column(rows, "name")); diff != "" {
		t.Errorf("inner join (-want +got):\n%s", diff)
	}
	want := map[string]any{
		"pc.fullname": "Ann Adams", "pc.fullname@OData.Community.Display.V1.AttributeName": "fullname",
		"pc.parentcustomerid": f.accounts["Contoso"], "pc.parentcustomerid@Microsoft.Dynamics.CRM.lookuplogicalname": "account",
		"pc.parentcustomerid@OData.Community.Display.V1.FormattedValue": "Contoso",
		"income": json.Number("100.5000"), "income@OData.Community.Display.V1.AttributeName": "annualincome",
		"income@OData.Community.Display.V1.FormattedValue": "$100.50",
	}
	for k, v := range want {
		if diff := cmp.Diff(v, rows[0][k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	// Outer: Litware has no primary contact and keeps its row, without
	// the linked column; the default alias is the table name numbered.
	rows = f.fetch("accounts", `<fetch><entity name="account"><attribute name="name" /><order attribute="name" />
  <link-entity name="contact" from="contactid" to="primarycontactid" link-type="outer"><attribute name="lastname" /></link-entity></entity></fetch>`).rows(t)
	if diff := cmp.Diff([]string{"Adams", "Brown", ""}, column(rows, "contact1.lastname")); diff != "" {
		t.Errorf("outer join (-want +got):\n%s", diff)
	}
	if _, ok := rows[2]["contact1.lastname"]; ok || len(rows) != 3 {
		t.Errorf("outer join row without a match: %v", rows)
	}
	// One-to-many, nested link-entities, a filter inside the link-entity
	// and an order on a linked column.
	rows = f.fetch("accounts", `<fetch><entity name="account"><attribute name="name" />
  <link-entity name="contact" from="parentcustomerid" to="accountid" alias="staff">
    <attribute name="lastname" />
    <order attribute="lastname" descending="true" />
    <filter><condition attribute="numberofchildren" operator="ge" value="1" /></filter>
    <link-entity name="account" from="accountid" to="parentcustomerid" alias="again" link-type="outer"><attribute name="revenue" /></link-entity>
  </link-entity></entity></fetch>`).rows(t)
	if diff := cmp.Diff([]string{"Clark", "Brown", "Adams"}, column(rows, "staff.lastname")); diff != "" {
		t.Errorf("one-to-many (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Contoso", "Fabrikam", "Contoso"}, column(rows, "name")); diff != "" {
		t.Errorf("one-to-many parents (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1000.0000", "2500.5000", "1000.0000"}, column(rows, "again.revenue")); diff != "" {
		t.Errorf("nested link (-want +got):\n%s", diff)
	}
	// A filter on a linked column through entityname, with an outer join:
	// the accounts without a primary contact (the "not in" pattern).
	rows = f.fetch("accounts", `<fetch><entity name="account"><attribute name="name" />
  <link-entity name="contact" from="contactid" to="primarycontactid" link-type="outer" alias="pc" />
  <filter><condition entityname="pc" attribute="contactid" operator="null" /></filter></entity></fetch>`).rows(t)
	if diff := cmp.Diff([]string{"Litware"}, column(rows, "name")); diff != "" {
		t.Errorf("entityname filter (-want +got):\n%s", diff)
	}
	// entityname may name the entity itself, as real clients send.
	rows = f.fetch("accounts", `<fetch><entity name="account"><attribute name="name" />
  <filter><condition entityname="account" attribute="name" operator="eq" value="Litware" /></filter></entity></fetch>`).rows(t)
	if diff := cmp.Diff([]string{"Litware"}, column(rows, "name")); diff != "" {
		t.Errorf("entityname of the entity (-want +got):\n%s", diff)
	}
	// An order on a linked column from the entity's order element.
	rows = f.fetch("contacts", `<fetch><entity name="contact"><attribute name="lastname" />
  <link-entity name="account" from="accountid" to="parentcustomerid" alias="a"><attribute name="name" /></link-entity>
  <order entityname="a" attribute="name" descending="true" /><order attribute="lastname" /></entity></fetch>`).rows(t)
	if diff := cmp.Diff([]string{"Brown", "Adams", "Clark"}, column(rows, "lastname")); diff != "" {
		t.Errorf("order by a linked column (-want +got):\n%s", diff)
	}
}

func TestFetchXMLManyToManyThroughIntersect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	// The documented many-to-many query: users and their roles through
	// the systemuserroles intersect table.
	r := e.fetch("systemusers", `<fetch><entity name="systemuser"><attribute name="fullname" /><order attribute="fullname" />
  <link-entity name="systemuserroles" from="systemuserid" to="systemuserid" intersect="true">
    <link-entity name="role" from="roleid" to="roleid" alias="role"><attribute name="name" /></link-entity>
  </link-entity>
  <filter><condition attribute="fullname" operator="like" value="%App" /></filter></entity></fetch>`)
	rows := r.rows(t)
	got := map[string]string{}
	for _, row := range rows {
		got[row["fullname"].(string)] = toString(row["role.name"])
	}
	want := map[string]string{"Admin App": "System Administrator", "Reader App": "Contact Manager", "Disabled App": "System Administrator"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("users and roles (-want +got):\n%s", diff)
	}
}

func TestFetchXMLPrivilegesOnLinkedTables(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	seedContacts(e)
	// The reader's role reads contacts but not accounts.
	r := e.fetchAs(tokenReader, "contacts", `<fetch><entity name="contact"><attribute name="lastname" /><filter><condition attribute="lastname" operator="eq" value="Bravo" /></filter></entity></fetch>`, "")
	if rows := r.rows(t); len(rows) != 1 {
		t.Errorf("reader on contacts: %v", rows)
	}
	for _, q := range []string{
		`<fetch><entity name="contact"><attribute name="lastname" /><link-entity name="account" from="accountid" to="parentcustomerid" link-type="outer" /></entity></fetch>`,
		`<fetch aggregate="true"><entity name="contact"><attribute name="contactid" alias="n" aggregate="count" /><link-entity name="account" from="accountid" to="parentcustomerid"><attribute name="name" alias="a" groupby="true" /></link-entity></entity></fetch>`,
	} {
		r = e.fetchAs(tokenReader, "contacts", q, "")
		expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id=")
		if _, msg := r.errorOf(t); !strings.Contains(msg, "is missing prvReadAccount privilege") {
			t.Errorf("privilege error names %q", msg)
		}
	}
}

func TestFetchXMLInBatch(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	// Long FetchXML goes in a $batch GET, as the documentation's sample
	// sends it, with the part's own Prefer header.
	q := url.QueryEscape(`<fetch><entity name="contact"><attribute name="lastname" /><order attribute="lastname" descending="true" />` +
		`<filter><condition attribute="lastname" operator="like" value="%a%" /></filter></entity></fetch>`)
	body := crlf("--b\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\nGET /api/data/v9.2/contacts?fetchXml=" + q +
		"&$count=true HTTP/1.1\nPrefer: odata.include-annotations=\"*\"\n\n\n--b--\n")
	r := f.call(http.MethodPost, api+"$batch", tokenAdmin, body, "Content-Type", "multipart/mixed; boundary=b")
	res := readBatch(t, r)
	if r.status != http.StatusOK || len(res) != 1 || res[0].status != http.StatusOK {
		t.Fatalf("batch: %d %+v", r.status, res)
	}
	var m struct {
		Count int64            `json:"@odata.count"`
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal([]byte(res[0].body), &m); err != nil {
		t.Fatalf("part body %q: %v", res[0].body, err)
	}
	if diff := cmp.Diff([]string{"Davis", "Clark", "Adams"}, column(m.Value, "lastname")); diff != "" || m.Count != 3 {
		t.Errorf("batch FetchXML (count %d, -want +got):\n%s", m.Count, diff)
	}
}
