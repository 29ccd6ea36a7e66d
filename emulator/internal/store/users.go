package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// ApplicationUserInfo describes an application user as the admin surface
// lists it.
type ApplicationUserInfo struct {
	// UserID is the systemuserid.
	UserID string
	// ApplicationID is the app registration's client id; ObjectID its
	// service principal's object id ("" when unknown).
	ApplicationID, ObjectID string
	FullName                string
	// BusinessUnitID and BusinessUnitName are the user's business unit.
	BusinessUnitID, BusinessUnitName string
	Disabled                         bool
	// Roles are the names of the roles assigned to the user directly,
	// sorted; never nil.
	Roles []string
}

// ApplicationUsers lists the application users (systemuser rows with an
// applicationid), by full name then id.
func (s *Store) ApplicationUsers(ctx context.Context) ([]ApplicationUserInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT u."systemuserid", u."applicationid", u."azureactivedirectoryobjectid", u."fullname",
		u."businessunitid", b."name", u."isdisabled"
		FROM "systemuser" u LEFT JOIN "businessunit" b ON b."businessunitid" = u."businessunitid"
		WHERE u."applicationid" IS NOT NULL ORDER BY u."fullname", u."systemuserid"`)
	if err != nil {
		return nil, fmt.Errorf("store: list application users: %w", err)
	}
	var out []ApplicationUserInfo
	byID := map[string]int{}
	for rows.Next() {
		var u ApplicationUserInfo
		var oid, name, bu, buName sql.NullString
		var disabled sql.NullInt64
		if err := rows.Scan(&u.UserID, &u.ApplicationID, &oid, &name, &bu, &buName, &disabled); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list application users: %w", err)
		}
		u.ObjectID, u.FullName, u.BusinessUnitID, u.BusinessUnitName = oid.String, name.String, bu.String, buName.String
		u.Disabled = disabled.Int64 != 0
		u.Roles = []string{}
		byID[u.UserID] = len(out)
		out = append(out, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list application users: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	roles, err := s.db.QueryContext(ctx, `SELECT ur."systemuserid", r."name" FROM "systemuserroles" ur
		JOIN "role" r ON r."roleid" = ur."roleid"
		JOIN "systemuser" u ON u."systemuserid" = ur."systemuserid" AND u."applicationid" IS NOT NULL
		ORDER BY r."name"`)
	if err != nil {
		return nil, fmt.Errorf("store: list roles of application users: %w", err)
	}
	defer roles.Close()
	for roles.Next() {
		var userID, role string
		if err := roles.Scan(&userID, &role); err != nil {
			return nil, fmt.Errorf("store: list roles of application users: %w", err)
		}
		if i, ok := byID[userID]; ok {
			out[i].Roles = append(out[i].Roles, role)
		}
	}
	return out, roles.Err()
}

// RemoveApplicationUser removes the application user of an app.
// Dataverse never deletes systemuser rows (records keep pointing at their
// creators), so the user is unlinked from the app (applicationid and
// azureactivedirectoryobjectid cleared) and disabled, as SYSTEM: the app's
// requests are then refused as coming from a non-member, and a new
// application user may be created for it. No application user for the app
// is KindNotFound.
func (s *Store) RemoveApplicationUser(ctx context.Context, applicationID string) error {
	appID, err := uuid.Parse(applicationID)
	if err != nil {
		return fmt.Errorf("store: application id %q is not a GUID", applicationID)
	}
	return s.asSystem(ctx, func(tx *Tx, sys *Principal) error {
		var userID string
		err := tx.tx.QueryRowContext(ctx, `SELECT "systemuserid" FROM "systemuser" WHERE "applicationid" = ?`, appID.String()).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return &Error{Kind: KindNotFound, Message: fmt.Sprintf("systemuser With applicationid = %s Does Not Exist", appID)}
		}
		if err != nil {
			return fmt.Errorf("store: find application user: %w", err)
		}
		return tx.updateColumns(ctx, sys, "systemuser", uuid.MustParse(userID), map[string]any{
			"applicationid": nil, "azureactivedirectoryobjectid": nil, "isdisabled": true,
		})
	})
}

// SetUserBusinessUnit moves a user to another business unit, as SYSTEM.
// An unknown user or business unit is KindNotFound.
func (s *Store) SetUserBusinessUnit(ctx context.Context, systemUserID, businessUnitID string) error {
	uid, err := uuid.Parse(systemUserID)
	if err != nil {
		return fmt.Errorf("store: user id %q is not a GUID", systemUserID)
	}
	bu, err := uuid.Parse(businessUnitID)
	if err != nil {
		return fmt.Errorf("store: business unit id %q is not a GUID", businessUnitID)
	}
	return s.asSystem(ctx, func(tx *Tx, sys *Principal) error {
		return tx.updateColumns(ctx, sys, "systemuser", uid, map[string]any{"businessunitid": Ref{Table: "businessunit", ID: bu}})
	})
}

// system loads the SYSTEM user's principal.
func (s *Store) system(ctx context.Context) (*Principal, error) {
	id, err := uuid.Parse(s.org.SystemUserID)
	if err != nil {
		return nil, fmt.Errorf("store: the SYSTEM user id %q is not a GUID", s.org.SystemUserID)
	}
	p, err := s.User(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("store: load the SYSTEM user: %w", err)
	}
	return p, nil
}

// asSystem runs fn in one write transaction as the SYSTEM user, through the
// validated write path (versions, modifiedon, modifiedby, lookups checked).
func (s *Store) asSystem(ctx context.Context, fn func(tx *Tx, sys *Principal) error) error {
	sys, err := s.system(ctx)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error { return fn(tx, sys) })
}

// updateColumns updates columns of a built-in table's row by logical name.
func (tx *Tx) updateColumns(ctx context.Context, p *Principal, table string, id uuid.UUID, values map[string]any) error {
	t, ok := tx.s.schema.Table(table)
	if !ok {
		return fmt.Errorf("store: the schema lacks the built-in table %q", table)
	}
	fields := make([]Field, 0, len(values))
	for name, v := range values {
		c, ok := t.Column(name)
		if !ok {
			return fmt.Errorf("store: the %s table lacks the column %q", table, name)
		}
		fields = append(fields, Field{Column: c, Value: v})
	}
	_, err := tx.Update(ctx, p, t, id, fields, Match{})
	return err
}
