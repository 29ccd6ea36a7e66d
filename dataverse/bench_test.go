package dataverse

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
)

// The client's overhead per request over a bare net/http call to the same
// TLS endpoint with a static token: the azcore pipeline (telemetry, retry
// bookkeeping, bearer policy, logging checks), URL building and decoding.
//
//	go test -run '^$' -bench . -benchmem ./dataverse

const benchBody = `{"@odata.context":"x","@odata.etag":"W/\"1\"","contactid":"7eb682f1-ca75-e511-80d4-00155d2a68d1","fullname":"Ada Lovelace","emailaddress1":"ada@example.com"}`

func benchServer(b *testing.B) *fakeAPI {
	f := newFakeAPI(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
		_, _ = w.Write([]byte(benchBody))
	}, nil)
	f.requests = nil
	return f
}

func BenchmarkClientRetrieve(b *testing.B) {
	f := benchServer(b)
	ctx := context.Background()
	opts := &RetrieveOptions{Select: []string{"fullname", "emailaddress1"}}
	b.ReportAllocs()
	for b.Loop() {
		var c contact
		if err := f.client.Retrieve(ctx, "contacts", idA, &c, opts); err != nil {
			b.Fatal(err)
		}
		f.mu.Lock()
		f.requests = f.requests[:0]
		f.mu.Unlock()
	}
}

func BenchmarkBareHTTPRetrieve(b *testing.B) {
	f := benchServer(b)
	hc := f.srv.Client()
	url := f.base() + "contacts(" + idA.String() + ")?$select=fullname%2Cemailaddress1"
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer static-token")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("OData-MaxVersion", "4.0")
		req.Header.Set("OData-Version", "4.0")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var c contact
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		f.mu.Lock()
		f.requests = f.requests[:0]
		f.mu.Unlock()
	}
}
