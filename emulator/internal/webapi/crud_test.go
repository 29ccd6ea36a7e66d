package webapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var entityIDPattern = regexp.MustCompile(`^(https://[^/]+/api/data/v9\.2/contacts)\(([0-9a-f-]{36})\)$`)

// createContact creates a contact and returns its id.
func (e *env) createContact(body map[string]any) string {
	e.t.Helper()
	r := e.call(http.MethodPost, api+"contacts", tokenAdmin, body)
	if r.status != http.StatusNoContent {
		e.t.Fatalf("create contact: %d %s", r.status, r.body)
	}
	m := entityIDPattern.FindStringSubmatch(r.header.Get("OData-EntityId"))
	if m == nil {
		e.t.Fatalf("OData-EntityId = %q", r.header.Get("OData-EntityId"))
	}
	return m[2]
}

func TestCreateAndRetrieve(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	r := e.call(http.MethodPost, api+"contacts", tokenAdmin, map[string]any{"firstname": "Rafel", "lastname": "Shillo", "annualincome": 80000, "birthdate": "1990-03-04"})
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	m := entityIDPattern.FindStringSubmatch(r.header.Get("OData-EntityId"))
	if m == nil || m[1] != e.org+"/api/data/v9.2/contacts" {
		t.Fatalf("OData-EntityId = %q", r.header.Get("OData-EntityId"))
	}
	id := m[2]

	// GUID keys are case-insensitive; the primary key is always returned.
	r = e.call(http.MethodGet, api+"contacts("+strings.ToUpper(id)+")?$select=fullname,annualincome,description,birthdate", tokenAdmin, nil)
	if r.status != http.StatusOK {
		t.Fatalf("retrieve: %d %s", r.status, r.body)
	}
	body := string(r.body)
	etag := r.header.Get("ETag")
	if !regexp.MustCompile(`^W/"\d+"$`).MatchString(etag) {
		t.Errorf("ETag = %q", etag)
	}
	wantPrefix := fmt.Sprintf(`{"@odata.context":"%s/api/data/v9.2/$metadata#contacts(fullname,annualincome,description,birthdate)/$entity","@odata.etag":%q,"fullname":"Rafel Shillo","annualincome":80000.0000,"description":null,"birthdate":"1990-03-04","_transactioncurrencyid_value":"%s","contactid":"%s"}`,
		e.org, etag, e.store.Organization().BaseCurrencyID, id)
	if body != wantPrefix {
		t.Errorf("retrieve body:\n got %s\nwant %s", body, wantPrefix)
	}

	// Without $select every column comes back, nulls included.
	r = e.call(http.MethodGet, api+"contacts("+id+")", tokenAdmin, nil)
	all := r.json(t)
	if all["@odata.context"] != e.org+"/api/data/v9.2/$metadata#contacts/$entity" {
		t.Errorf("context = %v", all["@odata.context"])
	}
	for name, want := range map[string]any{"lastname": "Shillo", "jobtitle": nil, "statecode": json.Number("0"), "statuscode": json.Number("1"),
		"donotemail": false, "_parentcustomerid_value": nil} {
		if got, ok := all[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v); want %v", name, got, ok, want)
		}
	}
	for _, name := range []string{"createdon", "modifiedon", "_createdby_value", "_ownerid_value", "_owningbusinessunit_value", "versionnumber"} {
		if all[name] == nil {
			t.Errorf("%s missing or null", name)
		}
	}
	if created := all["createdon"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(created) {
		t.Errorf("createdon = %q", created)
	}
	for _, hidden := range []string{"owneridtype", "parentcustomerid", "ownerid"} {
		if _, ok := all[hidden]; ok {
			t.Errorf("%s must not be a property", hidden)
		}
	}

	// Missing row.
	missing := "00000000-0000-0000-0000-0000000000aa"
	r = e.call(http.MethodGet, api+"contacts("+missing+")", tokenAdmin, nil)
	expectError(t, r, http.StatusNotFound, "0x80040217", "contact With Id = "+missing+" Does Not Exist")

	// Conditional GET.
	r = e.call(http.MethodGet, api+"contacts("+id+")?$select=fullname", tokenAdmin, nil, "If-None-Match", etag)
	if r.status != http.StatusNotModified || len(r.body) != 0 {
		t.Errorf("conditional GET: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodGet, api+"contacts("+id+")?$select=fullname", tokenAdmin, nil, "If-None-Match", `W/"1"`)
	if r.status != http.StatusOK {
		t.Errorf("conditional GET with another ETag: %d", r.status)
	}
	r = e.call(http.MethodGet, api+"contacts("+id+")/lastname", tokenAdmin, nil)
	if got := string(r.body); got != fmt.Sprintf(`{"@odata.context":"%s/api/data/v9.2/$metadata#contacts(%s)/lastname","value":"Shillo"}`, e.org, id) {
		t.Errorf("single property: %s", got)
	}
}

func TestCreateWithRepresentation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	r := e.call(http.MethodPost, api+"accounts?$select=name,revenue", tokenAdmin,
		map[string]any{"name": "Sample", "revenue": 5000000.129}, "Prefer", "return=representation")
	if r.status != http.StatusCreated {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	if r.header.Get("Preference-Applied") != "return=representation" || r.header.Get("OData-EntityId") != "" {
		t.Errorf("headers: Preference-Applied=%q OData-EntityId=%q", r.header.Get("Preference-Applied"), r.header.Get("OData-EntityId"))
	}
	m := r.json(t)
	if m["@odata.context"] != e.org+"/api/data/v9.2/$metadata#accounts(name,revenue)/$entity" {
		t.Errorf("context %v", m["@odata.context"])
	}
	if m["@odata.etag"] != r.header.Get("ETag") || m["name"] != "Sample" || m["revenue"] != json.Number("5000000.1300") {
		t.Errorf("body %s", r.body)
	}
	if _, ok := m["accountid"]; !ok {
		t.Error("primary key missing")
	}
}

func TestBodyErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	tests := []struct {
		name        string
		path        string
		body        any
		contentType string
		status      int
		code        string
		message     string
	}{
		{"unknown property", "accounts", map[string]any{"Name": "x"}, "", 400, "0x0",
			"An error occurred while validating input parameters: Microsoft.Crm.CrmException: Invalid property 'Name' was found in entity 'Microsoft.Dynamics.CRM.account'."},
		{"lookup value property", "accounts", map[string]any{"_primarycontactid_value": "00000000-0000-0000-0000-000000000001"}, "", 400, "0x0",
			"An error occurred while validating input parameters: Microsoft.Crm.CrmException: Invalid property '_primarycontactid_value'"},
		{"too long", "tasks", map[string]any{"subject": strings.Repeat("s", 201)}, "", 400, "0x80044331",
			"A validation error occurred.  The length of the 'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'."},
		{"wrong type", "accounts", map[string]any{"numberofemployees": "many"}, "", 400, "0x80048d19",
			"Error identified in Payload provided by the user for Entity :'accounts'"},
		{"malformed JSON", "accounts", `{"name": "x",`, "", 400, "0x80048d19", "Error identified in Payload provided by the user for Entity :'accounts'"},
		{"not an object", "accounts", `["x"]`, "", 400, "0x80048d19", "Error identified in Payload provided by the user for Entity :'accounts'"},
		{"bind with lookup name", "contacts", map[string]any{"parentcustomerid@odata.bind": "/accounts(00000000-0000-0000-0000-000000000001)"}, "", 400, "0x80048d19",
			"Error identified in Payload provided by the user for Entity :'contacts'"},
		{"bind to missing row", "accounts", map[string]any{"primarycontactid@odata.bind": "/contacts(00000000-0000-0000-0000-000000000001)"}, "", 404, "0x80040217",
			"contact With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist"},
		{"bind to wrong set", "accounts", map[string]any{"primarycontactid@odata.bind": "/accounts(00000000-0000-0000-0000-000000000001)"}, "", 400, "0x80048d19",
			"Error identified in Payload"},
		{"bad option", "accounts", map[string]any{"accountcategorycode": 7}, "", 400, "0x8004431a",
			"A validation error occurred.  The value 7 of 'accountcategorycode' on record of type 'account' is outside the valid range. Accepted Values: 1,2"},
		{"wrong content type", "accounts", `name=x`, "text/plain", 415, "0x0", "The request entity's media type 'text/plain' is not supported"},
		{"too large", "accounts", map[string]any{"description": strings.Repeat("d", 70<<10)}, "", 413, "0x80048d19", "The request body is larger than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := []string{}
			if tt.contentType != "" {
				headers = append(headers, "Content-Type", tt.contentType)
			}
			r := e.call(http.MethodPost, api+tt.path, tokenAdmin, tt.body, headers...)
			expectError(t, r, tt.status, tt.code, tt.message)
		})
	}
	r := e.call(http.MethodPost, api+"contacts", tokenAdmin, map[string]any{"parentcustomerid@odata.bind": "/accounts(00000000-0000-0000-0000-000000000001)"})
	if _, msg := r.errorOf(t); !strings.Contains(msg, "An undeclared property 'parentcustomerid' which only has property annotations in the payload") {
		t.Errorf("lookup-name bind message: %s", msg)
	}
	// Nothing was left behind by the failures.
	r = e.call(http.MethodGet, api+"accounts?$count=true&$select=name", tokenAdmin, nil)
	if r.json(t)["@odata.count"] != json.Number("0") {
		t.Errorf("failed creates left rows: %s", r.body)
	}
}

func TestUpdateUpsertAndConditions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	id := e.createContact(map[string]any{"firstname": "Peter", "lastname": "Cambel"})
	path := api + "contacts(" + id + ")"
	first := e.call(http.MethodGet, path+"?$select=fullname", tokenAdmin, nil).header.Get("ETag")

	r := e.call(http.MethodPatch, path, tokenAdmin, map[string]any{"jobtitle": "Junior Developer", "annualincome": 80000})
	if r.status != http.StatusNoContent || r.header.Get("OData-EntityId") != e.org+"/api/data/v9.2/contacts("+id+")" {
		t.Fatalf("update: %d %v %s", r.status, r.header, r.body)
	}
	r = e.call(http.MethodPatch, path+"?$select=jobtitle,fullname", tokenAdmin, map[string]any{"lastname": "Campbell"}, "Prefer", "return=representation")
	if r.status != http.StatusOK {
		t.Fatalf("update with representation: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["fullname"] != "Peter Campbell" || m["jobtitle"] != "Junior Developer" || r.header.Get("ETag") == first {
		t.Errorf("after update: %s (etag %s)", r.body, r.header.Get("ETag"))
	}
	current := r.header.Get("ETag")

	// Stale If-Match.
	r = e.call(http.MethodPatch, path, tokenAdmin, map[string]any{"jobtitle": "x"}, "If-Match", first)
	expectError(t, r, http.StatusPreconditionFailed, "0x80060882", "The version of the existing record doesn't match the RowVersion property provided.")
	r = e.call(http.MethodPatch, path, tokenAdmin, map[string]any{"jobtitle": "Senior"}, "If-Match", current)
	if r.status != http.StatusNoContent {
		t.Errorf("current If-Match: %d %s", r.status, r.body)
	}
	// If-None-Match: * on an existing row.
	r = e.call(http.MethodPatch, path, tokenAdmin, map[string]any{"jobtitle": "x"}, "If-None-Match", "*")
	expectError(t, r, http.StatusPreconditionFailed, "0x80040237", "A record with matching key values already exists.")

	// Upsert: PATCH to a missing id creates it, with that id.
	newID := "7eb682f1-ca75-e511-80d4-00155d2a68d1"
	r = e.call(http.MethodPatch, api+"contacts("+newID+")", tokenAdmin, map[string]any{"lastname": "Upserted"}, "If-Match", "*")
	expectError(t, r, http.StatusNotFound, "0x80040217", "contact With Id = "+newID+" Does Not Exist")
	r = e.call(http.MethodPatch, api+"contacts("+newID+")", tokenAdmin, map[string]any{"lastname": "Upserted"}, "Prefer", "return=representation")
	if r.status != http.StatusCreated || r.json(t)["contactid"] != newID {
		t.Fatalf("upsert create: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodPatch, api+"contacts("+newID+")", tokenAdmin, map[string]any{"lastname": "Again"}, "Prefer", "return=representation")
	if r.status != http.StatusOK {
		t.Errorf("upsert update: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodPatch, api+"contacts(8eb682f1-ca75-e511-80d4-00155d2a68d1)", tokenAdmin, map[string]any{"lastname": "Plain"})
	if r.status != http.StatusNoContent || !strings.HasSuffix(r.header.Get("OData-EntityId"), "contacts(8eb682f1-ca75-e511-80d4-00155d2a68d1)") {
		t.Errorf("upsert create without representation: %d %v", r.status, r.header)
	}

	// Single property PUT and DELETE.
	if r := e.call(http.MethodPut, path+"/telephone1", tokenAdmin, map[string]any{"value": "555-0105"}); r.status != http.StatusNoContent {
		t.Errorf("PUT property: %d %s", r.status, r.body)
	}
	if got := e.call(http.MethodGet, path+"/telephone1", tokenAdmin, nil).json(t)["value"]; got != "555-0105" {
		t.Errorf("telephone1 = %v", got)
	}
	if r := e.call(http.MethodDelete, path+"/telephone1", tokenAdmin, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE property: %d", r.status)
	}
	// A null single-valued property is 204 No Content (OData 4.0 part 1, 11.2.4.1), not {"value":null}.
	for _, prop := range []string{"telephone1", "_parentcustomerid_value"} {
		r := e.call(http.MethodGet, path+"/"+prop, tokenAdmin, nil)
		if r.status != http.StatusNoContent || len(r.body) != 0 || r.header.Get("Content-Type") != "" {
			t.Errorf("GET null %s: %d %q Content-Type %q; want 204 without a body", prop, r.status, r.body, r.header.Get("Content-Type"))
		}
	}

	// Delete: stale If-Match, success, then 404.
	r = e.call(http.MethodDelete, path, tokenAdmin, nil, "If-Match", first)
	expectError(t, r, http.StatusPreconditionFailed, "0x80060882", "The version of the existing record")
	if r := e.call(http.MethodDelete, path, tokenAdmin, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodDelete, path, tokenAdmin, nil)
	expectError(t, r, http.StatusNotFound, "0x80040217", "contact With Id = "+id+" Does Not Exist")

	// PATCH and DELETE on a collection.
	for _, method := range []string{http.MethodPatch, http.MethodDelete} {
		r := e.call(method, api+"contacts", tokenAdmin, map[string]any{})
		if r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s on collection: %d", method, r.status)
		}
	}
}

func TestLookupsAndAnnotations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	contactID := e.createContact(map[string]any{"firstname": "Joe", "lastname": "Smith"})
	r := e.call(http.MethodPost, api+"accounts?$select=name,_primarycontactid_value,industrycode,creditonhold,revenue", tokenAdmin, map[string]any{
		"name": "Contoso", "industrycode": 7, "revenue": 20000,
		"primarycontactid@odata.bind": "/contacts(" + contactID + ")",
	}, "Prefer", "return=representation", "Prefer", `odata.include-annotations="*"`)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if got := r.header.Values("Preference-Applied"); !slices.Equal(got, []string{"return=representation", `odata.include-annotations="*"`}) {
		t.Errorf("representation Preference-Applied = %q", got)
	}
	m := r.json(t)
	want := map[string]any{
		"_primarycontactid_value": contactID,
		"_primarycontactid_value@Microsoft.Dynamics.CRM.associatednavigationproperty": "primarycontactid",
		"_primarycontactid_value@Microsoft.Dynamics.CRM.lookuplogicalname":            "contact",
		"_primarycontactid_value@OData.Community.Display.V1.FormattedValue":           "Joe Smith",
		"industrycode@OData.Community.Display.V1.FormattedValue":                      "Consulting",
		"creditonhold@OData.Community.Display.V1.FormattedValue":                      "No",
		"revenue@OData.Community.Display.V1.FormattedValue":                           "$20,000.00",
		"revenue": json.Number("20000.0000"),
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v; want %v", k, m[k], v)
		}
	}
	// The annotation precedes its property.
	body := string(r.body)
	if strings.Index(body, `"industrycode@OData.Community.Display.V1.FormattedValue"`) > strings.Index(body, `"industrycode":`) {
		t.Error("annotation after its property")
	}
	accountID := m["accountid"].(string)

	// Polymorphic lookup: one navigation property per target.
	child := e.createContact(map[string]any{"lastname": "Child", "parentcustomerid_account@odata.bind": "accounts(" + accountID + ")"})
	r = e.call(http.MethodGet, api+"contacts("+child+")?$select=_parentcustomerid_value", tokenAdmin, nil,
		"Prefer", `odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"`)
	if got := r.json(t); got["_parentcustomerid_value"] != accountID || got["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] != "account" {
		t.Errorf("parentcustomerid: %s", r.body)
	}
	// A single row echoes the honoured preference, as a collection does.
	if got := r.header.Values("Preference-Applied"); !slices.Equal(got, []string{`odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"`}) {
		t.Errorf("single-row GET Preference-Applied = %q", got)
	}
	// Absolute URL binding and clearing with null.
	r = e.call(http.MethodPatch, api+"contacts("+child+")", tokenAdmin, map[string]any{"parentcustomerid_contact@odata.bind": e.org + "/api/data/v9.2/contacts(" + contactID + ")"})
	if r.status != http.StatusNoContent {
		t.Fatalf("rebind: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodGet, api+"contacts("+child+")?$select=_parentcustomerid_value", tokenAdmin, nil, "Prefer", `odata.include-annotations="*"`)
	if got := r.json(t); got["_parentcustomerid_value"] != contactID || got["_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"] != "parentcustomerid_contact" {
		t.Errorf("after rebind: %s", r.body)
	}
	e.call(http.MethodPatch, api+"contacts("+child+")", tokenAdmin, map[string]any{"parentcustomerid_contact@odata.bind": nil})
	if got := e.call(http.MethodGet, api+"contacts("+child+")?$select=_parentcustomerid_value", tokenAdmin, nil).json(t); got["_parentcustomerid_value"] != nil {
		t.Errorf("after clearing: %v", got)
	}
}

func TestDeepInsertAndCollectionBind(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	existing := e.call(http.MethodPost, api+"tasks", tokenAdmin, map[string]any{"subject": "existing"}).header.Get("OData-EntityId")
	r := e.call(http.MethodPost, api+"accounts", tokenAdmin, map[string]any{
		"name":             "Deep",
		"primarycontactid": map[string]any{"firstname": "Deep", "lastname": "Contact"},
		"Account_Tasks":    []any{map[string]any{"subject": "new task"}},
		"Account_Tasks@odata.bind": []string{
			strings.TrimPrefix(existing, e.org+"/api/data/v9.2"),
		},
	})
	if r.status != http.StatusNoContent {
		t.Fatalf("deep insert: %d %s", r.status, r.body)
	}
	accountURL := r.header.Get("OData-EntityId")
	accountID := accountURL[strings.LastIndex(accountURL, "(")+1 : len(accountURL)-1]
	r = e.call(http.MethodGet, api+"tasks?$select=subject&$filter=_regardingobjectid_value eq "+accountID+"&$orderby=subject", tokenAdmin, nil)
	var subjects []string
	for _, v := range r.json(t)["value"].([]any) {
		subjects = append(subjects, v.(map[string]any)["subject"].(string))
	}
	if diff := cmp.Diff([]string{"existing", "new task"}, subjects); diff != "" {
		t.Errorf("tasks of the account (-want +got):\n%s", diff)
	}
	r = e.call(http.MethodGet, api+"accounts("+accountID+")?$select=_primarycontactid_value", tokenAdmin, nil, "Prefer", `odata.include-annotations="OData.Community.Display.V1.FormattedValue"`)
	if r.json(t)["_primarycontactid_value@OData.Community.Display.V1.FormattedValue"] != "Deep Contact" {
		t.Errorf("deep-inserted contact: %s", r.body)
	}
	// A failure inside a deep insert leaves nothing behind.
	r = e.call(http.MethodPost, api+"accounts", tokenAdmin, map[string]any{
		"name": "Broken", "Account_Tasks": []any{map[string]any{"subject": strings.Repeat("x", 300)}},
	})
	if r.status != http.StatusBadRequest {
		t.Fatalf("broken deep insert: %d", r.status)
	}
	r = e.call(http.MethodGet, api+"accounts?$filter=name eq 'Broken'&$count=true", tokenAdmin, nil)
	if r.json(t)["@odata.count"] != json.Number("0") {
		t.Errorf("failed deep insert left its parent: %s", r.body)
	}
}

func TestPersistenceAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	e := newEnv(t, dir)
	id := e.createContact(map[string]any{"lastname": "Durable"})
	etag := e.call(http.MethodGet, api+"contacts("+id+")?$select=lastname", tokenAdmin, nil).header.Get("ETag")
	e.srv.Close()
	e.store.Close()

	e2 := newEnv(t, dir)
	r := e2.call(http.MethodGet, api+"contacts("+id+")?$select=lastname", tokenAdmin, nil)
	if r.status != http.StatusOK || r.json(t)["lastname"] != "Durable" || r.header.Get("ETag") != etag {
		t.Errorf("after restart: %d %s %s (etag was %s)", r.status, r.header.Get("ETag"), r.body, etag)
	}
}

// An absolute @odata.bind URL must address this service: its host and a
// served Web API version. One of another organization or service root is
// refused with the payload error and changes nothing.
func TestBindAbsoluteURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	first := e.createContact(map[string]any{"lastname": "First"})
	second := e.createContact(map[string]any{"lastname": "Second"})
	account := e.call(http.MethodPost, api+"accounts", tokenAdmin, map[string]any{"name": "Bound"}).header.Get("OData-EntityId")
	host := strings.TrimPrefix(e.org, "https://")
	primary := func() any {
		t.Helper()
		return e.call(http.MethodGet, account+"?$select=_primarycontactid_value", tokenAdmin, nil).json(t)["_primarycontactid_value"]
	}
	// Every served version of this host binds, as do relative URLs.
	for _, tt := range []struct{ ref, want string }{
		{e.org + "/api/data/v9.0/contacts(" + first + ")", first},
		{e.org + "/api/data/v9.1/contacts(" + second + ")", second},
		{e.org + "/api/data/v9.2/contacts(" + first + ")", first},
		{"/contacts(" + second + ")", second},
	} {
		r := e.call(http.MethodPatch, account, tokenAdmin, map[string]any{"primarycontactid@odata.bind": tt.ref})
		if r.status != http.StatusNoContent {
			t.Fatalf("bind %s: %d %s", tt.ref, r.status, r.body)
		}
		if got := primary(); got != tt.want {
			t.Errorf("after binding %s: _primarycontactid_value = %v; want %s", tt.ref, got, tt.want)
		}
	}
	for _, ref := range []string{
		"https://other.example.com/api/data/v9.2/contacts(" + first + ")",
		"http://" + host + "/api/data/v9.2/contacts(" + first + ")",
		e.org + "/other/api/data/v9.2/contacts(" + first + ")",
		e.org + "/api/data/v8.2/contacts(" + first + ")",
		e.org + "/contacts(" + first + ")",
		"https://user@" + host + "/api/data/v9.2/contacts(" + first + ")",
	} {
		r := e.call(http.MethodPatch, account, tokenAdmin, map[string]any{"primarycontactid@odata.bind": ref})
		expectError(t, r, http.StatusBadRequest, "0x80048d19", "Error identified in Payload provided by the user for Entity :'accounts'")
		if _, msg := r.errorOf(t); !strings.Contains(msg, "The URI '"+ref+"' in 'primarycontactid@odata.bind' is not an address of this service") ||
			!strings.Contains(msg, "service root "+e.org+"/api/data/v9.2/") {
			t.Errorf("bind %s: message %q names neither the URL nor the service root", ref, msg)
		}
		if got := primary(); got != second {
			t.Errorf("after the refused bind of %s: _primarycontactid_value = %v; want %s unchanged", ref, got, second)
		}
	}
	// A key value may hold "://": it is a key, not an absolute URL.
	r := e.call(http.MethodPatch, account, tokenAdmin, map[string]any{"primarycontactid@odata.bind": "contacts(emailaddress1='https://x')"})
	expectError(t, r, http.StatusBadRequest, "0x80060888", "The key 'emailaddress1='https://x'' does not match any alternate key")
}
