package webapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/d365s2s/d365/emulator/internal/webapi"
	"github.com/google/uuid"
)

// scaleRows is the table size the scale benchmarks use.
const scaleRows = 100_000

// scaleFixture is a handler over n contacts (First%06d, Last%06d,
// c%06d@example.com, numberofchildren i%20), built once per size for all
// scale benchmarks (seeding 100,000 rows takes several seconds).
type scaleFixture struct {
	once sync.Once
	h    http.Handler
	ids  []uuid.UUID
	err  error
}

var scaleFixtures = struct {
	sync.Mutex
	m map[int]*scaleFixture
}{m: map[int]*scaleFixture{}}

func scaleHandler(b *testing.B) (http.Handler, []uuid.UUID) { return scaleHandlerOf(b, scaleRows) }

func scaleHandlerOf(b *testing.B, rows int) (http.Handler, []uuid.UUID) {
	b.Helper()
	scaleFixtures.Lock()
	f, ok := scaleFixtures.m[rows]
	if !ok {
		f = &scaleFixture{}
		scaleFixtures.m[rows] = f
	}
	scaleFixtures.Unlock()
	f.once.Do(func() { f.h, f.ids, f.err = seedScale(rows) })
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.h, f.ids
}

func seedScale(rows int) (http.Handler, []uuid.UUID, error) {
	ctx := context.Background()
	st, err := store.Open(ctx, "", nil)
	if err != nil {
		return nil, nil, err
	}
	if _, err := st.EnsureApplicationUser(ctx, store.ApplicationUser{ApplicationID: adminAppID, RoleNames: []string{store.SystemAdministrator}}); err != nil {
		return nil, nil, err
	}
	p, _ := st.ApplicationUser(ctx, adminAppID)
	contact, _ := st.Schema().Table("contact")
	first, _ := contact.Column("firstname")
	last, _ := contact.Column("lastname")
	email, _ := contact.Column("emailaddress1")
	kids, _ := contact.Column("numberofchildren")
	ids := make([]uuid.UUID, 0, rows)
	for start := 0; start < rows; start += 10_000 {
		err := st.Write(ctx, func(tx *store.Tx) error {
			for i := start; i < min(start+10_000, rows); i++ {
				w, err := tx.Create(ctx, p, contact, []store.Field{
					{Column: first, Value: fmt.Sprintf("First%06d", i)},
					{Column: last, Value: fmt.Sprintf("Last%06d", i)},
					{Column: email, Value: fmt.Sprintf("c%06d@example.com", i)},
					{Column: kids, Value: int64(i % 20)},
				})
				if err != nil {
					return err
				}
				ids = append(ids, w.ID)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	h, err := webapi.New(webapi.Options{Store: st, OrgURL: "https://org.example", AuthorizationURI: "https://login.example/t/oauth2/authorize"})
	return withFakeIdentity(h), ids, err
}

func BenchmarkScaleRetrieveByID(b *testing.B) {
	h, ids := scaleHandler(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, benchRequest(http.MethodGet, api+"contacts("+ids[i%len(ids)].String()+")?$select=fullname,emailaddress1", ""))
		if w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		i += 7919
	}
}

func BenchmarkScaleFilteredPage5000(b *testing.B) {
	h, _ := scaleHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := benchRequest(http.MethodGet, api+"contacts?$select=fullname,emailaddress1&$filter=numberofchildren%20eq%203", "")
		r.Header.Set("Prefer", "odata.maxpagesize=5000")
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || strings.Count(w.Body.String(), `"@odata.etag"`) != scaleRows/20 {
			b.Fatalf("%d %.200s", w.Code, w.Body)
		}
	}
}

func BenchmarkScaleFullScan(b *testing.B) {
	benchmarkScan(b, api+"contacts?$select=fullname&$orderby=lastname")
}

// A lookup sorts by the referenced row's primary name. The first such order fills the store's
// hidden copy of that name and indexes it; later pages and scans seek the index from the cursor
// (see docs/benchmarks.md).
func BenchmarkScaleFullScanByLookup(b *testing.B) {
	benchmarkScan(b, api+"contacts?$select=fullname&$orderby=_ownerid_value")
}

// benchmarkScan reads every contact through @odata.nextLink from first, in pages of 5,000.
func benchmarkScan(b *testing.B, first string) {
	h, _ := scaleHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		next := first
		rows := 0
		for next != "" {
			var page struct {
				Value    []json.RawMessage `json:"value"`
				NextLink string            `json:"@odata.nextLink"`
			}
			benchGetPage(b, h, strings.TrimPrefix(next, "https://org.example"), "odata.maxpagesize=5000", &page)
			rows += len(page.Value)
			next = page.NextLink
		}
		if rows != scaleRows {
			b.Fatalf("scan saw %d rows, want %d", rows, scaleRows)
		}
	}
}

func BenchmarkScaleBatch1000(b *testing.B) {
	h, ids := scaleHandler(b)
	var body strings.Builder
	for i := 0; i < 1000; i++ {
		body.WriteString("--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET /api/data/v9.2/contacts(" +
			ids[(i*97)%len(ids)].String() + ")?$select=fullname HTTP/1.1\r\n\r\n\r\n")
	}
	body.WriteString("--b--\r\n")
	payload := body.String()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := benchRequest(http.MethodPost, api+"$batch", payload)
		r.Header.Set("Content-Type", "multipart/mixed; boundary=b")
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %.300s", w.Code, w.Body)
		}
	}
}

// BenchmarkScaleExportPages serves what `d365 export contacts --select …` asks for: every contact,
// four columns, in default-order pages of 5,000 followed through @odata.nextLink. Only the server
// works here: each page's next link is cut from the body's tail, nothing is decoded.
func BenchmarkScaleExportPages(b *testing.B) {
	h, _ := scaleHandler(b)
	b.ReportAllocs()
	const marker = `"@odata.nextLink":"`
	for b.Loop() {
		next := api + "contacts?$select=firstname,lastname,emailaddress1,numberofchildren"
		rows := 0
		for next != "" {
			w := httptest.NewRecorder()
			r := benchRequest(http.MethodGet, next, "")
			r.Header.Set("Prefer", "odata.maxpagesize=5000")
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("%d %.300s", w.Code, w.Body)
			}
			body := w.Body.String()
			rows += strings.Count(body, `"@odata.etag"`)
			next = ""
			if i := strings.LastIndex(body, marker); i >= 0 {
				link := body[i+len(marker):]
				link = link[:strings.IndexByte(link, '"')]
				next = strings.TrimPrefix(link, "https://org.example")
			}
		}
		if rows != scaleRows {
			b.Fatalf("export saw %d rows, want %d", rows, scaleRows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*scaleRows), "ns/row")
}
