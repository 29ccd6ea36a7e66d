package emulator

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/store"
)

// The emulator's admin writes to Dataverse tables (business units, an application user's business
// unit, unlinking an application user) go through the store's ordinary, validated write path as
// the organization's SYSTEM user, which holds the System Administrator role as in a real
// environment. Admin reads use SQL on the tables the store keeps under their logical names.

// ensureSystemAdministrator gives the SYSTEM user the System Administrator role and remembers its
// id. It runs on every start; the assignment is idempotent.
func (e *Emulator) ensureSystemAdministrator(ctx context.Context) error {
	org := e.store.Organization()
	var id string
	err := e.store.DB().QueryRowContext(ctx, `SELECT "createdby" FROM "organization" WHERE "organizationid" = ?`, org.OrganizationID).Scan(&id)
	if err != nil {
		return fmt.Errorf("emulator: find the SYSTEM user: %w", err)
	}
	var held int
	if err := e.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM "systemuserroles" WHERE "systemuserid" = ? AND "roleid" = ?`,
		id, org.SystemAdministratorRoleID).Scan(&held); err != nil {
		return fmt.Errorf("emulator: read the SYSTEM user's roles: %w", err)
	}
	if held == 0 {
		if err := e.store.SetUserRoles(ctx, id, []string{store.SystemAdministrator}); err != nil {
			return fmt.Errorf("emulator: give SYSTEM the System Administrator role: %w", err)
		}
	}
	e.systemUserID = uuid.MustParse(id)
	return nil
}

// system returns the SYSTEM user's principal for admin writes.
func (e *Emulator) system(ctx context.Context) (*store.Principal, error) {
	p, err := e.store.User(ctx, e.systemUserID)
	if err != nil {
		return nil, fmt.Errorf("emulator: load the SYSTEM user: %w", err)
	}
	return p, nil
}

// fromStore turns a store failure into an admin error: a validation failure is ErrInvalid, a
// missing row ErrNotFound, anything else stays as it is.
func fromStore(err error) error {
	if err == nil {
		return nil
	}
	switch store.KindOf(err) {
	case store.KindValidation:
		return invalidf("%s", err.Error())
	case store.KindNotFound:
		return notFoundf("%s", err.Error())
	case store.KindDuplicate:
		return conflictf("%s", err.Error())
	}
	return fmt.Errorf("emulator: %w", err)
}

// queryStrings runs a query returning one string column.
func queryStrings(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s sql.NullString
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s.String)
	}
	return out, rows.Err()
}

// isNoRows reports whether err is sql.ErrNoRows.
func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
