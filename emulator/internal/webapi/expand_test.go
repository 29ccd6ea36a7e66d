package webapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	joe := e.createContact(map[string]any{"firstname": "Joe", "lastname": "Smith"})
	acct := idOf(t, e.call(http.MethodPost, api+"accounts", tokenAdmin, map[string]any{
		"name": "Contoso", "primarycontactid@odata.bind": "/contacts(" + joe + ")",
		"Account_Tasks": []any{map[string]any{"subject": "b"}, map[string]any{"subject": "a"}, map[string]any{"subject": "c", "statecode": 1}},
	}))
	idOf(t, e.call(http.MethodPost, api+"accounts", tokenAdmin, map[string]any{"name": "Lonely"}))
	e.createContact(map[string]any{"lastname": "Child", "parentcustomerid_account@odata.bind": "/accounts(" + acct + ")"})

	// Single-valued, with the lookup itself not selected.
	r := e.call(http.MethodGet, api+"accounts?$select=name&$expand=primarycontactid($select=fullname)&$orderby=name", tokenAdmin, nil)
	m := r.json(t)
	if m["@odata.context"] != e.org+api+"$metadata#accounts(name,primarycontactid(fullname))" {
		t.Errorf("context = %v", m["@odata.context"])
	}
	rows := m["value"].([]any)
	first := rows[0].(map[string]any)
	pc, ok := first["primarycontactid"].(map[string]any)
	if !ok || pc["fullname"] != "Joe Smith" || pc["contactid"] != joe || pc["@odata.etag"] == nil {
		t.Errorf("expanded primarycontactid = %v", first["primarycontactid"])
	}
	if _, leaked := first["_primarycontactid_value"]; leaked {
		t.Error("the lookup read for the expansion leaked into the output")
	}
	if v, ok := rows[1].(map[string]any)["primarycontactid"]; !ok || v != nil {
		t.Errorf("empty lookup expands to %v; want null", v)
	}

	// Collection-valued with nested options.
	r = e.call(http.MethodGet, api+"accounts("+acct+")?$select=name&$expand=Account_Tasks($select=subject;$filter=statecode eq 0;$orderby=subject desc)", tokenAdmin, nil)
	var subjects []string
	tasks, ok := r.json(t)["Account_Tasks"].([]any)
	if !ok {
		t.Fatalf("Account_Tasks missing: %d %s", r.status, r.body)
	}
	for _, v := range tasks {
		subjects = append(subjects, v.(map[string]any)["subject"].(string))
	}
	if strings.Join(subjects, ",") != "b,a" {
		t.Errorf("Account_Tasks = %v (%s)", subjects, r.body)
	}

	// $ref, nested expansions, ownerid with its type.
	r = e.call(http.MethodGet, api+"accounts("+acct+")?$select=name&$expand=primarycontactid/$ref", tokenAdmin, nil)
	if ref := r.json(t)["primarycontactid"].(map[string]any); ref["@odata.id"] != e.org+api+"contacts("+joe+")" {
		t.Errorf("$ref expansion = %v", ref)
	}
	r = e.call(http.MethodGet, api+"contacts?$select=lastname&$filter=lastname eq 'Child'&$expand=parentcustomerid_account($select=name;$expand=primarycontactid($select=lastname))", tokenAdmin, nil)
	child := r.json(t)["value"].([]any)[0].(map[string]any)
	parent, _ := child["parentcustomerid_account"].(map[string]any)
	if nested, _ := parent["primarycontactid"].(map[string]any); parent["name"] != "Contoso" || nested["lastname"] != "Smith" {
		t.Errorf("nested expansion = %s", r.body)
	}
	r = e.call(http.MethodGet, api+"accounts("+acct+")?$select=name&$expand=ownerid($select=fullname)", tokenAdmin, nil)
	owner, _ := r.json(t)["ownerid"].(map[string]any)
	if owner["@odata.type"] != "#Microsoft.Dynamics.CRM.systemuser" || owner["fullname"] != "Admin App" {
		t.Errorf("ownerid expansion = %v", owner)
	}

	// Create with representation honours $expand.
	r = e.call(http.MethodPost, api+"tasks?$select=subject&$expand=regardingobjectid_account_task($select=name)", tokenAdmin,
		map[string]any{"subject": "x", "regardingobjectid_account_task@odata.bind": "/accounts(" + acct + ")"}, "Prefer", "return=representation")
	if got := r.json(t)["regardingobjectid_account_task"].(map[string]any)["name"]; got != "Contoso" {
		t.Errorf("POST with $expand: %s", r.body)
	}

	// Errors.
	r = e.call(http.MethodGet, api+"accounts?$expand=Account_Tasks/$ref", tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x80060888", "Expand with $ref is only supported on lookup type navigation property.")
	r = e.call(http.MethodGet, api+"accounts?$expand=PrimaryContactId", tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x0", "Could not find a property named 'PrimaryContactId' on type 'Microsoft.Dynamics.CRM.account'.")
	r = e.call(http.MethodGet, api+"accounts?$expand=primarycontactid($top=1)", tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x80060888", "$filter, $orderby and $top in $expand apply only to collection-valued")
}
