package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Role is a security role.
type Role struct {
	ID, Name, BusinessUnitID string
}

// Roles lists the security roles, by name then id.
func (s *Store) Roles(ctx context.Context) ([]Role, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT "roleid", "name", "businessunitid" FROM "role" ORDER BY "name", "roleid"`)
	if err != nil {
		return nil, fmt.Errorf("store: list roles: %w", err)
	}
	defer rows.Close()
	var out []Role
	for rows.Next() {
		var r Role
		if err := rows.Scan(&r.ID, &r.Name, &r.BusinessUnitID); err != nil {
			return nil, fmt.Errorf("store: list roles: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RolePrivileges lists the privileges a role holds, by name. An unknown
// role holds none.
func (s *Store) RolePrivileges(ctx context.Context, roleID string) ([]RolePrivilege, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p."name", rp."depth" FROM "_dv_roleprivilege" rp
		JOIN "_dv_privilege" p ON p."privilegeid" = rp."privilegeid" WHERE rp."roleid" = ? ORDER BY p."name"`, roleID)
	if err != nil {
		return nil, fmt.Errorf("store: list privileges of role %s: %w", roleID, err)
	}
	defer rows.Close()
	out := []RolePrivilege{}
	for rows.Next() {
		var p RolePrivilege
		if err := rows.Scan(&p.Name, &p.Depth); err != nil {
			return nil, fmt.Errorf("store: list privileges of role %s: %w", roleID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// UserPrivilege is a privilege a user holds, as RetrieveUserPrivileges
// reports it.
type UserPrivilege struct {
	Name, ID string
	Depth    Depth
	// BusinessUnitID is the user's business unit [unverified: Dataverse
	// documents it as "the ID of the business unit" only].
	BusinessUnitID string
}

// UserPrivileges returns the privileges a user holds through security
// roles, by name: those of roles assigned to the user at their deepest
// depth, and those inherited through team membership at Basic (user)
// depth, as Dataverse's RetrieveUserPrivileges reports team privileges
// whatever their depth. p needs prvReadUser at a depth that reaches the
// user; an unknown user is KindNotFound.
func (s *Store) UserPrivileges(ctx context.Context, p *Principal, userID uuid.UUID) ([]UserPrivilege, error) {
	users, ok := s.schema.Table("systemuser")
	if !ok {
		return nil, fmt.Errorf("store: the schema lacks the built-in table systemuser")
	}
	bu, ok := users.Column("businessunitid")
	if !ok {
		return nil, fmt.Errorf("store: the systemuser table lacks businessunitid")
	}
	row, err := s.Retrieve(ctx, p, users, userID, []*schema.Column{bu})
	if err != nil {
		return nil, err
	}
	buID := ""
	if ref, ok := row.Values[0].(Ref); ok {
		buID = ref.ID.String()
	}
	rows, err := s.db.QueryContext(ctx, `SELECT p."name", p."privilegeid", max(x."depth") FROM (
			SELECT rp."privilegeid", rp."depth" FROM "_dv_roleprivilege" rp
				JOIN "systemuserroles" ur ON ur."roleid" = rp."roleid" WHERE ur."systemuserid" = ?1
			UNION ALL
			SELECT rp."privilegeid", ?2 FROM "_dv_roleprivilege" rp
				JOIN "teamroles" tr ON tr."roleid" = rp."roleid"
				JOIN "teammembership" tm ON tm."teamid" = tr."teamid" WHERE tm."systemuserid" = ?1
		) x JOIN "_dv_privilege" p ON p."privilegeid" = x."privilegeid"
		GROUP BY p."name", p."privilegeid" ORDER BY p."name"`, userID.String(), int(DepthUser))
	if err != nil {
		return nil, fmt.Errorf("store: read the privileges of user %s: %w", userID, err)
	}
	defer rows.Close()
	out := []UserPrivilege{}
	for rows.Next() {
		up := UserPrivilege{BusinessUnitID: buID}
		if err := rows.Scan(&up.Name, &up.ID, &up.Depth); err != nil {
			return nil, fmt.Errorf("store: read the privileges of user %s: %w", userID, err)
		}
		out = append(out, up)
	}
	return out, rows.Err()
}

// SetRolePrivileges replaces the privileges of the role with the given
// id by exactly the given ones, in one transaction. System Administrator
// cannot be changed (it holds every privilege, and the SYSTEM user and the
// seeded applications depend on it). An unknown role is KindNotFound; an
// unknown privilege or depth, or System Administrator, is KindValidation,
// and nothing changes. Cached principals see the change at once.
func (s *Store) SetRolePrivileges(ctx context.Context, roleID string, privileges []RolePrivilege) error {
	id, err := s.editableRole(roleID, "change the privileges of")
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		name, err := roleName(ctx, tx, id)
		if err != nil {
			return err
		}
		return s.replaceRolePrivileges(ctx, tx, name, id, privileges)
	})
}

// RemoveRole deletes the role with the given id with its privileges and
// its assignments to users and teams, in one transaction; roles naming it
// as their parent lose the link. System Administrator cannot be removed.
// An unknown role is KindNotFound; System Administrator is
// KindValidation. Cached principals see the change at once.
func (s *Store) RemoveRole(ctx context.Context, roleID string) error {
	id, err := s.editableRole(roleID, "remove")
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if _, err := roleName(ctx, tx, id); err != nil {
			return err
		}
		for _, stmt := range []string{
			`DELETE FROM "systemuserroles" WHERE "roleid" = ?`,
			`DELETE FROM "teamroles" WHERE "roleid" = ?`,
			`DELETE FROM "_dv_roleprivilege" WHERE "roleid" = ?`,
			`UPDATE "role" SET "parentroleid" = NULL WHERE "parentroleid" = ?`,
			`DELETE FROM "role" WHERE "roleid" = ?`,
		} {
			if _, err := tx.ExecContext(ctx, stmt, id); err != nil {
				return fmt.Errorf("store: remove role %s: %w", id, err)
			}
		}
		return nil
	})
}

// editableRole canonicalises a role id and refuses System Administrator,
// which no administrative call may change (what is the verb phrase).
func (s *Store) editableRole(roleID, what string) (string, error) {
	id, err := uuid.Parse(roleID)
	if err != nil {
		return "", &Error{Kind: KindValidation, Message: fmt.Sprintf("store: role id %q is not a GUID", roleID)}
	}
	if strings.EqualFold(id.String(), s.org.AdminRoleID) {
		return "", &Error{Kind: KindValidation, Message: fmt.Sprintf(
			"store: cannot %s the %s role: it holds every privilege and the organization depends on it; create another role instead", what, SystemAdministrator)}
	}
	return id.String(), nil
}

// roleName returns the name of a role, or KindNotFound.
func roleName(ctx context.Context, q querier, id string) (string, error) {
	var name string
	err := q.QueryRowContext(ctx, `SELECT "name" FROM "role" WHERE "roleid" = ?`, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("role", id)
	}
	if err != nil {
		return "", fmt.Errorf("store: read role %s: %w", id, err)
	}
	return name, nil
}
