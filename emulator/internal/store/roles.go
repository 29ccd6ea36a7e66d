package store

import (
	"context"
	"fmt"
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
