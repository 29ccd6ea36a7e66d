package dataverse

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func nthID(i int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("00000000-0000-0000-0000-%012d", i))
}

// seeded is a fake holding n rows named Row1…Rn with ids nthID(1…n).
func seeded(n int) *ctFake {
	f := newCTFake()
	for i := 1; i <= n; i++ {
		f.upsert(nthID(i), fmt.Sprintf("Row%d", i))
	}
	return f
}

func upserts(names ...string) []syncedChange {
	var out []syncedChange
	for _, n := range names {
		var i int
		fmt.Sscanf(n, "Row%d", &i)
		out = append(out, syncedChange{Op: ChangeUpsert, ID: nthID(i), Name: n})
	}
	return out
}

func reset(r ResetReason) syncedChange { return syncedChange{Op: ChangeReset, Reason: r} }

func TestSyncFirstRunIsResetAndFullLoadThenOnlyChanges(t *testing.T) {
	f := seeded(5)
	api := ctAPI(t, f)
	cp := &memCheckpoint{}
	opts := &SyncOptions{Select: []string{"fullname"}, MaxPageSize: 2, PrimaryKey: "contactid"}

	s := api.client.NewSync("contacts", cp, opts)
	got, err := drain(t, s)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]syncedChange{reset(ResetInitial)}, upserts("Row1", "Row2", "Row3", "Row4", "Row5")...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}
	// Three pages, each saved: two with the full load's next link, the last with the delta link.
	if cp.saves != 3 || cp.st.DeltaLink == "" || cp.st.NextLink != "" || cp.st.FullLoad {
		t.Fatalf("after the first run: %d saves, state %+v; want 3 saves ending at a delta link", cp.saves, cp.st)
	}
	if st := s.Stats(); st.Upserts != 5 || st.Resets != 1 || st.Pages != 3 || !st.FullLoad || st.Reason != ResetInitial {
		t.Errorf("stats = %+v", st)
	}
	// The first request asked for change tracking and the select; the delta request does not
	// repeat the preference (Microsoft's example sends none) but keeps the page size.
	reqs := api.reqs()
	if p := reqs[0].Header.Get("Prefer"); p != "odata.track-changes,odata.maxpagesize=2" {
		t.Errorf("first request Prefer = %q", p)
	}
	if !strings.Contains(reqs[0].RawQuery, "$select=fullname") {
		t.Errorf("first request query = %q", reqs[0].RawQuery)
	}

	// Nothing changed: nothing yielded, a new delta link saved.
	got, err = drain(t, api.client.NewSync("contacts", cp, opts))
	if err != nil || len(got) != 0 {
		t.Fatalf("quiet run yielded %v, %v; want nothing", got, err)
	}
	reqs = api.reqs()
	last := reqs[len(reqs)-1]
	if p := last.Header.Get("Prefer"); p != "odata.maxpagesize=2" || !strings.Contains(last.RawQuery, "$deltatoken=") {
		t.Errorf("delta request: Prefer %q, query %q", p, last.RawQuery)
	}

	// An update, two creates and two deletes: upserts in the order they happened, then deletes.
	f.upsert(nthID(2), "Row2")
	f.upsert(nthID(7), "Row7")
	f.remove(nthID(3))
	f.upsert(nthID(6), "Row6")
	f.remove(nthID(5))
	got, err = drain(t, api.client.NewSync("contacts", cp, opts))
	if err != nil {
		t.Fatal(err)
	}
	want = append(upserts("Row2", "Row7", "Row6"), syncedChange{Op: ChangeDelete, ID: nthID(3)}, syncedChange{Op: ChangeDelete, ID: nthID(5)})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
}

func TestSyncResetsAndReloads(t *testing.T) {
	tests := []struct {
		name string
		// change happens between a completed first sync and the second.
		change     func(f *ctFake)
		select2    []string
		wantReason ResetReason
	}{
		{"expired token", func(f *ctFake) { f.expireAll() }, []string{"fullname"}, ResetExpired},
		{"select changed", func(*ctFake) {}, []string{"fullname", "firstname"}, ResetSelectChanged},
		{"same select in another order is no change", func(*ctFake) {}, []string{"fullname", "fullname"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := seeded(3)
			api := ctAPI(t, f)
			cp := &memCheckpoint{}
			if _, err := drain(t, api.client.NewSync("contacts", cp, &SyncOptions{Select: []string{"fullname"}, PrimaryKey: "contactid"})); err != nil {
				t.Fatal(err)
			}
			f.upsert(nthID(2), "Row2")
			tt.change(f)
			got, err := drain(t, api.client.NewSync("contacts", cp, &SyncOptions{Select: tt.select2, PrimaryKey: "contactid"}))
			if err != nil {
				t.Fatal(err)
			}
			want := upserts("Row2")
			if tt.wantReason != "" {
				// The reset, then the whole table in the full load's order.
				want = append([]syncedChange{reset(tt.wantReason)}, upserts("Row1", "Row2", "Row3")...)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			if !cmp.Equal(cp.st.Select, tt.select2) || cp.st.DeltaLink == "" {
				t.Errorf("saved state %+v; want the new select and a delta link", cp.st)
			}
		})
	}
}

func TestSyncTrackingRefused(t *testing.T) {
	f := seeded(2)
	api := ctAPI(t, f)
	cp := &memCheckpoint{}
	opts := &SyncOptions{PrimaryKey: "contactid"}
	if _, err := drain(t, api.client.NewSync("contacts", cp, opts)); err != nil {
		t.Fatal(err)
	}
	saved := *cp.st

	// Every request refused as not tracked (plain reads too, as a fault rule does): the delta
	// link, the tracked full load and the plain one fail; nothing is yielded (no reset,
	// so the consumer keeps its copy) and the saved position stays.
	f.set(func(f *ctFake) { f.trackingOff = true })
	got, err := drain(t, api.client.NewSync("contacts", cp, opts))
	if !HasCode(err, CodeChangeTrackingNotEnabled) || len(got) != 0 {
		t.Fatalf("yielded %v, err %v; want nothing and %s", got, err, CodeChangeTrackingNotEnabled)
	}
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != 400 || !strings.Contains(err.Error(), "isn't enabled for change tracking") {
		t.Errorf("err = %v", err)
	}
	if !cmp.Equal(*cp.st, saved) {
		t.Errorf("state changed to %+v", cp.st)
	}
	// A first sync of an untracked table fails the same way.
	if got, err := drain(t, api.client.NewSync("contacts", &memCheckpoint{}, opts)); !HasCode(err, CodeChangeTrackingNotEnabled) || len(got) != 0 {
		t.Errorf("first sync of an untracked table: %v, %v", got, err)
	}

	// Tracking on again, but the saved link (made before it was switched off) is still
	// refused as not tracked: the refusal of the link alone leads to a reset and a full load.
	f.set(func(f *ctFake) { f.trackingOff = false })
	api.handler = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("$deltatoken") {
			writeError(w, 400, CodeChangeTrackingNotEnabled, "Entity contact isn't enabled for change tracking.")
			return
		}
		f.serve(api.base)(w, r)
	}
	got, err = drain(t, api.client.NewSync("contacts", cp, opts))
	if err != nil {
		t.Fatal(err)
	}
	want := append([]syncedChange{reset(ResetTrackingRefused)}, upserts("Row1", "Row2")...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// TestSyncStopMidPageRedelivers: a consumer that stops in the middle of a page (as a process
// killed there would) sees that page again on the next run; pages before it are not repeated.
func TestSyncStopMidPageRedelivers(t *testing.T) {
	f := seeded(6)
	api := ctAPI(t, f)
	cp := &memCheckpoint{}
	opts := &SyncOptions{MaxPageSize: 2, PrimaryKey: "contactid"}
	var first []string
	for ch, err := range api.client.NewSync("contacts", cp, opts).Changes(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, string(ch.Op)+ch.ID.String()[33:])
		if ch.ID == nthID(3) {
			break // the first of page 2
		}
	}
	if cp.saves != 1 || !cp.st.FullLoad || cp.st.NextLink == "" {
		t.Fatalf("after stopping in page 2: %d saves, state %+v; want page 1's", cp.saves, cp.st)
	}
	got, err := drain(t, api.client.NewSync("contacts", cp, opts))
	if err != nil {
		t.Fatal(err)
	}
	// The full load continues at page 2, without a second reset.
	if diff := cmp.Diff(upserts("Row3", "Row4", "Row5", "Row6"), got); diff != "" {
		t.Fatalf("first run %v; second run (-want +got):\n%s", first, diff)
	}
}

// TestSyncSaveFailureStopsBeforeTheNextPage: a failed save ends the run with the error; the
// next run reads the page again.
func TestSyncSaveFailureStopsBeforeTheNextPage(t *testing.T) {
	f := seeded(4)
	api := ctAPI(t, f)
	cp := &memCheckpoint{failSave: 2}
	opts := &SyncOptions{MaxPageSize: 2, PrimaryKey: "contactid"}
	got, err := drain(t, api.client.NewSync("contacts", cp, opts))
	if err == nil || !strings.Contains(err.Error(), "saving the position: disk full") {
		t.Fatalf("err = %v", err)
	}
	if len(got) != 5 { // reset + 2 pages of 2
		t.Fatalf("yielded %v", got)
	}
	got, err = drain(t, api.client.NewSync("contacts", cp, opts))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(upserts("Row3", "Row4"), got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// TestSyncRetriesThrottlingThroughThePipeline: a 429 mid-chain is retried by the client's
// pipeline at the same link, after the Retry-After the service asked for.
func TestSyncRetriesThrottlingThroughThePipeline(t *testing.T) {
	f := seeded(4)
	api := ctAPI(t, f)
	cp := &memCheckpoint{}
	opts := &SyncOptions{MaxPageSize: 2, PrimaryKey: "contactid"}
	s := api.client.NewSync("contacts", cp, opts)
	n := 0
	var got []syncedChange
	for ch, err := range s.Changes(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			f.set(func(f *ctFake) { f.throttleNext = 1 })
		}
		got = append(got, syncedChange{Op: ch.Op, ID: ch.ID, Reason: ch.Reason})
	}
	if len(got) != 5 || got[4].ID != nthID(4) {
		t.Fatalf("yielded %v", got)
	}
	if w := api.waits.durations(); len(w) != 1 || w[0].Seconds() != 2 {
		t.Errorf("waits = %v, want one of 2s", w)
	}
	reqs := api.reqs()
	if len(reqs) != 3 || reqs[1].RawQuery != reqs[2].RawQuery {
		t.Errorf("requests: %d; the retry must repeat the throttled link", len(reqs))
	}
}

func TestSyncRefusesWhatItCannotKeep(t *testing.T) {
	tests := []struct {
		name   string
		fake   func(*ctFake)
		state  *SyncState
		opts   SyncOptions
		set    string
		errHas string
	}{
		{name: "no Preference-Applied", fake: func(f *ctFake) { f.noPreferenceApplied = true },
			errHas: "did not apply odata.track-changes"},
		{name: "last page without a delta link", fake: func(f *ctFake) { f.dropDeltaLink = true },
			errHas: "neither @odata.nextLink nor @odata.deltaLink"},
		{name: "state of another table", state: &SyncState{EntitySet: "accounts", DeltaLink: "https://x/"},
			errHas: "holds the position of a sync of accounts, not contacts"},
		{name: "state for another environment", state: &SyncState{EntitySet: "contacts", DeltaLink: "https://elsewhere.example/api/data/v9.2/contacts?$deltatoken=1"},
			errHas: "written for another environment"},
		{name: "state with no link", state: &SyncState{EntitySet: "contacts"},
			errHas: "neither a delta link nor a next link"},
		{name: "bad entity set", set: "con tacts", errHas: "is not an entity set name"},
		{name: "bad select", opts: SyncOptions{Select: []string{"a b"}}, errHas: "$select"},
		{name: "bad page size", opts: SyncOptions{MaxPageSize: 9000}, errHas: "MaxPageSize 9000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := seeded(2)
			if tt.fake != nil {
				tt.fake(f)
			}
			api := ctAPI(t, f)
			cp := &memCheckpoint{st: tt.state}
			set := tt.set
			if set == "" {
				set = "contacts"
			}
			o := tt.opts
			o.PrimaryKey = "contactid"
			var changes []Change
			var err error
			for ch, e := range api.client.NewSync(set, cp, &o).Changes(t.Context()) {
				if e != nil {
					err = e
					break
				}
				changes = append(changes, ch)
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %v, want one with %q", err, tt.errHas)
			}
			if tt.name != "last page without a delta link" && len(changes) > 0 {
				t.Errorf("yielded %d changes before the refusal; want none (no reset)", len(changes))
			}
			if cp.saves != 0 {
				t.Errorf("%d saves; a refused sync must save nothing", cp.saves)
			}
		})
	}
}

// TestSyncPrimaryKeyFromMetadataOnlyWhenNeeded: without PrimaryKey, a delta of deletes alone
// sends no metadata request; the first upsert reads the key from the table's metadata once.
func TestSyncPrimaryKeyFromMetadataOnlyWhenNeeded(t *testing.T) {
	f := seeded(2)
	var api *fakeAPI
	metadataReads := 0
	api = ctAPI(t, f)
	serve := f.serve(api.base)
	api.handler = func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "EntityDefinitions") {
			metadataReads++
			writeJSON(w, 200, `{"value":[{"LogicalName":"contact","EntitySetName":"contacts","PrimaryIdAttribute":"contactid","PrimaryNameAttribute":"fullname","Attributes":[]}]}`)
			return
		}
		serve(w, r)
	}
	cp := &memCheckpoint{}
	if _, err := drain(t, api.client.NewSync("contacts", cp, &SyncOptions{PrimaryKey: "contactid"})); err != nil {
		t.Fatal(err)
	}
	f.remove(nthID(1))
	got, err := drain(t, api.client.NewSync("contacts", cp, nil))
	if err != nil || metadataReads != 0 {
		t.Fatalf("deletes only: %v, %v, %d metadata reads; want no metadata read", got, err, metadataReads)
	}
	f.upsert(nthID(2), "Row2")
	got, err = drain(t, api.client.NewSync("contacts", cp, nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(upserts("Row2"), got); diff != "" || metadataReads != 1 {
		t.Errorf("%d metadata reads; (-want +got):\n%s", metadataReads, diff)
	}
}

func TestChangeAppendJSON(t *testing.T) {
	id := uuid.MustParse("7eb682f1-ca75-e511-80d4-00155d2a68d1")
	tests := []struct {
		ch   Change
		want string
	}{
		{Change{Op: ChangeUpsert, ID: id, Record: []byte(`{"fullname":"A \"q\""}`)}, `{"op":"upsert","id":"7eb682f1-ca75-e511-80d4-00155d2a68d1","record":{"fullname":"A \"q\""}}`},
		{Change{Op: ChangeDelete, ID: id}, `{"op":"delete","id":"7eb682f1-ca75-e511-80d4-00155d2a68d1"}`},
		{Change{Op: ChangeReset, Reason: ResetExpired}, `{"op":"reset","reason":"expired"}`},
		{Change{Op: ChangeReset}, `{"op":"reset"}`},
	}
	for _, tt := range tests {
		if got := string(tt.ch.AppendJSON(nil)); got != tt.want {
			t.Errorf("AppendJSON = %s, want %s", got, tt.want)
		}
		if got, _ := tt.ch.MarshalJSON(); string(got) != tt.want {
			t.Errorf("MarshalJSON = %s, want %s", got, tt.want)
		}
	}
}

func TestClassifyRow(t *testing.T) {
	id := "7eb682f1-ca75-e511-80d4-00155d2a68d1"
	tests := []struct {
		row     string
		want    ChangeOp
		errHas  string
		wantNil bool
	}{
		{`{"@odata.etag":"W/\"1\"","fullname":"x","contactid":"` + id + `"}`, ChangeUpsert, "", false},
		{`{"@odata.context":"https://o/api/data/v9.2/$metadata#contacts/$deletedEntity","id":"` + id + `","reason":"deleted"}`, ChangeDelete, "", false},
		{`{"@odata.context":"https:\/\/o\/api\/data\/v9.2\/$metadata#contacts\/$deletedEntity","id":"` + id + `","reason":"deleted"}`, ChangeDelete, "", false},
		{`{"@odata.context":"https://o/$metadata#contacts/$deletedEntity","id":"https://o/api/data/v9.2/contacts(` + id + `)","reason":"deleted"}`, ChangeDelete, "", false},
		{`{"@odata.context":"https://o/$metadata#contacts/$deletedEntity","reason":"deleted"}`, "", "has no id", false},
		{`{"@odata.context":"https://o/$metadata#contacts/$deletedEntity","id":"nope"}`, "", `"nope" is not a GUID`, false},
		{`{"@odata.context":"https://o/$metadata#contacts/$deletedEntity","id":7}`, "", "is not a string", false},
		{`{"fullname":"x"}`, "", "has no contactid", false},
		{`{"contactid":"x"}`, "", `contactid "x" is not a GUID`, false},
		{`{"contactid":null}`, "", "is not a string", false},
		{`[1]`, "", "not a JSON object", false},
	}
	for _, tt := range tests {
		op, got, err := classifyRow([]byte(tt.row), "contactid")
		if tt.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("%s: err = %v, want %q", tt.row, err, tt.errHas)
			}
			continue
		}
		if err != nil || op != tt.want || got.String() != id {
			t.Errorf("%s: %s %s %v; want %s %s", tt.row, op, got, err, tt.want, id)
		}
	}
}

// FuzzClassifyRow: any row is a change or an error, never a panic; a delete or an upsert always
// carries a non-nil id.
func FuzzClassifyRow(f *testing.F) {
	f.Add([]byte(`{"@odata.context":"https://o/$metadata#contacts/$deletedEntity","id":"7eb682f1-ca75-e511-80d4-00155d2a68d1","reason":"deleted"}`))
	f.Add([]byte(`{"@odata.etag":"W/\"1\"","contactid":"7eb682f1-ca75-e511-80d4-00155d2a68d1"}`))
	f.Add([]byte(`{"id":"x(7eb682f1-ca75-e511-80d4-00155d2a68d1)","@odata.context":"\u0024deletedEntity"}`))
	f.Fuzz(func(t *testing.T, row []byte) {
		op, id, err := classifyRow(row, "contactid")
		if err == nil && id == uuid.Nil && op == ChangeDelete {
			// A nil GUID can be spelt; it is still a GUID.
			return
		}
		if err != nil && op != "" {
			t.Fatalf("%s: op %q with error %v", row, op, err)
		}
	})
}

// TestSyncUntrackedFallback: tracking switched off (the saved link and a tracked load refused,
// plain reads served): a reset and a plain full load that saves no delta link. A load that fails
// at its second page keeps the reset and the first page, and the next run continues it without
// a new reset; each later run starts over until tracking is on, then a delta link is saved.
func TestSyncUntrackedFallback(t *testing.T) {
	f := seeded(5)
	api := ctAPI(t, f)
	cp := &memCheckpoint{}
	opts := &SyncOptions{MaxPageSize: 2, PrimaryKey: "contactid"}
	if _, err := drain(t, api.client.NewSync("contacts", cp, opts)); err != nil {
		t.Fatal(err)
	}
	f.set(func(f *ctFake) { f.refuseTracked = true })
	serve := f.serve(api.base)
	api.handler = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("$skiptoken") && r.URL.Query().Get("$skiptoken") == "2" {
			writeError(w, 400, "0x80040203", "the second page fails")
			return
		}
		serve(w, r)
	}
	s := api.client.NewSync("contacts", cp, opts)
	got, err := drain(t, s)
	want := append([]syncedChange{reset(ResetTrackingRefused)}, upserts("Row1", "Row2")...)
	if !HasCode(err, "0x80040203") {
		t.Fatalf("err = %v, want the second page's", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("a load failing at its second page (-want +got):\n%s", diff)
	}
	if st := s.Stats(); !st.Untracked || st.Reason != ResetTrackingRefused {
		t.Errorf("stats %+v, want an untracked full load", st)
	}
	if cp.st.NextLink == "" || !cp.st.FullLoad || !cp.st.Untracked || cp.st.DeltaLink != "" {
		t.Fatalf("saved %+v, want the untracked load's next link", cp.st)
	}

	api.handler = serve
	got, err = drain(t, api.client.NewSync("contacts", cp, opts))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(upserts("Row3", "Row4", "Row5"), got); diff != "" {
		t.Fatalf("the continued load (-want +got):\n%s", diff)
	}
	if cp.st.NextLink != "" || cp.st.DeltaLink != "" || !cp.st.Untracked {
		t.Fatalf("saved %+v, want an untracked position without links", cp.st)
	}
	if err := cp.st.validate(); err != nil {
		t.Errorf("the untracked position does not validate: %v", err)
	}

	// Still refused: the whole table again.
	all := append([]syncedChange{reset(ResetTrackingRefused)}, upserts("Row1", "Row2", "Row3", "Row4", "Row5")...)
	got, err = drain(t, api.client.NewSync("contacts", cp, opts))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Fatalf("still refused (-want +got):\n%s", diff)
	}
	// Tracking on again: a tracked load that saves a delta link, then only changes.
	f.set(func(f *ctFake) { f.refuseTracked = false })
	s = api.client.NewSync("contacts", cp, opts)
	if got, err = drain(t, s); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all, got); diff != "" {
		t.Fatalf("tracking on again (-want +got):\n%s", diff)
	}
	if cp.st.DeltaLink == "" || cp.st.Untracked || s.Stats().Untracked {
		t.Fatalf("saved %+v, stats %+v; want a tracked position", cp.st, s.Stats())
	}
	f.upsert(nthID(2), "Row2")
	if got, err = drain(t, api.client.NewSync("contacts", cp, opts)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(upserts("Row2"), got); diff != "" {
		t.Fatalf("after tracking came back (-want +got):\n%s", diff)
	}
}
