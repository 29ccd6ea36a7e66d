package dataverse

import (
	"context"
	"net/http"
	"testing"
)

func TestUpsertGuards(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		opts                 *UpsertOptions
		ifMatch, ifNoneMatch string
	}{
		{"create or update", nil, "", ""},
		{"create only", &UpsertOptions{Mode: UpsertCreateOnly}, "", "*"},
		{"update only", &UpsertOptions{Mode: UpsertUpdateOnly}, "*", ""},
		{"with etag", &UpsertOptions{IfMatch: `W/"3"`}, `W/"3"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, nil)
			res, err := f.client.Upsert(context.Background(), "contacts", idA, Record{"firstname": "A"}, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.ID != idA {
				t.Errorf("ID = %s", res.ID)
			}
			r := f.only()
			if r.Method != "PATCH" || r.Path != testBasePath+"contacts("+idA.String()+")" {
				t.Errorf("request = %s %s", r.Method, r.Path)
			}
			if r.Header.Get("If-Match") != tt.ifMatch || r.Header.Get("If-None-Match") != tt.ifNoneMatch {
				t.Errorf("If-Match %q If-None-Match %q, want %q %q", r.Header.Get("If-Match"), r.Header.Get("If-None-Match"), tt.ifMatch, tt.ifNoneMatch)
			}
		})
	}
}

func TestUpsertReportsCreatedOrUpdated(t *testing.T) {
	t.Parallel()
	status := http.StatusCreated
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `W/"1"`)
		writeJSON(w, status, `{"@odata.etag":"W/\"1\"","contactid":"`+idA.String()+`"}`)
	}, nil)
	res, err := f.client.UpsertByKey(context.Background(), "contacts", AlternateKey{"emailaddress1": "a@b"}, Record{"firstname": "A"}, &UpsertOptions{ReturnRepresentation: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.ID != idA || res.ETag != `W/"1"` {
		t.Errorf("result = %+v", res)
	}
	if got := f.only().Header.Get("Prefer"); got != "return=representation" {
		t.Errorf("Prefer = %q", got)
	}
}

func TestUpsertDuplicateIsTyped412(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusPreconditionFailed, CodeDuplicateRecord, "A record with matching key values already exists.")
	}, nil)
	_, err := f.client.Upsert(context.Background(), "contacts", idA, Record{"a": 1}, &UpsertOptions{Mode: UpsertCreateOnly})
	if !IsPreconditionFailed(err) || !HasCode(err, CodeDuplicateRecord) {
		t.Fatalf("error = %v", err)
	}
	if _, err := f.client.Upsert(context.Background(), "contacts", idA, Record{"a": 1}, &UpsertOptions{Mode: UpsertCreateOnly, IfMatch: "x"}); err == nil {
		t.Error("create-only with an ETag was accepted")
	}
}
