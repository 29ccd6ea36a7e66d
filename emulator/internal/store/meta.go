package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// The store keeps one metadata table, _dv_meta: its own keys (the organization's ids, see
// seed.go) without a dot, and the keys of the modules that share its database as
// "<namespace>.<key>" (the emulator's bookkeeping under "emulator"). Snapshots carry it all.

// Meta returns the metadata a module keeps under namespace ns, keyed without the namespace.
func (s *Store) Meta(ctx context.Context, ns string) (map[string]string, error) {
	if err := checkNamespace(ns); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT "key", "value" FROM "_dv_meta" WHERE substr("key", 1, ?) = ?`, len(ns)+1, ns+".")
	if err != nil {
		return nil, fmt.Errorf("store: read %s metadata: %w", ns, err)
	}
	defer rows.Close()
	meta := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("store: read %s metadata: %w", ns, err)
		}
		meta[strings.TrimPrefix(k, ns+".")] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read %s metadata: %w", ns, err)
	}
	return meta, nil
}

// SetMeta stores kv under namespace ns in one transaction, replacing the values of keys it
// names and keeping the others.
func (s *Store) SetMeta(ctx context.Context, ns string, kv map[string]string) error {
	if err := checkNamespace(ns); err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		for k, v := range kv {
			if _, err := tx.ExecContext(ctx, `INSERT INTO "_dv_meta" ("key", "value") VALUES (?, ?)
				ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value"`, ns+"."+k, v); err != nil {
				return fmt.Errorf("store: write %s metadata: %w", ns, err)
			}
		}
		return nil
	})
}

// legacyMetaTables are the metadata tables modules kept before the store owned the one
// metadata table, with the namespace their keys move to. A data directory (or a snapshot) made
// before then holds them; opening or restoring it moves their rows into _dv_meta and drops
// them.
var legacyMetaTables = []struct{ table, ns string }{
	{"emulator_meta", "emulator"},
}

// migrateLegacyMeta moves the rows of legacyMetaTables into _dv_meta, in tx.
func migrateLegacyMeta(ctx context.Context, tx *sql.Tx) error {
	for _, l := range legacyMetaTables {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, l.table).Scan(&n); err != nil {
			return fmt.Errorf("store: migrate %s: %w", l.table, err)
		}
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO "_dv_meta" ("key", "value") SELECT ? || '.' || "key", "value" FROM `+quoteIdent(l.table)+` WHERE true
			ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value"`, l.ns); err != nil {
			return fmt.Errorf("store: migrate %s: %w", l.table, err)
		}
		if _, err := tx.ExecContext(ctx, `DROP TABLE `+quoteIdent(l.table)); err != nil {
			return fmt.Errorf("store: migrate %s: %w", l.table, err)
		}
	}
	return nil
}

// checkNamespace refuses a metadata namespace that could collide with the store's own keys.
func checkNamespace(ns string) error {
	for _, r := range ns {
		if (r < 'a' || r > 'z') && r != '_' {
			return fmt.Errorf("store: metadata namespace %q must be lower-case letters and '_'", ns)
		}
	}
	if ns == "" {
		return errors.New("store: metadata namespace is empty")
	}
	return nil
}
