package emulator_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// oldMetaLayout rewrites the database at path to the layout the emulator wrote before the store
// owned the one metadata table: its bookkeeping in a table of its own, emulator_meta.
func oldMetaLayout(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`CREATE TABLE IF NOT EXISTS emulator_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
		`INSERT INTO emulator_meta (key, value) SELECT substr("key", 10), "value" FROM "_dv_meta" WHERE "key" LIKE 'emulator.%'`,
		`DELETE FROM "_dv_meta" WHERE "key" LIKE 'emulator.%'`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %s: %v", path, stmt, err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM emulator_meta`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%s: emulator_meta holds %d rows (%v), want the seed and the organization's tenant", path, n, err)
	}
}

func countTables(t *testing.T, path, name string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A data directory whose database and seed snapshot keep the emulator's bookkeeping in the old
// emulator_meta table opens with the state it recorded (a scenario's random tenant, not the
// default one), is migrated to the one metadata table, and resets to a seed state that keeps it.
func TestDataDirWithTheOldMetaTableStillOpens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	sc := randomTenantScenario(t, "oldmeta")
	first, err := emulator.New(&emulator.Options{DataDir: dir, Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	want := first.Credentials()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if want.TenantID == emulator.DefaultTenantID {
		t.Fatal("the scenario's tenant is the default one: the test could not tell a lost record")
	}
	databases := []string{filepath.Join(dir, "emulator.db"), filepath.Join(dir, "seed.db")}
	for _, path := range databases {
		oldMetaLayout(t, path)
	}

	again, err := emulator.New(&emulator.Options{DataDir: dir, Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	if got := again.TenantID(); got != want.TenantID {
		t.Errorf("organization tenant after the migration = %s, want the scenario's %s", got, want.TenantID)
	}
	mustToken(t, again, secretCredential(t, again, want.TenantID, want.ClientID, want.ClientSecret))
	if n := countTables(t, databases[0], "emulator_meta"); n != 0 {
		t.Errorf("emulator_meta is still in the database after the migration")
	}
	// The seed snapshot still has the old table: a reset restores it, and the store migrates it.
	if err := again.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	third := start(t, &emulator.Options{DataDir: dir})
	if got := third.TenantID(); got != want.TenantID {
		t.Errorf("organization tenant after a reset to the old seed state and a restart = %s, want %s", got, want.TenantID)
	}
}
