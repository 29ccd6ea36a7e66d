package store

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// A restore tells the modules that registered for it, after the data is in place, in order; a
// module's failure is reported as such, the data restored.
func TestRestoreTellsTheModules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t, schema.Builtin())
	m := s.ModuleTables()
	if err := m.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE entra_test (v TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sn, err := s.SnapshotInMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sn.Close() })
	if err := m.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO entra_test (v) VALUES ('after the snapshot')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var told []string
	m.OnRestore(func(ctx context.Context) error {
		var n int
		if err := m.QueryRowContext(ctx, `SELECT count(*) FROM entra_test`).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			t.Errorf("the first module was told before the data was restored: %d rows", n)
		}
		// A module may write its own tables from the hook (the token service does).
		told = append(told, "first")
		return m.WriteTx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO entra_test (v) VALUES ('reconciled')`)
			return err
		})
	})
	failure := errors.New("the second module could not reload")
	m.OnRestore(func(context.Context) error { told = append(told, "second"); return failure })
	err = s.Restore(ctx, sn)
	var after *AfterRestoreError
	if !errors.As(err, &after) || !errors.Is(err, failure) {
		t.Fatalf("Restore = %v, want an AfterRestoreError wrapping the module's failure", err)
	}
	if len(told) != 2 || told[0] != "first" || told[1] != "second" {
		t.Errorf("modules told %v, want [first second]", told)
	}
	rows, err := m.QueryContext(ctx, `SELECT v FROM entra_test`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if len(vs) != 1 || vs[0] != "reconciled" {
		t.Errorf("entra_test after the restore = %v, want only the first module's write", vs)
	}
}
