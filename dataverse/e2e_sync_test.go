package dataverse_test

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// syncLoadRows is the size of the initial load the issue asks for; under -race the emulator's
// store is about ten times slower, so the load is smaller there.
func syncLoadRows() int {
	if raceEnabled {
		return 1000
	}
	return 20000
}

// TestSyncInitialLoadDuringWritesThenNetChanges: an initial load of 20,000 rows while another
// writer creates, updates and deletes rows (at least 10 writes between two pages, more while
// pages are read); the load's delta link is taken at its first page, so the next sync yields
// exactly the net effect of every write made after that, checked against the writer's own
// record; the consumer's mirror then equals the table.
func TestSyncInitialLoadDuringWritesThenNetChanges(t *testing.T) {
	t.Parallel()
	n := syncLoadRows()
	env, ids := syncEnv(t, n, nil)
	syncDuringWrites(t, env, ids, 1)
}

// TestSyncThroughFaults: the same flow with 10% of the contacts requests throttled and 5%
// answered 503, reads and writes alike: the client's retries carry the sync (and the writer)
// through, and nothing is lost or doubled.
func TestSyncThroughFaults(t *testing.T) {
	t.Parallel()
	n := syncLoadRows()
	env, ids := syncEnv(t, n, &emulator.Options{FaultSeed: 7})
	for _, rule := range []emulator.FaultRule{
		{ID: "throttle10", Match: emulator.FaultMatch{Table: "contacts"}, Trigger: emulator.FaultTrigger{Probability: 0.10},
			Action: emulator.FaultAction{Kind: emulator.ActionThrottle, RetryAfter: 1}},
		{ID: "unavailable5", Match: emulator.FaultMatch{Table: "contacts"}, Trigger: emulator.FaultTrigger{Probability: 0.05},
			Action: emulator.FaultAction{Kind: emulator.ActionError, Status: 503}},
	} {
		if _, err := env.emu.AddFault(rule); err != nil {
			t.Fatal(err)
		}
	}
	syncDuringWrites(t, env, ids, 2)
	waits := env.waits.durations()
	if len(waits) < 10 {
		t.Errorf("the client waited %d times; the faults should have made it retry many times", len(waits))
	}
	t.Logf("%d retries", len(waits))
}

// syncDuringWrites is the flow of the two tests above.
func syncDuringWrites(t *testing.T, env *e2eEnv, ids []uuid.UUID, seed uint64) {
	const pageSize, writesPerPage = 500, 10
	w := newSyncWriter(t, env.client, ids, seed)
	pages := 0
	opts := &dataverse.SyncOptions{Select: []string{"firstname"}, MaxPageSize: pageSize,
		Progress: func(st dataverse.SyncStats) {
			if pages++; pages == 1 {
				w.start() // after the first page: the delta token is taken
			}
			w.waitOps(pages * writesPerPage)
		}}
	cp := openState(t)
	mirror := newReplica()
	first := runSync(t, env.client.NewSync("contacts", cp, opts), mirror)
	w.halt()
	if first[0].Op != dataverse.ChangeReset || first[0].Reason != dataverse.ResetInitial {
		t.Fatalf("the first change is %+v, want a reset", first[0])
	}
	if wantPages := len(ids)/pageSize + 1; pages < wantPages-1 {
		t.Fatalf("the load read %d pages, want about %d", pages, wantPages)
	}
	t.Logf("initial load: %d changes in %d pages; writer: %v", len(first), pages, w.counts)

	opts.Progress = nil
	second := runSync(t, env.client.NewSync("contacts", cp, opts), mirror)
	w.checkNetChanges(t, second)
	if table := tableRows(t, env.client); !maps.Equal(mirror.rows, table) {
		t.Errorf("the mirror holds %d rows, the table %d; they differ", len(mirror.rows), len(table))
	}
	// And a third sync has nothing to say.
	if third := runSync(t, env.client.NewSync("contacts", cp, opts), mirror); len(third) != 0 {
		t.Errorf("a sync with no writes since yielded %d changes", len(third))
	}
}

// TestSyncDeletesDirectAndByCascade: a row deleted directly and rows deleted because their
// parent account was deleted (contact_customer_accounts cascades) all arrive as deletes, after
// the upserts of the same delta.
func TestSyncDeletesDirectAndByCascade(t *testing.T) {
	t.Parallel()
	env, ids := syncEnv(t, 3, nil)
	ctx := t.Context()
	acct, err := env.client.Create(ctx, "accounts", map[string]any{"name": "Parent"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var children []uuid.UUID
	for i := range 3 {
		res, err := env.client.Create(ctx, "contacts", map[string]any{"firstname": "Child" + string(rune('A'+i)),
			"parentcustomerid_account@odata.bind": "/accounts(" + acct.ID.String() + ")"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, res.ID)
	}
	cp := openState(t)
	mirror := newReplica()
	opts := &dataverse.SyncOptions{Select: []string{"firstname"}}
	runSync(t, env.client.NewSync("contacts", cp, opts), mirror)
	if len(mirror.rows) != 6 {
		t.Fatalf("after the load the mirror holds %d rows, want 6", len(mirror.rows))
	}
	if err := env.client.Delete(ctx, "contacts", ids[0], nil); err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.Update(ctx, "contacts", ids[1], map[string]any{"firstname": "Renamed"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := env.client.Delete(ctx, "accounts", acct.ID, nil); err != nil {
		t.Fatal(err)
	}
	changes := runSync(t, env.client.NewSync("contacts", cp, opts), mirror)
	var ops []string
	deleted := map[uuid.UUID]bool{}
	for _, ch := range changes {
		ops = append(ops, string(ch.Op))
		if ch.Op == dataverse.ChangeDelete {
			deleted[ch.ID] = true
		}
	}
	if got := strings.Join(ops, ","); got != "upsert,delete,delete,delete,delete" {
		t.Errorf("ops = %s, want the update first, then four deletes", got)
	}
	want := map[uuid.UUID]bool{ids[0]: true, children[0]: true, children[1]: true, children[2]: true}
	if !maps.Equal(deleted, want) {
		t.Errorf("deleted %v, want the direct delete and the three children", deleted)
	}
	if want := map[uuid.UUID]string{ids[1]: "Renamed", ids[2]: "S00002"}; !maps.Equal(mirror.rows, want) {
		t.Errorf("mirror = %v, want %v", mirror.rows, want)
	}
}

// TestSyncExpiredTokenResetsThenReloads: a saved delta link the service refuses as expired
// (0x80044352) leads to a reset and a full load, and the mirror equals the table again. The token
// expires three ways: by age (the clock eight days on; the environment keeps change tracking seven
// days by default), by the environment's setting (ExpireChangeTrackingInDays 0) and by the
// emulator's expire-delta-token fault.
func TestSyncExpiredTokenResetsThenReloads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		expire func(t *testing.T, env *e2eEnv) *dataverse.Client
	}{
		{"eight days later", func(t *testing.T, env *e2eEnv) *dataverse.Client {
			env.emu.SetClockOffset(8 * 24 * time.Hour)
			// A client made now gets tokens the emulator's moved clock accepts.
			return newClient(t, env.emu, newSecretCredential(t, env.emu), nil)
		}},
		{"retention set to 0 days", func(t *testing.T, env *e2eEnv) *dataverse.Client {
			if err := env.emu.SetExpireChangeTrackingInDays(0); err != nil {
				t.Fatal(err)
			}
			return env.client
		}},
		{"fault rule", func(t *testing.T, env *e2eEnv) *dataverse.Client {
			if _, err := env.emu.AddFault(emulator.FaultRule{Match: emulator.FaultMatch{Table: "contacts"},
				Trigger: emulator.FaultTrigger{Nth: 1, Count: 1}, Action: emulator.FaultAction{Kind: emulator.ActionExpireDeltaToken}}); err != nil {
				t.Fatal(err)
			}
			return env.client
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, ids := syncEnv(t, 5, nil)
			ctx := t.Context()
			cp := openState(t)
			mirror := newReplica()
			opts := &dataverse.SyncOptions{Select: []string{"firstname"}}
			runSync(t, env.client.NewSync("contacts", cp, opts), mirror)
			if err := env.client.Delete(ctx, "contacts", ids[0], nil); err != nil {
				t.Fatal(err)
			}
			client := tt.expire(t, env)
			s := client.NewSync("contacts", cp, opts)
			changes := runSync(t, s, mirror)
			if changes[0].Op != dataverse.ChangeReset || changes[0].Reason != dataverse.ResetExpired {
				t.Fatalf("first change %+v, want a reset for an expired position", changes[0])
			}
			if len(changes) != 5 { // the reset and the four rows left
				t.Errorf("%d changes, want the reset and 4 upserts", len(changes))
			}
			if st := s.Stats(); !st.FullLoad || st.Reason != dataverse.ResetExpired || st.Upserts != 4 {
				t.Errorf("stats %+v", st)
			}
			if table := tableRows(t, client); !maps.Equal(mirror.rows, table) {
				t.Errorf("mirror %v, table %v", mirror.rows, table)
			}
			if tt.name == "retention set to 0 days" {
				return // every token is expired at once: the next sync reloads again
			}
			// The new position is good: the next sync has nothing to say.
			if again := runSync(t, client.NewSync("contacts", cp, opts), mirror); len(again) != 0 {
				t.Errorf("after the reload: %d changes", len(again))
			}
		})
	}
}

// TestSyncSelectDriftResets: a sync with another select starts over with a reset and rows of the
// new columns, even when nothing changed.
func TestSyncSelectDriftResets(t *testing.T) {
	t.Parallel()
	env, _ := syncEnv(t, 3, nil)
	cp := openState(t)
	mirror := newReplica()
	runSync(t, env.client.NewSync("contacts", cp, &dataverse.SyncOptions{Select: []string{"firstname"}}), mirror)
	// The same columns in another order are the same select: no reset.
	if same := runSync(t, env.client.NewSync("contacts", cp, &dataverse.SyncOptions{Select: []string{"firstname", "firstname"}}), mirror); len(same) != 0 {
		t.Fatalf("the same select yielded %v", same)
	}
	changes := runSync(t, env.client.NewSync("contacts", cp, &dataverse.SyncOptions{Select: []string{"firstname", "lastname"}}), mirror)
	if len(changes) != 4 || changes[0].Op != dataverse.ChangeReset || changes[0].Reason != dataverse.ResetSelectChanged {
		t.Fatalf("changes %v, want a reset (select-changed) and 3 upserts", changes)
	}
	for _, ch := range changes[1:] {
		if !strings.Contains(string(ch.Record), `"lastname":"Sync"`) {
			t.Errorf("row %s lacks the new column", ch.Record)
		}
	}
}

// TestSyncRefusals: change tracking on a table that has it off is refused with
// ChangeTrackingNotEnabledForEntity and the consumer gets nothing (no reset); a tracked read with
// $filter is refused with the documented message.
func TestSyncRefusals(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	cp := openState(t)
	var got []dataverse.Change
	var err error
	for ch, e := range env.client.NewSync("tasks", cp, &dataverse.SyncOptions{PrimaryKey: "activityid"}).Changes(ctx) {
		if e != nil {
			err = e
			break
		}
		got = append(got, ch)
	}
	if !dataverse.HasCode(err, dataverse.CodeChangeTrackingNotEnabled) || len(got) != 0 {
		t.Fatalf("sync of tasks: %d changes, err %v; want none and %s", len(got), err, dataverse.CodeChangeTrackingNotEnabled)
	}
	if !strings.Contains(err.Error(), "Entity task isn't enabled for change tracking.") {
		t.Errorf("err = %v", err)
	}
	if st, _ := cp.Load(ctx); st != nil {
		t.Errorf("a refused sync saved %+v", st)
	}

	// $filter with change tracking: Sync never sends one; a List that asks for tracking does.
	_, err = env.client.List(ctx, "contacts", &dataverse.ListOptions{
		Query:          dataverse.Query{Filter: "lastname eq 'x'"},
		RequestOptions: dataverse.RequestOptions{Header: map[string][]string{"Prefer": {"odata.track-changes"}}},
	})
	var re *dataverse.ResponseError
	if !errors.As(err, &re) || re.StatusCode != 400 || re.Code != "0x80060888" ||
		re.Message != `The "$filter" query parameter isn't supported when Change Tracking is enabled.` {
		t.Errorf("tracked $filter: %v", err)
	}
}
