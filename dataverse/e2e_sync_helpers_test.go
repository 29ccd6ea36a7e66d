package dataverse_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// syncEnv is an emulator without service protection limits holding n contacts named
// "S00000"… (firstname), and a client for it.
func syncEnv(t testing.TB, n int, opts *emulator.Options) (*e2eEnv, []uuid.UUID) {
	t.Helper()
	if opts == nil {
		opts = &emulator.Options{}
	}
	off := emulator.LimitsOff()
	opts.Limits = &off
	env := newE2E(t, &e2eSetup{emulator: opts})
	return env, seedContacts(t, env.client, 0, n)
}

// seedContacts creates contacts first…first+n-1 ("S%05d") in bulk and returns their ids.
func seedContacts(t testing.TB, c *dataverse.Client, first, n int) []uuid.UUID {
	t.Helper()
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = map[string]any{"firstname": fmt.Sprintf("S%05d", first+i), "lastname": "Sync", "numberofchildren": i % 5}
	}
	if n == 0 {
		return nil
	}
	ids, err := dataverse.CreateMultiple(t.Context(), c, "contacts", "contact", rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// openState opens a FileSyncCheckpoint in the test's directory.
func openState(t testing.TB) *dataverse.FileSyncCheckpoint {
	t.Helper()
	cp, err := dataverse.OpenFileSyncCheckpoint(filepath.Join(t.TempDir(), "contacts.sync"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Close() })
	return cp
}

// replica is a consumer's copy of a table, kept by applying a sync's changes: id -> firstname.
type replica struct {
	rows map[uuid.UUID]string
}

func newReplica() *replica { return &replica{rows: map[uuid.UUID]string{}} }

// apply applies one change as a consumer does: a reset empties the copy, an upsert stores the
// row, a delete removes it (a delete of an unknown id is nothing).
func (r *replica) apply(t testing.TB, ch dataverse.Change) {
	t.Helper()
	switch ch.Op {
	case dataverse.ChangeReset:
		clear(r.rows)
	case dataverse.ChangeUpsert:
		r.rows[ch.ID] = firstName(t, ch.Record)
	case dataverse.ChangeDelete:
		delete(r.rows, ch.ID)
	default:
		t.Fatalf("unknown change %+v", ch)
	}
}

func firstName(t testing.TB, rec json.RawMessage) string {
	t.Helper()
	var row struct {
		FirstName *string `json:"firstname"`
	}
	if err := json.Unmarshal(rec, &row); err != nil {
		t.Fatalf("record %s: %v", rec, err)
	}
	if row.FirstName == nil {
		return ""
	}
	return *row.FirstName
}

// runSync runs one Changes of s, applies every change to r and returns the changes.
func runSync(t testing.TB, s *dataverse.Sync, r *replica) []dataverse.Change {
	t.Helper()
	var out []dataverse.Change
	for ch, err := range s.Changes(t.Context()) {
		if err != nil {
			t.Fatalf("sync after %d changes: %v", len(out), err)
		}
		r.apply(t, ch)
		out = append(out, ch)
	}
	return out
}

// tableRows reads the contacts table as it is: id -> firstname.
func tableRows(t testing.TB, c *dataverse.Client) map[uuid.UUID]string {
	t.Helper()
	out := map[uuid.UUID]string{}
	p := c.Pager("contacts", &dataverse.ListOptions{Query: dataverse.Query{Select: []string{"firstname", "contactid"}}})
	for rec, err := range p.All(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		id, ok := rec.GUID("contactid")
		if !ok {
			t.Fatalf("row without contactid: %v", rec)
		}
		out[id], _ = rec.String("firstname")
	}
	return out
}

// syncWriter creates, updates and deletes contacts while a sync reads them, and keeps its own
// record of what it did: the final first name of each row it created or updated, and the rows
// it deleted.
type syncWriter struct {
	t      testing.TB
	c      *dataverse.Client
	rng    *rand.Rand
	mu     sync.Mutex
	cond   *sync.Cond
	ops    int
	live   []uuid.UUID // rows that exist, seeded ones included
	wrote  map[uuid.UUID]string
	gone   map[uuid.UUID]bool
	stop   chan struct{}
	done   chan struct{}
	err    error
	counts map[string]int
}

func newSyncWriter(t testing.TB, c *dataverse.Client, seeded []uuid.UUID, seed uint64) *syncWriter {
	w := &syncWriter{t: t, c: c, rng: rand.New(rand.NewPCG(seed, 11)), live: slices.Clone(seeded),
		wrote: map[uuid.UUID]string{}, gone: map[uuid.UUID]bool{}, stop: make(chan struct{}), done: make(chan struct{}),
		counts: map[string]int{}}
	w.cond = sync.NewCond(&w.mu)
	return w
}

// start runs the writer until halt.
func (w *syncWriter) start() {
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			if err := w.step(); err != nil {
				w.mu.Lock()
				w.err = err
				w.cond.Broadcast()
				w.mu.Unlock()
				return
			}
		}
	}()
}

// step does one random write: a create (an upsert of a new id, so a retried request cannot
// create twice), an update of a live row or a delete of one. Writes are idempotent, so the
// client's retries after throttling or a 503 keep the record true; a delete retried after its
// first attempt succeeded finds no row, which is the same outcome.
func (w *syncWriter) step() error {
	ctx := w.t.Context()
	w.mu.Lock()
	n := w.ops
	op := w.rng.IntN(10)
	var id uuid.UUID
	if len(w.live) > 0 {
		id = w.live[w.rng.IntN(len(w.live))]
	}
	w.mu.Unlock()
	name := fmt.Sprintf("W%05d", n)
	var kind string
	switch {
	case op < 4 || id == uuid.Nil:
		kind, id = "create", uuid.New()
		if _, err := w.c.Upsert(ctx, "contacts", id, map[string]any{"firstname": name, "lastname": "Writer"}, nil); err != nil {
			return fmt.Errorf("create %s: %w", id, err)
		}
	case op < 8:
		kind = "update"
		if _, err := w.c.Update(ctx, "contacts", id, map[string]any{"firstname": name}, nil); err != nil {
			return fmt.Errorf("update %s: %w", id, err)
		}
	default:
		kind = "delete"
		if err := w.c.Delete(ctx, "contacts", id, nil); err != nil && !dataverse.IsNotFound(err) {
			return fmt.Errorf("delete %s: %w", id, err)
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch kind {
	case "create":
		w.live = append(w.live, id)
		w.wrote[id] = name
	case "update":
		w.wrote[id] = name
	case "delete":
		w.live = slices.DeleteFunc(w.live, func(x uuid.UUID) bool { return x == id })
		delete(w.wrote, id)
		w.gone[id] = true
	}
	w.counts[kind]++
	w.ops++
	w.cond.Broadcast()
	return nil
}

// waitOps blocks until the writer has done at least n writes (or failed).
func (w *syncWriter) waitOps(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.ops < n && w.err == nil {
		w.cond.Wait()
	}
}

// halt stops the writer and fails the test if a write failed.
func (w *syncWriter) halt() {
	close(w.stop)
	<-w.done
	if w.err != nil {
		w.t.Fatalf("writer: %v", w.err)
	}
}

// checkNetChanges checks the changes of the sync after the writer stopped against the writer's
// record: one upsert with the final name for each row it created or updated and did not delete,
// one delete for each row it deleted, nothing else and nothing twice.
func (w *syncWriter) checkNetChanges(t testing.TB, changes []dataverse.Change) {
	t.Helper()
	upserted := map[uuid.UUID]string{}
	deleted := map[uuid.UUID]bool{}
	for _, ch := range changes {
		switch ch.Op {
		case dataverse.ChangeUpsert:
			if _, dup := upserted[ch.ID]; dup {
				t.Errorf("row %s upserted twice in one delta", ch.ID)
			}
			upserted[ch.ID] = firstName(t, ch.Record)
		case dataverse.ChangeDelete:
			if deleted[ch.ID] {
				t.Errorf("row %s deleted twice in one delta", ch.ID)
			}
			deleted[ch.ID] = true
		default:
			t.Fatalf("the delta after the load holds a %s", ch.Op)
		}
	}
	if !maps.Equal(upserted, w.wrote) {
		var missing, extra, wrong []string
		for id, name := range w.wrote {
			got, ok := upserted[id]
			switch {
			case !ok:
				missing = append(missing, id.String())
			case got != name:
				wrong = append(wrong, fmt.Sprintf("%s=%s want %s", id, got, name))
			}
		}
		for id := range upserted {
			if _, ok := w.wrote[id]; !ok {
				extra = append(extra, id.String())
			}
		}
		t.Errorf("upserts: %d, writer's record %d; missing %d %v, not written %d %v, wrong %d %v",
			len(upserted), len(w.wrote), len(missing), head(missing), len(extra), head(extra), len(wrong), head(wrong))
	}
	if !maps.Equal(deleted, w.gone) {
		t.Errorf("deletes: %d, writer deleted %d", len(deleted), len(w.gone))
	}
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
