package dataverse

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A skip token as Dataverse writes it: an XML cookie, URL-encoded twice
// inside.
const skipToken = "%3Ccookie%20pagenumber=%22{n}%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%22%20istracking=%22False%22%20/%3E"

// pagedAPI serves `pages` pages of `size` rows of contacts, with nextLinks
// built like the service builds them.
func pagedAPI(t *testing.T, pages, size int) *fakeAPI {
	var f *fakeAPI
	f = newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		n := 1
		if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
			_, err := fmt.Sscanf(tok, `<cookie pagenumber="%d"`, &n)
			if err != nil {
				t.Errorf("bad skip token %q", tok)
			}
		}
		var rows []string
		for i := range size {
			rows = append(rows, fmt.Sprintf(`{"fullname":"row %d"}`, (n-1)*size+i))
		}
		body := `{"@odata.context":"ctx","value":[` + strings.Join(rows, ",") + `]`
		if n < pages {
			link := f.base() + "contacts?$select=fullname&$skiptoken=" + strings.ReplaceAll(skipToken, "{n}", strconv.Itoa(n+1))
			body += `,"@odata.nextLink":` + strconv.Quote(link)
		}
		writeJSON(w, 200, body+"}")
	}, nil)
	return f
}

type named struct {
	FullName string `json:"fullname"`
}

func TestPagerFollowsNextLinksVerbatim(t *testing.T) {
	t.Parallel()
	f := pagedAPI(t, 3, 2)
	p := NewPager[named](f.client, "contacts", &ListOptions{Query: Query{Select: []string{"fullname"}, MaxPageSize: 2}})
	if p.NextLink() != "" || !p.More() {
		t.Fatalf("fresh pager: NextLink %q More %v", p.NextLink(), p.More())
	}
	var got []string
	var links []string
	for p.More() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			got = append(got, it.FullName)
		}
		links = append(links, page.NextLink)
		if p.NextLink() != page.NextLink {
			t.Errorf("pager NextLink %q != page NextLink %q", p.NextLink(), page.NextLink)
		}
	}
	want := []string{"row 0", "row 1", "row 2", "row 3", "row 4", "row 5"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if links[2] != "" {
		t.Errorf("last page NextLink = %q, want empty", links[2])
	}
	reqs := f.reqs()
	if len(reqs) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(reqs))
	}
	if reqs[0].RawQuery != "$select=fullname" {
		t.Errorf("first query = %q", reqs[0].RawQuery)
	}
	for i, r := range reqs {
		if got := r.Header.Get("Prefer"); got != "odata.maxpagesize=2" {
			t.Errorf("request %d Prefer = %q; odata.maxpagesize must be resent on every page", i, got)
		}
	}
	// The next link is used byte for byte: the double-encoded cookie survives.
	if want := "$select=fullname&$skiptoken=" + strings.ReplaceAll(skipToken, "{n}", "2"); reqs[1].RawQuery != want {
		t.Errorf("second query = %q\nwant %q", reqs[1].RawQuery, want)
	}
	if _, err := p.NextPage(context.Background()); err == nil {
		t.Error("NextPage after the last page succeeded")
	}
}

func TestPagerAllAndResume(t *testing.T) {
	t.Parallel()
	f := pagedAPI(t, 4, 3)
	ctx := context.Background()
	p := f.client.Pager("contacts", &ListOptions{Query: Query{MaxPageSize: 3}})
	n := 0
	for rec, err := range p.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("row %d", n); rec["fullname"] != want {
			t.Errorf("row %d = %v, want %q", n, rec["fullname"], want)
		}
		n++
		if n == 4 { // stop in the middle of page 2
			break
		}
	}
	checkpoint := p.NextLink()
	if !strings.Contains(checkpoint, "pagenumber=%223%22") {
		t.Fatalf("checkpoint %q does not point at page 3", checkpoint)
	}
	// Another process resumes from the saved link.
	q, err := ResumePager[named](f.client, checkpoint, &ListOptions{Query: Query{MaxPageSize: 3}})
	if err != nil {
		t.Fatal(err)
	}
	var rest []string
	for it, err := range q.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, it.FullName)
	}
	if diff := cmp.Diff([]string{"row 6", "row 7", "row 8", "row 9", "row 10", "row 11"}, rest); diff != "" {
		t.Errorf("resumed rows (-want +got):\n%s", diff)
	}
	last := f.reqs()[len(f.reqs())-1]
	if last.Header.Get("Prefer") != "odata.maxpagesize=3" {
		t.Errorf("resumed request Prefer = %q", last.Header.Get("Prefer"))
	}
}

// TestPagerStopsAtTopAcrossPages: the service ignores $top when a page size is sent (the fake
// below pages through every row, as Dataverse does), so the pager stops after Top rows itself: the
// page reaching Top is cut short, has no NextLink, and no further page is requested.
func TestPagerStopsAtTopAcrossPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name               string
		top, pageSize      int
		wantRows, wantReqs int
	}{
		{"Top inside the second page", 3, 2, 3, 2},
		{"Top at a page boundary", 4, 2, 4, 2},
		{"Top inside the first page", 1, 2, 1, 1},
		{"Top above the row count", 50, 2, 10, 5},
		{"no Top", 0, 2, 10, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := pagedAPI(t, 5, 2) // 10 rows, 2 a page, $top ignored
			p := NewPager[named](f.client, "contacts", &ListOptions{Query: Query{Top: tt.top, MaxPageSize: tt.pageSize}})
			var got []string
			for it, err := range p.All(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, it.FullName)
			}
			if len(got) != tt.wantRows || (len(got) > 0 && got[len(got)-1] != fmt.Sprintf("row %d", tt.wantRows-1)) {
				t.Errorf("rows %q, want the first %d", got, tt.wantRows)
			}
			reqs := f.reqs()
			if len(reqs) != tt.wantReqs {
				t.Errorf("%d requests, want %d", len(reqs), tt.wantReqs)
			}
			if q := reqs[0].RawQuery; (tt.top > 0) != strings.Contains(q, "$top="+strconv.Itoa(tt.top)) {
				t.Errorf("first request query %q: $top is still sent for the service to use when it can", q)
			}
			if p.More() || p.NextLink() != "" {
				t.Errorf("after Top rows: More %v, NextLink %q; want the pager finished", p.More(), p.NextLink())
			}
		})
	}
	// Page by page: the page that reaches Top is cut short and has no NextLink; a resumed pager
	// takes Top as the rows still wanted.
	f := pagedAPI(t, 5, 2)
	p := NewPager[named](f.client, "contacts", &ListOptions{Query: Query{Top: 3, MaxPageSize: 2}})
	first, err := p.NextPage(context.Background())
	if err != nil || len(first.Items) != 2 || first.NextLink == "" {
		t.Fatalf("first page: %v, %+v", err, first)
	}
	r, err := ResumePager[named](f.client, first.NextLink, &ListOptions{Query: Query{Top: 1, MaxPageSize: 2}})
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.NextPage(context.Background())
	if err != nil || len(second.Items) != 1 || second.Items[0].FullName != "row 2" || second.NextLink != "" || r.More() {
		t.Errorf("resumed page: %v, %+v, More %v; want row 2 alone and the end", err, second, r.More())
	}
	if _, err := ResumePager[named](f.client, first.NextLink, &ListOptions{Query: Query{Top: -1}}); err == nil {
		t.Error("ResumePager with a negative Top succeeded")
	}
}

func TestListReturnsOnePage(t *testing.T) {
	t.Parallel()
	f := pagedAPI(t, 2, 2)
	page, err := f.client.List(context.Background(), "contacts", &ListOptions{Query: Query{
		Select:  []string{"fullname"},
		Filter:  "lastname eq 'O''Brien'",
		OrderBy: []string{"fullname desc"},
		Top:     5,
		Count:   true,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.NextLink == "" || page.Context != "ctx" {
		t.Errorf("page = %+v", page)
	}
	want := "$select=fullname&$filter=lastname%20eq%20'O''Brien'&$orderby=fullname%20desc&$top=5&$count=true"
	if got := f.only().RawQuery; got != want {
		t.Errorf("query = %q\nwant    %q", got, want)
	}
}

func TestPageDecodesCountsAndAnnotations(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"@odata.count":12,"@Microsoft.Dynamics.CRM.totalrecordcount":5000,"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded":true,"value":[{"a":1}]}`)
	}, nil)
	page, err := f.client.List(context.Background(), "contacts", &ListOptions{Query: Query{Count: true, Annotations: []string{AnnotationTotalRecordCount, AnnotationTotalRecordCountLimitExceeded}}})
	if err != nil {
		t.Fatal(err)
	}
	if page.Count == nil || *page.Count != 12 || page.TotalRecordCount == nil || *page.TotalRecordCount != 5000 || !page.TotalRecordCountLimitExceeded {
		t.Errorf("page counts = %v %v %v", page.Count, page.TotalRecordCount, page.TotalRecordCountLimitExceeded)
	}
	if page.Items[0]["a"] != json.Number("1") {
		t.Errorf("item = %#v", page.Items[0])
	}
	want := `odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"`
	if got := f.only().Header.Get("Prefer"); got != want {
		t.Errorf("Prefer = %q", got)
	}
}

func TestPagerRefusesForeignNextLink(t *testing.T) {
	t.Parallel()
	for _, link := range []string{
		"https://evil.example/api/data/v9.2/contacts?$skiptoken=1",
		"http://{host}/org1/api/data/v9.2/contacts",
		"https://{host}/org2/api/data/v9.2/contacts",
		"https://{host}/org1/api/data/v9.2/../../../other",
		"https://user@{host}/org1/api/data/v9.2/contacts",
	} {
		t.Run(link, func(t *testing.T) {
			t.Parallel()
			var f *fakeAPI
			f = newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				l := strings.ReplaceAll(link, "{host}", strings.TrimPrefix(f.srv.URL, "https://"))
				writeJSON(w, 200, `{"value":[{"a":1}],"@odata.nextLink":`+strconv.Quote(l)+`}`)
			}, nil)
			p := f.client.Pager("contacts", nil)
			_, err := p.NextPage(context.Background())
			if err == nil || !strings.Contains(err.Error(), "refusing to send the access token") {
				t.Fatalf("NextPage error = %v, want a refusal", err)
			}
			if len(f.reqs()) != 1 {
				t.Errorf("server saw %d requests", len(f.reqs()))
			}
			if _, err := ResumePager[Record](f.client, strings.ReplaceAll(link, "{host}", strings.TrimPrefix(f.srv.URL, "https://")), nil); err == nil {
				t.Error("ResumePager accepted the foreign link")
			}
		})
	}
}

func TestPagerRejectsBadOptions(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Error("nothing should be sent") }, nil)
	for name, opts := range map[string]*ListOptions{
		"page size over 5000": {Query: Query{MaxPageSize: 5001}},
		"negative top":        {Query: Query{Top: -1}},
		"bad select":          {Query: Query{Select: []string{"name;drop"}}},
		"bad order":           {Query: Query{OrderBy: []string{"name sideways"}}},
		"bad annotation":      {Query: Query{Annotations: []string{`x",odata.track-changes`}}},
		"bad expand":          {Query: Query{Expand: []Expand{{Property: "a b"}}}},
	} {
		p := f.client.Pager("contacts", opts)
		if !p.More() {
			t.Errorf("%s: More() = false; the error must surface from NextPage", name)
		}
		if _, err := p.NextPage(context.Background()); err == nil {
			t.Errorf("%s: NextPage succeeded", name)
		}
	}
	if _, err := f.client.List(context.Background(), "Contacts?x", nil); err == nil {
		t.Error("List with a bad entity set name succeeded")
	}
}

func TestPagerRetryAfterErrorKeepsPosition(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	fail.Store(true)
	var f *fakeAPI
	f = newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("$skiptoken") == "" {
			writeJSON(w, 200, `{"value":[{"a":1}],"@odata.nextLink":"`+f.base()+`contacts?$skiptoken=2"}`)
			return
		}
		if fail.CompareAndSwap(true, false) {
			writeError(w, 400, "0x0", "bad")
			return
		}
		writeJSON(w, 200, `{"value":[{"a":2}]}`)
	}, nil)
	p := f.client.Pager("contacts", nil)
	ctx := context.Background()
	if _, err := p.NextPage(ctx); err != nil {
		t.Fatal(err)
	}
	link := p.NextLink()
	if _, err := p.NextPage(ctx); err == nil {
		t.Fatal("expected the injected failure")
	}
	if p.NextLink() != link || !p.More() {
		t.Fatalf("after a failure the pager moved: %q", p.NextLink())
	}
	page, err := p.NextPage(ctx)
	if err != nil || page.Items[0]["a"] != json.Number("2") || p.More() {
		t.Fatalf("retry: page %+v err %v More %v", page, err, p.More())
	}
}

// FuzzNextLink checks the guard on links from responses: whatever the
// service (or a saved checkpoint) says, the client only ever sends its
// token below its own Web API base.
func FuzzNextLink(f *testing.F) {
	c, err := NewClient("https://contoso.crm.dynamics.com/org1", &fakeCredential{}, nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		"https://contoso.crm.dynamics.com/org1/api/data/v9.2/contacts?$skiptoken=" + skipToken,
		"contacts?$skiptoken=1",
		"/org1/api/data/v9.2/contacts",
		"https://evil.example/org1/api/data/v9.2/x",
		"//evil.example/org1/api/data/v9.2/x",
		"https://contoso.crm.dynamics.com/org1/api/data/v9.2/%2e%2e/%2e%2e/x",
		"https://contoso.crm.dynamics.com:444/org1/api/data/v9.2/x",
		"https://contoso.crm.dynamics.com/org1/api/data/v9.2/../../../x",
	} {
		f.Add(s)
	}
	base := c.baseURL
	f.Fuzz(func(t *testing.T, link string) {
		u, err := c.resolveLink(link)
		if err != nil {
			return
		}
		if u.Scheme != "https" || u.Host != base.Host || u.User != nil {
			t.Fatalf("resolveLink(%q) = %s leaves the host", link, u)
		}
		if !strings.HasPrefix(u.EscapedPath()+"/", base.EscapedPath()) {
			t.Fatalf("resolveLink(%q) = %s leaves the base path", link, u)
		}
		for _, seg := range strings.Split(u.Path, "/") {
			if seg == ".." {
				t.Fatalf("resolveLink(%q) = %s has a .. segment", link, u)
			}
		}
		// What the pager sends must be what was checked.
		again, err := c.resolveLink(u.String())
		if err != nil || again.String() != u.String() {
			t.Fatalf("resolveLink is not stable on %q: %v %v", u, again, err)
		}
	})
}
