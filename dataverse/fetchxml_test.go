package dataverse

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const accountsFetch = `<fetch version="1.0" mapping="logical">
  <entity name="account">
    <attribute name="name"/>
    <filter><condition attribute="name" operator="like" value="O'Neil &amp; %"/></filter>
    <order attribute="name"/>
  </entity>
</fetch>`

// fetchRequest is the fetch element of a request, as a server reads it.
type fetchRequest struct {
	Page         string `xml:"page,attr"`
	Count        string `xml:"count,attr"`
	PagingCookie string `xml:"paging-cookie,attr"`
	Condition    struct {
		Value string `xml:"value,attr"`
	} `xml:"entity>filter>condition"`
}

// innerCookie is the paging cookie of a page, as the service builds it.
func innerCookie(page int) string {
	return fmt.Sprintf(`<cookie page="%d"><accountid last="{%08d-0000-0000-0000-000000000000}" first="{%08d-0000-0000-0000-000000000001}" /></cookie>`, page, page, page)
}

// fetchAPI serves `pages` pages of a FetchXML query the way the service
// does: annotations on every page but the last, the inner cookie
// URL-encoded twice inside the cookie element.
func fetchAPI(t *testing.T, pages int) (*fakeAPI, *[]fetchRequest) {
	var mu sync.Mutex
	var seen []fetchRequest
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		var fr fetchRequest
		if err := xml.Unmarshal([]byte(r.URL.Query().Get("fetchXml")), &fr); err != nil {
			t.Errorf("fetchXml: %v", err)
		}
		mu.Lock()
		seen = append(seen, fr)
		mu.Unlock()
		page := 1
		if fr.Page != "" {
			fmt.Sscan(fr.Page, &page)
		}
		if page > 1 && fr.PagingCookie != innerCookie(page-1) {
			t.Errorf("page %d: paging-cookie = %q, want %q", page, fr.PagingCookie, innerCookie(page-1))
		}
		body := map[string]any{"value": []map[string]any{{"name": fmt.Sprintf("account %d", page)}}}
		if page < pages {
			enc := strings.ReplaceAll(url.QueryEscape(strings.ReplaceAll(url.QueryEscape(innerCookie(page)), "+", "%20")), "+", "%20")
			body["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"] = fmt.Sprintf(`<cookie pagenumber="%d" pagingcookie="%s" istracking="False" />`, page+1, enc)
			body["@Microsoft.Dynamics.CRM.morerecords"] = true
		}
		b, _ := json.Marshal(body)
		writeJSON(w, 200, string(b))
	}, nil)
	return f, &seen
}

func TestFetchXMLPaging(t *testing.T) {
	t.Parallel()
	f, seen := fetchAPI(t, 3)
	ctx := context.Background()
	p := f.client.FetchXMLPager("accounts", accountsFetch, &FetchOptions{PageSize: 1, Annotations: []string{AnnotationFormattedValue}})
	var names []string
	for rec, err := range p.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, rec["name"].(string))
	}
	if diff := cmp.Diff([]string{"account 1", "account 2", "account 3"}, names); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	var pages []string
	for _, fr := range *seen {
		pages = append(pages, fr.Page+"/"+fr.Count+"/"+fr.Condition.Value)
	}
	if diff := cmp.Diff([]string{"/1/O'Neil & %", "2/1/O'Neil & %", "3/1/O'Neil & %"}, pages); diff != "" {
		t.Errorf("page/count/condition per request (-want +got):\n%s", diff)
	}
	want := `odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords,OData.Community.Display.V1.FormattedValue"`
	for i, r := range f.reqs() {
		if got := r.Header.Get("Prefer"); got != want {
			t.Errorf("request %d Prefer = %q", i, got)
		}
		if r.Path != testBasePath+"accounts" || !strings.HasPrefix(r.RawQuery, "fetchXml=%3Cfetch%20") {
			t.Errorf("request %d = %s?%.40s", i, r.Path, r.RawQuery)
		}
	}
}

func TestFetchXMLResume(t *testing.T) {
	t.Parallel()
	f, seen := fetchAPI(t, 3)
	ctx := context.Background()
	page, err := f.client.FetchXML(ctx, "accounts", accountsFetch, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !page.MoreRecords || page.NextLink == "" {
		t.Fatalf("first page: MoreRecords %v NextLink %q", page.MoreRecords, page.NextLink)
	}
	p, err := ResumePager[Record](f.client, page.NextLink, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rec, err := range p.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, rec["name"].(string))
	}
	if diff := cmp.Diff([]string{"account 2", "account 3"}, names); diff != "" {
		t.Errorf("resumed rows (-want +got):\n%s", diff)
	}
	if n := len(*seen); n != 3 {
		t.Errorf("%d requests", n)
	}
}

func TestFetchXMLWithoutCookieAdvancesPageNumber(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		var fr fetchRequest
		_ = xml.Unmarshal([]byte(r.URL.Query().Get("fetchXml")), &fr)
		if fr.Page == "" {
			writeJSON(w, 200, `{"value":[{"n":1}],"@Microsoft.Dynamics.CRM.morerecords":true}`)
			return
		}
		if fr.Page != "2" || fr.PagingCookie != "" {
			t.Errorf("page %q cookie %q", fr.Page, fr.PagingCookie)
		}
		writeJSON(w, 200, `{"value":[{"n":2}]}`)
	}, nil)
	n := 0
	for _, err := range f.client.FetchXMLPager("accounts", `<fetch distinct="true"><entity name="account"/></fetch>`, nil).All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d rows", n)
	}
}

func TestFetchXMLRejectsBadQueries(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Error("nothing should be sent") }, nil)
	for name, x := range map[string]string{
		"not XML":    "<fetch><entity name='a'>",
		"wrong root": "<query/>",
		"empty":      "",
		"mismatched": "<fetch><entity></fetch></entity>",
	} {
		if _, err := f.client.FetchXML(context.Background(), "accounts", x, &FetchOptions{PageSize: 10}); err == nil {
			t.Errorf("%s: FetchXML succeeded", name)
		}
	}
	if _, err := f.client.FetchXML(context.Background(), "accounts", accountsFetch, &FetchOptions{PageSize: 5001}); err == nil {
		t.Error("PageSize 5001 accepted")
	}
}

func TestParsePagingCookie(t *testing.T) {
	t.Parallel()
	cookie := `<cookie pagenumber="2" pagingcookie="%253ccookie%2520page%253d%25221%2522%253e%253caccountid%2520last%253d%2522%257bF2E34A2B-8FD0-E911-A81A-000D3A4C6E29%257d%2522%2520first%253d%2522%257b7A2E34A2-8FD0-E911-A81A-000D3A4C6E29%257d%2522%2520%252f%253e%253c%252fcookie%253e" istracking="False" />`
	page, inner, err := parsePagingCookie(cookie)
	if err != nil {
		t.Fatal(err)
	}
	want := `<cookie page="1"><accountid last="{F2E34A2B-8FD0-E911-A81A-000D3A4C6E29}" first="{7A2E34A2-8FD0-E911-A81A-000D3A4C6E29}" /></cookie>`
	if page != 2 || inner != want {
		t.Errorf("parsePagingCookie = %d, %q", page, inner)
	}
	for _, bad := range []string{"not xml", `<cookie pagenumber="x"/>`, `<cookie pagingcookie="%zz"/>`} {
		if _, _, err := parsePagingCookie(bad); err == nil {
			t.Errorf("parsePagingCookie(%q) succeeded", bad)
		}
	}
}
