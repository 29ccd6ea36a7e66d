package webapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// insertContacts adds n contacts named L1…Ln in one statement, using the
// store's documented layout (one table per logical name, one column per
// logical name): creating thousands of rows through the API would
// dominate the suite's time. It writes through the raw write path the
// store gives modules that keep tables in its database.
func (e *env) insertContacts(n int) {
	e.t.Helper()
	err := e.store.ModuleTables().WriteTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO "contact" ("contactid", "lastname", "versionnumber") SELECT printf('%08x-0000-4000-8000-000000000000', i), 'L' || i, i FROM n`, n)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// as returns a copy of e that reports to t: subtests sharing one
// emulator call it with their own t.
func (e *env) as(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// TestTableOver5000Rows runs the tests that need more rows than a page or
// a count holds over one table of 5,001 contacts, which they only read:
// building it once keeps the suite fast.
func TestTableOver5000Rows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	e.insertContacts(5001)
	for name, run := range map[string]func(*testing.T, *env){
		"CountsAreCappedAt5000":    countsAreCappedAt5000,
		"RetrieveTotalRecordCount": retrieveTotalRecordCount,
		"FetchXMLPagingDefaults":   fetchXMLPagingDefaults,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, e.as(t))
		})
	}
}

func countsAreCappedAt5000(t *testing.T, e *env) {
	// $count=true reports at most 5,000; the annotations tell whether
	// there are more. Preferences separated by a semicolon, as in
	// Microsoft's samples, are honoured like comma-separated ones.
	r := e.call(http.MethodGet, api+"contacts?$select=lastname&$count=true", tokenAdmin, nil,
		"Prefer", `odata.maxpagesize=2; odata.include-annotations="Microsoft.Dynamics.CRM.*"`)
	m := r.json(t)
	want := map[string]any{"@odata.count": json.Number("5000"), "@Microsoft.Dynamics.CRM.totalrecordcount": json.Number("5000"), "@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded": true}
	for k, v := range want {
		if diff := cmp.Diff(v, m[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	if n := len(m["value"].([]any)); n != 2 || m["@odata.nextLink"] == nil {
		t.Errorf("page of %d rows, nextLink %v", n, m["@odata.nextLink"])
	}
	if got := r.header.Values("Preference-Applied"); !cmp.Equal(got, []string{"odata.maxpagesize=2", `odata.include-annotations="Microsoft.Dynamics.CRM.*"`}) {
		t.Errorf("Preference-Applied = %q", got)
	}
	// Without $count the total is -1; a prefix wildcard selects only its
	// own annotations (no formatted values).
	r = e.call(http.MethodGet, api+"contacts?$select=lastname,createdon&$top=1", tokenAdmin, nil,
		"Prefer", `odata.include-annotations="Microsoft.Dynamics.CRM.*"`)
	m = r.json(t)
	if m["@Microsoft.Dynamics.CRM.totalrecordcount"] != json.Number("-1") {
		t.Errorf("totalrecordcount without $count = %v", m["@Microsoft.Dynamics.CRM.totalrecordcount"])
	}
	row := m["value"].([]any)[0].(map[string]any)
	if _, ok := row["createdon@OData.Community.Display.V1.FormattedValue"]; ok {
		t.Errorf("a Microsoft.Dynamics.CRM.* wildcard gave a formatted value: %v", row)
	}
	// GET <set>/$count is plain text, capped too.
	r = e.call(http.MethodGet, api+"contacts/$count", tokenAdmin, nil)
	if r.status != http.StatusOK || string(r.body) != "5000" || r.header.Get("Content-Type") != "text/plain" {
		t.Errorf("$count: %d %q %q", r.status, r.body, r.header.Get("Content-Type"))
	}
}

// retrieveTotalRecordCount: the total is not capped at 5,000.
func retrieveTotalRecordCount(t *testing.T, e *env) {
	r := e.call(http.MethodGet, api+`RetrieveTotalRecordCount(EntityNames=@p1)?@p1=["contact","account"]`, tokenAdmin, nil)
	want := map[string]any{
		"@odata.context": e.org + api + "$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse",
		"EntityRecordCountCollection": map[string]any{"Count": json.Number("2"), "IsReadOnly": false,
			"Keys": []any{"contact", "account"}, "Values": []any{json.Number("5001"), json.Number("0")}},
	}
	if diff := cmp.Diff(want, r.json(t)); diff != "" {
		t.Errorf("RetrieveTotalRecordCount (-want +got):\n%s", diff)
	}
	r = e.call(http.MethodGet, api+`RetrieveTotalRecordCount(EntityNames=["contacts"])`, tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x80041102", "The entity with a name = 'contacts' with namemapping = 'Logical' was not found in the MetadataCache.")
	r = e.call(http.MethodGet, api+`RetrieveTotalRecordCount(EntityNames=@p1)?@p1=["account"]`, tokenReader, nil)
	expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id=")
}
