package dataverse_test

import (
	"maps"
	"testing"

	"github.com/d365s2s/d365/dataverse"
)

// TestSyncTrackingSwitchedOffAndOn: the table's change tracking is switched off between two
// syncs (as an administrator does in the table's settings) and on again later. Off: the saved
// delta link is refused (0x80072491), and so is a new tracked load, so the sync yields a reset
// (tracking-refused) and the whole table read without tracking, and saves a position with no
// delta link; every later run starts over the same way. On again: the next sync starts over
// once more and this time saves a delta link, and the sync after it yields only the changes.
// A position saved before tracking was switched off is expired once it is on again: it cannot
// miss the changes made while tracking was off.
func TestSyncTrackingSwitchedOffAndOn(t *testing.T) {
	t.Parallel()
	env, ids := syncEnv(t, 5, nil)
	ctx := t.Context()
	cp := openState(t)
	mirror := newReplica()
	opts := &dataverse.SyncOptions{Select: []string{"firstname"}, MaxPageSize: 2}
	sync := func() ([]dataverse.Change, dataverse.SyncStats) {
		t.Helper()
		s := env.client.NewSync("contacts", cp, opts)
		changes := runSync(t, s, mirror)
		if got := tableRows(t, env.client); !maps.Equal(mirror.rows, got) {
			t.Fatalf("the mirror has %d rows, the table %d: they differ", len(mirror.rows), len(got))
		}
		return changes, s.Stats()
	}
	wantReload := func(what string, changes []dataverse.Change, st dataverse.SyncStats, rows int, untracked bool) {
		t.Helper()
		if len(changes) != rows+1 || changes[0].Op != dataverse.ChangeReset || changes[0].Reason != dataverse.ResetTrackingRefused {
			t.Fatalf("%s: %d changes starting %+v; want a reset (tracking-refused) and %d upserts", what, len(changes), changes[0], rows)
		}
		for _, ch := range changes[1:] {
			if ch.Op != dataverse.ChangeUpsert {
				t.Fatalf("%s: %+v after the reset; want only upserts", what, ch)
			}
		}
		if !st.FullLoad || st.Untracked != untracked || st.Resets != 1 || st.Upserts != int64(rows) {
			t.Errorf("%s: stats %+v; want a full load of %d rows, untracked %v", what, st, rows, untracked)
		}
		saved, err := cp.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if saved.Untracked != untracked || (saved.DeltaLink == "") != untracked || saved.NextLink != "" {
			t.Errorf("%s: saved %+v; want untracked %v and a delta link only when tracked", what, saved, untracked)
		}
	}

	sync() // the initial load
	before, err := cp.Load(ctx)
	if err != nil || before.DeltaLink == "" {
		t.Fatalf("after the initial load: %+v, %v", before, err)
	}

	// Off, with changes made while it is off: the whole table again, untracked.
	if err := env.emu.SetChangeTracking(ctx, "contact", false); err != nil {
		t.Fatal(err)
	}
	if err := env.client.Delete(ctx, "contacts", ids[0], nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.Update(ctx, "contacts", ids[1], map[string]any{"firstname": "Off"}, nil); err != nil {
		t.Fatal(err)
	}
	seedContacts(t, env.client, 100, 1)
	changes, st := sync()
	wantReload("tracking off", changes, st, 5, true)
	if mirror.rows[ids[1]] != "Off" {
		t.Errorf("the mirror has %q for the row updated while tracking was off", mirror.rows[ids[1]])
	}
	// Still off: the next run starts over the same way.
	changes, st = sync()
	wantReload("tracking still off", changes, st, 5, true)

	// On again: a tracked full load, which saves a delta link.
	if err := env.emu.SetChangeTracking(ctx, "contact", true); err != nil {
		t.Fatal(err)
	}
	changes, st = sync()
	wantReload("tracking on again", changes, st, 5, false)

	// Then only the changes.
	if err := env.client.Delete(ctx, "contacts", ids[2], nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.Update(ctx, "contacts", ids[3], map[string]any{"firstname": "On"}, nil); err != nil {
		t.Fatal(err)
	}
	changes, st = sync()
	want := []dataverse.Change{{Op: dataverse.ChangeUpsert, ID: ids[3]}, {Op: dataverse.ChangeDelete, ID: ids[2]}}
	if len(changes) != 2 || changes[0].Op != want[0].Op || changes[0].ID != want[0].ID || changes[1].Op != want[1].Op || changes[1].ID != want[1].ID {
		t.Errorf("after tracking came back: %+v; want the upsert of %s and the delete of %s", changes, ids[3], ids[2])
	}
	if st.FullLoad || st.Untracked || st.Resets != 0 {
		t.Errorf("after tracking came back: stats %+v; want changes only", st)
	}

	// The position saved before tracking was switched off is expired now: a sync from it
	// starts over (it would otherwise miss the delete made while tracking was off).
	old := openState(t)
	if err := old.Save(ctx, before); err != nil {
		t.Fatal(err)
	}
	s := env.client.NewSync("contacts", old, opts)
	fresh := newReplica()
	changes = runSync(t, s, fresh)
	if len(changes) == 0 || changes[0].Op != dataverse.ChangeReset || changes[0].Reason != dataverse.ResetExpired {
		t.Fatalf("sync from the position taken before tracking was switched off: %+v; want a reset (expired) first", changes)
	}
	if got := tableRows(t, env.client); !maps.Equal(fresh.rows, got) {
		t.Errorf("the copy synced from the old position has %d rows, the table %d", len(fresh.rows), len(got))
	}
}

// TestSyncFirstLoadOfUntrackedTableIsRefused: a first sync (no copy to keep) of a table whose
// tracking is off is refused with 0x80072491, yields nothing and saves nothing; the plain-read
// fallback is for a consumer that already keeps a copy.
func TestSyncFirstLoadOfUntrackedTableIsRefused(t *testing.T) {
	t.Parallel()
	env, _ := syncEnv(t, 2, nil)
	ctx := t.Context()
	if err := env.emu.SetChangeTracking(ctx, "contact", false); err != nil {
		t.Fatal(err)
	}
	cp := openState(t)
	var got []dataverse.Change
	var err error
	for ch, e := range env.client.NewSync("contacts", cp, nil).Changes(ctx) {
		if e != nil {
			err = e
			break
		}
		got = append(got, ch)
	}
	if !dataverse.HasCode(err, dataverse.CodeChangeTrackingNotEnabled) || len(got) != 0 {
		t.Fatalf("first sync with tracking off: %v, %v; want nothing and %s", got, err, dataverse.CodeChangeTrackingNotEnabled)
	}
	if st, _ := cp.Load(ctx); st != nil {
		t.Errorf("a refused first sync saved %+v", st)
	}
}
