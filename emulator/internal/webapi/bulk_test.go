package webapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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

// CreateMultiple writes its rows in multi-row INSERTs (store.Tx.CreateBatched): a request of
// 150 rows with a change of columns in the middle and a row bound to a row created earlier in
// the same request writes every row, answers the ids in the order of the targets, and a
// request whose early row is a duplicate and whose later row is invalid reports the duplicate,
// the first fault, and keeps nothing.
func TestCreateMultipleWritesRowsInOrderAndReportsTheFirstFault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	const n = 150
	ids := make([]string, n)
	targets := make([]any, n)
	for i := range targets {
		ids[i] = fmt.Sprintf("5b4d2f1c-0000-4000-8000-%012d", i+1)
		row := map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[i], "name": fmt.Sprintf("Batch %03d", i)}
		if i >= 70 && i < 80 {
			row["telephone1"] = fmt.Sprintf("+1 555 %04d", i)
		}
		if i == 100 {
			row["parentaccountid@odata.bind"] = "accounts(" + ids[95] + ")"
		}
		targets[i] = row
	}
	r := e.call(http.MethodPost, api+"accounts/Microsoft.Dynamics.CRM.CreateMultiple", tokenAdmin, map[string]any{"Targets": targets})
	if r.status != http.StatusOK {
		t.Fatalf("CreateMultiple: %d %s", r.status, r.body)
	}
	var got []string
	for _, id := range r.json(t)["Ids"].([]any) {
		got = append(got, id.(string))
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("Ids (-targets +answered):\n%s", diff)
	}
	rows := e.call(http.MethodGet, api+"accounts?$select=name,telephone1,_parentaccountid_value&$orderby=name", tokenAdmin, nil).json(t)["value"].([]any)
	if len(rows) != n {
		t.Fatalf("accounts = %d, want %d", len(rows), n)
	}
	for i, v := range rows {
		row := v.(map[string]any)
		want := map[string]any{"name": fmt.Sprintf("Batch %03d", i), "telephone1": nil, "_parentaccountid_value": nil}
		if i >= 70 && i < 80 {
			want["telephone1"] = fmt.Sprintf("+1 555 %04d", i)
		}
		if i == 100 {
			want["_parentaccountid_value"] = ids[95]
		}
		for k, w := range want {
			if row[k] != w {
				t.Errorf("account %d: %s = %v, want %v", i, k, row[k], w)
			}
		}
	}

	fault := []any{
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "New 1"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": ids[7], "name": "Taken id"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": "New 2"},
		map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "name": strings.Repeat("x", 161)},
	}
	r = e.call(http.MethodPost, api+"accounts/Microsoft.Dynamics.CRM.CreateMultiple", tokenAdmin, map[string]any{"Targets": fault})
	expectError(t, r, http.StatusPreconditionFailed, "0x80040237", "A record with matching key values already exists.")
	if got := e.call(http.MethodGet, api+"accounts?$count=true&$top=0", tokenAdmin, nil).json(t)["@odata.count"]; got != json.Number(fmt.Sprint(n)) {
		t.Errorf("accounts after the failed CreateMultiple = %v, want %d", got, n)
	}
}

// A CreateMultiple inside a changeset leaves its rows to the operations after it in the same
// transaction: an update of one and a new row bound to the other see them.
func TestCreateMultipleInAChangeset(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	one, two := "5b4d2f1c-0000-4000-8000-0000000000c1", "5b4d2f1c-0000-4000-8000-0000000000c2"
	body := crlf(`--batch_AAA
Content-Type: multipart/mixed; boundary="changeset_BBB"

--changeset_BBB
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST accounts/Microsoft.Dynamics.CRM.CreateMultiple HTTP/1.1
Content-Type: application/json

{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.account","accountid":"` + one + `","name":"One"},{"@odata.type":"Microsoft.Dynamics.CRM.account","accountid":"` + two + `","name":"Two"}]}
--changeset_BBB
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

PATCH accounts(` + one + `) HTTP/1.1
Content-Type: application/json

{"name":"One, updated"}
--changeset_BBB
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 3

POST contacts HTTP/1.1
Content-Type: application/json

{"lastname":"Bound","parentcustomerid_account@odata.bind":"accounts(` + two + `)"}
--changeset_BBB--
--batch_AAA--
`)
	r := e.call(http.MethodPost, api+"$batch", tokenAdmin, body, "Content-Type", `multipart/mixed; boundary="batch_AAA"`)
	if r.status != http.StatusOK {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff([]any{[]any{200, 204, 204}}, statuses(readBatch(t, r))); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s\n%s", diff, r.body)
	}
	if got := e.call(http.MethodGet, api+"accounts("+one+")?$select=name", tokenAdmin, nil).json(t)["name"]; got != "One, updated" {
		t.Errorf("account one = %v", got)
	}
	contacts := e.call(http.MethodGet, api+"contacts?$select=lastname,_parentcustomerid_value&$filter=lastname eq 'Bound'", tokenAdmin, nil).json(t)["value"].([]any)
	if len(contacts) != 1 || contacts[0].(map[string]any)["_parentcustomerid_value"] != two {
		t.Errorf("bound contact = %v", contacts)
	}
}
