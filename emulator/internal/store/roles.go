package store

import (
	"context"
	"fmt"

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
