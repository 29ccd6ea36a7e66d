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
		w := httptest.NewRecorder()
		r := benchRequest(http.MethodGet, api+"contacts?fetchXml="+url.QueryEscape(q), "")
		r.Header.Set("Prefer", `odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords"`)
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %.300s", w.Code, w.Body)
		}
		var body struct {
			Value  []json.RawMessage `json:"value"`
			Cookie string            `json:"@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			b.Fatal(err)
		}
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
// 5,000, in primary-key order and ordered by lastname. It reports the heap
// still in use after each page (after a GC), above what was in use before
// the scan, at its largest ("max-retained-KiB"), and the bytes allocated
// per page. Retained memory does not grow with the table: each request
// reads one page and keeps nothing. Allocation per page does grow when
// the order has no index (lastname): SQLite sorts the rows after the
// cursor on every page, calling the store's Go collation for each
// comparison, so that garbage (and the time per page) grows with the rows
// left to scan.
func BenchmarkScaleScanHeap(b *testing.B) {
	for _, rows := range []int{20_000, scaleRows} {
		h, _ := scaleHandlerOf(b, rows)
		for _, kind := range []string{"nextLink", "fetchXml"} {
			for _, order := range []string{"key", "lastname"} {
				b.Run(kind+"/order="+order+"/rows="+strconv.Itoa(rows), func(b *testing.B) {
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
						var seen, pages int
						switch {
						case kind == "fetchXml" && order == "key":
							seen, pages = fetchScan(b, h, "", after)
						case kind == "fetchXml":
							seen, pages = fetchScan(b, h, `<order attribute="lastname" />`, after)
						case order == "key":
							seen, pages = odataScan(b, h, "", after)
						default:
							seen, pages = odataScan(b, h, "&$orderby=lastname", after)
						}
						if seen != rows {
							b.Fatalf("scan saw %d of %d rows", seen, rows)
						}
						runtime.ReadMemStats(&ms)
						retained = max(retained, most)
						allocated += ms.TotalAlloc - total
						pagesSeen += uint64(pages)
					}
					b.ReportMetric(float64(retained)/1024, "max-retained-KiB")
					b.ReportMetric(float64(allocated)/float64(pagesSeen)/(1<<20), "MiB-alloc/page")
				})
			}
		}
	}
}

// odataScan pages through every contact with @odata.nextLink.
func odataScan(b *testing.B, h http.Handler, orderby string, after func()) (rows, pages int) {
	next := api + "contacts?$select=fullname" + orderby
	for next != "" {
		w := httptest.NewRecorder()
		r := benchRequest(http.MethodGet, strings.TrimPrefix(next, "https://org.example"), "")
		r.Header.Set("Prefer", "odata.maxpagesize=5000")
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%d %.300s", w.Code, w.Body)
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
			b.Fatal(err)
		}
		rows += len(page.Value)
		pages++
		next, page.Value = page.NextLink, nil
		if after != nil {
			after()
		}
	}
	return rows, pages
}
