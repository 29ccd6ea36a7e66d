package webapi_test

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pagingAnnotations asks for the two annotations of the paging protocol by
// name, as the documentation's client does.
const pagingAnnotations = `odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords"`

// nextFetchPage applies the documented client steps to a page's paging
// cookie annotation: read the pagingcookie attribute, URL-decode it twice,
// and set it (XML-escaped) as paging-cookie with the page number.
func nextFetchPage(t *testing.T, template string, page int, annotation string) (query, inner string) {
	t.Helper()
	var c struct {
		PageNumber   string `xml:"pagenumber,attr"`
		PagingCookie string `xml:"pagingcookie,attr"`
		IsTracking   string `xml:"istracking,attr"`
	}
	if err := xml.Unmarshal([]byte(annotation), &c); err != nil {
		t.Fatalf("paging cookie annotation %q: %v", annotation, err)
	}
	if c.PageNumber != strconv.Itoa(page) || c.IsTracking != "False" {
		t.Errorf("paging cookie annotation %q: want pagenumber=%d istracking=False", annotation, page)
	}
	inner = c.PagingCookie
	for range 2 {
		var err error
		if inner, err = url.QueryUnescape(inner); err != nil {
			t.Fatalf("pagingcookie %q is not URL-encoded: %v", c.PagingCookie, err)
		}
	}
	var escaped strings.Builder
	if err := xml.EscapeText(&escaped, []byte(inner)); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(template, "<fetch ", `<fetch page="`+strconv.Itoa(page)+`" paging-cookie="`+escaped.String()+`" `, 1), inner
}

func TestFetchXMLPagingCookies(t *testing.T) {
	t.Parallel()
	f := newFetchFixture(t)
	const query = `<fetch count="2"><entity name="contact"><attribute name="lastname" /><order attribute="lastname" /></entity></fetch>`
	var pages [][]string
	var inners []string
	q := query
	for page := 1; page <= 5; page++ {
		r := f.fetch("contacts", q, "Prefer", pagingAnnotations)
		if got := r.header.Get("Preference-Applied"); got != pagingAnnotations {
			t.Errorf("Preference-Applied = %q", got)
		}
		rows := r.rows(t)
		pages = append(pages, column(rows, "lastname"))
		m := r.json(t)
		cookie, hasCookie := m["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"].(string)
		more, hasMore := m["@Microsoft.Dynamics.CRM.morerecords"]
		if !hasCookie {
			// The last page omits both annotations.
			if hasMore {
				t.Errorf("page %d: morerecords without a cookie", page)
			}
			break
		}
		if more != true {
			t.Errorf("page %d: morerecords = %v", page, more)
		}
		var inner string
		q, inner = nextFetchPage(t, query, page+1, cookie)
		inners = append(inners, inner)
		if page == 1 {
			// Rows inserted while paging: one sorts before the cookie and
			// is not seen, one after it and is; none repeats.
			f.create("contacts", map[string]any{"lastname": "Aaron"})
			f.create("contacts", map[string]any{"lastname": "Cole"})
		}
	}
	want := [][]string{{"Adams", "Brown"}, {"Clark", "Cole"}, {"Davis", "O'Neil"}}
	if diff := cmp.Diff(want, pages); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	// The inner cookie has the documented shape: the sort keys with the
	// page's last and first values, GUIDs braced in upper case.
	wantInner := `<cookie page="1"><lastname last="Brown" first="Adams" /><contactid last="{` + strings.ToUpper(f.contacts["Brown"]) +
		`}" first="{` + strings.ToUpper(f.contacts["Adams"]) + `}" /></cookie>`
	if len(inners) == 0 || inners[0] != wantInner {
		t.Errorf("inner cookie = %q\nwant %q", inners, wantInner)
	}

	// Without a cookie, page N is the Nth page of the current rows.
	rows := f.fetch("contacts", strings.Replace(query, "<fetch ", `<fetch page="2" `, 1)).rows(t)
	if diff := cmp.Diff([]string{"Brown", "Clark"}, column(rows, "lastname")); diff != "" {
		t.Errorf("simple paging (-want +got):\n%s", diff)
	}
	// Without the Prefer header, no paging annotations; with one named,
	// only that one.
	r := f.fetch("contacts", query)
	if m := r.json(t); m["@Microsoft.Dynamics.CRM.morerecords"] != nil || m["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"] != nil {
		t.Errorf("annotations without Prefer: %s", r.body)
	}
	r = f.fetch("contacts", query, "Prefer", `odata.include-annotations="Microsoft.Dynamics.CRM.morerecords"`)
	if m := r.json(t); m["@Microsoft.Dynamics.CRM.morerecords"] != true || m["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"] != nil {
		t.Errorf("one named annotation: %s", r.body)
	}
	// A prefix wildcard selects both.
	r = f.fetch("contacts", query, "Prefer", `odata.include-annotations="Microsoft.Dynamics.CRM.*"`)
	if m := r.json(t); m["@Microsoft.Dynamics.CRM.morerecords"] != true || m["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"] == nil {
		t.Errorf("prefix wildcard: %s", r.body)
	}

	// A cookie of the shape Dataverse returns for a query without order:
	// the primary key alone.
	all := f.fetch("contacts", `<fetch><entity name="contact"><attribute name="lastname" /></entity></fetch>`).rows(t)
	cookie := `<cookie page="1"><contactid last="{` + strings.ToUpper(all[2]["contactid"].(string)) + `}" first="{` + strings.ToUpper(all[0]["contactid"].(string)) + `}" /></cookie>`
	var escaped strings.Builder
	_ = xml.EscapeText(&escaped, []byte(cookie))
	rows = f.fetch("contacts", `<fetch count="3" page="2" paging-cookie="`+escaped.String()+`"><entity name="contact"><attribute name="lastname" /></entity></fetch>`).rows(t)
	if diff := cmp.Diff(column(all[3:6], "lastname"), column(rows, "lastname")); diff != "" {
		t.Errorf("page after a primary-key cookie (-want +got):\n%s", diff)
	}

	// Cookies that do not fit the query.
	for _, tt := range []struct{ cookie, code, message string }{
		{`<cookie page="1"><fullname last="x" /><contactid last="{00000000-0000-0000-0000-000000000001}" /></cookie>`, "0x80041129", "Order by columns do not match those in paging cookie."},
		{`<cookie page="1"><lastname last="x" /></cookie>`, "0x80041129", "Order by columns do not match those in paging cookie."},
		{`<cookie page="1"><lastname last="x" /><contactid last="not-a-guid" /></cookie>`, "0x80041129", "Order by columns do not match those in paging cookie."},
		{`<cookie page="0"><lastname last="x" /><contactid last="{00000000-0000-0000-0000-000000000001}" /></cookie>`, "0x8004112a", "Invalid page number in paging cookie."},
		{`<cookie page="1">`, "0x80041129", "Order by columns do not match those in paging cookie."},
	} {
		var esc strings.Builder
		_ = xml.EscapeText(&esc, []byte(tt.cookie))
		r := f.fetch("contacts", `<fetch count="2" page="2" paging-cookie="`+esc.String()+`"><entity name="contact"><attribute name="lastname" /><order attribute="lastname" /></entity></fetch>`)
		expectError(t, r, http.StatusBadRequest, tt.code, tt.message)
	}
}

// fetchXMLPagingDefaults runs over 5,001 contacts (TestTableOver5000Rows):
// the default page is 5,000, with a cookie to the last row.
func fetchXMLPagingDefaults(t *testing.T, e *env) {
	const query = `<fetch><entity name="contact"><attribute name="lastname" /></entity></fetch>`
	m := e.fetch("contacts", query, "Prefer", `odata.include-annotations="*"`).json(t)
	if n := len(m["value"].([]any)); n != 5000 || m["@Microsoft.Dynamics.CRM.morerecords"] != true {
		t.Fatalf("first default page: %d rows, morerecords %v", n, m["@Microsoft.Dynamics.CRM.morerecords"])
	}
	next, _ := nextFetchPage(t, strings.Replace(query, "<fetch>", "<fetch >", 1), 2, m["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"].(string))
	m = e.fetch("contacts", next, "Prefer", `odata.include-annotations="*"`).json(t)
	if n := len(m["value"].([]any)); n != 1 || m["@Microsoft.Dynamics.CRM.morerecords"] != nil {
		t.Errorf("second default page: %d rows, morerecords %v", n, m["@Microsoft.Dynamics.CRM.morerecords"])
	}
	// @odata.count is capped at 5,000, with the limit flag set.
	m = e.fetchAs(tokenAdmin, "contacts", `<fetch count="1"><entity name="contact"><attribute name="lastname" /></entity></fetch>`, "$count=true",
		"Prefer", `odata.include-annotations="*"`).json(t)
	if m["@odata.count"].(interface{ String() string }).String() != "5000" || m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] != true {
		t.Errorf("capped count: %v %v", m["@odata.count"], m["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"])
	}
}
