package emulator_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
)

// replica is a client's copy of a table, kept by applying change-tracking entries.
type replica map[string]string

func (r replica) apply(entries []ctEntry) {
	for _, e := range entries {
		if e.deleted {
			delete(r, e.id)
		} else {
			r[e.id] = e.name
		}
	}
}

func (r replica) diff(t *testing.T, want map[string]string, what string) {
	t.Helper()
	for id, name := range want {
		if got, ok := r[id]; !ok {
			t.Errorf("%s: row %s (%q) is missing", what, id, name)
		} else if got != name {
			t.Errorf("%s: row %s is %q, want %q", what, id, got, name)
		}
	}
	for id := range r {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: row %s was deleted but is still there", what, id)
		}
	}
}

// TestChangeTrackingLosesNothingWrittenDuringAnInitialLoad pages an initial load while a writer
// creates, updates and deletes rows between the pages (before and after the read position);
// the initial load plus the next delta must equal the writer's own record of the table.
func TestChangeTrackingLosesNothingWrittenDuringAnInitialLoad(t *testing.T) {
	a := newCTAPI(t, nil)
	truth := map[string]string{}
	var ids []string
	for i := range 120 {
		name := fmt.Sprintf("row %d", i)
		id := a.create("accounts", map[string]any{"name": name})
		truth[id] = name
		ids = append(ids, id)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	write := func(round int) {
		for k := range 3 {
			name := fmt.Sprintf("new %d.%d", round, k)
			id := a.create("accounts", map[string]any{"name": name})
			truth[id], ids = name, append(ids, id)

			upd := ids[rng.IntN(len(ids))]
			if _, live := truth[upd]; live {
				name := fmt.Sprintf("updated %d.%d", round, k)
				a.update("accounts", upd, map[string]any{"name": name})
				truth[upd] = name
			}
			del := ids[rng.IntN(len(ids))]
			if _, live := truth[del]; live {
				a.remove("accounts", del)
				delete(truth, del)
			}
		}
	}

	copyOf := replica{}
	const prefer = "odata.maxpagesize=10"
	initial, deltaLink, pages := a.readAll(a.do(http.MethodGet, "accounts?$select=name", "odata.track-changes,"+prefer, ""), "accounts", prefer, write)
	if pages < 12 {
		t.Fatalf("the initial load took %d pages; want at least 12 so that writes fall between them", pages)
	}
	copyOf.apply(initial)
	delta, next, _ := a.readAll(a.do(http.MethodGet, deltaLink, prefer, ""), "accounts", prefer, nil)
	copyOf.apply(delta)
	copyOf.diff(t, truth, "initial load + delta")

	// The same holds for changes made while a delta is paged: they come in the following one.
	write(2000)
	delta2, next2, _ := a.readAll(a.do(http.MethodGet, next, "odata.maxpagesize=2", ""), "accounts", "odata.maxpagesize=2", func(page int) { write(3000 + page) })
	copyOf.apply(delta2)
	delta3, _, _ := a.readAll(a.do(http.MethodGet, next2, "", ""), "accounts", "", nil)
	copyOf.apply(delta3)
	copyOf.diff(t, truth, "after a delta paged while writing")
}

// TestChangeTrackingPagesALargeDelta reads a delta larger than a page: changed rows first, by
// version, then deletes, with only the last page carrying the delta link.
func TestChangeTrackingPagesALargeDelta(t *testing.T) {
	a := newCTAPI(t, nil)
	var ids []string
	for i := range 50 {
		ids = append(ids, a.create("accounts", map[string]any{"name": fmt.Sprintf("r%d", i)}))
	}
	link := a.deltaLinkOf("accounts", "?$select=name")
	for i := 49; i >= 20; i-- { // 30 updates, in an order unlike the primary keys'
		a.update("accounts", ids[i], map[string]any{"name": fmt.Sprintf("u%d", i)})
	}
	for _, id := range ids[:12] {
		a.remove("accounts", id)
	}
	got, _, pages := a.readAll(a.do(http.MethodGet, link, "odata.maxpagesize=7", ""), "accounts", "odata.maxpagesize=7", nil)
	if pages != 6 || len(got) != 42 {
		t.Fatalf("delta: %d entries in %d pages, want 42 in 6", len(got), pages)
	}
	for i, e := range got[:30] {
		if want := ids[49-i]; e.id != want || e.deleted || e.name != fmt.Sprintf("u%d", 49-i) {
			t.Errorf("entry %d = %+v, want the update of %s (changes in version order)", i, e, want)
		}
	}
	for i, e := range got[30:] {
		if !e.deleted || e.id != ids[i] {
			t.Errorf("entry %d = %+v, want the delete of %s", 30+i, e, ids[i])
		}
	}
}
