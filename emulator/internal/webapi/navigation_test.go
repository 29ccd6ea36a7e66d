package webapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func idOf(t *testing.T, r *response) string {
	t.Helper()
	loc := r.header.Get("OData-EntityId")
	i := strings.LastIndex(loc, "(")
	if r.status != http.StatusNoContent || i < 0 {
		t.Fatalf("no OData-EntityId: %d %s", r.status, r.body)
	}
	return loc[i+1 : len(loc)-1]
}

func TestNavigationAndReferences(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	account := idOf(t, e.call(http.MethodPost, api+"accounts", tokenAdmin, map[string]any{"name": "Fourth Coffee"}))
	contact := e.createContact(map[string]any{"firstname": "Ann", "lastname": "Lee"})
	accountPath := api + "accounts(" + account + ")"

	// Single-valued: empty, set with PUT $ref, read, clear with DELETE $ref.
	if r := e.call(http.MethodGet, accountPath+"/primarycontactid", tokenAdmin, nil); r.status != http.StatusNoContent {
		t.Errorf("empty lookup: %d %s", r.status, r.body)
	}
	r := e.call(http.MethodPut, accountPath+"/primarycontactid/$ref", tokenAdmin, map[string]any{"@odata.id": e.org + api + "contacts(" + contact + ")"})
	if r.status != http.StatusNoContent {
		t.Fatalf("PUT $ref: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodGet, accountPath+"/primarycontactid?$select=fullname", tokenAdmin, nil)
	if m := r.json(t); m["fullname"] != "Ann Lee" || m["contactid"] != contact {
		t.Errorf("related row: %s", r.body)
	}
	r = e.call(http.MethodGet, accountPath+"/primarycontactid/$ref", tokenAdmin, nil)
	if m := r.json(t); m["@odata.id"] != e.org+api+"contacts("+contact+")" || m["@odata.context"] != e.org+api+"$metadata#$ref" {
		t.Errorf("GET $ref: %s", r.body)
	}
	if r := e.call(http.MethodDelete, accountPath+"/primarycontactid/$ref", tokenAdmin, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE $ref: %d", r.status)
	}
	if r := e.call(http.MethodGet, accountPath+"/primarycontactid", tokenAdmin, nil); r.status != http.StatusNoContent {
		t.Errorf("after DELETE $ref: %d %s", r.status, r.body)
	}

	// Collection-valued 1:N: create related, associate with POST $ref, list, count, disassociate.
	r = e.call(http.MethodPost, accountPath+"/Account_Tasks", tokenAdmin, map[string]any{"subject": "Call back"})
	task1 := idOf(t, r)
	task2 := idOf(t, e.call(http.MethodPost, api+"tasks", tokenAdmin, map[string]any{"subject": "Send quote"}))
	r = e.call(http.MethodPost, accountPath+"/Account_Tasks/$ref", tokenAdmin, map[string]any{"@odata.id": "tasks(" + task2 + ")"})
	if r.status != http.StatusNoContent {
		t.Fatalf("POST $ref: %d %s", r.status, r.body)
	}
	subjects := func() []string {
		r := e.call(http.MethodGet, accountPath+"/Account_Tasks?$select=subject&$orderby=subject", tokenAdmin, nil)
		var out []string
		for _, v := range r.json(t)["value"].([]any) {
			out = append(out, v.(map[string]any)["subject"].(string))
		}
		return out
	}
	if diff := cmp.Diff([]string{"Call back", "Send quote"}, subjects()); diff != "" {
		t.Errorf("Account_Tasks (-want +got):\n%s", diff)
	}
	r = e.call(http.MethodGet, accountPath+"/Account_Tasks/$count", tokenAdmin, nil)
	if string(r.body) != "\ufeff2" {
		t.Errorf("$count = %q", r.body)
	}
	r = e.call(http.MethodGet, accountPath+"/Account_Tasks/$ref", tokenAdmin, nil)
	if m := r.json(t); m["@odata.context"] != e.org+api+"$metadata#Collection($ref)" || len(m["value"].([]any)) != 2 {
		t.Errorf("collection $ref: %s", r.body)
	}
	if r := e.call(http.MethodDelete, accountPath+"/Account_Tasks("+task1+")/$ref", tokenAdmin, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE nav(id)/$ref: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodDelete, accountPath+"/Account_Tasks/$ref?$id="+url.QueryEscape(e.org+api+"tasks("+task2+")"), tokenAdmin, nil)
	if r.status != http.StatusNoContent {
		t.Errorf("DELETE $ref?$id: %d %s", r.status, r.body)
	}
	if got := subjects(); len(got) != 0 {
		t.Errorf("after disassociating: %v", got)
	}

	// N:N: associate a role with a team; a second association is a duplicate.
	team := idOf(t, e.call(http.MethodPost, api+"teams", tokenAdmin, map[string]any{"name": "Sales"}))
	roles := e.call(http.MethodGet, api+"roles?$select=name&$filter=name eq 'Contact Manager'", tokenAdmin, nil).json(t)["value"].([]any)
	role := roles[0].(map[string]any)["roleid"].(string)
	ref := map[string]any{"@odata.id": e.org + api + "roles(" + role + ")"}
	if r := e.call(http.MethodPost, api+"teams("+team+")/teamroles_association/$ref", tokenAdmin, ref); r.status != http.StatusNoContent {
		t.Fatalf("N:N associate: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodPost, api+"teams("+team+")/teamroles_association/$ref", tokenAdmin, ref)
	expectError(t, r, http.StatusPreconditionFailed, "0x80040237", "Cannot insert duplicate key.")
	r = e.call(http.MethodGet, api+"roles("+role+")/teamroles_association?$select=name", tokenAdmin, nil)
	if v := r.json(t)["value"].([]any); len(v) != 1 || v[0].(map[string]any)["name"] != "Sales" {
		t.Errorf("reverse N:N: %s", r.body)
	}
	if r := e.call(http.MethodDelete, api+"teams("+team+")/teamroles_association("+role+")/$ref", tokenAdmin, nil); r.status != http.StatusNoContent {
		t.Errorf("N:N disassociate: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodGet, api+"teams("+team+")/teamroles_association/$count", tokenAdmin, nil)
	if string(r.body) != "\ufeff0" {
		t.Errorf("after N:N disassociate: %q", r.body)
	}
	r = e.call(http.MethodGet, accountPath+"/Nope", tokenAdmin, nil)
	expectError(t, r, http.StatusNotFound, "0x8006088a", "Resource not found for the segment 'Nope'.")
}
