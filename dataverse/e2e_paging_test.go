package dataverse_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// pagedContact is the row type of the paging test: a number to check for gaps and duplicates, and
// a long description so that holding every row would take far more memory than holding a page.
type pagedContact struct {
	ID          uuid.UUID `json:"contactid"`
	Seq         int       `json:"numberofchildren"`
	Description string    `json:"description"`
}

// pagingScale is the size of the paging test.
type pagingScale struct {
	rows, halfRows, pageSize int
	pageSizes                []int // the page sizes of a scan of every row
	// descLen is the length of each row's description.
	descLen int
	// checkHeap makes the test measure the live heap.
	checkHeap bool
}

var (
	// pagingFull is the scale: 12,000 rows hold 12,000 × 1,900 bytes ≈ 22 MiB of
	// descriptions, a page of 5,000 ≈ 9 MiB.
	pagingFull = pagingScale{rows: 12000, halfRows: 6000, pageSize: 5000, pageSizes: []int{5000, 5000, 2000}, descLen: 1900, checkHeap: true}
	// pagingRace is used under the race detector, whose instrumentation makes the emulator's
	// store about ten times slower (12,000 creates take over 20 s) and changes what is allocated,
	// so the heap is not measured (as the standard library skips its allocation tests under race).
	// The same paging and resuming logic runs on fewer rows.
	pagingRace = pagingScale{rows: 1200, halfRows: 600, pageSize: 500, pageSizes: []int{500, 500, 200}, descLen: 100}
)

// pagingMaxLiveHeap bounds the live heap growth while reading 12,000 rows. A pager that keeps one
// page stays near 9 MiB plus decoding buffers; one that keeps every row needs at least the 22 MiB
// of descriptions alone.
const pagingMaxLiveHeap = 18 << 20

// TestE2EPagerMemoryFlatOver12000Rows pages 12,000 contacts at 5,000 a page and checks that the live
// heap while iterating does not grow with the number of rows read (6,000 against 12,000), that every
// row comes exactly once, and that a pager resumed from a saved next link reads the rest.
//
// It does not call t.Parallel: it measures the process's heap, so it runs before the parallel tests
// of the package start and nothing else allocates meanwhile.
func TestE2EPagerMemoryFlatOver12000Rows(t *testing.T) {
	scale := pagingFull
	if raceEnabled {
		scale = pagingRace
	}
	env := newE2E(t, nil)
	ctx := t.Context()

	desc := strings.Repeat("x", scale.descLen)
	rows := make([]map[string]any, scale.rows)
	for i := range rows {
		rows[i] = map[string]any{"lastname": fmt.Sprintf("Paged %05d", i), "numberofchildren": i, "description": desc}
	}
	ids, err := dataverse.CreateMultiple(ctx, env.client, "contacts", "contact", rows, nil)
	if err != nil {
		t.Fatalf("CreateMultiple: %v", err)
	}
	if len(ids) != scale.rows {
		t.Fatalf("CreateMultiple returned %d ids, want %d", len(ids), scale.rows)
	}
	wantChunks := (scale.rows + dataverse.DefaultBulkChunkSize - 1) / dataverse.DefaultBulkChunkSize
	if n := env.wire.count("POST", "contacts/Microsoft.Dynamics.CRM.CreateMultiple"); n != wantChunks {
		t.Errorf("CreateMultiple sent %d requests, want %d chunks of at most %d", n, wantChunks, dataverse.DefaultBulkChunkSize)
	}
	rows = nil
	env.wire.take()

	query := func(filter string) *dataverse.ListOptions {
		return &dataverse.ListOptions{Query: dataverse.Query{
			Select:      []string{"numberofchildren", "description"},
			Filter:      filter,
			MaxPageSize: scale.pageSize,
		}}
	}
	half := scanPaged(t, ctx, env, query(dataverse.Filterf("numberofchildren lt %v", scale.halfRows)), scale)
	full := scanPaged(t, ctx, env, query(""), scale)
	if scale.checkHeap {
		t.Logf("live heap growth while iterating: %d rows %.1f MiB, %d rows %.1f MiB",
			scale.halfRows, float64(half.peak)/(1<<20), scale.rows, float64(full.peak)/(1<<20))
		if full.peak > pagingMaxLiveHeap {
			t.Errorf("live heap grew by %d bytes while reading %d rows, want at most %d: the pager must not keep rows of earlier pages",
				full.peak, scale.rows, pagingMaxLiveHeap)
		}
		// Growth with the row count: twice the rows must not take half as much again, nor 4 MiB
		// more (a pager keeping every row would need about 11 MiB more for the second 6,000).
		if full.peak > half.peak*3/2 && full.peak-half.peak > 4<<20 {
			t.Errorf("live heap grew by %d bytes for %d rows but %d bytes for %d rows: memory grows with the row count",
				full.peak, scale.rows, half.peak, scale.halfRows)
		}
	}
	if fmt.Sprint(full.pageSizes) != fmt.Sprint(scale.pageSizes) {
		t.Errorf("page sizes %v, want %v", full.pageSizes, scale.pageSizes)
	}
	wantPrefer := fmt.Sprintf("odata.maxpagesize=%d", scale.pageSize)
	for _, r := range env.wire.take() {
		if r.Method == "GET" && r.Path == "contacts" && r.Header.Get("Prefer") != wantPrefer {
			t.Errorf("page request %s?%.60s… has Prefer %q, want %s on every page", r.Path, r.Query, r.Header.Get("Prefer"), wantPrefer)
		}
	}

	// Counts: $count and @odata.count stop at 5,000 (the service's cap), RetrieveTotalRecordCount
	// does not.
	wantCount := int64(min(scale.rows, 5000))
	if n, err := env.client.Count(ctx, "contacts", nil); err != nil || n != wantCount {
		t.Errorf("Count(contacts) = %d, %v; want %d", n, err, wantCount)
	}
	counted, err := env.client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{
		Select: []string{"lastname"}, Count: true, MaxPageSize: 1,
		Annotations: []string{dataverse.AnnotationTotalRecordCount, dataverse.AnnotationTotalRecordCountLimitExceeded},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if counted.Count == nil || *counted.Count != wantCount || counted.TotalRecordCountLimitExceeded != (scale.rows > 5000) {
		t.Errorf("@odata.count %v, limit exceeded %v; want %d, %v", counted.Count, counted.TotalRecordCountLimitExceeded, wantCount, scale.rows > 5000)
	}
	totals, err := env.client.RetrieveTotalRecordCount(ctx, "contact")
	if err != nil || totals["contact"] != int64(scale.rows) {
		t.Errorf("RetrieveTotalRecordCount = %v, %v; want %d", totals, err, scale.rows)
	}

	// Checkpoint after the first page, then resume from the saved link in a new pager.
	first := env.client.Pager("contacts", query(""))
	page, err := first.NextPage(ctx)
	if err != nil {
		t.Fatalf("first page: %v", err)
	}
	saved := page.NextLink
	if saved == "" || saved != first.NextLink() {
		t.Fatalf("page.NextLink %q, pager.NextLink %q: want the same non-empty link", saved, first.NextLink())
	}
	seen := make(map[int]bool, scale.rows)
	for _, r := range page.Items {
		seen[intField(t, r, "numberofchildren")] = true
	}
	resumed, err := dataverse.ResumePager[pagedContact](env.client, saved, &dataverse.ListOptions{Query: dataverse.Query{MaxPageSize: scale.pageSize}})
	if err != nil {
		t.Fatalf("ResumePager: %v", err)
	}
	resumedRows := 0
	for c, err := range resumed.All(ctx) {
		if err != nil {
			t.Fatalf("resumed pager: %v", err)
		}
		if seen[c.Seq] {
			t.Fatalf("row %d read twice across the checkpoint", c.Seq)
		}
		seen[c.Seq] = true
		resumedRows++
	}
	if len(seen) != scale.rows || resumedRows != scale.rows-len(page.Items) {
		t.Errorf("first page %d rows + resumed %d rows = %d distinct, want %d", len(page.Items), resumedRows, len(seen), scale.rows)
	}
	if resumed.More() || resumed.NextLink() != "" {
		t.Errorf("resumed pager after the last page: More %v, NextLink %q", resumed.More(), resumed.NextLink())
	}
}

// pagedScan is what scanPaged measured.
type pagedScan struct {
	peak      uint64 // the largest live heap growth seen, in bytes
	pageSizes []int
}

// scanPaged reads every row of the query with a typed pager, checking that each sequence number
// below the number of rows the query selects comes exactly once, and with scale.checkHeap samples
// the live heap (after a collection) at the start of every page and every 1,000 rows.
func scanPaged(t *testing.T, ctx context.Context, env *e2eEnv, opts *dataverse.ListOptions, scale pagingScale) pagedScan {
	t.Helper()
	want := scale.rows
	if opts.Filter != "" {
		want = scale.halfRows
	}
	var ms runtime.MemStats
	live := func() uint64 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var base uint64
	if scale.checkHeap {
		base = live()
	}
	var scan pagedScan
	sample := func() {
		if !scale.checkHeap {
			return
		}
		if h := live(); h > base && h-base > scan.peak {
			scan.peak = h - base
		}
	}
	seen := make([]bool, want)
	p := dataverse.NewPager[pagedContact](env.client, "contacts", opts)
	n := 0
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("page %d: %v", len(scan.pageSizes)+1, err)
		}
		scan.pageSizes = append(scan.pageSizes, len(page.Items))
		sample()
		for i := range page.Items {
			c := &page.Items[i]
			if c.Seq < 0 || c.Seq >= want || seen[c.Seq] {
				t.Fatalf("row with numberofchildren %d: out of range or read twice", c.Seq)
			}
			if len(c.Description) != scale.descLen || c.ID == uuid.Nil {
				t.Fatalf("row %d: description of %d bytes, id %s", c.Seq, len(c.Description), c.ID)
			}
			seen[c.Seq] = true
			n++
			if n%1000 == 0 {
				sample()
			}
		}
	}
	if n != want {
		t.Fatalf("read %d rows, want %d", n, want)
	}
	return scan
}

// intField reads a whole number column of a Record.
func intField(t *testing.T, r dataverse.Record, column string) int {
	t.Helper()
	var v struct {
		N *int `json:"n"`
	}
	if err := (dataverse.Record{"n": r[column]}).Decode(&v); err != nil || v.N == nil {
		t.Fatalf("column %s = %v (%T), want a whole number", column, r[column], r[column])
	}
	return *v.N
}
