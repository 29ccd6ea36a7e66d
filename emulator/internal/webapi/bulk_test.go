package webapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestBulkMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	r := e.call(http.MethodPost, api+"accounts/Microsoft.Dynamics.CRM.CreateMultiple", tokenAdmin, map[string]any{"Targets": []any{
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "One"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "Two"},
	}})
	if r.status != http.StatusOK {
		t.Fatalf("CreateMultiple: %d %s", r.status, r.body)
	}
	m := r.json(t)
	ids, _ := m["Ids"].([]any)
	if m["@odata.context"] != e.org+api+"$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse" || len(ids) != 2 {
		t.Fatalf("CreateMultiple response: %s", r.body)
	}
	r = e.call(http.MethodPost, api+"accounts/Microsoft.Dynamics.CRM.UpdateMultiple", tokenAdmin, map[string]any{"Targets": []any{
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[0], "name": "One!"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[1], "name": "Two!"},
	}})
	if r.status != http.StatusNoContent {
		t.Fatalf("UpdateMultiple: %d %s", r.status, r.body)
	}
	newID := "5b4d2f1c-0000-4000-8000-000000000001"
	r = e.call(http.MethodPost, api+"accounts/Microsoft.Dynamics.CRM.UpsertMultiple", tokenAdmin, map[string]any{"Targets": []any{
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "@odata.id": "accounts(" + ids[0].(string) + ")", "name": "One?"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": newID, "name": "Three"},
	}})
	if r.status != http.StatusNoContent {
		t.Fatalf("UpsertMultiple: %d %s", r.status, r.body)
	}
	var names []string
	for _, v := range e.call(http.MethodGet, api+"accounts?$select=name&$orderby=name", tokenAdmin, nil).json(t)["value"].([]any) {
		names = append(names, v.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "One?,Three,Two!" {
		t.Errorf("accounts = %v", names)
	}
	// All or nothing, and @odata.type is required.
	r = e.call(http.MethodPost, api+"accounts/Microsoft.Dynamics.CRM.CreateMultiple", tokenAdmin, map[string]any{"Targets": []any{
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "Four"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": strings.Repeat("x", 161)},
	}})
	expectError(t, r, http.StatusBadRequest, "0x80044331", "A validation error occurred.")
	r = e.call(http.MethodPost, api+"accounts/Microsoft.Dynamics.CRM.CreateMultiple", tokenAdmin, map[string]any{"Targets": []any{map[string]any{"name": "Five"}}})
	expectError(t, r, http.StatusBadRequest, "0x80048d19", "Error identified in Payload")
	if got := e.call(http.MethodGet, api+"accounts?$count=true&$top=0", tokenAdmin, nil).json(t)["@odata.count"]; got != json.Number("3") {
		t.Errorf("accounts after failed CreateMultiple = %v", got)
	}
	// A target naming a missing row by primary key is ObjectDoesNotExist,
	// and nothing of the call is kept.
	missing := "5b4d2f1c-0000-4000-8000-0000000000ff"
	r = e.call(http.MethodPost, api+"accounts/Microsoft.Dynamics.CRM.UpdateMultiple", tokenAdmin, map[string]any{"Targets": []any{
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[0], "name": "Changed"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": missing, "name": "Ghost"},
	}})
	expectError(t, r, http.StatusNotFound, "0x80040217", "account With Ids = "+missing+" Do Not Exist")
	if got := e.call(http.MethodGet, api+"accounts("+ids[0].(string)+")?$select=name", tokenAdmin, nil).json(t)["name"]; got != "One?" {
		t.Errorf("account after a failed UpdateMultiple = %v", got)
	}
	r = e.call(http.MethodPost, api+"accounts/CreateMultiple", tokenAdmin, map[string]any{"Targets": []any{}})
	expectError(t, r, http.StatusBadRequest, "0x0", "Request message has unresolved parameters.")
}
