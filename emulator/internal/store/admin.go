package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// ApplicationUser describes the application user of an app registration:
// a systemuser row whose applicationid is the app's client id.
type ApplicationUser struct {
	// ApplicationID is the app registration's client id (a GUID).
	ApplicationID string
	// AzureADObjectID is the service principal's object id (a GUID).
	AzureADObjectID string
	// FullName is the user's name as shown in Dataverse (the app's name).
	FullName string
	// RoleNames are the security roles to assign, by name.
	RoleNames []string
	// BusinessUnitID is the business unit of a new user; "" means the
	// root business unit.
	BusinessUnitID string
	// Disabled creates the user disabled.
	Disabled bool
}

// OrganizationInfo identifies the seeded organization.
type OrganizationInfo struct {
	OrganizationID, BusinessUnitID, BaseCurrencyID, SystemAdministratorRoleID string
	// SystemUserID is the organization's SYSTEM user: the creator of the
	// seeded rows, holding System Administrator, disabled for sign-in as
	// in Dataverse. Administrative writes run as this user.
	SystemUserID string
}

// Organization returns the ids of the organization, its root business
// unit, its base currency, the System Administrator role and the SYSTEM
// user.
func (s *Store) Organization() OrganizationInfo {
	return OrganizationInfo{
		OrganizationID:            s.org.OrganizationID,
		BusinessUnitID:            s.org.BusinessUnitID,
		BaseCurrencyID:            s.org.CurrencyID,
		SystemAdministratorRoleID: s.org.AdminRoleID,
		SystemUserID:              s.org.SystemUserID,
	}
}

// accessModeNonInteractive is systemuser.accessmode of application users.
const accessModeNonInteractive = 4

// EnsureApplicationUser creates the application user of an app, or finds
// the existing one (it is keyed by ApplicationID, so calling it again is
// harmless), and assigns the named roles it does not hold yet. A new user
// is created in u.BusinessUnitID, disabled when u.Disabled, in one
// transaction; an existing user keeps its business unit and status. An
// unknown role name or business unit is an error naming it, and then
// nothing is written. It returns the systemuserid.
func (s *Store) EnsureApplicationUser(ctx context.Context, u ApplicationUser) (string, error) {
	appID, err := uuid.Parse(u.ApplicationID)
	if err != nil {
		return "", fmt.Errorf("store: application user: application id %q is not a GUID", u.ApplicationID)
	}
	var objID string
	if u.AzureADObjectID != "" {
		oid, err := uuid.Parse(u.AzureADObjectID)
		if err != nil {
			return "", fmt.Errorf("store: application user: object id %q is not a GUID", u.AzureADObjectID)
		}
		objID = oid.String()
	}
	name := strings.TrimSpace(u.FullName)
	if name == "" {
		name = "# " + appID.String()
	}
	bu := s.org.BusinessUnitID
	if u.BusinessUnitID != "" {
		id, err := uuid.Parse(u.BusinessUnitID)
		if err != nil {
			return "", fmt.Errorf("store: application user: business unit id %q is not a GUID", u.BusinessUnitID)
		}
		bu = id.String()
	}
	disabled := int64(0)
	if u.Disabled {
		disabled = 1
	}
	var userID string
	err = s.write(ctx, func(tx *sql.Tx) error {
		roleIDs, err := roleIDsByName(ctx, tx, u.RoleNames)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM "businessunit" WHERE "businessunitid" = ?`, bu).Scan(&n); err != nil {
			return fmt.Errorf("store: find business unit: %w", err)
		}
		if n == 0 {
			return notFound("businessunit", bu)
		}
		err = tx.QueryRowContext(ctx, `SELECT "systemuserid" FROM "systemuser" WHERE "applicationid" = ?`, appID.String()).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			userID = uuid.NewString()
			t, _ := s.schema.Table("systemuser")
			values := map[string]any{
				"systemuserid": userID, "applicationid": appID.String(), "lastname": name, "fullname": name,
				"domainname": appID.String() + "@emulator", "businessunitid": bu,
				"isdisabled": disabled, "accessmode": int64(accessModeNonInteractive), "islicensed": int64(0),
				"organizationid": s.org.OrganizationID,
			}
			if objID != "" {
				values["azureactivedirectoryobjectid"] = objID
			}
			if err := rawInsert(ctx, tx, t, values, s.org.SystemUserID, s.nowUTC().Format(dateTimeLayout)); err != nil {
				return err
			}
		} else if err != nil {
			return fmt.Errorf("store: find application user: %w", err)
		} else if objID != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE "systemuser" SET "azureactivedirectoryobjectid" = ? WHERE "systemuserid" = ?`, objID, userID); err != nil {
				return err
			}
		}
		for _, roleID := range roleIDs {
			if err := associate(ctx, tx, "systemuserroles", "systemuserid", "roleid", userID, roleID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return userID, nil
}

// roleIDsByName resolves role names (in the root business unit first).
func roleIDsByName(ctx context.Context, q querier, names []string) ([]string, error) {
	ids := make([]string, 0, len(names))
	for _, name := range names {
		var id string
		err := q.QueryRowContext(ctx, `SELECT r."roleid" FROM "role" r
			LEFT JOIN "businessunit" b ON b."businessunitid" = r."businessunitid"
			WHERE r."name" = ? ORDER BY b."parentbusinessunitid" IS NOT NULL LIMIT 1`, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("store: security role %q does not exist", name)
		}
		if err != nil {
			return nil, fmt.Errorf("store: find role %q: %w", name, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// associate pairs two rows in an intersect table; pairing them again is a
// no-op.
func associate(ctx context.Context, q querier, intersect, attr1, attr2, id1, id2 string) error {
	_, err := q.ExecContext(ctx, "INSERT INTO "+quoteIdent(intersect)+" ("+quoteIdent(intersect+"id")+", "+quoteIdent(attr1)+", "+
		quoteIdent(attr2)+", \"versionnumber\") VALUES (?, ?, ?, (SELECT \"value\" FROM \"_dv_sequence\" WHERE \"name\" = 'version')) ON CONFLICT DO NOTHING",
		uuid.NewString(), id1, id2)
	if err != nil {
		return fmt.Errorf("store: associate %s: %w", intersect, err)
	}
	return nil
}

// RolePrivilege is a privilege held by a role at a depth.
type RolePrivilege struct {
	// Name is the privilege name ("prvReadContact").
	Name  string
	Depth Depth
}

// EnsureRole creates a role in the root business unit, or finds it by
// name, and sets its privileges to exactly the given ones. An unknown
// privilege name or depth is an error naming it. It returns the roleid.
func (s *Store) EnsureRole(ctx context.Context, name string, privileges []RolePrivilege) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", errors.New("store: a role needs a name")
	}
	var roleID string
	err := s.write(ctx, func(tx *sql.Tx) error {
		ids, err := roleIDsByName(ctx, tx, []string{name})
		if err == nil {
			roleID = ids[0]
		} else {
			roleID = uuid.NewString()
			t, _ := s.schema.Table("role")
			if err := rawInsert(ctx, tx, t, map[string]any{"roleid": roleID, "name": name, "businessunitid": s.org.BusinessUnitID},
				s.org.SystemUserID, s.nowUTC().Format(dateTimeLayout)); err != nil {
				return err
			}
		}
		return s.replaceRolePrivileges(ctx, tx, name, roleID, privileges)
	})
	return roleID, err
}

// replaceRolePrivileges sets the privileges of role roleID (called name
// in errors) to exactly the given ones; a privilege given twice keeps its
// deepest depth. An unknown privilege or depth is a KindValidation error
// naming it.
func (s *Store) replaceRolePrivileges(ctx context.Context, tx *sql.Tx, name, roleID string, privileges []RolePrivilege) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM "_dv_roleprivilege" WHERE "roleid" = ?`, roleID); err != nil {
		return err
	}
	for _, p := range privileges {
		id, ok := s.privileges[p.Name]
		if !ok {
			return &Error{Kind: KindValidation, Message: fmt.Sprintf(
				"store: role %q: privilege %q does not exist", name, p.Name)}
		}
		switch p.Depth {
		case DepthUser, DepthBusinessUnit, DepthParentChild, DepthOrganization:
		default:
			return &Error{Kind: KindValidation, Message: fmt.Sprintf(
				"store: role %q: privilege %q: depth %d is not one of 1 (user), 2 (business unit), 4 (parent-child), 8 (organization)", name, p.Name, p.Depth)}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO "_dv_roleprivilege" ("roleid", "privilegeid", "depth") VALUES (?, ?, ?)
			ON CONFLICT ("roleid", "privilegeid") DO UPDATE SET "depth" = max("depth", excluded."depth")`, roleID, id, int(p.Depth)); err != nil {
			return err
		}
	}
	return nil
}

// SetUserRoles replaces the roles assigned directly to a user.
func (s *Store) SetUserRoles(ctx context.Context, systemUserID string, roleNames []string) error {
	uid, err := uuid.Parse(systemUserID)
	if err != nil {
		return fmt.Errorf("store: user id %q is not a GUID", systemUserID)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := requireUser(ctx, tx, uid.String()); err != nil {
			return err
		}
		ids, err := roleIDsByName(ctx, tx, roleNames)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM "systemuserroles" WHERE "systemuserid" = ?`, uid.String()); err != nil {
			return err
		}
		for _, id := range ids {
			if err := associate(ctx, tx, "systemuserroles", "systemuserid", "roleid", uid.String(), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetUserDisabled enables or disables a user (systemuser.isdisabled).
func (s *Store) SetUserDisabled(ctx context.Context, systemUserID string, disabled bool) error {
	uid, err := uuid.Parse(systemUserID)
	if err != nil {
		return fmt.Errorf("store: user id %q is not a GUID", systemUserID)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := requireUser(ctx, tx, uid.String()); err != nil {
			return err
		}
		flag := int64(0)
		if disabled {
			flag = 1
		}
		_, err := tx.ExecContext(ctx, `UPDATE "systemuser" SET "isdisabled" = ?,
			"versionnumber" = (SELECT "value" + 1 FROM "_dv_sequence" WHERE "name" = 'version') WHERE "systemuserid" = ?`, flag, uid.String())
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE "_dv_sequence" SET "value" = "value" + 1 WHERE "name" = 'version'`)
		return err
	})
}

func requireUser(ctx context.Context, q querier, id string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM "systemuser" WHERE "systemuserid" = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound("systemuser", id)
	}
	return nil
}

// PrivilegeNames returns the names of all privileges, sorted.
func (s *Store) PrivilegeNames() []string {
	names := make([]string, 0, len(s.privileges))
	for n := range s.privileges {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
