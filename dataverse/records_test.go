package dataverse

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func TestCreateReturnsIDFromEntityIDHeader(t *testing.T) {
	t.Parallel()
	var f *fakeAPI
	f = newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("OData-EntityId", f.base()+"contacts("+idA.String()+")")
		w.WriteHeader(http.StatusNoContent)
	}, nil)
	res, err := f.client.Create(context.Background(), "contacts", map[string]any{
		"firstname":                           "Ada",
		"parentcustomerid_account@odata.bind": "/accounts(" + idB.String() + ")",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &WriteResult{ID: idA, EntityID: f.base() + "contacts(" + idA.String() + ")", Created: true}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	req := f.only()
	if req.Method != "POST" || req.Path != testBasePath+"contacts" || req.RawQuery != "" {
		t.Errorf("request = %s %s?%s, want POST %scontacts", req.Method, req.Path, req.RawQuery, testBasePath)
	}
	if got := req.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := req.Header.Get("Prefer"); got != "" {
		t.Errorf("Prefer = %q, want none", got)
	}
	wantBody := `{"firstname":"Ada","parentcustomerid_account@odata.bind":"/accounts(` + idB.String() + `)"}`
	if string(req.Body) != wantBody {
		t.Errorf("body = %s, want %s", req.Body, wantBody)
	}
}

func TestCreateWithRepresentation(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `W/"1001"`)
		w.Header().Set("Preference-Applied", "return=representation")
		writeJSON(w, http.StatusCreated, `{"@odata.context":"x","@odata.etag":"W/\"1001\"","contactid":"`+idA.String()+`","firstname":"Ada","numberofchildren":12345678901234567}`)
	}, nil)
	res, err := f.client.Create(context.Background(), "contacts", Record{"firstname": "Ada"}, &CreateOptions{
		ReturnRepresentation: true,
		Select:               []string{"firstname", "contactid"},
		Annotations:          []string{AnnotationFormattedValue},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != idA || !res.Created || res.ETag != `W/"1001"` {
		t.Errorf("result = %+v, want id %s, created, ETag W/\"1001\"", res, idA)
	}
	if got := res.Record["numberofchildren"]; got != json.Number("12345678901234567") {
		t.Errorf("numbers must keep every digit: got %#v", got)
	}
	req := f.only()
	if req.RawQuery != "$select=firstname%2Ccontactid" {
		t.Errorf("query = %q", req.RawQuery)
	}
	if got, want := req.Header.Get("Prefer"), `return=representation,odata.include-annotations="OData.Community.Display.V1.FormattedValue"`; got != want {
		t.Errorf("Prefer = %q, want %q", got, want)
	}
}

func TestCreateRejectsBadInputBeforeSending(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Error("nothing should be sent") }, nil)
	ctx := context.Background()
	tests := []struct {
		name   string
		set    string
		record any
		opts   *CreateOptions
	}{
		{"empty set", "", Record{"a": 1}, nil},
		{"set with slash", "contacts/x", Record{"a": 1}, nil},
		{"nil record", "contacts", nil, nil},
		{"invalid raw JSON", "contacts", json.RawMessage(`{"a":`), nil},
		{"unencodable", "contacts", map[string]any{"f": func() {}}, nil},
		{"select without representation", "contacts", Record{"a": 1}, &CreateOptions{Select: []string{"a"}}},
		{"bad select name", "contacts", Record{"a": 1}, &CreateOptions{ReturnRepresentation: true, Select: []string{"a,b"}}},
	}
	for _, tt := range tests {
		if _, err := f.client.Create(ctx, tt.set, tt.record, tt.opts); err == nil {
			t.Errorf("%s: Create succeeded, want an error", tt.name)
		}
	}
}

type contact struct {
	ETag     azcore.ETag `json:"@odata.etag"`
	ID       uuid.UUID   `json:"contactid"`
	FullName string      `json:"fullname"`
}

func TestRetrieve(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"@odata.etag":"W/\"7\"","contactid":"`+idA.String()+`","fullname":"Ada Lovelace","_parentcustomerid_value":"`+idB.String()+`","_parentcustomerid_value@OData.Community.Display.V1.FormattedValue":"Contoso","_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":"account"}`)
	}, nil)
	var c contact
	err := f.client.Retrieve(context.Background(), "contacts", idA, &c, &RetrieveOptions{
		Select:      []string{"fullname", "_parentcustomerid_value"},
		Annotations: []string{AnnotationsAll},
		Expand:      []Expand{{Property: "parentcustomerid_account", Select: []string{"name"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(contact{ETag: `W/"7"`, ID: idA, FullName: "Ada Lovelace"}, c); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	req := f.only()
	if want := testBasePath + "contacts(" + idA.String() + ")"; req.Method != "GET" || req.Path != want {
		t.Errorf("request = %s %s, want GET %s", req.Method, req.Path, want)
	}
	if want := "$select=fullname%2C_parentcustomerid_value&$expand=parentcustomerid_account(%24select%3Dname)"; req.RawQuery != want {
		t.Errorf("query = %q, want %q", req.RawQuery, want)
	}
	if got := req.Header.Get("Prefer"); got != `odata.include-annotations="*"` {
		t.Errorf("Prefer = %q", got)
	}
}

func TestRetrieveConditional(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `W/"7"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeJSON(w, 200, `{"fullname":"changed"}`)
	}, nil)
	rec := Record{"fullname": "old"}
	err := f.client.Retrieve(context.Background(), "contacts", idA, &rec, &RetrieveOptions{IfNoneMatch: `W/"7"`})
	if !errors.Is(err, ErrNotModified) {
		t.Fatalf("Retrieve error = %v, want ErrNotModified", err)
	}
	if rec["fullname"] != "old" {
		t.Errorf("out was modified on 304: %v", rec)
	}
}

func TestRetrieveRejectsNilIDAndOut(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Error("nothing should be sent") }, nil)
	if err := f.client.Retrieve(context.Background(), "contacts", uuid.Nil, &Record{}, nil); err == nil {
		t.Error("Retrieve with uuid.Nil succeeded")
	}
	if err := f.client.Retrieve(context.Background(), "contacts", idA, nil, nil); err == nil {
		t.Error("Retrieve with nil out succeeded")
	}
}

func TestUpdateSendsIfMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        *UpdateOptions
		wantIfMatch string
	}{
		{"update-only by default", nil, "*"},
		{"optimistic concurrency", &UpdateOptions{IfMatch: `W/"42"`}, `W/"42"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, nil)
			res, err := f.client.Update(context.Background(), "contacts", idA, map[string]string{"lastname": "O'Brien"}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.ID != idA || res.Created {
				t.Errorf("result = %+v", res)
			}
			req := f.only()
			if req.Method != "PATCH" || req.Path != testBasePath+"contacts("+idA.String()+")" {
				t.Errorf("request = %s %s", req.Method, req.Path)
			}
			if got := req.Header.Get("If-Match"); got != tt.wantIfMatch {
				t.Errorf("If-Match = %q, want %q", got, tt.wantIfMatch)
			}
			if string(req.Body) != `{"lastname":"O'Brien"}` {
				t.Errorf("body = %s", req.Body)
			}
		})
	}
}

func TestUpdateStaleETagIsPreconditionFailed(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusPreconditionFailed, CodeConcurrencyVersionMismatch, "The version of the existing record doesn't match the RowVersion property provided.")
	}, nil)
	_, err := f.client.Update(context.Background(), "contacts", idA, Record{"a": 1}, &UpdateOptions{IfMatch: `W/"1"`})
	if !IsPreconditionFailed(err) || !HasCode(err, CodeConcurrencyVersionMismatch) {
		t.Fatalf("Update error = %v, want 412 %s", err, CodeConcurrencyVersionMismatch)
	}
	if n := len(f.reqs()); n != 1 {
		t.Errorf("a 412 was sent %d times, want 1", n)
	}
}

func TestUpdateWithRepresentation(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `W/"9"`)
		writeJSON(w, 200, `{"@odata.etag":"W/\"9\"","contactid":"`+idA.String()+`","lastname":"B"}`)
	}, nil)
	res, err := f.client.Update(context.Background(), "contacts", idA, Record{"lastname": "B"}, &UpdateOptions{ReturnRepresentation: true, Select: []string{"lastname"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ETag != `W/"9"` || res.Record["lastname"] != "B" || res.Created {
		t.Errorf("result = %+v", res)
	}
	req := f.only()
	if req.Header.Get("Prefer") != "return=representation" || req.RawQuery != "$select=lastname" {
		t.Errorf("Prefer = %q, query = %q", req.Header.Get("Prefer"), req.RawQuery)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, nil)
	ctx := context.Background()
	if err := f.client.Delete(ctx, "contacts", idA, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Delete(ctx, "contacts", idA, &DeleteOptions{IfMatch: `W/"3"`}); err != nil {
		t.Fatal(err)
	}
	rs := f.reqs()
	if len(rs) != 2 {
		t.Fatalf("%d requests", len(rs))
	}
	for i, want := range []string{"", `W/"3"`} {
		if rs[i].Method != "DELETE" || rs[i].Path != testBasePath+"contacts("+idA.String()+")" || rs[i].Header.Get("If-Match") != want || len(rs[i].Body) != 0 {
			t.Errorf("request %d = %s %s If-Match %q body %q", i, rs[i].Method, rs[i].Path, rs[i].Header.Get("If-Match"), rs[i].Body)
		}
	}
}

func TestGuessPrimaryKey(t *testing.T) {
	t.Parallel()
	for set, want := range map[string]string{
		"contacts": "contactid", "accounts": "accountid", "opportunities": "opportunityid",
		"addresses": "addressid", "businessunits": "businessunitid", "": "",
	} {
		if got := guessPrimaryKey(set); got != want {
			t.Errorf("guessPrimaryKey(%q) = %q, want %q", set, got, want)
		}
	}
}

func TestIDFromEntityURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]uuid.UUID{
		"https://x/api/data/v9.2/contacts(" + idA.String() + ")": idA,
		"https://x/api/data/v9.2/contacts(emailaddress1='a')":    uuid.Nil,
		"": uuid.Nil,
		"https://x/api/data/v9.2/contacts(" + idA.String(): uuid.Nil,
	} {
		if got := idFromEntityURL(in); got != want {
			t.Errorf("idFromEntityURL(%q) = %s, want %s", in, got, want)
		}
	}
}
