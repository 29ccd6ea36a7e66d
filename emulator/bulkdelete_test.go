package emulator_test

import (
	"github.com/d365s2s/d365/emulator"
	"net/http"
	"strings"
	"testing"
	"time"
)

// bulkDeleteBody is a BulkDelete request as Microsoft documents its parameters, with querySet
// the JSON of the QuerySet array and recurrence the RecurrencePattern.
func bulkDeleteBody(querySet, recurrence string) string {
	return `{"QuerySet":` + querySet + `,"JobName":"Delete old accounts","SendEmailNotification":false,` +
		`"ToRecipients":[],"CCRecipients":[],"RecurrencePattern":"` + recurrence + `","StartDateTime":"` +
		time.Now().UTC().Format(time.RFC3339) + `"}`
}

// BulkDelete submits a system job: the answer carries its JobId at once, the job's
// asyncoperation row reaches Completed/Succeeded, and exactly the rows the QueryExpression
// matches are gone.
func TestBulkDeleteIsAPollableSystemJob(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	token := v1Token(t, emu)
	for _, a := range []string{
		`{"name":"Old Contoso","numberofemployees":10}`, `{"name":"Old Fabrikam","numberofemployees":500}`,
		`{"name":"Old Litware","numberofemployees":20}`, `{"name":"New Tailspin","numberofemployees":5}`, `{"name":"Adatum"}`,
	} {
		if r := callAPI(t, emu, token, http.MethodPost, "accounts", a); r.status != http.StatusNoContent {
			t.Fatalf("create %s: %d %s", a, r.status, r.message)
		}
	}
	// name begins with "Old" and (numberofemployees < 100 or is null): Contoso and Litware.
	querySet := `[{"@odata.type":"Microsoft.Dynamics.CRM.QueryExpression","EntityName":"account","ColumnSet":{"AllColumns":false,"Columns":["accountid"]},
		"Criteria":{"FilterOperator":"And","Conditions":[{"AttributeName":"name","Operator":"BeginsWith","Values":[{"Value":"Old","Type":"System.String"}]}],
		"Filters":[{"FilterOperator":"Or","Conditions":[{"AttributeName":"numberofemployees","Operator":"LessThan","Values":[100]},
		{"AttributeName":"numberofemployees","Operator":"Null","Values":[]}]}]}}]`
	r := callAPI(t, emu, token, http.MethodPost, "BulkDelete", bulkDeleteBody(querySet, ""))
	jobID, _ := r.body["JobId"].(string)
	if r.status != http.StatusOK || len(jobID) != 36 || !strings.HasSuffix(r.body["@odata.context"].(string), "$metadata#Microsoft.Dynamics.CRM.BulkDeleteResponse") {
		t.Fatalf("BulkDelete: %d %v", r.status, r.body)
	}
	job := pollJob(t, emu, token, jobID)
	if job["statuscode"] != float64(30) || job["operationtype"] != float64(13) || job["name"] != "Delete old accounts" ||
		job["message"] != "Deleted 2 row(s)." || job["startedon"] == nil || job["completedon"] == nil {
		t.Errorf("the finished job: %v", job)
	}
	left := callAPI(t, emu, token, http.MethodGet, "accounts?$select=name&$orderby=name", "")
	var names []string
	for _, row := range left.body["value"].([]any) {
		names = append(names, row.(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "Adatum,New Tailspin,Old Fabrikam" {
		t.Errorf("rows left: %v", names)
	}
}

// pollJob reads asyncoperations(<id>) until the job is Completed (statecode 3), and returns it.
func pollJob(t testing.TB, emu *emulator.Emulator, token, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := callAPI(t, emu, token, http.MethodGet, "asyncoperations("+id+")?$select=name,operationtype,statecode,statuscode,message,startedon,completedon", "")
		if r.status != http.StatusOK {
			t.Fatalf("poll the job: %d %s", r.status, r.message)
		}
		if r.body["statecode"] == float64(3) {
			return r.body
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not complete within 30s: %v", r.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BulkDelete refuses what the emulator does not implement with 501 and bad parameters with 400,
// naming the parameter, and creates no system job for a refused call.
func TestBulkDeleteRefusals(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	token := v1Token(t, emu)
	account := func(criteria string) string {
		return `[{"EntityName":"account","Criteria":` + criteria + `}]`
	}
	for _, tt := range []struct {
		name, body string
		status     int
		message    string
	}{
		{"recurring", bulkDeleteBody(account(`null`), "FREQ=DAILY;INTERVAL=1"), 501, "recurring BulkDelete jobs"},
		{"linked tables", bulkDeleteBody(`[{"EntityName":"account","LinkEntities":[{"LinkToEntityName":"contact"}]}]`, ""), 501, "QuerySet[0].LinkEntities"},
		{"operator not implemented", bulkDeleteBody(account(`{"Conditions":[{"AttributeName":"createdon","Operator":"Today","Values":[]}]}`), ""), 501, "the condition operator Today"},
		{"unknown column", bulkDeleteBody(account(`{"Conditions":[{"AttributeName":"nmae","Operator":"Equal","Values":["x"]}]}`), ""), 400, "QuerySet[0].Criteria.Conditions[0]: 'nmae' is not a column of the table 'account'"},
		{"unknown table", bulkDeleteBody(`[{"EntityName":"acount"}]`, ""), 400, "QuerySet[0]: the entity 'acount' does not exist"},
		{"wrong value count", bulkDeleteBody(account(`{"Conditions":[{"AttributeName":"name","Operator":"Equal","Values":["a","b"]}]}`), ""), 400, "takes 1 value(s), not 2"},
		{"no QuerySet", `{"JobName":"x"}`, 400, "BulkDelete needs QuerySet"},
		{"unknown parameter", `{"QuerySet":[{"EntityName":"account"}],"JobName":"x","Query":1}`, 400, `unknown field "Query"`},
	} {
		r := callAPI(t, emu, token, http.MethodPost, "BulkDelete", tt.body)
		if r.status != tt.status || !strings.Contains(r.message, tt.message) {
			t.Errorf("%s: %d %q, want %d with %q", tt.name, r.status, r.message, tt.status, tt.message)
		}
	}
	if r := callAPI(t, emu, token, http.MethodGet, "BulkDelete", ""); r.status != http.StatusNotFound {
		t.Errorf("GET BulkDelete: %d, want 404", r.status)
	}
	if r := callAPI(t, emu, token, http.MethodGet, "asyncoperations?$select=name", ""); r.status != http.StatusOK || len(r.body["value"].([]any)) != 0 {
		t.Errorf("refused calls left system jobs: %d %v", r.status, r.body)
	}
}

// A job whose rows cannot all be deleted (here a currency that accounts still use, a Restrict
// relationship) ends Failed, saying how many rows it deleted and why the others stayed.
func TestBulkDeleteJobThatFails(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	token := v1Token(t, emu)
	if r := callAPI(t, emu, token, http.MethodPost, "accounts", `{"name":"Spender","revenue":1000}`); r.status != http.StatusNoContent {
		t.Fatalf("create: %d %s", r.status, r.message)
	}
	r := callAPI(t, emu, token, http.MethodPost, "BulkDelete", bulkDeleteBody(`[{"EntityName":"transactioncurrency"}]`, ""))
	if r.status != http.StatusOK {
		t.Fatalf("BulkDelete: %d %s", r.status, r.message)
	}
	job := pollJob(t, emu, token, r.body["JobId"].(string))
	msg, _ := job["message"].(string)
	if job["statuscode"] != float64(31) || !strings.HasPrefix(msg, "Deleted 0 row(s); 1 could not be deleted. First failure: transactioncurrencies(") {
		t.Errorf("the failed job: %v", job)
	}
	if r := callAPI(t, emu, token, http.MethodGet, "transactioncurrencies?$select=currencyname", ""); len(r.body["value"].([]any)) != 1 {
		t.Errorf("the currency is gone: %v", r.body)
	}
}
