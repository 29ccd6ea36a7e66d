package dataverse

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

// ctFake is a change-tracking Web API for one table, "contacts", written
// from Microsoft's documentation of change tracking (not from the
// emulator): rows carry a version from one counter; a full read with
// Prefer: odata.track-changes pages by offset and ends with a delta link
// whose token is the version when the read started; a delta link returns
// the rows changed after its token (in version order), then the rows
// deleted after it, then a new delta link.
type ctFake struct {
	mu      sync.Mutex
	version int64
	rows    map[uuid.UUID]ctRow
	deleted map[uuid.UUID]int64 // id -> version of the delete
	// minToken is the oldest token still served; older ones expire.
	minToken int64
	// trackingOff refuses every request with CodeChangeTrackingNotEnabled
	// (as a fault rule would).
	trackingOff bool
	// refuseTracked refuses the change-tracking requests (Prefer:
	// odata.track-changes, $deltatoken) with CodeChangeTrackingNotEnabled,
	// as Dataverse does for a table whose tracking was switched off, and
	// serves plain reads.
	refuseTracked bool
	// noPreferenceApplied leaves Preference-Applied out of the response.
	noPreferenceApplied bool
	// dropDeltaLink leaves the delta link off a full read's last page.
	dropDeltaLink bool
	// throttleNext answers the next n requests with 429.
	throttleNext int
}

type ctRow struct {
	name    string
	version int64
}

func newCTFake() *ctFake {
	return &ctFake{rows: map[uuid.UUID]ctRow{}, deleted: map[uuid.UUID]int64{}}
}

// upsert creates or changes a row and returns its id.
func (f *ctFake) upsert(id uuid.UUID, name string) uuid.UUID {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	f.rows[id] = ctRow{name: name, version: f.version}
	delete(f.deleted, id)
	return id
}

func (f *ctFake) remove(id uuid.UUID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.version++
	delete(f.rows, id)
	f.deleted[id] = f.version
}

// expireAll makes every token handed out so far expired.
func (f *ctFake) expireAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.minToken = f.version + 1
}

func (f *ctFake) set(fn func(*ctFake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// rowJSON is a row as the service writes it.
func rowJSON(id uuid.UUID, r ctRow, sel []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"@odata.etag":"W/\"%d\"",`, r.version)
	if len(sel) == 0 || slices.Contains(sel, "fullname") {
		fmt.Fprintf(&b, `"fullname":%q,`, r.name)
	}
	if slices.Contains(sel, "firstname") {
		fmt.Fprintf(&b, `"firstname":%q,`, strings.ToLower(r.name))
	}
	fmt.Fprintf(&b, `"contactid":"%s"}`, id)
	return b.String()
}

// serve answers GET /contacts (full read, next pages, delta links).
func (f *ctFake) serve(base func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.throttleNext > 0 {
			f.throttleNext--
			w.Header().Set("Retry-After", "2")
			writeError(w, 429, CodeThrottledRequestCount, "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/contacts") || r.Method != http.MethodGet {
			writeError(w, 404, CodeResourceNotFound, "Resource not found for the segment '"+r.URL.Path+"'.")
			return
		}
		q := r.URL.Query()
		if f.trackingOff {
			writeError(w, 400, CodeChangeTrackingNotEnabled, "Entity contact isn't enabled for change tracking.")
			return
		}
		if f.refuseTracked && (q.Has("$deltatoken") || strings.Contains(strings.Join(r.Header.Values("Prefer"), ","), "odata.track-changes")) {
			writeError(w, 400, CodeChangeTrackingNotEnabled, "Entity contact isn't enabled for change tracking.")
			return
		}
		for _, refused := range []string{"$filter", "$orderby", "$expand", "$top"} {
			if q.Has(refused) {
				writeError(w, 400, "0x80060888", `The "`+refused+`" query parameter isn't supported when Change Tracking is enabled.`)
				return
			}
		}
		var sel []string
		if s := q.Get("$select"); s != "" {
			sel = strings.Split(s, ",")
		}
		size := 5000
		for _, p := range r.Header.Values("Prefer") {
			for v := range strings.SplitSeq(p, ",") {
				if n, ok := strings.CutPrefix(strings.TrimSpace(v), "odata.maxpagesize="); ok {
					size, _ = strconv.Atoi(n)
				}
			}
		}
		link := func(extra string) string {
			v := url.Values{}
			if len(sel) > 0 {
				v.Set("$select", strings.Join(sel, ","))
			}
			return base() + "contacts?" + v.Encode() + extra
		}
		if tok := q.Get("$deltatoken"); tok != "" {
			since, err := strconv.ParseInt(strings.SplitN(tok, "!", 2)[0], 10, 64)
			if err != nil {
				writeError(w, 400, "0x80040203", "bad token")
				return
			}
			if since < f.minToken {
				writeError(w, 400, CodeExpiredVersionStamp, "Version stamp associated with the client has expired. Please perform a full sync.")
				return
			}
			skip, _ := strconv.Atoi(q.Get("$skiptoken"))
			upto := f.version
			if u := q.Get("upto"); u != "" {
				upto, _ = strconv.ParseInt(u, 10, 64)
			}
			var entries []string
			ids := f.sortedIDs(func(id uuid.UUID) bool { v := f.rows[id].version; return v > since && v <= upto })
			for _, id := range ids {
				entries = append(entries, rowJSON(id, f.rows[id], sel))
			}
			var gone []uuid.UUID
			for id, v := range f.deleted {
				if v > since && v <= upto {
					gone = append(gone, id)
				}
			}
			slices.SortFunc(gone, func(a, b uuid.UUID) int { return int(f.deleted[a] - f.deleted[b]) })
			for _, id := range gone {
				entries = append(entries, fmt.Sprintf(`{"@odata.context":"%s$metadata#contacts/$deletedEntity","id":"%s","reason":"deleted"}`, base(), id))
			}
			end := min(skip+size, len(entries))
			body := `{"@odata.context":"` + base() + `$metadata#contacts/$delta","value":[` + strings.Join(entries[skip:end], ",") + `]`
			if end < len(entries) {
				body += `,"@odata.nextLink":` + strconv.Quote(link(fmt.Sprintf("&$deltatoken=%d&upto=%d&$skiptoken=%d", since, upto, end)))
			} else {
				body += `,"@odata.deltaLink":` + strconv.Quote(link(fmt.Sprintf("&$deltatoken=%d%%2112%%2f07%%2f2026%%2001%%3a02%%3a03", upto)))
			}
			writeJSON(w, 200, body+"}")
			return
		}
		// A full read: the snapshot's version travels in the next link.
		tracking := strings.Contains(strings.Join(r.Header.Values("Prefer"), ","), "odata.track-changes")
		snap := f.version
		if s := q.Get("snap"); s != "" {
			snap, _ = strconv.ParseInt(s, 10, 64)
			tracking = true
		}
		skip, _ := strconv.Atoi(q.Get("$skiptoken"))
		ids := f.sortedIDs(func(uuid.UUID) bool { return true })
		slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
		end := min(skip+size, len(ids))
		var entries []string
		for _, id := range ids[skip:end] {
			entries = append(entries, rowJSON(id, f.rows[id], sel))
		}
		if tracking && !f.noPreferenceApplied {
			w.Header().Set("Preference-Applied", "odata.track-changes")
		}
		body := `{"@odata.context":"` + base() + `$metadata#contacts","value":[` + strings.Join(entries, ",") + `]`
		switch {
		case end < len(ids):
			body += `,"@odata.nextLink":` + strconv.Quote(link(fmt.Sprintf("&snap=%d&$skiptoken=%d", snap, end)))
		case tracking && !f.dropDeltaLink:
			body += `,"@odata.deltaLink":` + strconv.Quote(link(fmt.Sprintf("&$deltatoken=%d%%2112%%2f07%%2f2026%%2001%%3a02%%3a03", snap)))
		}
		writeJSON(w, 200, body+"}")
	}
}

// sortedIDs returns the ids of live rows that keep says, in version order.
func (f *ctFake) sortedIDs(keep func(uuid.UUID) bool) []uuid.UUID {
	var ids []uuid.UUID
	for id := range f.rows {
		if keep(id) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return int(f.rows[a].version - f.rows[b].version) })
	return ids
}

// memCheckpoint is a SyncCheckpoint in memory that counts its saves.
type memCheckpoint struct {
	st    *SyncState
	saves int
	// failSave fails the n-th save (1-based) when not 0.
	failSave int
}

func (m *memCheckpoint) Load(context.Context) (*SyncState, error) {
	if m.st == nil {
		return nil, nil
	}
	cp := *m.st
	return &cp, nil
}

func (m *memCheckpoint) Save(_ context.Context, st *SyncState) error {
	m.saves++
	if m.failSave == m.saves {
		return fmt.Errorf("disk full")
	}
	cp := *st
	m.st = &cp
	return nil
}

// ctAPI is a fake API serving f, and a client for it.
func ctAPI(t *testing.T, f *ctFake) *fakeAPI {
	var api *fakeAPI
	api = newFakeAPI(t, f.serve(func() string { return api.base() }), nil)
	return api
}

// syncedChange is a change as a test compares it.
type syncedChange struct {
	Op     ChangeOp
	ID     uuid.UUID
	Name   string
	Reason ResetReason
}

// drain runs one Changes and returns what it yielded, and its error.
func drain(t *testing.T, s *Sync) ([]syncedChange, error) {
	t.Helper()
	var out []syncedChange
	for ch, err := range s.Changes(t.Context()) {
		if err != nil {
			return out, err
		}
		sc := syncedChange{Op: ch.Op, ID: ch.ID, Reason: ch.Reason}
		if ch.Op == ChangeUpsert {
			var rec struct {
				FullName string `json:"fullname"`
			}
			if err := json.Unmarshal(ch.Record, &rec); err != nil {
				t.Fatalf("record %s: %v", ch.Record, err)
			}
			sc.Name = rec.FullName
		}
		out = append(out, sc)
	}
	return out, nil
}
