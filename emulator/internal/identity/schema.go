package identity

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// schema creates the token service's tables. Times are stored as RFC 3339 UTC text with
// nanoseconds; an empty expires_at means "never". Rows of one app are removed together in a
// transaction (no reliance on PRAGMA foreign_keys, which is per connection). Lists are ordered by
// rowid, i.e. insertion order, which stays meaningful when the clock stands still in tests.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS entra_tenants (
		id           TEXT PRIMARY KEY,
		domain       TEXT NOT NULL UNIQUE COLLATE NOCASE,
		display_name TEXT NOT NULL,
		created_at   TEXT NOT NULL
	)`,
	`CREATE TABLE IF NOT EXISTS entra_apps (
		client_id    TEXT PRIMARY KEY,
		tenant_id    TEXT NOT NULL REFERENCES entra_tenants(id),
		object_id    TEXT NOT NULL UNIQUE,
		display_name TEXT NOT NULL,
		disabled     INTEGER NOT NULL DEFAULT 0,
		created_at   TEXT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS entra_apps_tenant ON entra_apps(tenant_id)`,
	`CREATE TABLE IF NOT EXISTS entra_secrets (
		id           TEXT PRIMARY KEY,
		client_id    TEXT NOT NULL REFERENCES entra_apps(client_id),
		display_name TEXT NOT NULL,
		hint         TEXT NOT NULL,
		hash         TEXT NOT NULL,
		expires_at   TEXT NOT NULL,
		created_at   TEXT NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS entra_secrets_app ON entra_secrets(client_id)`,
	`CREATE TABLE IF NOT EXISTS entra_certificates (
		client_id         TEXT NOT NULL REFERENCES entra_apps(client_id),
		key_id            TEXT NOT NULL UNIQUE,
		thumbprint_sha1   TEXT NOT NULL,
		thumbprint_sha256 TEXT NOT NULL,
		display_name      TEXT NOT NULL,
		der               BLOB NOT NULL,
		not_before        TEXT NOT NULL,
		not_after         TEXT NOT NULL,
		created_at        TEXT NOT NULL,
		PRIMARY KEY (client_id, thumbprint_sha256)
	)`,
	`CREATE TABLE IF NOT EXISTS entra_signing_keys (
		kid         TEXT PRIMARY KEY,
		private_key BLOB NOT NULL,
		certificate BLOB NOT NULL,
		active      INTEGER NOT NULL DEFAULT 0,
		created_at  TEXT NOT NULL
	)`,
}

func createSchema(ctx context.Context, db Storage) error {
	err := db.WriteTx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range schema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("identity: create tables: %w", err)
	}
	return nil
}

// dbTime formats t for storage; the zero time is stored as "".
func dbTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// parseDBTime reads a dbTime value; "" is the zero time.
func parseDBTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("identity: stored time %q is corrupt: %w", s, err)
	}
	return t, nil
}
