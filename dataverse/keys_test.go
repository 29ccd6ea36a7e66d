package dataverse

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAlternateKeySegment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key     AlternateKey
		want    string // escaped, as on the wire
		decoded string // what the server reads after decoding the path
	}{
		{AlternateKey{"accountnumber": "ABC123"}, "(accountnumber='ABC123')", "(accountnumber='ABC123')"},
		{AlternateKey{"firstname": "Joe", "emailaddress1": "abc@example.com"}, "(emailaddress1='abc%40example.com',firstname='Joe')", "(emailaddress1='abc@example.com',firstname='Joe')"},
		{AlternateKey{"name": "O'Brien / A+B & C #1? Zoë"}, "(name='O''Brien%20%2F%20A%2BB%20%26%20C%20%231%3F%20Zo%C3%AB')", "(name='O''Brien / A+B & C #1? Zoë')"},
		{AlternateKey{"_primarycontactid_value": idA}, "(_primarycontactid_value=" + idA.String() + ")", "(_primarycontactid_value=" + idA.String() + ")"},
		{AlternateKey{"example_key1": 2, "example_key2": 2}, "(example_key1=2,example_key2=2)", "(example_key1=2,example_key2=2)"},
		// A time key: at most 7 fractional digits, and ':' percent-encoded.
		{AlternateKey{"sample_when": time.Date(2024, 5, 6, 7, 8, 9, 312697919, time.UTC)}, "(sample_when=2024-05-06T07%3A08%3A09.3126979Z)", "(sample_when=2024-05-06T07:08:09.3126979Z)"},
	}
	for _, tt := range tests {
		got, err := tt.key.segment()
		if err != nil {
			t.Errorf("%v: %v", tt.key, err)
			continue
		}
		if got != tt.want {
			t.Errorf("segment = %s, want %s", got, tt.want)
		}
		if dec, _ := url.PathUnescape(got); dec != tt.decoded {
			t.Errorf("decoded = %s, want %s", dec, tt.decoded)
		}
	}
	for name, k := range map[string]AlternateKey{
		"empty": {}, "bad column": {"a b": 1}, "null value": {"a": nil}, "list value": {"a": []string{"x"}}, "struct": {"a": struct{}{}},
	} {
		if _, err := k.segment(); err == nil {
			t.Errorf("%s: segment succeeded", name)
		}
	}
}

func TestByKeyOperationsOnTheWire(t *testing.T) {
	t.Parallel()
	key := AlternateKey{"emailaddress1": "o'brien+test@example.com"}
	wantPath := testBasePath + "contacts(emailaddress1='o''brien%2Btest%40example.com')"
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != wantPath {
			t.Errorf("path = %s, want %s", r.URL.EscapedPath(), wantPath)
		}
		if want := "/org1/api/data/v9.2/contacts(emailaddress1='o''brien+test@example.com')"; r.URL.Path != want {
			t.Errorf("decoded path = %s, want %s", r.URL.Path, want)
		}
		switch r.Method {
		case "GET":
			writeJSON(w, 200, `{"contactid":"`+idA.String()+`"}`)
		default:
			w.Header().Set("OData-EntityId", "https://x/api/data/v9.2/contacts("+idA.String()+")")
			w.WriteHeader(http.StatusNoContent)
		}
	}, nil)
	ctx := context.Background()
	var rec Record
	if err := f.client.RetrieveByKey(ctx, "contacts", key, &rec, nil); err != nil {
		t.Fatal(err)
	}
	res, err := f.client.UpdateByKey(ctx, "contacts", key, Record{"lastname": "x"}, nil)
	if err != nil || res.ID != idA {
		t.Fatalf("UpdateByKey = %+v, %v", res, err)
	}
	if _, err := f.client.UpsertByKey(ctx, "contacts", key, Record{"lastname": "x"}, &UpsertOptions{Mode: UpsertCreateOnly}); err != nil {
		t.Fatal(err)
	}
	if err := f.client.DeleteByKey(ctx, "contacts", key, nil); err != nil {
		t.Fatal(err)
	}
	rs := f.reqs()
	methods := []string{}
	for _, r := range rs {
		methods = append(methods, r.Method+" If-Match="+r.Header.Get("If-Match")+" If-None-Match="+r.Header.Get("If-None-Match"))
	}
	want := "GET If-Match= If-None-Match=|PATCH If-Match=* If-None-Match=|PATCH If-Match= If-None-Match=*|DELETE If-Match= If-None-Match="
	if got := strings.Join(methods, "|"); got != want {
		t.Errorf("requests:\n got %s\nwant %s", got, want)
	}
}

func TestBindHelpers(t *testing.T) {
	t.Parallel()
	if got, err := Bind("accounts", idA); err != nil || got != "/accounts("+idA.String()+")" {
		t.Errorf("Bind = %q, %v", got, err)
	}
	if got, err := BindKey("accounts", AlternateKey{"accountnumber": "A/1"}); err != nil || got != "/accounts(accountnumber='A%2F1')" {
		t.Errorf("BindKey = %q, %v", got, err)
	}
	if _, err := Bind("accounts", [16]byte{}); err == nil {
		t.Error("Bind accepted the zero UUID")
	}
	r := Record{"firstname": "A"}.Bind("parentcustomerid_account", "accounts", idA).Unbind("ownerid")
	want := Record{"firstname": "A", "parentcustomerid_account@odata.bind": "/accounts(" + idA.String() + ")", "ownerid@odata.bind": nil}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%s = %v, want %v", k, r[k], v)
		}
	}
}

// TestUpdateByKeyIDFromRepresentation: a PATCH with return=representation answers 200 with the
// record and no OData-EntityId header (webapi.md §1.2), so UpdateByKey must find the id in the
// representation's primary key, as its documentation promises. (Found by the end-to-end tests
// against the emulator.)
func TestUpdateByKeyIDFromRepresentation(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Prefer") != "return=representation" {
			t.Errorf("Prefer = %q", r.Header.Get("Prefer"))
		}
		w.Header().Set("ETag", `W/"7"`)
		writeJSON(w, http.StatusOK, `{"@odata.etag":"W/\"7\"","contactid":"`+idA.String()+`","lastname":"x"}`)
	}, nil)
	res, err := f.client.UpdateByKey(context.Background(), "contacts", AlternateKey{"emailaddress1": "a@example.com"},
		Record{"lastname": "x"}, &UpdateOptions{ReturnRepresentation: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != idA || res.EntityID != "" || res.Created || res.ETag != `W/"7"` {
		t.Errorf("UpdateByKey = %+v, want ID %v from the representation", res, idA)
	}
}
