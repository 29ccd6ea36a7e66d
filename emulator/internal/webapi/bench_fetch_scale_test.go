package webapi_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func BenchmarkScaleFetchXMLPage5000(b *testing.B) {
	h, _ := scaleHandler(b)
	const fetch = `<fetch count="5000"><entity name="contact"><attribute name="fullname" /><attribute name="emailaddress1" />` +
		`<filter><condition attribute="numberofchildren" operator="eq" value="3" /></filter></entity></fetch>`
	target := api + "contacts?fetchXml=" + url.QueryEscape(fetch)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, benchRequest(http.MethodGet, target, ""))
		if w.Code != http.StatusOK || strings.Count(w.Body.String(), `"@odata.etag"`) != scaleRows/20 {
			b.Fatalf("%d %.200s", w.Code, w.Body)
		}
	}
}

// fetchScan pages through every contact with FetchXML paging cookies, as
// the documented client does, and returns the rows and pages seen; after
// calls fn after each page.
func fetchScan(b *testing.B, h http.Handler, order string, after func()) (rows, pages int) {
	fetch := `<fetch count="5000"><entity name="contact"><attribute name="fullname" />` + order + `</entity></fetch>`
	q := fetch
	for page := 1; ; page++ {
		var body struct {
			Value  []json.RawMessage `json:"value"`
			Cookie string            `json:"@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"`
		}
		benchGetPage(b, h, api+"contacts?fetchXml="+url.QueryEscape(q), `odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords"`, &body)
		rows += len(body.Value)
		pages++
		body.Value = nil // keep nothing of the page while measuring
		if after != nil {
			after()
		}
		if body.Cookie == "" {
			return rows, pages
		}
		var c struct {
			Cookie string `xml:"pagingcookie,attr"`
		}
		if err := xml.Unmarshal([]byte(body.Cookie), &c); err != nil {
			b.Fatal(err)
		}
		inner, _ := url.QueryUnescape(c.Cookie)
		inner, _ = url.QueryUnescape(inner)
		var esc strings.Builder
		_ = xml.EscapeText(&esc, []byte(inner))
		q = strings.Replace(fetch, "<fetch ", `<fetch page="`+strconv.Itoa(page+1)+`" paging-cookie="`+esc.String()+`" `, 1)
	}
}

func BenchmarkScaleFetchXMLScan(b *testing.B) {
	h, _ := scaleHandler(b)
	b.ReportAllocs()
	for b.Loop() {
		if rows, _ := fetchScan(b, h, `<order attribute="lastname" />`, nil); rows != scaleRows {
			b.Fatalf("scan saw %d rows", rows)
		}
	}
}

// BenchmarkScaleScanHeap scans tables of 20,000 and 100,000 contacts,
// through @odata.nextLink and through FetchXML paging cookies, pages of
// 5,000, in primary-key order and ordered by lastname, ascending and
// descending. It reports the heap still in use after each page (after a
// GC), above what was in use before the scan, at its largest
// ("max-retained-KiB"), and the bytes allocated per page. Neither may grow
// with the table: each request reads one page and keeps nothing, and an
// order by a column reads the store's sort index for it (created by the
// first such query, before measuring) instead of sorting the rest of the
// table on every page. The benchmark fails when a scan of 100,000 rows
// allocates more than scanGrowthLimit times per page what the same scan
// of 20,000 rows does.
func BenchmarkScaleScanHeap(b *testing.B) {
	perPage := map[string]float64{} // scan -> MiB allocated per page at 20,000 rows
	for _, rows := range []int{20_000, scaleRows} {
		h, _ := scaleHandlerOf(b, rows)
		for _, kind := range []string{"nextLink", "fetchXml"} {
			for _, order := range []string{"key", "lastname", "lastname-desc"} {
				scan := kind + "/order=" + order
				b.Run(scan+"/rows="+strconv.Itoa(rows), func(b *testing.B) {
					run := func(after func()) (seen, pages int) {
						switch {
						case kind == "fetchXml" && order == "key":
							return fetchScan(b, h, "", after)
						case kind == "fetchXml" && order == "lastname":
							return fetchScan(b, h, `<order attribute="lastname" />`, after)
						case kind == "fetchXml":
							return fetchScan(b, h, `<order attribute="lastname" descending="true" />`, after)
						case order == "key":
							return odataScan(b, h, "", after)
						case order == "lastname":
							return odataScan(b, h, "&$orderby=lastname", after)
						default:
							return odataScan(b, h, "&$orderby=lastname%20desc", after)
						}
					}
					// One scan first: an order's sort index is built by its
					// first query, a one-time cost that is not the scan's.
					run(nil)
					var ms runtime.MemStats
					var retained, allocated, pagesSeen uint64
					for b.Loop() {
						runtime.GC()
						runtime.ReadMemStats(&ms)
						base, total := ms.HeapAlloc, ms.TotalAlloc
						var most uint64
						after := func() {
							runtime.GC()
							runtime.ReadMemStats(&ms)
							if ms.HeapAlloc > base && ms.HeapAlloc-base > most {
								most = ms.HeapAlloc - base
							}
						}
						seen, pages := run(after)
						if seen != rows {
							b.Fatalf("scan saw %d of %d rows", seen, rows)
						}
						runtime.ReadMemStats(&ms)
						retained = max(retained, most)
						allocated += ms.TotalAlloc - total
						pagesSeen += uint64(pages)
					}
					mib := float64(allocated) / float64(pagesSeen) / (1 << 20)
					b.ReportMetric(float64(retained)/1024, "max-retained-KiB")
					b.ReportMetric(mib, "MiB-alloc/page")
					if small, ok := perPage[scan]; ok && mib > small*scanGrowthLimit {
						b.Errorf("%s allocates %.2f MiB per page over %d rows but %.2f over 20,000: per-page work grows with the table", scan, mib, rows, small)
					}
					if rows == 20_000 {
						perPage[scan] = mib
					}
				})
			}
		}
	}
}

// scanGrowthLimit is how much more a scan of 100,000 rows may allocate per
// page than one of 20,000 before BenchmarkScaleScanHeap fails: pages of
// 5,000 rows cost the same whatever the table's size, give or take the
// noise of one GC cycle.
const scanGrowthLimit = 1.15

// odataScan pages through every contact with @odata.nextLink.
func odataScan(b *testing.B, h http.Handler, orderby string, after func()) (rows, pages int) {
	next := api + "contacts?$select=fullname" + orderby
	for next != "" {
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		benchGetPage(b, h, strings.TrimPrefix(next, "https://org.example"), "odata.maxpagesize=5000", &page)
		rows += len(page.Value)
		pages++
		next, page.Value = page.NextLink, nil
		if after != nil {
			after()
		}
	}
	return rows, pages
}
