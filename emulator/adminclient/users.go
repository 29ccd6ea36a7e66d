package adminclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"

	"github.com/d365s2s/d365/emulator"
)

// CreateApplicationUser creates the application user of an app: POST /_emulator/appusers.
func (c *Client) CreateApplicationUser(ctx context.Context, u emulator.NewApplicationUser) (emulator.ApplicationUser, error) {
	var out emulator.ApplicationUser
	return out, c.call(ctx, http.MethodPost, "appusers", u, &out)
}

// ApplicationUser returns the application user of an app: GET /_emulator/appusers/{clientId}.
func (c *Client) ApplicationUser(ctx context.Context, appID string) (emulator.ApplicationUser, error) {
	var out emulator.ApplicationUser
	return out, c.call(ctx, http.MethodGet, "appusers/"+esc(appID), nil, &out)
}

// ApplicationUsers lists the application users: GET /_emulator/appusers.
func (c *Client) ApplicationUsers(ctx context.Context) ([]emulator.ApplicationUser, error) {
	var out []emulator.ApplicationUser
	return out, c.call(ctx, http.MethodGet, "appusers", nil, &out)
}

// appUserPatch is the body of PATCH /_emulator/appusers/{clientId}.
type appUserPatch struct {
	Disabled     *bool     `json:"disabled,omitempty"`
	Roles        *[]string `json:"roles,omitempty"`
	BusinessUnit *string   `json:"businessUnit,omitempty"`
}

func (c *Client) patchAppUser(ctx context.Context, appID string, p appUserPatch) error {
	return c.call(ctx, http.MethodPatch, "appusers/"+esc(appID), p, nil)
}

// SetApplicationUserEnabled enables or disables an application user:
// PATCH /_emulator/appusers/{clientId} {"disabled"}.
func (c *Client) SetApplicationUserEnabled(ctx context.Context, appID string, enabled bool) error {
	disabled := !enabled
	return c.patchAppUser(ctx, appID, appUserPatch{Disabled: &disabled})
}

// SetApplicationUserRoles replaces an application user's security roles:
// PATCH /_emulator/appusers/{clientId} {"roles"}.
func (c *Client) SetApplicationUserRoles(ctx context.Context, appID string, roles []string) error {
	if roles == nil {
		roles = []string{}
	}
	return c.patchAppUser(ctx, appID, appUserPatch{Roles: &roles})
}

// SetApplicationUserBusinessUnit moves an application user to a business unit (name or ID):
// PATCH /_emulator/appusers/{clientId} {"businessUnit"}.
func (c *Client) SetApplicationUserBusinessUnit(ctx context.Context, appID, businessUnit string) error {
	return c.patchAppUser(ctx, appID, appUserPatch{BusinessUnit: &businessUnit})
}

// RemoveApplicationUser deletes an application user: DELETE /_emulator/appusers/{clientId}.
func (c *Client) RemoveApplicationUser(ctx context.Context, appID string) error {
	return c.call(ctx, http.MethodDelete, "appusers/"+esc(appID), nil, nil)
}

// Privileges lists the privilege names roles may hold: GET /_emulator/privileges.
func (c *Client) Privileges(ctx context.Context) ([]string, error) {
	var out []string
	return out, c.call(ctx, http.MethodGet, "privileges", nil, &out)
}

// CreateRole creates a security role: POST /_emulator/roles.
func (c *Client) CreateRole(ctx context.Context, name string, privileges []emulator.RolePrivilege) (emulator.Role, error) {
	body := struct {
		Name       string                   `json:"name"`
		Privileges []emulator.RolePrivilege `json:"privileges"`
	}{name, privileges}
	var out emulator.Role
	return out, c.call(ctx, http.MethodPost, "roles", body, &out)
}

// CreateRoleFromText is CreateRole with the privileges as written for emulator.ParsePrivilege
// ("prvReadContact:organization", "prvWriteAccount"). The emulator parses them, so a mistake
// comes back as its *Error naming the privilege as written.
func (c *Client) CreateRoleFromText(ctx context.Context, name string, privileges []string) (emulator.Role, error) {
	body := struct {
		Name       string   `json:"name"`
		Privileges []string `json:"privileges"`
	}{name, privileges}
	var out emulator.Role
	return out, c.call(ctx, http.MethodPost, "roles", body, &out)
}

// SetRolePrivilegesFromText is SetRolePrivileges with the privileges as written for
// emulator.ParsePrivilege, parsed by the emulator.
func (c *Client) SetRolePrivilegesFromText(ctx context.Context, role string, privileges []string) (emulator.Role, error) {
	if privileges == nil {
		privileges = []string{}
	}
	body := struct {
		Privileges []string `json:"privileges"`
	}{privileges}
	var out emulator.Role
	return out, c.call(ctx, http.MethodPatch, "roles/"+esc(role), body, &out)
}

// SetRolePrivileges replaces a role's privileges: PATCH /_emulator/roles/{nameOrId}.
func (c *Client) SetRolePrivileges(ctx context.Context, role string, privileges []emulator.RolePrivilege) (emulator.Role, error) {
	if privileges == nil {
		privileges = []emulator.RolePrivilege{}
	}
	body := struct {
		Privileges []emulator.RolePrivilege `json:"privileges"`
	}{privileges}
	var out emulator.Role
	return out, c.call(ctx, http.MethodPatch, "roles/"+esc(role), body, &out)
}

// RemoveRole deletes a security role; its users lose it: DELETE /_emulator/roles/{nameOrId}.
func (c *Client) RemoveRole(ctx context.Context, role string) error {
	return c.call(ctx, http.MethodDelete, "roles/"+esc(role), nil, nil)
}

// Role returns a security role by name or ID: GET /_emulator/roles/{nameOrId}.
func (c *Client) Role(ctx context.Context, nameOrID string) (emulator.Role, error) {
	var out emulator.Role
	return out, c.call(ctx, http.MethodGet, "roles/"+esc(nameOrID), nil, &out)
}

// Roles lists the security roles: GET /_emulator/roles.
func (c *Client) Roles(ctx context.Context) ([]emulator.Role, error) {
	var out []emulator.Role
	return out, c.call(ctx, http.MethodGet, "roles", nil, &out)
}

// CreateBusinessUnit creates a business unit under parent (name or ID; empty: the root):
// POST /_emulator/businessunits.
func (c *Client) CreateBusinessUnit(ctx context.Context, name, parent string) (emulator.BusinessUnit, error) {
	body := struct {
		Name   string `json:"name"`
		Parent string `json:"parent"`
	}{name, parent}
	var out emulator.BusinessUnit
	return out, c.call(ctx, http.MethodPost, "businessunits", body, &out)
}

// BusinessUnit returns a business unit by name or ID: GET /_emulator/businessunits/{nameOrId}.
func (c *Client) BusinessUnit(ctx context.Context, nameOrID string) (emulator.BusinessUnit, error) {
	var out emulator.BusinessUnit
	return out, c.call(ctx, http.MethodGet, "businessunits/"+esc(nameOrID), nil, &out)
}

// BusinessUnits lists the business units: GET /_emulator/businessunits.
func (c *Client) BusinessUnits(ctx context.Context) ([]emulator.BusinessUnit, error) {
	var out []emulator.BusinessUnit
	return out, c.call(ctx, http.MethodGet, "businessunits", nil, &out)
}

// SetBusinessUnitEnabled enables or disables a business unit (and those under it) and returns
// it: PATCH /_emulator/businessunits/{nameOrId}.
func (c *Client) SetBusinessUnitEnabled(ctx context.Context, nameOrID string, enabled bool) (emulator.BusinessUnit, error) {
	disabled := !enabled
	var out emulator.BusinessUnit
	return out, c.call(ctx, http.MethodPatch, "businessunits/"+esc(nameOrID), disabledBody{&disabled}, &out)
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func isPEM(b []byte) bool { return bytes.Contains(b, []byte("-----BEGIN")) }
