package webapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// orderID is a GUID ending in n, so that the GUID order of the rows is
// known.
func orderID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012x", n) }

// newOrderEnv creates contacts and accounts with chosen ids, such that the
// order of lookup GUIDs and of choice values differs from the order of the
// names and labels Dataverse sorts them by:
//
//	contact  id   lastname  parent customer
//	c1       …01  Zulu      account Xylo
//	c2       …02  yankee    contact Alpha
//	c3       …03  Alpha     account Kilo
//	c4       …04  Mike      -
//
//	account  id    primary contact  ownershipcode
//	Xylo     …a01  Zulu             1 Public
//	Null-B   …a02  -                -
//	Bea      …a03  Alpha            3 Subsidiary
//	Kilo     …a04  Mike             4 Other
//	Null-A   …a05  -                2 Private
//	Echo     …a06  yankee           -
//	Dune     …a07  Alpha            1 Public
func newOrderEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, "")
	put := func(path string, body map[string]any) {
		t.Helper()
		if r := e.call(http.MethodPatch, api+path, tokenAdmin, body); r.status != http.StatusNoContent {
			t.Fatalf("PATCH %s: %d %s", path, r.status, r.body)
		}
	}
	for i, last := range []string{"Zulu", "yankee", "Alpha", "Mike"} {
		put("contacts("+orderID(i+1)+")", map[string]any{"lastname": last})
	}
	contact := func(n int) string { return "/contacts(" + orderID(n) + ")" }
	for _, a := range []struct {
		name      string
		id        int
		contact   int
		ownership int
	}{
		{"Xylo", 0xa01, 1, 1}, {"Null-B", 0xa02, 0, 0}, {"Bea", 0xa03, 3, 3}, {"Kilo", 0xa04, 4, 4},
		{"Null-A", 0xa05, 0, 2}, {"Echo", 0xa06, 2, 0}, {"Dune", 0xa07, 3, 1},
	} {
		body := map[string]any{"name": a.name}
		if a.contact != 0 {
			body["primarycontactid@odata.bind"] = contact(a.contact)
		}
		if a.ownership != 0 {
			body["ownershipcode"] = a.ownership
		}
		put("accounts("+orderID(a.id)+")", body)
	}
	put("contacts("+orderID(1)+")", map[string]any{"parentcustomerid_account@odata.bind": "/accounts(" + orderID(0xa01) + ")"})
	put("contacts("+orderID(2)+")", map[string]any{"parentcustomerid_contact@odata.bind": contact(3)})
	put("contacts("+orderID(3)+")", map[string]any{"parentcustomerid_account@odata.bind": "/accounts(" + orderID(0xa04) + ")"})
	return e
}

// odataPages follows @odata.nextLink from first, size rows a page, and
// returns the values of key in order.
func odataPages(t *testing.T, e *env, first string, size int, key string) []string {
	t.Helper()
	var got []string
	for next, pages := first, 0; next != ""; pages++ {
		r := e.call(http.MethodGet, next, tokenAdmin, nil, "Prefer", fmt.Sprintf("odata.maxpagesize=%d", size))
		if r.status != http.StatusOK {
			t.Fatalf("%s page %d: %d %s", first, pages, r.status, r.body)
		}
		m := r.json(t)
		rows := m["value"].([]any)
		if len(rows) > size {
			t.Fatalf("%s page %d has %d rows", first, pages, len(rows))
		}
		for _, row := range rows {
			got = append(got, toString(row.(map[string]any)[key]))
		}
		next, _ = m["@odata.nextLink"].(string)
		if pages > 20 {
			t.Fatalf("%s: more than 20 pages", first)
		}
	}
	return got
}

// fetchPages pages through a FetchXML query (whose fetch element has
// count) with paging cookies as the documentation's client does, and
// returns the values of key in order and the inner cookies.
func fetchPages(t *testing.T, e *env, set, query, key string) (got, cookies []string) {
	t.Helper()
	q := query
	for page := 1; ; page++ {
		r := e.fetch(set, q, "Prefer", pagingAnnotations)
		got = append(got, column(r.rows(t), key)...)
		cookie, ok := r.json(t)["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"].(string)
		if !ok {
			return got, cookies
		}
		var inner string
		q, inner = nextFetchPage(t, query, page+1, cookie)
		cookies = append(cookies, inner)
		if page > 20 {
			t.Fatalf("%s: more than 20 pages", query)
		}
	}
}

// A lookup sorts by the primary name of the row it references, nulls
// first ascending, then by its GUID; nextLink pages resume after the
// name, neither skipping nor repeating rows.
func TestOrderByLookupName(t *testing.T) {
	t.Parallel()
	e := newOrderEnv(t)
	tests := []struct {
		orderby string
		want    []string
	}{
		// By GUID it would be Null-B, Null-A, Xylo, Echo, Bea, Dune, Kilo.
		{"_primarycontactid_value", []string{"Null-B", "Null-A", "Bea", "Dune", "Kilo", "Echo", "Xylo"}},
		{"_primarycontactid_value desc", []string{"Xylo", "Echo", "Kilo", "Bea", "Dune", "Null-B", "Null-A"}},
		{"_primarycontactid_value,name desc", []string{"Null-B", "Null-A", "Dune", "Bea", "Kilo", "Echo", "Xylo"}},
		// Choices sort by value in $orderby (reference §3.3), not by label.
		{"ownershipcode", []string{"Null-B", "Echo", "Xylo", "Dune", "Null-A", "Bea", "Kilo"}},
	}
	for _, tt := range tests {
		for _, size := range []int{1, 2, 3, 5000} {
			got := odataPages(t, e, api+"accounts?$select=name&$orderby="+strings.ReplaceAll(tt.orderby, " ", "%20"), size, "name")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("$orderby=%s, pages of %d (-want +got):\n%s", tt.orderby, size, diff)
			}
		}
	}
	// A polymorphic lookup sorts by the name in its target's table:
	// parent customers Alpha (a contact), Kilo and Xylo (accounts).
	got := odataPages(t, e, api+"contacts?$select=lastname&$orderby=_parentcustomerid_value", 2, "lastname")
	if diff := cmp.Diff([]string{"Mike", "yankee", "Alpha", "Zulu"}, got); diff != "" {
		t.Errorf("$orderby=_parentcustomerid_value (-want +got):\n%s", diff)
	}
	// Rows created during a scan: one behind the cursor (Alpha, with a
	// smaller account id than Bea's) is not seen, one ahead of it (Mike,
	// after Kilo by id) is.
	first := api + "accounts?$select=name&$orderby=_primarycontactid_value"
	r := e.call(http.MethodGet, first, tokenAdmin, nil, "Prefer", "odata.maxpagesize=3")
	page1 := column(r.rows(t), "name")
	next, _ := r.json(t)["@odata.nextLink"].(string)
	for _, body := range []map[string]any{
		{"name": "Behind", "primarycontactid@odata.bind": "/contacts(" + orderID(3) + ")", "accountid": orderID(0xa00)},
		{"name": "Ahead", "primarycontactid@odata.bind": "/contacts(" + orderID(4) + ")", "accountid": orderID(0xa08)},
	} {
		if r := e.call(http.MethodPost, api+"accounts", tokenAdmin, body); r.status != http.StatusNoContent {
			t.Fatalf("create %v: %d %s", body["name"], r.status, r.body)
		}
	}
	got = append(page1, odataPages(t, e, next, 3, "name")...)
	if diff := cmp.Diff([]string{"Null-B", "Null-A", "Bea", "Dune", "Kilo", "Ahead", "Echo", "Xylo"}, got); diff != "" {
		t.Errorf("scan with inserts (-want +got):\n%s", diff)
	}
}

// FetchXML sorts a lookup by name and a choice by label, unless
// useraworderby asks for values; paging cookies carry the name or label.
func TestFetchXMLOrderByNameAndLabel(t *testing.T) {
	t.Parallel()
	e := newOrderEnv(t)
	fetch := func(attrs, orders string) string {
		return `<fetch count="2"` + attrs + `><entity name="account"><attribute name="name" />` + orders + `</entity></fetch>`
	}
	tests := []struct {
		name, query string
		want        []string
	}{
		{"lookup", fetch("", `<order attribute="primarycontactid" />`),
			[]string{"Null-B", "Null-A", "Bea", "Dune", "Kilo", "Echo", "Xylo"}},
		{"lookup descending", fetch("", `<order attribute="primarycontactid" descending="true" />`),
			[]string{"Xylo", "Echo", "Kilo", "Bea", "Dune", "Null-B", "Null-A"}},
		// Labels: Other, Private, Public, Subsidiary.
		{"choice by label", fetch("", `<order attribute="ownershipcode" />`),
			[]string{"Null-B", "Echo", "Kilo", "Null-A", "Xylo", "Dune", "Bea"}},
		{"choice by label descending", fetch("", `<order attribute="ownershipcode" descending="true" />`),
			[]string{"Bea", "Xylo", "Dune", "Null-A", "Kilo", "Null-B", "Echo"}},
		{"choice by value with useraworderby", fetch(` useraworderby="true"`, `<order attribute="ownershipcode" />`),
			[]string{"Null-B", "Echo", "Xylo", "Dune", "Null-A", "Bea", "Kilo"}},
		{"useraworderby false", fetch(` useraworderby="0"`, `<order attribute="ownershipcode" />`),
			[]string{"Null-B", "Echo", "Kilo", "Null-A", "Xylo", "Dune", "Bea"}},
		// A link-entity's polymorphic lookup, ordered first: the primary
		// contacts' parent customers Alpha, Kilo (twice) and Xylo; Kilo's
		// contact has none.
		{"link-entity lookup", `<fetch count="2"><entity name="account"><attribute name="name" />
  <link-entity name="contact" from="contactid" to="primarycontactid" alias="pc" />
  <order entityname="pc" attribute="parentcustomerid" /></entity></fetch>`,
			[]string{"Kilo", "Echo", "Bea", "Dune", "Xylo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, cookies := fetchPages(t, e, "accounts", tt.query, "name")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if len(cookies) == 0 {
				t.Error("no paging cookie")
			}
			// Without paging, the same order in one page.
			all := column(e.fetch("accounts", strings.Replace(tt.query, `count="2"`, `count="50"`, 1)).rows(t), "name")
			if diff := cmp.Diff(tt.want, all); diff != "" {
				t.Errorf("one page (-want +got):\n%s", diff)
			}
		})
	}
	// The cookie names a lookup's name key <column>name and a choice's
	// label key likewise, before the value.
	_, cookies := fetchPages(t, e, "accounts", fetch("", `<order attribute="primarycontactid" />`), "name")
	want := `<cookie page="2"><primarycontactidname last="Alpha" first="Alpha" /><primarycontactid last="{00000000-0000-4000-8000-000000000003}" first="{00000000-0000-4000-8000-000000000003}" />` +
		`<accountid last="{00000000-0000-4000-8000-000000000A07}" first="{00000000-0000-4000-8000-000000000A03}" /></cookie>`
	if len(cookies) < 2 || cookies[1] != want {
		t.Errorf("second cookie = %q\nwant %q", cookies, want)
	}
	_, cookies = fetchPages(t, e, "accounts", fetch("", `<order attribute="ownershipcode" />`), "name")
	if len(cookies) == 0 || !strings.HasPrefix(cookies[1], `<cookie page="2"><ownershipcodename last="Private" first="Other" /><ownershipcode last="2" first="4" />`) {
		t.Errorf("label cookies = %q", cookies)
	}
	if !slices.ContainsFunc(cookies, func(c string) bool { return strings.Contains(c, `ownershipcodename last="Public"`) }) {
		t.Errorf("no cookie ends at a Public row: %q", cookies)
	}
}
