package emulator

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/store"
)

// Depth is how far a role's privilege reaches: the user's own rows, their business unit's, their
// business unit and its children's, or the whole organization's (Dataverse's Basic, Local, Deep
// and Global).
type Depth string

// The privilege depths.
const (
	DepthUser         Depth = "user"         // Basic: rows the user owns
	DepthBusinessUnit Depth = "businessunit" // Local: rows of the user's business unit
	DepthParentChild  Depth = "parentchild"  // Deep: the business unit and its descendants
	DepthOrganization Depth = "organization" // Global: every row
)

// depthNames maps every accepted spelling (lower case) to a Depth.
var depthNames = map[string]Depth{
	"user": DepthUser, "basic": DepthUser,
	"businessunit": DepthBusinessUnit, "local": DepthBusinessUnit, "bu": DepthBusinessUnit,
	"parentchild": DepthParentChild, "deep": DepthParentChild, "parentchildbusinessunits": DepthParentChild,
	"organization": DepthOrganization, "global": DepthOrganization, "org": DepthOrganization,
}

var depthLevels = map[Depth]store.Depth{
	DepthUser: store.DepthUser, DepthBusinessUnit: store.DepthBusinessUnit,
	DepthParentChild: store.DepthParentChild, DepthOrganization: store.DepthOrganization,
}

// ParseDepth reads a depth: user, businessunit, parentchild or organization, or Dataverse's
// names Basic, Local, Deep and Global, in any case.
func ParseDepth(s string) (Depth, error) {
	key := strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.TrimSpace(s)))
	if d, ok := depthNames[key]; ok {
		return d, nil
	}
	return "", invalidf("privilege depth %q is not one of user, businessunit, parentchild, organization (or Basic, Local, Deep, Global)", s)
}

func depthOf(d store.Depth) Depth {
	for name, level := range depthLevels {
		if level == d {
			return name
		}
	}
	return Depth(d.String())
}

// RolePrivilege is a privilege a security role holds, at a depth.
type RolePrivilege struct {
	// Name is the privilege, prv<Verb><Table>: prvReadContact, prvCreateAccount, prvWriteUser…
	Name  string `json:"name"`
	Depth Depth  `json:"depth"`
}

// String writes the privilege as ParsePrivilege reads it: prvReadContact:organization.
func (p RolePrivilege) String() string { return p.Name + ":" + string(p.Depth) }

// ParsePrivilege reads a privilege as "prvReadContact:organization" (the depth is optional and
// defaults to organization).
func ParsePrivilege(s string) (RolePrivilege, error) {
	name, depth, hasDepth := strings.Cut(strings.TrimSpace(s), ":")
	p := RolePrivilege{Name: strings.TrimSpace(name), Depth: DepthOrganization}
	if p.Name == "" {
		return RolePrivilege{}, invalidf("privilege %q has no name; write it as prvReadContact:organization", s)
	}
	if hasDepth {
		d, err := ParseDepth(depth)
		if err != nil {
			return RolePrivilege{}, err
		}
		p.Depth = d
	}
	return p, nil
}

// Role is a security role with its privileges.
type Role struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	BusinessUnitID string          `json:"businessUnitId"`
	Privileges     []RolePrivilege `json:"privileges"`
}

// Privileges lists the names of every privilege a role can hold, sorted: prv<Verb><Table> for each
// table and verb (Create, Read, Write, Delete, Append, AppendTo, and Assign and Share on
// user-owned tables), plus prvActOnBehalfOfAnotherUser (impersonation), prvBypassCustomPlugins
// (MSCRM.BypassCustomPluginExecution) and prvBypassCustomBusinessLogic
// (MSCRM.BypassBusinessLogicExecution).
func (e *Emulator) Privileges() []string { return e.store.PrivilegeNames() }

// CreateRole creates a security role in the root business unit holding exactly the given
// privileges ("a custom role", as the seed article recommends for an integration). A taken name is
// ErrConflict; an unknown privilege or depth is ErrInvalid naming it.
func (e *Emulator) CreateRole(ctx context.Context, name string, privileges []RolePrivilege) (Role, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Role{}, invalidf("a security role needs a name")
	}
	if _, err := e.Role(ctx, name); err == nil {
		return Role{}, conflictf("security role %q already exists", name)
	}
	privs, err := e.checkPrivileges(privileges)
	if err != nil {
		return Role{}, err
	}
	if _, err := e.store.EnsureRole(ctx, name, privs); err != nil {
		return Role{}, fmt.Errorf("emulator: create role %q: %w", name, err)
	}
	return e.Role(ctx, name)
}

// SetRolePrivileges replaces the privileges of a security role (by name or ID) with exactly the
// given ones, in one step: the next request of every user holding the role sees the change (a
// privilege taken away turns its next use into 403 0x80040220). System Administrator cannot be
// changed (ErrInvalid: it holds every privilege and the organization depends on it). An unknown
// role is ErrNotFound; an unknown privilege or depth is ErrInvalid naming it, and then nothing
// changes. An empty list leaves the role without privileges.
func (e *Emulator) SetRolePrivileges(ctx context.Context, role string, privileges []RolePrivilege) (Role, error) {
	r, err := e.Role(ctx, role)
	if err != nil {
		return Role{}, err
	}
	privs, err := e.checkPrivileges(privileges)
	if err != nil {
		return Role{}, err
	}
	if err := fromStore(e.store.SetRolePrivileges(ctx, r.ID, privs)); err != nil {
		return Role{}, err
	}
	return e.Role(ctx, r.ID)
}

// RemoveRole deletes a security role (by name or ID) with its privileges and its assignments:
// users who held it lose it (a user left without roles gets 403 "has not been assigned any
// roles"). System Administrator cannot be removed (ErrInvalid); an unknown role is ErrNotFound.
func (e *Emulator) RemoveRole(ctx context.Context, role string) error {
	r, err := e.Role(ctx, role)
	if err != nil {
		return err
	}
	return fromStore(e.store.RemoveRole(ctx, r.ID))
}

// checkPrivileges resolves privilege names (in any case) and depths for the store.
func (e *Emulator) checkPrivileges(privileges []RolePrivilege) ([]store.RolePrivilege, error) {
	names := e.store.PrivilegeNames()
	byFold := make(map[string]string, len(names))
	for _, n := range names {
		byFold[strings.ToLower(n)] = n
	}
	out := make([]store.RolePrivilege, 0, len(privileges))
	for _, p := range privileges {
		name, ok := byFold[strings.ToLower(strings.TrimSpace(p.Name))]
		if !ok {
			return nil, invalidf("privilege %q does not exist%s; privileges are named prv<Verb><Table> with the table's schema name, e.g. prvReadContact, prvWriteAccount (GET /_emulator/privileges lists them)",
				p.Name, suggestPrivilege(p.Name, names))
		}
		depth := p.Depth
		if depth == "" {
			depth = DepthOrganization
		}
		d, err := ParseDepth(string(depth))
		if err != nil {
			return nil, err
		}
		out = append(out, store.RolePrivilege{Name: name, Depth: depthLevels[d]})
	}
	return out, nil
}

// suggestPrivilege names a privilege the caller probably meant: the plural of a table
// (prvReadContacts) or the logical name of systemuser (prvReadSystemUser) are common slips.
func suggestPrivilege(bad string, names []string) string {
	lower := strings.ToLower(bad)
	for _, cut := range []string{"es", "s"} {
		if trimmed, ok := strings.CutSuffix(lower, cut); ok {
			for _, n := range names {
				if strings.ToLower(n) == trimmed {
					return " (did you mean " + n + "?)"
				}
			}
		}
	}
	if strings.Contains(lower, "systemuser") {
		return " (systemuser privileges are named …User, e.g. prvReadUser)"
	}
	return ""
}

// Role returns the security role with the given name (or ID).
func (e *Emulator) Role(ctx context.Context, nameOrID string) (Role, error) {
	key := strings.TrimSpace(nameOrID)
	if id, err := uuid.Parse(key); err == nil {
		key = id.String()
	}
	roles, err := e.store.Roles(ctx)
	if err != nil {
		return Role{}, fmt.Errorf("emulator: %w", err)
	}
	for _, r := range roles {
		if strings.EqualFold(r.Name, key) || r.ID == key {
			return e.roleWithPrivileges(ctx, r)
		}
	}
	return Role{}, notFoundf("no security role is named %q; list them with Roles (GET /_emulator/roles)", nameOrID)
}

// Roles lists the security roles with their privileges, by name.
func (e *Emulator) Roles(ctx context.Context) ([]Role, error) {
	roles, err := e.store.Roles(ctx)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	out := make([]Role, 0, len(roles))
	for _, r := range roles {
		role, err := e.roleWithPrivileges(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, role)
	}
	return out, nil
}

// roleWithPrivileges adds a role's privileges to it.
func (e *Emulator) roleWithPrivileges(ctx context.Context, r store.Role) (Role, error) {
	privs, err := e.store.RolePrivileges(ctx, r.ID)
	if err != nil {
		return Role{}, fmt.Errorf("emulator: %w", err)
	}
	role := Role{ID: r.ID, Name: r.Name, BusinessUnitID: r.BusinessUnitID, Privileges: make([]RolePrivilege, 0, len(privs))}
	for _, p := range privs {
		role.Privileges = append(role.Privileges, RolePrivilege{Name: p.Name, Depth: depthOf(p.Depth)})
	}
	return role, nil
}

// roleNames checks that every name is a security role and returns the names as stored.
func (e *Emulator) roleNames(ctx context.Context, names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		r, err := e.Role(ctx, n)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, r.Name) {
			out = append(out, r.Name)
		}
	}
	return out, nil
}
