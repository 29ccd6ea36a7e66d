package webapi_test

import (
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// fetchNow is the emulated "now" of the FetchXML fixture: Wednesday 15 May
// 2024, noon UTC.
var fetchNow = time.Date(2024, 5, 15, 12, 0, 0, 0, time.UTC)

// clock is a settable clock for a store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// fetchFixture is an emulated org with accounts and contacts for the
// FetchXML suite:
//
//	account   revenue  employees  primary contact
//	Contoso   1000     10         Ann
//	Fabrikam  2500.5   20         Bob
//	Litware   -        -          -
//
//	contact        children income  parent     created           hobbies
//	Ann Adams      1        100.5   Contoso    today 12:00       1,2
//	Bob Brown      2        2500    Fabrikam   yesterday 10:00   2
//	Cid Clark      2        -       Contoso    5 days ago        -
//	Dee Davis      -        -       -          2024-04-01        -
//	Eve O'Neil     3        900     Ann (contact) today 11:00    -
type fetchFixture struct {
	*env
	clock    *clock
	accounts map[string]string // name -> id
	contacts map[string]string // lastname -> id
}

func newFetchFixture(t *testing.T) *fetchFixture {
	t.Helper()
	def, err := schema.Parse([]byte(`
tables:
  - logicalName: contact
    columns:
      - logicalName: new_hobbies
        type: MultiSelectPicklist
        options: [{value: 1, label: Reading}, {value: 2, label: Sailing}, {value: 3, label: Chess}]
`), "fetch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sch, err := schema.WithBuiltin(def)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: fetchNow}
	f := &fetchFixture{env: newEnvWith(t, "", &store.Options{Schema: sch, Now: c.Now}), clock: c,
		accounts: map[string]string{}, contacts: map[string]string{}}
	for _, a := range []map[string]any{
		{"name": "Contoso", "revenue": 1000, "numberofemployees": 10},
		{"name": "Fabrikam", "revenue": 2500.5, "numberofemployees": 20},
		{"name": "Litware"},
	} {
		f.accounts[a["name"].(string)] = f.create("accounts", a)
	}
	contacts := []struct {
		at   time.Time
		body map[string]any
	}{
		{fetchNow, map[string]any{"firstname": "Ann", "lastname": "Adams", "numberofchildren": 1, "annualincome": 100.5, "birthdate": "1980-05-01",
			"creditonhold": true, "gendercode": 2, "new_hobbies": "1,2", "parentcustomerid_account@odata.bind": "/accounts(" + f.accounts["Contoso"] + ")"}},
		{fetchNow.Add(-26 * time.Hour), map[string]any{"firstname": "Bob", "lastname": "Brown", "numberofchildren": 2, "annualincome": 2500,
			"creditonhold": false, "gendercode": 1, "new_hobbies": "2", "parentcustomerid_account@odata.bind": "/accounts(" + f.accounts["Fabrikam"] + ")"}},
		{fetchNow.AddDate(0, 0, -5), map[string]any{"firstname": "Cid", "lastname": "Clark", "numberofchildren": 2,
			"parentcustomerid_account@odata.bind": "/accounts(" + f.accounts["Contoso"] + ")"}},
		{time.Date(2024, 4, 1, 9, 0, 0, 0, time.UTC), map[string]any{"firstname": "Dee", "lastname": "Davis", "emailaddress1": "dee@example.com"}},
	}
	for _, ct := range contacts {
		c.set(ct.at)
		f.contacts[ct.body["lastname"].(string)] = f.create("contacts", ct.body)
	}
	c.set(fetchNow.Add(-time.Hour))
	f.contacts["O'Neil"] = f.create("contacts", map[string]any{"firstname": "Eve", "lastname": "O'Neil", "numberofchildren": 3, "annualincome": 900,
		"parentcustomerid_contact@odata.bind": "/contacts(" + f.contacts["Adams"] + ")"})
	c.set(fetchNow)
	for acct, contact := range map[string]string{"Contoso": "Adams", "Fabrikam": "Brown"} {
		r := f.call(http.MethodPatch, api+"accounts("+f.accounts[acct]+")", tokenAdmin, map[string]any{"primarycontactid@odata.bind": "/contacts(" + f.contacts[contact] + ")"})
		if r.status != http.StatusNoContent {
			t.Fatalf("link %s to %s: %d %s", acct, contact, r.status, r.body)
		}
	}
	return f
}

var anyEntityID = regexp.MustCompile(`\(([0-9a-f-]{36})\)$`)

// create POSTs a row and returns its id.
func (f *fetchFixture) create(set string, body map[string]any) string {
	f.t.Helper()
	r := f.call(http.MethodPost, api+set, tokenAdmin, body)
	if r.status != http.StatusNoContent {
		f.t.Fatalf("create %s: %d %s", set, r.status, r.body)
	}
	m := anyEntityID.FindStringSubmatch(r.header.Get("OData-EntityId"))
	if m == nil {
		f.t.Fatalf("OData-EntityId = %q", r.header.Get("OData-EntityId"))
	}
	return m[1]
}

// fetch sends a FetchXML query to an entity set as a client does: the
// query URL-encoded in the fetchXml parameter. Extra query options and
// headers may follow.
func (e *env) fetch(set, fetchXML string, headers ...string) *response {
	e.t.Helper()
	return e.fetchAs(tokenAdmin, set, fetchXML, "", headers...)
}

func (e *env) fetchAs(token, set, fetchXML, extraQuery string, headers ...string) *response {
	e.t.Helper()
	q := "?fetchXml=" + url.QueryEscape(fetchXML)
	if extraQuery != "" {
		q += "&" + extraQuery
	}
	return e.call(http.MethodGet, api+set+q, token, nil, headers...)
}

// rows returns the value array of a 200 response.
func (r *response) rows(t *testing.T) []map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var out []map[string]any
	for _, v := range r.json(t)["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// column returns one property of each row, in order ("" when absent).
func column(rows []map[string]any, key string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		if v, ok := r[key]; ok {
			out[i] = toString(v)
		}
	}
	return out
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case interface{ String() string }:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case nil:
		return "null"
	}
	return "?"
}

// sortedKeys returns a row's property names, sorted.
func sortedKeys(row map[string]any) []string {
	var keys []string
	for k := range row {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
