package dataverse

import (
	"context"
	"io"
	"net/http"
	"testing"
)

func TestCount(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "\xef\xbb\xbf42")
	}, nil)
	n, err := f.client.Count(context.Background(), "contacts", &CountOptions{Filter: Eq("lastname", "O'Brien").String()})
	if err != nil || n != 42 {
		t.Fatalf("Count = %d, %v", n, err)
	}
	r := f.only()
	if r.Path != testBasePath+"contacts/$count" || r.RawQuery != "$filter=lastname%20eq%20'O''Brien'" {
		t.Errorf("request = %s?%s", r.Path, r.RawQuery)
	}
}

func TestCountRejectsNonNumbers(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "many") }, nil)
	if _, err := f.client.Count(context.Background(), "contacts", nil); err == nil {
		t.Error("Count accepted a non-number")
	}
}
