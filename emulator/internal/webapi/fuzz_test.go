package webapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/d365s2s/d365/emulator/internal/caller"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

func FuzzDecodeSkipToken(f *testing.F) {
	f.Add(`<cookie pagenumber="2" pagingcookie="WyJhIiwxLCJiIl0" istracking="False" />`)
	f.Add(`<cookie pagenumber="2" pagingcookie="" istracking="False" />`)
	f.Add(`<cookie page="1"><pk last="{x}"/></cookie>`)
	f.Fuzz(func(t *testing.T, token string) {
		c, page, err := decodeSkipToken(token)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest {
				t.Fatalf("error %v is not a 400", err)
			}
			return
		}
		again, err := encodeSkipToken(c, page)
		if err != nil {
			t.Fatal(err)
		}
		c2, page2, err := decodeSkipToken(again)
		if err != nil || page2 != page {
			t.Fatalf("re-encoded token %q does not decode: %v", again, err)
		}
		a, _ := c.MarshalText()
		b, _ := c2.MarshalText()
		if string(a) != string(b) {
			t.Fatalf("cursor changed in a round trip: %s vs %s", a, b)
		}
	})
}

func FuzzParseKey(f *testing.F) {
	for _, s := range []string{
		"7eb682f1-ca75-e511-80d4-00155d2a68d1", "7EB682F1-CA75-E511-80D4-00155D2A68D1", "emailaddress1='a@b.c'",
		"emailaddress1='O''Brien',lastname='x'", "", "(", "'", "a=", "=1", "x=1,y='2'",
		"contactid=7eb682f1-ca75-e511-80d4-00155d2a68d1", "contactid='7eb682f1-ca75-e511-80d4-00155d2a68d1'",
	} {
		f.Add(s)
	}
	contact, _ := schema.Builtin().Table("contact")
	f.Fuzz(func(t *testing.T, text string) {
		k, err := parseKey(contact, text)
		if err != nil {
			if _, ok := toAPIError(err); !ok {
				t.Fatalf("unclassified error %T: %v", err, err)
			}
			return
		}
		// parseKey allows white space around a pair's name and value (OData's BWS), so the
		// pair is looked for without it.
		compact := strings.Join(strings.Fields(strings.ToLower(text)), "")
		if k.alt == nil && k.id.String() != strings.ToLower(text) && !strings.Contains(compact, "contactid="+k.id.String()) {
			t.Fatalf("key %q parsed as id %s", text, k.id)
		}
	})
}

func FuzzJSONValue(f *testing.F) {
	for _, s := range []string{`"x"`, `1`, `-1.5e3`, `true`, `null`, `"2024-01-02"`, `"1,2"`, `{}`, `[1]`, `"7eb682f1-ca75-e511-80d4-00155d2a68d1"`, `1e400`} {
		f.Add(s)
	}
	account, _ := schema.Builtin().Table("account")
	contact, _ := schema.Builtin().Table("contact")
	var cols []*schema.Column
	for _, t := range []*schema.Table{account, contact} {
		for _, c := range t.Columns {
			if !c.Internal && !c.IsLookup() {
				cols = append(cols, c)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, c := range cols {
			_, _ = jsonValue(c, json.RawMessage(raw))
		}
	})
}

// asApp returns h with every request authenticated as the application app.
func asApp(h http.Handler, app string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(caller.NewContext(r.Context(), caller.Caller{AppID: app, Authenticated: true})))
	})
}

// newAdminHandler returns a Web API on a new in-memory store, every
// request to it authenticated as an application user with the System
// Administrator role, and that store.
func newAdminHandler(tb testing.TB) (http.Handler, *store.Store) {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "", nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	const app = "30000000-0000-0000-0000-000000000001"
	if _, err := st.EnsureApplicationUser(ctx, store.ApplicationUser{ApplicationID: app, RoleNames: []string{store.SystemAdministrator}}); err != nil {
		tb.Fatal(err)
	}
	api, err := New(Options{Store: st, OrgURL: "https://org.example", AuthorizationURI: "https://login.example/t/oauth2/authorize"})
	if err != nil {
		tb.Fatal(err)
	}
	return asApp(api, app), st
}

// postSeedContact creates one contact through h, so that queries have a
// row to read.
func postSeedContact(h http.Handler) {
	seed := httptest.NewRequest(http.MethodPost, "https://org.example/api/data/v9.2/contacts", strings.NewReader(`{"firstname":"a","lastname":"b","annualincome":5}`))
	seed.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(httptest.NewRecorder(), seed)
}

// serveGET sends GET /api/data/v9.2/<path>?<rawQuery> to h as given,
// without the escaping a URL string would get.
func serveGET(h http.Handler, path, rawQuery string) *httptest.ResponseRecorder {
	u := &url.URL{Scheme: "https", Host: "org.example", Path: "/api/data/v9.2/" + path, RawQuery: rawQuery}
	r := httptest.NewRequest(http.MethodGet, "https://org.example/", nil)
	r.URL = u
	r.RequestURI = u.RequestURI()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// requireErrorEnvelope fails t unless w's body is a Web API error with a
// message; request names the request in the failure.
func requireErrorEnvelope(t *testing.T, w *httptest.ResponseRecorder, request string) {
	t.Helper()
	var env struct {
		Error *struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Error == nil || env.Error.Message == "" {
		t.Fatalf("%s: %d without an error envelope: %s", request, w.Code, w.Body)
	}
}

// FuzzCollectionQuery sends arbitrary query strings to a collection: the
// handler must answer every one with a Dataverse status, never 500.
func FuzzCollectionQuery(f *testing.F) {
	for _, s := range []string{
		"$select=fullname&$filter=lastname eq 'x'",
		"$filter=contains(fullname,'a') and (numberofchildren gt 1 or annualincome le 10.5)",
		"$filter=parentcustomerid_account/name eq 'x'",
		"$filter=Contact_Tasks/any(t:t/subject eq 'a')",
		"$filter=Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=[\"a\"])",
		"$filter=Microsoft.Dynamics.CRM.LastXDays(PropertyName='createdon',PropertyValue=@p)&@p=3",
		"$orderby=lastname desc,createdon&$top=3",
		"$filter=contactid eq 7eb682f1-ca75-e511-80d4-00155d2a68d1",
		"$filter=birthdate ge 2020-01-01 and createdon lt 2030-01-01T00:00:00Z",
		"$filter=@a&@a=@a",
		"$select=fullname&$expand=parentcustomerid_account($select=name;$expand=primarycontactid($select=fullname))",
		"$expand=Contact_Tasks($select=subject;$filter=statecode eq 0;$orderby=subject;$top=2),ownerid,owninguser/$ref",
		"$count=true&$skiptoken=%3Ccookie%20pagenumber%3D%222%22%20pagingcookie%3D%22WyJhIl0%22%20istracking%3D%22False%22%20%2F%3E",
		// A lookup order: the cursor holds the name, the GUID, the id.
		"$orderby=_parentcustomerid_value desc,_ownerid_value&$skiptoken=%3Ccookie%20pagenumber%3D%222%22%20pagingcookie%3D%22WyJiIixudWxsLCJhIiwiYSIsIngiXQ%22%20istracking%3D%22False%22%20%2F%3E",
	} {
		f.Add(s)
	}
	h, _ := newAdminHandler(f)
	postSeedContact(h)
	f.Fuzz(func(t *testing.T, rawQuery string) {
		w := serveGET(h, "contacts", rawQuery)
		if w.Code >= 500 && w.Code != http.StatusNotImplemented {
			t.Fatalf("GET contacts?%s: %d %s", rawQuery, w.Code, w.Body)
		}
		if w.Code != http.StatusOK {
			requireErrorEnvelope(t, w, "GET contacts?"+rawQuery)
		}
	})
}

func FuzzParseBatch(f *testing.F) {
	f.Add("--b\r\nContent-Type: application/http\r\n\r\nGET /api/data/v9.2/contacts HTTP/1.1\r\n\r\n\r\n--b--\r\n")
	f.Add("--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nPOST contacts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{}\r\n--c--\r\n--b--\r\n")
	f.Add("--b\nContent-Type: application/http\n\nGET x HTTP/1.1\n\n--b--\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		parts, err := parseBatch([]byte(body), "b")
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest {
				t.Fatalf("error %v is not a 400", err)
			}
			return
		}
		n := 0
		for _, p := range parts {
			if p.request == nil && p.changeset == nil {
				continue
			}
			n += 1 + len(p.changeset)
		}
		if n > 2*maxBatchRequests+len(parts) {
			t.Fatalf("%d requests accepted", n)
		}
	})
}

// FuzzFetchXML sends arbitrary FetchXML to a collection: the handler
// answers every query with a Dataverse status in the error envelope, never
// a 500. The parser alone is fuzzed by fetchxml.FuzzParse.
func FuzzFetchXML(f *testing.F) {
	for _, s := range []string{
		`<fetch><entity name="contact"><attribute name="fullname" /></entity></fetch>`,
		`<fetch count="2" page="2" paging-cookie="&lt;cookie page=&quot;1&quot;&gt;&lt;contactid last=&quot;{00000000-0000-0000-0000-000000000001}&quot; /&gt;&lt;/cookie&gt;"><entity name="contact" /></fetch>`,
		`<fetch top="5" distinct="true"><entity name="contact"><all-attributes /><order attribute="lastname" descending="true" /></entity></fetch>`,
		`<fetch><entity name="contact"><filter type="or"><condition attribute="lastname" operator="in"><value>a</value><value>b</value></condition><filter><condition attribute="createdon" operator="last-x-days" value="3" /></filter></filter></entity></fetch>`,
		`<fetch><entity name="contact"><link-entity name="account" from="accountid" to="parentcustomerid" alias="a" link-type="outer"><attribute name="name" /><filter><condition attribute="name" operator="like" value="%x%" /></filter></link-entity><filter><condition entityname="a" attribute="accountid" operator="null" /></filter></entity></fetch>`,
		`<fetch aggregate="true"><entity name="contact"><attribute name="numberofchildren" alias="k" groupby="true" /><attribute name="annualincome" alias="s" aggregate="sum" /><attribute name="createdon" alias="m" groupby="true" dategrouping="month" /><order alias="k" /></entity></fetch>`,
		`<fetch><entity name="contact"><attribute name="lastname" alias="x" /><filter><condition attribute="numberofchildren" operator="between"><value>1</value><value>3</value></condition></filter></entity></fetch>`,
		`<?xml version="1.0"?><fetch><entity name="contact" /></fetch>`,
		`<fetch><entity name="contact"><filter><condition attribute="modifiedon" operator="eq" valueof="createdon" /></filter></entity></fetch>`,
		`<fetch count="1" page="2" paging-cookie="&lt;cookie page=&quot;1&quot;&gt;&lt;gendercodename last=&quot;Male&quot; /&gt;&lt;gendercode last=&quot;1&quot; /&gt;&lt;parentcustomeridname /&gt;&lt;parentcustomerid /&gt;&lt;contactid last=&quot;{00000000-0000-0000-0000-000000000001}&quot; /&gt;&lt;/cookie&gt;"><entity name="contact"><order attribute="gendercode" /><order attribute="parentcustomerid" descending="true" /></entity></fetch>`,
		`<fetch useraworderby="true"><entity name="contact"><order attribute="gendercode" /><link-entity name="account" from="accountid" to="parentcustomerid" alias="a"><order attribute="ownerid" /></link-entity></entity></fetch>`,
	} {
		f.Add(s)
	}
	h, _ := newAdminHandler(f)
	postSeedContact(h)
	f.Fuzz(func(t *testing.T, fetchXML string) {
		r := httptest.NewRequest(http.MethodGet, "https://org.example/api/data/v9.2/contacts?fetchXml="+url.QueryEscape(fetchXML), nil)
		r.Header.Set("Prefer", `odata.include-annotations="*"`)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 && w.Code != http.StatusNotImplemented {
			t.Fatalf("fetchXml=%q: %d %s", fetchXML, w.Code, w.Body)
		}
		if w.Code != http.StatusOK {
			requireErrorEnvelope(t, w, fmt.Sprintf("fetchXml=%q", fetchXML))
		}
	})
}
