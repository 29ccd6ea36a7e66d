package store

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// contactNames returns the last names of all contacts, in creation order.
func contactNames(t *testing.T, s *Store, p *Principal) []string {
	t.Helper()
	contact := table(t, s, "contact")
	page, err := s.Query(context.Background(), p, Query{Table: contact, Columns: cols(t, contact, "lastname"),
		Orders: []Order{{Column: cols(t, contact, "createdon")[0]}}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range page.Rows {
		out = append(out, r.Values[0].(string))
	}
	return out
}

func createContact(t *testing.T, s *Store, p *Principal, last string) uuid.UUID {
	t.Helper()
	contact := table(t, s, "contact")
	w, err := s.Create(context.Background(), p, contact, fields(t, contact, "lastname", last))
	if err != nil {
		t.Fatal(err)
	}
	return w.ID
}

func TestSnapshotRestoreInMemory(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	createContact(t, s, p, "Before")

	sn, err := s.SnapshotInMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sn.Close() })

	createContact(t, s, p, "After")
	if err := s.SetUserDisabled(ctx, p.UserID.String(), true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplicationUser(ctx, testAppID); KindOf(err) != KindDisabled {
		t.Fatalf("ApplicationUser after disabling: %v, want KindDisabled", err)
	}

	if err := s.Restore(ctx, sn); err != nil {
		t.Fatal(err)
	}
	// The cached (disabled) principal must not survive the restore.
	p2, err := s.ApplicationUser(ctx, testAppID)
	if err != nil {
		t.Fatalf("ApplicationUser after restore: %v, want the enabled user of the snapshot", err)
	}
	if got := contactNames(t, s, p2); strings.Join(got, ",") != "Before" {
		t.Errorf("contacts after restore = %v, want [Before]", got)
	}
	// The snapshot can be restored again: it was not consumed.
	createContact(t, s, p2, "Again")
	if err := s.Restore(ctx, sn); err != nil {
		t.Fatal(err)
	}
	if got := contactNames(t, s, p2); strings.Join(got, ",") != "Before" {
		t.Errorf("contacts after second restore = %v, want [Before]", got)
	}
	// The store still writes normally afterwards.
	createContact(t, s, p2, "Later")
	if got := contactNames(t, s, p2); strings.Join(got, ",") != "Before,Later" {
		t.Errorf("contacts = %v, want [Before Later]", got)
	}

	if err := sn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx, sn); err == nil {
		t.Error("Restore of a closed snapshot succeeded")
	}
}

func TestSnapshotFileSurvivesReopen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: testAppID, RoleNames: []string{SystemAdministrator}}); err != nil {
		t.Fatal(err)
	}
	p, err := s.ApplicationUser(ctx, testAppID)
	if err != nil {
		t.Fatal(err)
	}
	createContact(t, s, p, "Kept")
	path := filepath.Join(dir, "snapshots", "one.db")
	sn, err := s.SnapshotToFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if sn.Path() != path {
		t.Errorf("Path = %q, want %q", sn.Path(), path)
	}
	createContact(t, s, p, "Dropped")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sn, err = OpenSnapshotFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx, sn); err != nil {
		t.Fatal(err)
	}
	p, err = s.ApplicationUser(ctx, testAppID)
	if err != nil {
		t.Fatal(err)
	}
	if got := contactNames(t, s, p); strings.Join(got, ",") != "Kept" {
		t.Errorf("contacts after restoring the file snapshot = %v, want [Kept]", got)
	}
	if _, err := OpenSnapshotFile(filepath.Join(dir, "snapshots", "missing.db")); err == nil {
		t.Error("OpenSnapshotFile of a missing file succeeded")
	}
}

func TestRestoreRefusesForeignSnapshots(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, p := newStore(t, nil)
	createContact(t, s, p, "Mine")

	other, _ := newStore(t, nil)
	foreign, err := other.SnapshotInMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { foreign.Close() })
	err = s.Restore(ctx, foreign)
	if err == nil || !strings.Contains(err.Error(), "belongs to organization") {
		t.Fatalf("Restore of another store's snapshot: %v, want a refusal naming the organization", err)
	}

	// A snapshot taken before the schema gained a table lacks its privileges.
	dir := t.TempDir()
	small, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	sn, err := small.SnapshotToFile(ctx, filepath.Join(t.TempDir(), "small.db"))
	if err != nil {
		t.Fatal(err)
	}
	small.Close()
	def, err := schema.Parse([]byte("tables:\n  - {logicalName: new_project, primaryNameColumn: new_name, columns: [{logicalName: new_name, type: String}]}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wider, err := schema.WithBuiltin(def)
	if err != nil {
		t.Fatal(err)
	}
	big, err := Open(ctx, dir, &Options{Schema: wider})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { big.Close() })
	err = big.Restore(ctx, sn)
	if err == nil || !strings.Contains(err.Error(), "other tables") || !strings.Contains(err.Error(), "new_project") {
		t.Fatalf("Restore of a snapshot lacking a table: %v, want a refusal naming the missing privilege", err)
	}

	// Both refusals changed nothing.
	if got := contactNames(t, s, p); strings.Join(got, ",") != "Mine" {
		t.Errorf("contacts after refused restores = %v, want [Mine]", got)
	}
}

func TestRestoreWhileReading(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	id := createContact(t, s, p, "Stable")
	sn, err := s.SnapshotInMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sn.Close() })
	contact := table(t, s, "contact")

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				row, err := s.Retrieve(ctx, p, contact, id, cols(t, contact, "lastname"))
				if err != nil {
					errs <- err
					return
				}
				if row.Values[0] != "Stable" {
					errs <- errors.New("read a row that is neither the old nor the new state")
					return
				}
			}
		})
	}
	for range 5 {
		createContact(t, s, p, "Transient")
		if err := s.Restore(ctx, sn); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("read during restore: %v", err)
	}
	if got := contactNames(t, s, p); strings.Join(got, ",") != "Stable" {
		t.Errorf("contacts = %v, want [Stable]", got)
	}
}
