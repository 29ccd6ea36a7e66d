package emulator

import (
	"context"
	"database/sql"
	"fmt"
)

// The emulator's own bookkeeping, in a table of the shared database (so snapshots carry it):
// how the database was seeded and which tenant the organization belongs to.
const (
	metaSeed        = "seed"          // seedDefault, seedScenario or seedInProgress
	metaOrgTenantID = "org_tenant_id" // the organization's tenant
)

const (
	seedDefault    = "default"
	seedScenario   = "scenario"
	seedInProgress = "in-progress"
)

func createMetaTable(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS emulator_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`)
	if err != nil {
		return fmt.Errorf("emulator: create emulator_meta: %w", err)
	}
	return nil
}

func readMeta(ctx context.Context, db *sql.DB) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT key, value FROM emulator_meta`)
	if err != nil {
		return nil, fmt.Errorf("emulator: read emulator_meta: %w", err)
	}
	defer rows.Close()
	meta := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		meta[k] = v
	}
	return meta, rows.Err()
}

func writeMeta(ctx context.Context, db *sql.DB, kv map[string]string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("emulator: write emulator_meta: %w", err)
	}
	defer tx.Rollback()
	for k, v := range kv {
		if _, err := tx.ExecContext(ctx, `INSERT INTO emulator_meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, v); err != nil {
			return fmt.Errorf("emulator: write emulator_meta: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("emulator: write emulator_meta: %w", err)
	}
	return nil
}
