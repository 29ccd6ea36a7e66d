package webapi_test

import (
	"fmt"
	"net/http"
	"testing"
)

// The RequiredFieldMissing messages (the wording is the store's
// [unverified] choice; the code is Dataverse's).
func requiredNulledMessage(column, entity string) string {
	return fmt.Sprintf("A validation error occurred.  The '%s' attribute of the '%s' entity is SystemRequired and cannot be set to null.", column, entity)
}

func requiredMissingMessage(column, entity string) string {
	return fmt.Sprintf("A validation error occurred.  A value for the '%s' attribute of the '%s' entity is required.", column, entity)
}

// SystemRequired columns (ownerid, statecode, a team's name…) cannot be
// nulled, whatever the form of the request, and must have a value on
// create; the answer is a 400 RequiredFieldMissing, never a 500.
func TestSystemRequiredColumnsCannotBeNulled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	contact := e.createContact(map[string]any{"lastname": "Required"})
	r := e.call(http.MethodPost, api+"accounts", tokenAdmin, map[string]any{"name": "Required Inc."})
	account := idOf(t, r)
	r = e.call(http.MethodPost, api+"tasks", tokenAdmin, map[string]any{"subject": "Required task"})
	task := idOf(t, r)

	cases := []struct {
		name, method, path string
		body               any
		column, entity     string
	}{
		{"contact ownerid nav null", http.MethodPatch, "contacts(" + contact + ")", map[string]any{"ownerid": nil}, "ownerid", "contact"},
		{"contact ownerid bind null", http.MethodPatch, "contacts(" + contact + ")", map[string]any{"ownerid@odata.bind": nil}, "ownerid", "contact"},
		{"account ownerid nav null", http.MethodPatch, "accounts(" + account + ")", map[string]any{"ownerid": nil}, "ownerid", "account"},
		{"account ownerid bind null", http.MethodPatch, "accounts(" + account + ")", map[string]any{"ownerid@odata.bind": nil}, "ownerid", "account"},
		{"contact ownerid $ref delete", http.MethodDelete, "contacts(" + contact + ")/ownerid/$ref", nil, "ownerid", "contact"},
		{"contact statecode null", http.MethodPatch, "contacts(" + contact + ")", map[string]any{"statecode": nil}, "statecode", "contact"},
		{"task statecode null", http.MethodPatch, "tasks(" + task + ")", map[string]any{"statecode": nil}, "statecode", "task"},
		{"contact statecode PUT null", http.MethodPut, "contacts(" + contact + ")/statecode", map[string]any{"value": nil}, "statecode", "contact"},
		{"contact statecode DELETE", http.MethodDelete, "contacts(" + contact + ")/statecode", nil, "statecode", "contact"},
		{"upsert statecode null", http.MethodPatch, "contacts(" + contact + ")", map[string]any{"statecode": nil, "lastname": "x"}, "statecode", "contact"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(c.method, api+c.path, tokenAdmin, c.body)
			expectError(t, r, http.StatusBadRequest, "0x80040200", requiredNulledMessage(c.column, c.entity))
		})
	}

	// Nothing was written: the rows keep their owner and state.
	for _, path := range []string{"contacts(" + contact + ")", "accounts(" + account + ")", "tasks(" + task + ")"} {
		m := e.call(http.MethodGet, api+path+"?$select=statecode,statuscode,_ownerid_value", tokenAdmin, nil).json(t)
		if m["statecode"] == nil || m["statuscode"] == nil || m["_ownerid_value"] == nil {
			t.Errorf("%s after refused writes: %v", path, m)
		}
	}

	// Nulling statuscode (not SystemRequired) gives the state's default
	// status instead of a row without one.
	r = e.call(http.MethodPatch, api+"contacts("+contact+")", tokenAdmin, map[string]any{"statuscode": nil})
	if r.status != http.StatusNoContent {
		t.Fatalf("null statuscode: %d %s", r.status, r.body)
	}
	m := e.call(http.MethodGet, api+"contacts("+contact+")?$select=statuscode", tokenAdmin, nil).json(t)
	if m["statuscode"] == nil || m["statuscode"].(interface{ String() string }).String() != "1" {
		t.Errorf("statuscode after null = %v; want the default status 1", m["statuscode"])
	}
}

func TestSystemRequiredColumnsOnCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	for _, c := range []struct {
		name, set string
		body      any
		column    string
		entity    string
	}{
		{"team without name", "teams", map[string]any{}, "name", "team"},
		{"team with null name", "teams", map[string]any{"name": nil}, "name", "team"},
		{"role without name", "roles", map[string]any{}, "name", "role"},
		{"contact with null ownerid", "contacts", map[string]any{"lastname": "x", "ownerid@odata.bind": nil}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(http.MethodPost, api+c.set, tokenAdmin, c.body)
			if c.column == "" {
				// A null owner on create means "the caller", as if absent.
				if r.status != http.StatusNoContent {
					t.Fatalf("status = %d; want 204\n%s", r.status, r.body)
				}
				return
			}
			expectError(t, r, http.StatusBadRequest, "0x80040200", requiredMissingMessage(c.column, c.entity))
		})
	}
	// A refused create leaves no row behind.
	m := e.call(http.MethodGet, api+"teams?$select=name&$filter=name eq null", tokenAdmin, nil).json(t)
	if v := m["value"].([]any); len(v) != 0 {
		t.Errorf("teams without a name: %v", v)
	}
}
