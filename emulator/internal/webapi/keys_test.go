package webapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

func TestAlternateKeys(t *testing.T) {
	t.Parallel()
	def, err := schema.Parse([]byte(`
tables:
  - logicalName: contact
    keys:
      - {schemaName: contact_email, columns: [emailaddress1]}
  - logicalName: new_reading
    primaryNameColumn: new_name
    columns:
      - {logicalName: new_name, type: String}
      - {logicalName: new_meter, type: String, maxLength: 40}
      - {logicalName: new_seq, type: Integer}
      - {logicalName: new_value, type: Decimal, precision: 3}
    keys:
      - {schemaName: new_meter_seq, columns: [new_meter, new_seq]}
`), "keys.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sch, err := schema.WithBuiltin(def)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, "", &store.Options{Schema: sch})
	email := "o'brien/+&ü@example.com"
	key := "contacts(emailaddress1='" + url.PathEscape(strings.ReplaceAll(email, "'", "''")) + "')"
	// Upsert by key creates the row, copying the key value from the URL.
	r := e.call(http.MethodPatch, api+key, tokenAdmin, map[string]any{"lastname": "OBrien"}, "Prefer", "return=representation")
	if r.status != http.StatusCreated || r.json(t)["emailaddress1"] != email {
		t.Fatalf("upsert by key: %d %s", r.status, r.body)
	}
	id := r.json(t)["contactid"].(string)
	r = e.call(http.MethodGet, api+key+"?$select=lastname", tokenAdmin, nil)
	if r.status != http.StatusOK || r.json(t)["contactid"] != id {
		t.Fatalf("GET by key: %d %s", r.status, r.body)
	}
	// Updating through the key: key columns in the body are dropped.
	r = e.call(http.MethodPatch, api+key, tokenAdmin, map[string]any{"lastname": "O'Brien", "emailaddress1": "changed@example.com"}, "Prefer", "return=representation")
	if m := r.json(t); r.status != http.StatusOK || m["lastname"] != "O'Brien" || m["emailaddress1"] != email {
		t.Errorf("update by key: %d %s", r.status, r.body)
	}
	// A second row with the same key value is a duplicate.
	r = e.call(http.MethodPost, api+"contacts", tokenAdmin, map[string]any{"lastname": "Dup", "emailaddress1": email})
	expectError(t, r, http.StatusPreconditionFailed, "0x80040237", "A record with matching key values already exists.")
	// Composite key with a number, and If-Match: * on a missing key.
	r = e.call(http.MethodPatch, api+"new_readings(new_meter='M-1',new_seq=7)", tokenAdmin, map[string]any{"new_value": 1.25}, "If-Match", "*")
	expectError(t, r, http.StatusNotFound, "0x80040217", "A record with the specified key values does not exist in new_reading entity")
	r = e.call(http.MethodPatch, api+"new_readings(new_meter='M-1',new_seq=7)", tokenAdmin, map[string]any{"new_value": 1.25})
	if r.status != http.StatusNoContent {
		t.Fatalf("composite upsert: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodGet, api+"new_readings(new_seq=7,new_meter='M-1')?$select=new_value", tokenAdmin, nil)
	if r.status != http.StatusOK || string(r.json(t)["new_value"].(interface{ String() string }).String()) != "1.250" {
		t.Errorf("GET by composite key: %d %s", r.status, r.body)
	}
	if r := e.call(http.MethodDelete, api+"new_readings(new_meter='M-1',new_seq=7)", tokenAdmin, nil); r.status != http.StatusNoContent {
		t.Errorf("DELETE by key: %d", r.status)
	}
	r = e.call(http.MethodGet, api+"new_readings(new_meter='M-1')", tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x80060888", "The key 'new_meter='M-1'' does not match any alternate key defined for entity 'new_reading'.")
	// Binding by alternate key.
	r = e.call(http.MethodPost, api+"accounts", tokenAdmin, map[string]any{"name": "Keyed", "primarycontactid@odata.bind": "/" + key})
	if r.status != http.StatusNoContent {
		t.Errorf("bind by key: %d %s", r.status, r.body)
	}
}

// A key predicate may name the primary key: contacts(contactid=<guid>)
// addresses the same row as contacts(<guid>), for every method.
func TestNamedPrimaryKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	id := e.createContact(map[string]any{"lastname": "Named"})
	named := api + "contacts(contactid=" + strings.ToUpper(id) + ")"
	r := e.call(http.MethodGet, named+"?$select=lastname", tokenAdmin, nil)
	if r.status != http.StatusOK || r.json(t)["contactid"] != id {
		t.Fatalf("GET by named key: %d %s", r.status, r.body)
	}
	if r := e.call(http.MethodPatch, named, tokenAdmin, map[string]any{"firstname": "Key"}, "If-Match", "*"); r.status != http.StatusNoContent {
		t.Fatalf("PATCH by named key: %d %s", r.status, r.body)
	}
	if got := e.call(http.MethodGet, named+"/fullname", tokenAdmin, nil).json(t)["value"]; got != "Key Named" {
		t.Errorf("fullname = %v", got)
	}
	// Only the primary key alone; a quoted GUID is the usual type error.
	r = e.call(http.MethodGet, api+"contacts(contactid="+id+",lastname='Named')", tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x80060888", "The key 'contactid=")
	r = e.call(http.MethodGet, api+"contacts(contactid='"+id+"')", tokenAdmin, nil)
	if r.status != http.StatusBadRequest {
		t.Errorf("quoted GUID key: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodGet, api+"contacts(accountid="+id+")", tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x0", "Could not find a property named 'accountid' on type 'Microsoft.Dynamics.CRM.contact'.")
	if r := e.call(http.MethodDelete, named, tokenAdmin, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE by named key: %d %s", r.status, r.body)
	}
}
