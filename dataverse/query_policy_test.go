package dataverse

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
)

// deferQueryOptions are plain options: newPipeline installs the query
// policies in every Client.
func deferQueryOptions() *ClientOptions { return &ClientOptions{} }

// TestDeferQueryPolicies: with the pair in the pipeline every try still
// sends the full query and the request log still shows it, while the
// retry policy's per-try line shows no query. Not parallel: the log
// listener is process-wide.
func TestDeferQueryPolicies(t *testing.T) {
	var mu sync.Mutex
	var retryLines, requestLines []string
	azlog.SetListener(func(ev azlog.Event, msg string) {
		mu.Lock()
		defer mu.Unlock()
		if strings.Contains(msg, "logging-probe.invalid") {
			return // NewClient's probe (lean_probe.go)
		}
		switch ev {
		case azlog.EventRetryPolicy:
			retryLines = append(retryLines, msg)
		case azlog.EventRequest:
			requestLines = append(requestLines, msg)
		}
	})
	t.Cleanup(func() { azlog.SetListener(nil) })

	tries := 0
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		tries++
		if tries == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"contactid":"7eb682f1-ca75-e511-80d4-00155d2a68d1","fullname":"Ada"}`))
	}, deferQueryOptions())
	var got contact
	err := f.client.Retrieve(context.Background(), "contacts", idA, &got, &RetrieveOptions{
		Select:         []string{"fullname", "emailaddress1"},
		RequestOptions: RequestOptions{Tag: "bench"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.FullName != "Ada" || got.ID != idA {
		t.Errorf("decoded %+v", got)
	}
	const wantQuery = "$select=fullname%2Cemailaddress1&tag=bench"
	if len(f.requests) != 2 {
		t.Fatalf("%d requests, want 2 (a 503, then the retry)", len(f.requests))
	}
	for i, r := range f.requests {
		if r.RawQuery != wantQuery {
			t.Errorf("try %d sent query %q, want %q", i+1, r.RawQuery, wantQuery)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	tryLines := 0
	for _, l := range retryLines {
		if strings.Contains(l, "=====> Try=") {
			tryLines++
			if strings.Contains(l, "?") || strings.Contains(l, "select") {
				t.Errorf("retry policy line shows the query: %s", l)
			}
		}
	}
	if tryLines != 2 {
		t.Errorf("%d retry policy try lines, want 2: %q", tryLines, retryLines)
	}
	if len(requestLines) != 2 {
		t.Fatalf("%d request log lines, want 2", len(requestLines))
	}
	for _, l := range requestLines {
		if !strings.Contains(l, "%24select=fullname%2Cemailaddress1&tag=REDACTED") { // as the sanitiser re-encodes it
			t.Errorf("request log line lacks the query: %s", l)
		}
	}
}

// TestDeferQueryPoliciesKeepCallerRequest: the request the caller built
// has its query back after the call, and a request without a query is
// left alone.
func TestDeferQueryPoliciesKeepCallerRequest(t *testing.T) {
	for _, path := range []string{"contacts?$top=1", "WhoAmI"} {
		f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"value":[]}`))
		}, deferQueryOptions())
		resp, err := f.client.Do(context.Background(), http.MethodGet, path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		closeBody(resp)
		_, wantQuery, _ := strings.Cut(path, "?")
		if got := f.requests[0].RawQuery; got != wantQuery {
			t.Errorf("GET %s sent query %q, want %q", path, got, wantQuery)
		}
		if got := resp.Request.URL.RawQuery; got != wantQuery {
			t.Errorf("GET %s: the response's request has query %q, want %q", path, got, wantQuery)
		}
	}
}
