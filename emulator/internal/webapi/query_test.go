package webapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/go-cmp/cmp"
)

// seedContacts creates contacts named after the NATO alphabet with
// numbered incomes, and returns the id of "Charlie".
func seedContacts(e *env) (charlie string) {
	e.t.Helper()
	names := []string{"Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett", "O'Bryan"}
	for i, n := range names {
		body := map[string]any{"firstname": "F" + fmt.Sprint(i), "lastname": n, "numberofchildren": i % 4}
		if i%2 == 0 {
			body["annualincome"] = 1000 * (i + 1)
		}
		id := e.createContact(body)
		if n == "Charlie" {
			charlie = id
		}
	}
	return charlie
}

// lastnames runs a collection GET and returns the lastname of each row.
func (e *env) lastnames(query string, headers ...string) []string {
	e.t.Helper()
	r := e.call(http.MethodGet, api+"contacts?"+query, tokenAdmin, nil, headers...)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET contacts?%s: %d %s", query, r.status, r.body)
	}
	var out []string
	for _, v := range r.json(e.t)["value"].([]any) {
		out = append(out, v.(map[string]any)["lastname"].(string))
	}
	return out
}

func TestCollectionQueries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	charlie := seedContacts(e)
	tests := []struct {
		query string
		want  []string
	}{
		{"$select=lastname&$filter=lastname eq 'Bravo'", []string{"Bravo"}},
		{"$select=lastname&$filter=lastname eq 'bravo'", []string{"Bravo"}}, // case-insensitive
		{"$select=lastname&$filter=firstname eq 'F3' and lastname eq 'Delta'", []string{"Delta"}},
		{"$select=lastname&$filter=firstname eq 'F3' and lastname eq 'Echo'", nil},
		{"$select=lastname&$filter=lastname eq 'O''Bryan'", []string{"O'Bryan"}},
		{"$select=lastname&$filter=contactid eq " + charlie, []string{"Charlie"}},
		{"$select=lastname&$filter=lastname eq 'Alpha' or lastname eq 'Golf'&$orderby=lastname desc", []string{"Golf", "Alpha"}},
		{"$select=lastname&$filter=annualincome gt 5000&$orderby=annualincome", []string{"Golf", "India", "O'Bryan"}},
		{"$select=lastname&$filter=annualincome eq null and numberofchildren ge 3&$orderby=lastname", []string{"Delta", "Hotel"}},
		{"$select=lastname&$filter=not (numberofchildren lt 3)&$orderby=lastname", []string{"Delta", "Hotel"}},
		{"$select=lastname&$filter=contains(lastname,'OT')&$orderby=lastname", []string{"Foxtrot", "Hotel"}},
		{"$select=lastname&$filter=startswith(lastname,'j') or endswith(lastname,'LF')&$orderby=lastname", []string{"Golf", "Juliett"}},
		{"$select=lastname&$filter=Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=[\"Echo\",\"India\"])&$orderby=lastname", []string{"Echo", "India"}},
		{"$select=lastname&$filter=Microsoft.Dynamics.CRM.Between(PropertyName='numberofchildren',PropertyValues=[\"1\",\"2\"]) and annualincome ne null&$orderby=lastname", []string{"Charlie", "Golf", "O'Bryan"}},
		{"$select=lastname&$filter=lastname eq @p1&@p1='Hotel'", []string{"Hotel"}},
		{"$select=lastname&$top=2&$orderby=lastname", []string{"Alpha", "Bravo"}},
		{"$select=lastname&$filter=Microsoft.Dynamics.CRM.Today(PropertyName='createdon')&$top=1&$orderby=lastname", []string{"Alpha"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, e.lastnames(tt.query)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.query, diff)
		}
	}
	r := e.call(http.MethodGet, api+"contacts?$select=lastname,firstname&$filter=lastname eq 'Bravo'&$count=true", tokenAdmin, nil)
	m := r.json(t)
	if m["@odata.context"] != e.org+"/api/data/v9.2/$metadata#contacts(lastname,firstname)" || m["@odata.count"] != json.Number("1") {
		t.Errorf("collection envelope: %s", r.body)
	}
	row := m["value"].([]any)[0].(map[string]any)
	if len(row) != 4 || row["@odata.etag"] == nil || row["contactid"] == nil {
		t.Errorf("row shape: %v", row)
	}
	r = e.call(http.MethodGet, api+"contacts/$count", tokenAdmin, nil)
	if r.status != http.StatusOK || string(r.body) != "11" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("$count: %d %q %s", r.status, r.body, r.header.Get("Content-Type"))
	}
	// Related-row filters: lookup path and lambda.
	acct := e.call(http.MethodPost, api+"accounts", tokenAdmin, map[string]any{"name": "Parent", "primarycontactid@odata.bind": "/contacts(" + charlie + ")"})
	if acct.status != http.StatusNoContent {
		t.Fatal(acct.status)
	}
	r = e.call(http.MethodGet, api+"accounts?$select=name&$filter=primarycontactid/lastname eq 'charlie'", tokenAdmin, nil)
	if v := r.json(t)["value"].([]any); len(v) != 1 {
		t.Errorf("lookup path filter: %s", r.body)
	}
	r = e.call(http.MethodGet, api+"contacts?$select=lastname&$filter=account_primary_contact/any(a:a/name eq 'Parent')", tokenAdmin, nil)
	if v := r.json(t)["value"].([]any); len(v) != 1 || v[0].(map[string]any)["lastname"] != "Charlie" {
		t.Errorf("lambda filter: %s", r.body)
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	tests := []struct {
		query, code, message string
	}{
		{"$select=FirstName", "0x0", "Could not find a property named 'FirstName' on type 'Microsoft.Dynamics.CRM.contact'."},
		{"$filter=FirstName eq 'x'", "0x0", "Could not find a property named 'FirstName' on type 'Microsoft.Dynamics.CRM.contact'."},
		{"$filter=contactid eq '00000000-0000-0000-0000-000000000001'", "0x80060888",
			"A binary operator with incompatible types was detected. Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'."},
		{"$filter=numberofchildren eq 'two'", "0x80060888",
			"A binary operator with incompatible types was detected. Found operand types 'Edm.Int32' and 'Edm.String' for operator kind 'Equal'."},
		{"$filter=lastname eq 'O'Bryan'", "0x80060888", "There is an unterminated literal at position 21 in 'lastname eq 'O'Bryan''."},
		{"$skip=10", "0x80060888", "The query parameter $skip is not supported"},
		{"$search=x", "0x80060888", "The query parameter $search is not supported"},
		{"$format=json", "0x80060888", "The query parameter $format is not supported"},
		{"$Filter=lastname eq 'x'", "0x80060888", "The query parameter $Filter is not supported"},
		{"$filter=tolower(lastname) eq 'x'", "0x80060888", "The 'tolower' function is not supported."},
		{"$filter=not Microsoft.Dynamics.CRM.Today(PropertyName='createdon')", "0x80060888", "Not operator along with the Custom Named Condition operators is not allowed"},
		{"$skiptoken=garbage", "0x80060888", "The $skiptoken is not valid"},
		{"$select=,lastname", "0x80060888", "An identifier was expected at position 0."},
		{"$select=lastname,", "0x80060888", "An identifier was expected at position 9."},
	}
	for _, tt := range tests {
		r := e.call(http.MethodGet, api+"contacts?"+strings.ReplaceAll(tt.query, "'O'B", "'O%27B"), tokenAdmin, nil)
		t.Run(tt.query, func(t *testing.T) { expectError(t, r, http.StatusBadRequest, tt.code, tt.message) })
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	for i := 0; i < 7; i++ {
		e.createContact(map[string]any{"lastname": fmt.Sprintf("P%02d", i), "numberofchildren": i % 3})
	}
	next := api + "contacts?$select=lastname&$orderby=numberofchildren desc,lastname"
	var got []string
	var pages int
	for next != "" {
		r := e.call(http.MethodGet, next, tokenAdmin, nil, "Prefer", "odata.maxpagesize=3")
		if r.status != http.StatusOK {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		if r.header.Get("Preference-Applied") != "odata.maxpagesize=3" {
			t.Errorf("Preference-Applied = %q", r.header.Get("Preference-Applied"))
		}
		m := r.json(t)
		rows := m["value"].([]any)
		if len(rows) > 3 {
			t.Fatalf("page of %d rows", len(rows))
		}
		for _, row := range rows {
			got = append(got, row.(map[string]any)["lastname"].(string))
		}
		next, _ = m["@odata.nextLink"].(string)
		if next != "" {
			u, err := url.Parse(next)
			if err != nil || u.Query().Get("$select") != "lastname" || u.Query().Get("$orderby") != "numberofchildren desc,lastname" ||
				!strings.HasPrefix(u.Query().Get("$skiptoken"), `<cookie pagenumber="`) {
				t.Errorf("nextLink = %s", next)
			}
			if pages == 0 {
				// Rows inserted during the scan: one behind the cursor is
				// not seen, one ahead of it is; none is repeated or skipped.
				e.createContact(map[string]any{"lastname": "P00a", "numberofchildren": 2})
				e.createContact(map[string]any{"lastname": "P03a", "numberofchildren": 0})
			}
		}
		pages++
	}
	want := []string{"P02", "P05", "P01", "P04", "P00", "P03", "P03a", "P06"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged rows (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("pages = %d", pages)
	}
	// $top is ignored when a page size is sent.
	r := e.call(http.MethodGet, api+"contacts?$select=lastname&$top=1", tokenAdmin, nil, "Prefer", "odata.maxpagesize=2")
	m := r.json(t)
	if len(m["value"].([]any)) != 2 || m["@odata.nextLink"] == nil {
		t.Errorf("$top with maxpagesize: %s", r.body)
	}
	// A well-formed skip token from another query (primary-key order) does not fit two sort
	// keys: the invalid $skiptoken 400, not a 500.
	u, err := url.Parse(m["@odata.nextLink"].(string))
	if err != nil {
		t.Fatal(err)
	}
	other := api + "contacts?$select=lastname&$orderby=numberofchildren desc,lastname&$skiptoken=" + url.QueryEscape(u.Query().Get("$skiptoken"))
	r = e.call(http.MethodGet, other, tokenAdmin, nil, "Prefer", "odata.maxpagesize=2")
	expectError(t, r, http.StatusBadRequest, "0x80060888", "The $skiptoken is not valid")
}

func TestLongURLs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	long := "$select=lastname&$filter=lastname eq '" + strings.Repeat("x", 33<<10) + "'"
	if len(long) < 32<<10 {
		t.Fatalf("query of %d characters is not long enough", len(long))
	}
	r := e.call(http.MethodGet, api+"contacts?"+long, tokenAdmin, nil)
	expectError(t, r, http.StatusRequestURITooLong, "0x80060888", "The request URL is longer than 32768 characters.")
	body := crlf("--b\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\nGET /api/data/v9.2/contacts?" +
		strings.ReplaceAll(long, " ", "%20") + " HTTP/1.1\n\n\n--b--\n")
	r = e.call(http.MethodPost, api+"$batch", tokenAdmin, body, "Content-Type", "multipart/mixed; boundary=b")
	if res := readBatch(t, r); r.status != http.StatusOK || len(res) != 1 || res[0].status != http.StatusOK {
		t.Errorf("long GET inside $batch: %d %+v", r.status, res)
	}
	// Dataverse allows at most 500 conditions in a query.
	many := "$filter=" + strings.Repeat("lastname eq 'x' or ", 500) + "lastname eq 'y'"
	r = e.call(http.MethodGet, api+"contacts?"+many, tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x80060888", "Number of conditions in query exceeded maximum limit.")
}

// The 50,000-row limit of an aggregation, lowered through the store's
// option: $apply over more rows is AggregateQueryRecordLimitExceeded, as
// FetchXML's is; over fewer (a filter first) it answers.
func TestApplyRecordLimit(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, "", &store.Options{MaxAggregateRows: 10})
	seedContacts(e) // 11 contacts
	const limitMessage = "The maximum record limit is exceeded. Reduce the number of records."
	for _, q := range []string{
		"$apply=aggregate($count as count)",
		"$apply=groupby((numberofchildren),aggregate($count as count))",
		"$apply=groupby((numberofchildren))",
		"$apply=filter(numberofchildren ge 0)/aggregate(annualincome with sum as total)",
	} {
		r := e.call(http.MethodGet, api+"contacts?"+q, tokenAdmin, nil)
		expectError(t, r, http.StatusBadRequest, "0x8004e023", limitMessage)
	}
	r := e.call(http.MethodGet, api+"contacts?$apply=filter(numberofchildren eq 0)/aggregate($count as count)", tokenAdmin, nil)
	if got := string(r.body); r.status != http.StatusOK || !strings.Contains(got, `"value":[{"count":3}]`) {
		t.Errorf("aggregate under the limit: %d %s", r.status, got)
	}
	// FetchXML's aggregatelimit may lower the limit, never raise it.
	fetch := `<fetch aggregate="true" aggregatelimit="20"><entity name="contact"><attribute name="contactid" alias="n" aggregate="count" /></entity></fetch>`
	r = e.call(http.MethodGet, api+"contacts?fetchXml="+url.QueryEscape(fetch), tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x8004e023", limitMessage)
}

func TestApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	seedContacts(e)
	r := e.call(http.MethodGet, api+"contacts?$apply=groupby((numberofchildren),aggregate($count as count,annualincome with sum as total,annualincome with max as top))&$orderby=numberofchildren desc", tokenAdmin, nil)
	if r.status != http.StatusOK {
		t.Fatalf("%d %s", r.status, r.body)
	}
	want := `{"@odata.context":"` + e.org + api + `$metadata#contacts","value":[` +
		`{"numberofchildren":3,"count":2},` + // null aggregates are omitted
		`{"numberofchildren":2,"count":3,"total":21000.0000,"top":11000.0000},` +
		`{"numberofchildren":1,"count":3},` +
		`{"numberofchildren":0,"count":3,"total":15000.0000,"top":9000.0000}]}`
	if string(r.body) != want {
		t.Errorf("groupby:\n got %s\nwant %s", r.body, want)
	}
	r = e.call(http.MethodGet, api+"contacts?$apply=filter(numberofchildren eq 0)/aggregate(annualincome with average as avg,lastname with countdistinct as names)", tokenAdmin, nil)
	if got := string(r.body); !strings.Contains(got, `"value":[{"avg":5000.0000,"names":3}]`) {
		t.Errorf("aggregate: %s", got)
	}
	r = e.call(http.MethodGet, api+"contacts?$apply=groupby((createdon))", tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x80060888", "The datetime column 'createdon' cannot be used in groupby.")
	r = e.call(http.MethodGet, api+"contacts?$apply=groupby((lastname),aggregate($count as c))&$orderby=c", tokenAdmin, nil)
	expectError(t, r, http.StatusBadRequest, "0x80060888", "The query node SingleValueOpenPropertyAccess is not supported")
}
