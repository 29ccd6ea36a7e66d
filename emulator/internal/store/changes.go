package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Change tracking (change-tracking.md §12): every create, update and
// delete takes a version number from the store's one sequence, so the
// changes of a table since a version V are its rows with versionnumber > V
// (the index ix_<table>_versionnumber finds them) followed by the
// tombstones of its rows deleted since V, kept in _dv_tombstone for tables
// with change tracking on. Writers are serialised and take versions in
// commit order, so the committed sequence value is a consistent position:
// every change at or below it is visible, every later one is above it.

// tombstoneDDL creates the tombstone log: one row per deleted row of a
// tracked table, keyed for a range read by (table, version).
var tombstoneDDL = []string{
	`CREATE TABLE IF NOT EXISTS "_dv_tombstone" (
		"entity" TEXT NOT NULL,
		"version" INTEGER NOT NULL,
		"id" TEXT NOT NULL,
		"deletedon" TEXT NOT NULL,
		PRIMARY KEY ("entity", "version", "id")
	) STRICT, WITHOUT ROWID`,
}

// DefaultExpireChangeTrackingInDays is the organization's
// ExpireChangeTrackingInDays unless set otherwise: current Microsoft Learn
// text says deleted-record tracking is kept 7 days (the 2021 page said 90).
const DefaultExpireChangeTrackingInDays = 7

// MaxExpireChangeTrackingInDays is the largest ExpireChangeTrackingInDays
// the organization column accepts (0–365) [unverified: from a published
// mapping of the organization table, not from Microsoft's reference page].
const MaxExpireChangeTrackingInDays = 365

// expireDays holds ExpireChangeTrackingInDays + 1, so the zero value means
// the default.
type expireDays struct{ v atomic.Int64 }

func (e *expireDays) get() int {
	if n := e.v.Load(); n > 0 {
		return int(n - 1)
	}
	return DefaultExpireChangeTrackingInDays
}

// ExpireChangeTrackingInDays returns how many days a change-tracking
// position (a delta token) stays valid.
func (s *Store) ExpireChangeTrackingInDays() int { return s.ctExpire.get() }

// SetExpireChangeTrackingInDays sets the organization's
// ExpireChangeTrackingInDays (0–365). Tokens older than that many days on
// the store's clock are expired; 0 expires every token at once.
func (s *Store) SetExpireChangeTrackingInDays(days int) error {
	if days < 0 || days > MaxExpireChangeTrackingInDays {
		return &Error{Kind: KindValidation, Message: fmt.Sprintf("ExpireChangeTrackingInDays %d is not between 0 and %d.", days, MaxExpireChangeTrackingInDays)}
	}
	s.ctExpire.v.Store(int64(days) + 1)
	return nil
}

// ChangeExpired reports whether a change-tracking position taken at time
// at has expired by now: it is older than ExpireChangeTrackingInDays.
func (s *Store) ChangeExpired(at time.Time) bool {
	days := s.ExpireChangeTrackingInDays()
	return days == 0 || s.nowUTC().Sub(at) > time.Duration(days)*24*time.Hour
}

// ChangeVersion returns the committed change-tracking position: the
// highest version any committed write took. Every change with a greater
// version commits after this call.
func (s *Store) ChangeVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.db.QueryRowContext(ctx, `SELECT "value" FROM "_dv_sequence" WHERE "name" = 'version'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: read the version sequence: %w", err)
	}
	return v, nil
}

// expireChangePositions runs after a restore (the caller holds writeMu):
// the restored history is not the one delta tokens taken before it
// describe, so every such token must be expired. Versions continue above
// before, the highest one taken before the restore, and the first of them
// becomes the change floor: a token below it is from before the restore.
func (s *Store) expireChangePositions(ctx context.Context, before int64) error {
	floor := before + 1
	for _, stmt := range []string{
		`UPDATE "_dv_sequence" SET "value" = max("value", ?) WHERE "name" = 'version'`,
		`INSERT INTO "_dv_sequence" ("name", "value") VALUES ('changefloor', ?) ON CONFLICT ("name") DO UPDATE SET "value" = excluded."value"`,
	} {
		if _, err := s.db.ExecContext(ctx, stmt, floor); err != nil {
			return fmt.Errorf("store: expire change-tracking positions: %w", err)
		}
	}
	s.seqValid = false
	return nil
}

// ChangeFloor returns the lowest version a valid change-tracking position
// may have: positions below it were taken before the last restore (or
// Reset) of the database, whose history they no longer describe.
func (s *Store) ChangeFloor(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(max("value"), 0) FROM "_dv_sequence" WHERE "name" = 'changefloor'`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: read the change floor: %w", err)
	}
	return v, nil
}

// recordTombstone logs the delete of row id of t at version, when t is
// tracked.
func (tx *Tx) recordTombstone(ctx context.Context, t *schema.Table, id string, version int64) error {
	if !t.ChangeTracking {
		return nil
	}
	if _, err := tx.exec(ctx, `INSERT OR REPLACE INTO "_dv_tombstone" ("entity", "version", "id", "deletedon") VALUES (?, ?, ?, ?)`,
		t.LogicalName, version, id, tx.s.nowUTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("store: record the delete of %s %s: %w", t.LogicalName, id, err)
	}
	return nil
}

// Tombstone is a deleted row of a tracked table.
type Tombstone struct {
	ID      uuid.UUID
	Version int64
}

// TombstonePosition is a place in a table's tombstone log: after the
// tombstone (Version, ID).
type TombstonePosition struct {
	Version int64
	ID      string
}

// Tombstones returns up to limit tombstones of t with a version in
// (after, upTo], in (version, id) order, starting after pos when given;
// more is true when others follow. p needs organization-level Read on t,
// as every change-tracking read does.
func (s *Store) Tombstones(ctx context.Context, p *Principal, t *schema.Table, after, upTo int64, pos *TombstonePosition, limit int) (out []Tombstone, more bool, err error) {
	if err := s.requireOrgRead(p, t); err != nil {
		return nil, false, err
	}
	q := `SELECT "version", "id" FROM "_dv_tombstone" WHERE "entity" = ? AND "version" > ? AND "version" <= ?`
	args := []any{t.LogicalName, after, upTo}
	if pos != nil {
		q += ` AND ("version", "id") > (?, ?)`
		args = append(args, pos.Version, pos.ID)
	}
	q += ` ORDER BY "version", "id" LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: read deletes of %s: %w", t.LogicalName, err)
	}
	defer rows.Close()
	for rows.Next() {
		if len(out) == limit {
			return out, true, nil
		}
		var ts Tombstone
		var id string
		if err := rows.Scan(&ts.Version, &id); err != nil {
			return nil, false, err
		}
		if ts.ID, err = uuid.Parse(id); err != nil {
			return nil, false, fmt.Errorf("store: bad tombstone id %q: %w", id, err)
		}
		out = append(out, ts)
	}
	return out, false, rows.Err()
}

// ChangedRows returns the condition selecting t's rows changed in
// (after, upTo], for a [Query] ordered by [ChangeOrder].
func ChangedRows(t *schema.Table, after, upTo int64) Cond {
	v := t.SystemColumn(schema.RoleVersionNumber)
	return And(Compare(v, OpGt, after), Compare(v, OpLe, upTo))
}

// ChangeOrder is the order of a delta read: by version, oldest first (the
// primary key, which the store adds, breaks ties of a cascade that
// changed several rows at one version).
func ChangeOrder(t *schema.Table) []Order {
	return []Order{{Column: t.SystemColumn(schema.RoleVersionNumber)}}
}

// CountChanges counts t's changes in (after, upTo]: changed rows plus
// tombstones. p needs organization-level Read on t.
func (s *Store) CountChanges(ctx context.Context, p *Principal, t *schema.Table, after, upTo int64) (int, error) {
	if err := s.requireOrgRead(p, t); err != nil {
		return 0, err
	}
	rows, err := s.Count(ctx, p, t, ChangedRows(t, after, upTo), 0)
	if err != nil {
		return 0, err
	}
	var deleted int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM "_dv_tombstone" WHERE "entity" = ? AND "version" > ? AND "version" <= ?`,
		t.LogicalName, after, upTo).Scan(&deleted); err != nil {
		return 0, fmt.Errorf("store: count deletes of %s: %w", t.LogicalName, err)
	}
	return rows + deleted, nil
}

// RequireOrganizationRead checks that p holds Read on t at organization
// depth, which change tracking requires: a narrower depth is refused, not
// answered with a partial delta (change-tracking.md §7).
func (s *Store) RequireOrganizationRead(p *Principal, t *schema.Table) error {
	return s.requireOrgRead(p, t)
}

func (s *Store) requireOrgRead(p *Principal, t *schema.Table) error {
	depth, err := s.Require(p, VerbRead, t)
	if err != nil {
		return err
	}
	if depth != DepthOrganization {
		// Microsoft documents only "a privilege check error"
		// [unverified wording].
		name := PrivilegeName(VerbRead, t)
		return &Error{Kind: KindPrivilege, Privilege: name, Message: fmt.Sprintf(
			"Change tracking requires the %s privilege at organization (Global) depth; principal user (Id=%s) holds it at %s depth. Give one of its roles %s:organization.",
			name, p.UserID, depth, name)}
	}
	return nil
}
