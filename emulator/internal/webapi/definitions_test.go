package webapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestEntityDefinitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	r := e.call(http.MethodGet, api+"EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute&$filter=LogicalName eq 'task' or ObjectTypeCode eq 2", tokenAdmin, nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["@odata.context"] != e.org+api+"$metadata#EntityDefinitions(LogicalName,EntitySetName,PrimaryIdAttribute)" {
		t.Errorf("context %v", m["@odata.context"])
	}
	v := m["value"].([]any)
	if len(v) != 2 {
		t.Fatalf("matches: %s", r.body)
	}
	contact := v[0].(map[string]any)
	if contact["LogicalName"] != "contact" || contact["EntitySetName"] != "contacts" || contact["MetadataId"] == nil || len(contact) != 4 {
		t.Errorf("contact = %v", contact)
	}
	r = e.call(http.MethodGet, api+"EntityDefinitions(LogicalName='account')?$select=PrimaryNameAttribute,DisplayName&$expand=Attributes($filter=LogicalName eq 'name')", tokenAdmin, nil)
	m = r.json(t)
	if m["PrimaryNameAttribute"] != "name" {
		t.Errorf("account: %s", r.body)
	}
	if label := m["DisplayName"].(map[string]any)["UserLocalizedLabel"].(map[string]any); label["Label"] != "Account" || label["LanguageCode"] != json.Number("1033") {
		t.Errorf("label = %v", label)
	}
	attrs := m["Attributes"].([]any)
	if len(attrs) != 1 || attrs[0].(map[string]any)["MaxLength"] != json.Number("160") || attrs[0].(map[string]any)["@odata.type"] != "#Microsoft.Dynamics.CRM.StringAttributeMetadata" {
		t.Errorf("Attributes = %v", attrs)
	}
	r = e.call(http.MethodGet, api+"EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$filter=RequiredLevel/Value eq 'None'", tokenAdmin, nil)
	picklists := r.json(t)["value"].([]any)
	if len(picklists) < 3 {
		t.Errorf("picklists: %s", r.body)
	}
	r = e.call(http.MethodGet, api+"EntityDefinitions?$select=Nope", tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x0", "Could not find a property named 'Nope' on type 'Microsoft.Dynamics.CRM.EntityMetadata'.")
	r = e.call(http.MethodGet, api+"EntityDefinitions(LogicalName='nope')", tokenAdmin, nil)
	if r.status != http.StatusNotFound {
		t.Errorf("unknown entity: %d", r.status)
	}
}
