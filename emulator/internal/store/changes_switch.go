package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// Switching a table's change tracking at runtime, as an update of its
// EntityMetadata.ChangeTrackingEnabled does in Dataverse
// (https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems#enable-change-tracking-for-a-table).
// The schema's value is the table's default; a switch overrides it in
// memory until ClearChangeTrackingSwitches (the emulator's Reset).
//
// Switching off drops the table's tombstones: a delta read is refused
// (ChangeTrackingNotEnabled) from then on. Switching on takes a fresh
// version and makes it the table's change floor: a delta token of the
// table taken before (while tracking was off its deletes were not kept,
// so such a token would silently miss them) is answered as expired.

// trackingSwitches are the runtime overrides of tables' change tracking.
type trackingSwitches struct {
	mu    sync.RWMutex
	on    map[string]bool  // logical name -> ChangeTrackingEnabled, when switched
	floor map[string]int64 // logical name -> lowest valid token version
}

// ChangeTracked reports whether change tracking is on for t now: the
// runtime switch when t was switched, else the schema's ChangeTracking.
func (s *Store) ChangeTracked(t *schema.Table) bool {
	s.ctSwitch.mu.RLock()
	defer s.ctSwitch.mu.RUnlock()
	if on, ok := s.ctSwitch.on[t.LogicalName]; ok {
		return on
	}
	return t.ChangeTracking
}

// TableChangeFloor returns the lowest version a delta token of t may
// have: the version taken when its change tracking was last switched on
// (0 when it never was).
func (s *Store) TableChangeFloor(t *schema.Table) int64 {
	s.ctSwitch.mu.RLock()
	defer s.ctSwitch.mu.RUnlock()
	return s.ctSwitch.floor[t.LogicalName]
}

// SetChangeTracking switches t's change tracking on or off and reports
// whether it changed. Switching off drops t's tombstones; switching on
// expires every delta token of t taken before. Intersect tables cannot be
// tracked (CanChangeTrackingBeEnabled is false for them).
func (s *Store) SetChangeTracking(ctx context.Context, t *schema.Table, on bool) (changed bool, err error) {
	if t.Intersect != nil && on {
		return false, &Error{Kind: KindValidation, Message: fmt.Sprintf("Change tracking cannot be enabled for the intersect table %s (CanChangeTrackingBeEnabled is false).", t.LogicalName)}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.ChangeTracked(t) == on {
		return false, nil
	}
	var floor int64
	err = s.writeTxLocked(ctx, func(tx *sql.Tx) error {
		if !on {
			if _, err := tx.ExecContext(ctx, `DELETE FROM "_dv_tombstone" WHERE "entity" = ?`, t.LogicalName); err != nil {
				return fmt.Errorf("store: drop the tracked deletes of %s: %w", t.LogicalName, err)
			}
			return nil
		}
		// A fresh version above every token taken so far: tokens of t
		// below it were taken before tracking came back on.
		if err := tx.QueryRowContext(ctx, `UPDATE "_dv_sequence" SET "value" = "value" + 1 WHERE "name" = 'version' RETURNING "value"`).Scan(&floor); err != nil {
			return fmt.Errorf("store: take the change floor of %s: %w", t.LogicalName, err)
		}
		return nil
	})
	s.seqValid = false
	if err != nil {
		return false, err
	}
	s.ctSwitch.mu.Lock()
	defer s.ctSwitch.mu.Unlock()
	if s.ctSwitch.on == nil {
		s.ctSwitch.on, s.ctSwitch.floor = map[string]bool{}, map[string]int64{}
	}
	s.ctSwitch.on[t.LogicalName] = on
	if on {
		s.ctSwitch.floor[t.LogicalName] = floor
	}
	return true, nil
}

// ClearChangeTrackingSwitches returns every table to its schema's change
// tracking (the emulator's Reset, whose restore expires every token).
func (s *Store) ClearChangeTrackingSwitches() {
	s.ctSwitch.mu.Lock()
	defer s.ctSwitch.mu.Unlock()
	s.ctSwitch.on, s.ctSwitch.floor = nil, nil
}
