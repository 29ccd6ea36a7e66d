package dataverse

import (
	"context"
	"net/http"
	"testing"
)

func TestSingleProperty(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" {
			writeJSON(w, 200, `{"@odata.context":"x","value":"Adventure Works"}`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}, nil)
	ctx := context.Background()
	var name string
	if err := f.client.GetProperty(ctx, "accounts", idA, "name", &name, nil); err != nil || name != "Adventure Works" {
		t.Fatalf("GetProperty = %q, %v", name, err)
	}
	if err := f.client.SetProperty(ctx, "accounts", idA, "name", "New name", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.client.ClearProperty(ctx, "accounts", idA, "description", nil); err != nil {
		t.Fatal(err)
	}
	rs := f.reqs()
	rec := testBasePath + "accounts(" + idA.String() + ")"
	checks := []struct{ method, path, body string }{
		{"GET", rec + "/name", ""},
		{"PUT", rec + "/name", `{"value":"New name"}`},
		{"DELETE", rec + "/description", ""},
	}
	for i, c := range checks {
		if rs[i].Method != c.method || rs[i].Path != c.path || string(rs[i].Body) != c.body {
			t.Errorf("request %d = %s %s %s, want %s %s %s", i, rs[i].Method, rs[i].Path, rs[i].Body, c.method, c.path, c.body)
		}
	}
	if err := f.client.SetProperty(ctx, "accounts", idA, "name/x", 1, nil); err == nil {
		t.Error("SetProperty with a bad name succeeded")
	}
}

func TestGetPropertyNullAnswers(t *testing.T) {
	t.Parallel()
	// OData answers a null property with 204; some services send {"value":null}. Both are null.
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter)
	}{
		{"204 No Content", func(w http.ResponseWriter) { w.WriteHeader(http.StatusNoContent) }},
		{"value null", func(w http.ResponseWriter) { writeJSON(w, 200, `{"@odata.context":"x","value":null}`) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { tc.answer(w) }, nil)
			title := new(string)
			*title = "stale"
			if err := f.client.GetProperty(context.Background(), "contacts", idA, "jobtitle", &title, nil); err != nil {
				t.Fatalf("GetProperty: %v", err)
			}
			if title != nil {
				t.Errorf("GetProperty of a null column = %q, want nil", *title)
			}
		})
	}
}
