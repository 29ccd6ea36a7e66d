package webapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/d365s2s/d365/emulator/internal/webapi"
)

// benchHandler returns the handler without a network in between, so the
// benchmarks measure the Web API and the store.
func benchHandler(b *testing.B) http.Handler {
	b.Helper()
	st, err := store.Open(context.Background(), "", nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.EnsureApplicationUser(context.Background(), store.ApplicationUser{ApplicationID: adminAppID, RoleNames: []string{store.SystemAdministrator}}); err != nil {
		b.Fatal(err)
	}
	h, err := webapi.New(webapi.Options{Store: st, OrgURL: "https://org.example", AuthorizationURI: "https://login.example/t/oauth2/authorize"})
	if err != nil {
		b.Fatal(err)
	}
	return withFakeIdentity(h)
}

func benchRequest(method, target, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, "https://org.example"+target, rd)
	r.Header.Set("Authorization", "Bearer "+tokenAdmin)
	r.Header.Set("Accept", "application/json")
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// benchGetPage sends GET target (a path from /api/…) with the Prefer header
// prefer to h, fails b unless the answer is 200, decodes its JSON body into
// page and returns the body.
func benchGetPage(b *testing.B, h http.Handler, target, prefer string, page any) *bytes.Buffer {
	b.Helper()
	w := httptest.NewRecorder()
	r := benchRequest(http.MethodGet, target, "")
	r.Header.Set("Prefer", prefer)
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("%d %.300s", w.Code, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), page); err != nil {
		b.Fatal(err)
	}
	return w.Body
}

func BenchmarkCreateContact(b *testing.B) {
	h := benchHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, benchRequest(http.MethodPost, api+"contacts", `{"firstname":"Bench","lastname":"Mark","emailaddress1":"b@example.com"}`))
		if w.Code != http.StatusNoContent {
			b.Fatalf("status %d %s", w.Code, w.Body)
		}
	}
}

func BenchmarkRetrieveContact(b *testing.B) {
	h := benchHandler(b)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, benchRequest(http.MethodPost, api+"contacts", `{"firstname":"Bench","lastname":"Mark"}`))
	loc := w.Header().Get("OData-EntityId")
	target := strings.TrimPrefix(loc, "https://org.example") + "?$select=fullname,emailaddress1,createdon"
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, benchRequest(http.MethodGet, target, ""))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkCreateMultiple1000 sends CreateMultiple with 1,000 contacts.
func BenchmarkCreateMultiple1000(b *testing.B) {
	h := benchHandler(b)
	var body strings.Builder
	body.WriteString(`{"Targets":[`)
	for i := 0; i < 1000; i++ {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"@odata.type":"Microsoft.Dynamics.CRM.contact","firstname":"Bench","lastname":"Mark","emailaddress1":"b@example.com"}`)
	}
	body.WriteString(`]}`)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, benchRequest(http.MethodPost, api+"contacts/Microsoft.Dynamics.CRM.CreateMultiple", body.String()))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkCreateMultiple1000WithIDs sends CreateMultiple with 1,000 contacts that carry their
// primary ids, as dataverse.BulkJob's creates do (so that a lost answer can be retried as an
// upsert); each iteration uses new ids. cpu-µs/row is the process's CPU time per row (building
// the body included), which a loaded machine inflates less than wall time.
func BenchmarkCreateMultiple1000WithIDs(b *testing.B) {
	h := benchHandler(b)
	n := 0
	b.ReportAllocs()
	cpu0 := processCPU()
	defer func() {
		b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(n), "cpu-µs/row")
	}()
	for b.Loop() {
		var body strings.Builder
		body.WriteString(`{"Targets":[`)
		for i := 0; i < 1000; i++ {
			if i > 0 {
				body.WriteByte(',')
			}
			n++
			fmt.Fprintf(&body, `{"@odata.type":"Microsoft.Dynamics.CRM.contact","contactid":"%08x-0000-4000-8000-%012x","firstname":"Bench","lastname":"Mark","emailaddress1":"b@example.com"}`, n, n)
		}
		body.WriteString(`]}`)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, benchRequest(http.MethodPost, api+"contacts/Microsoft.Dynamics.CRM.CreateMultiple", body.String()))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d %s", w.Code, w.Body)
		}
	}
}
