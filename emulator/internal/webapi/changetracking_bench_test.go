package webapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkChangeTrackingDelta100 reads a delta of 100 changed rows from tables of 10,000 and
// 200,000 contacts, and, for comparison, the change-tracking initial load of the whole table
// (a full export in pages of 5,000). A delta reads the versionnumber index from the token on,
// so its cost follows the number of changes, not the table's size; the initial load grows with
// the table. Figures and the command are in docs/benchmarks.md.
//
//	go test ./emulator/internal/webapi/ -run '^$' -bench ChangeTrackingDelta100 -benchtime 20x
func BenchmarkChangeTrackingDelta100(b *testing.B) {
	for _, rows := range []int{10_000, 200_000} {
		h, ids := scaleHandlerOf(b, rows)
		// The newest row's ETag is the table's last version: the delta starts there.
		w := httptest.NewRecorder()
		h.ServeHTTP(w, benchRequest(http.MethodGet, api+"contacts("+ids[len(ids)-1].String()+")?$select=firstname", ""))
		var last struct {
			ETag string `json:"@odata.etag"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &last); err != nil || w.Code != http.StatusOK {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		version := strings.TrimSuffix(strings.TrimPrefix(last.ETag, `W/"`), `"`)
		// The token's documented form, <version>!<MM/dd/yyyy HH:mm:ss>, taken now.
		token := version + "!" + time.Now().UTC().Format("01/02/2006 15:04:05")
		for i := range 100 {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, benchRequest(http.MethodPatch, api+"contacts("+ids[(i*7919)%len(ids)].String()+")", `{"firstname":"Changed`+strconv.Itoa(i)+`"}`))
			if w.Code != http.StatusNoContent {
				b.Fatalf("update: %d %s", w.Code, w.Body)
			}
		}
		deltaLink := api + "contacts?$select=firstname,lastname&$deltatoken=" + strings.NewReplacer("!", "%21", "/", "%2f", " ", "%20", ":", "%3a").Replace(token)
		b.Run("delta/rows="+strconv.Itoa(rows), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if n, _ := trackedRead(b, h, deltaLink, ""); n != 100 {
					b.Fatalf("delta of %d entries, want 100", n)
				}
			}
		})
		b.Run("initial/rows="+strconv.Itoa(rows), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if n, _ := trackedRead(b, h, api+"contacts?$select=firstname,lastname", "odata.track-changes"); n != rows {
					b.Fatalf("initial load of %d rows, want %d", n, rows)
				}
			}
		})
	}
}

// trackedRead follows nextLinks from first to the page with the deltaLink, in pages of 5,000,
// and returns the number of entries and the deltaLink.
func trackedRead(b *testing.B, h http.Handler, first, prefer string) (int, string) {
	b.Helper()
	n := 0
	for next := first; ; {
		var page struct {
			Value     []json.RawMessage `json:"value"`
			NextLink  string            `json:"@odata.nextLink"`
			DeltaLink string            `json:"@odata.deltaLink"`
		}
		body := benchGetPage(b, h, strings.TrimPrefix(next, "https://org.example"), strings.TrimPrefix(prefer+",odata.maxpagesize=5000", ","), &page)
		n += len(page.Value)
		if page.DeltaLink != "" {
			return n, page.DeltaLink
		}
		if page.NextLink == "" {
			b.Fatalf("a page with neither link: %.300s", body)
		}
		next = page.NextLink
	}
}
