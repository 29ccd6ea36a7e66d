package emulator

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/store"
)

// ApplicationUser is the Dataverse user of an app registration (a systemuser whose applicationid
// is the app's client ID). Dataverse authorizes an app's requests by this user's security roles.
type ApplicationUser struct {
	// UserID is the systemuserid (what WhoAmI returns as UserId).
	UserID string `json:"userId"`
	// ApplicationID is the app's client ID.
	ApplicationID string `json:"applicationId"`
	// ObjectID is the app's service principal object ID.
	ObjectID       string   `json:"objectId,omitempty"`
	FullName       string   `json:"fullName"`
	BusinessUnitID string   `json:"businessUnitId"`
	BusinessUnit   string   `json:"businessUnit"`
	Roles          []string `json:"roles"`
	// Disabled users get 403 "…is disabled. Disabled users cannot access the system…".
	Disabled bool `json:"disabled"`
}

// NewApplicationUser describes an application user to create ("New app user" in the Power
// Platform admin center).
type NewApplicationUser struct {
	// App is the app registration's client ID. Required; the app must be registered.
	App string `json:"app"`
	// Roles are security role names. An application user without roles gets 403 "has not been
	// assigned any roles" on every request.
	Roles []string `json:"roles,omitempty"`
	// BusinessUnit is a business unit's name or ID; empty means the root business unit.
	BusinessUnit string `json:"businessUnit,omitempty"`
	// FullName is the user's name; empty means the app's display name.
	FullName string `json:"fullName,omitempty"`
	// Disabled creates the user disabled.
	Disabled bool `json:"disabled,omitempty"`
}

// CreateApplicationUser creates the application user of an app, with roles, in a business unit.
// The app must be registered (ErrNotFound otherwise) and have no application user yet
// (ErrConflict: Dataverse allows one per app). Unknown roles or business units are ErrNotFound,
// and then nothing is created.
func (e *Emulator) CreateApplicationUser(ctx context.Context, u NewApplicationUser) (ApplicationUser, error) {
	if strings.TrimSpace(u.App) == "" {
		return ApplicationUser{}, invalidf("an application user needs the app's client ID")
	}
	app, err := e.App(ctx, u.App)
	if err != nil {
		return ApplicationUser{}, err
	}
	if existing, err := e.ApplicationUser(ctx, app.ClientID); err == nil {
		return ApplicationUser{}, conflictf("app %s already has application user %s (%s); change its roles instead", app.ClientID, existing.UserID, existing.FullName)
	}
	roles, err := e.roleNames(ctx, u.Roles)
	if err != nil {
		return ApplicationUser{}, err
	}
	buID := ""
	if strings.TrimSpace(u.BusinessUnit) != "" {
		bu, err := e.BusinessUnit(ctx, u.BusinessUnit)
		if err != nil {
			return ApplicationUser{}, err
		}
		buID = bu.ID
	}
	name := strings.TrimSpace(u.FullName)
	if name == "" {
		name = app.DisplayName
	}
	if _, err := e.store.EnsureApplicationUser(ctx, store.ApplicationUser{
		ApplicationID: app.ClientID, AzureADObjectID: app.ObjectID, FullName: name, RoleNames: roles,
		BusinessUnitID: buID, Disabled: u.Disabled,
	}); err != nil {
		return ApplicationUser{}, fmt.Errorf("emulator: create application user for app %s: %w", app.ClientID, err)
	}
	return e.ApplicationUser(ctx, app.ClientID)
}

// ApplicationUser returns the application user of an app (by client ID).
func (e *Emulator) ApplicationUser(ctx context.Context, appID string) (ApplicationUser, error) {
	key := strings.TrimSpace(appID)
	if id, err := uuid.Parse(key); err == nil {
		key = id.String()
	}
	users, err := e.ApplicationUsers(ctx)
	if err != nil {
		return ApplicationUser{}, err
	}
	for _, u := range users {
		if u.ApplicationID == key {
			return u, nil
		}
	}
	return ApplicationUser{}, notFoundf("app %q has no application user; create one with CreateApplicationUser (POST /_emulator/appusers)", appID)
}

// ApplicationUsers lists the application users, by name.
func (e *Emulator) ApplicationUsers(ctx context.Context) ([]ApplicationUser, error) {
	users, err := e.store.ApplicationUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	out := make([]ApplicationUser, 0, len(users))
	for _, u := range users {
		out = append(out, ApplicationUser{
			UserID: u.UserID, ApplicationID: u.ApplicationID, ObjectID: u.ObjectID, FullName: u.FullName,
			BusinessUnitID: u.BusinessUnitID, BusinessUnit: u.BusinessUnitName, Roles: u.Roles, Disabled: u.Disabled,
		})
	}
	return out, nil
}

// SetApplicationUserEnabled enables or disables an app's application user. A disabled user's
// requests get 403 "…is disabled…"; the app still gets tokens from Entra.
func (e *Emulator) SetApplicationUserEnabled(ctx context.Context, appID string, enabled bool) error {
	u, err := e.ApplicationUser(ctx, appID)
	if err != nil {
		return err
	}
	return fromStore(e.store.SetUserDisabled(ctx, u.UserID, !enabled))
}

// SetApplicationUserRoles replaces the security roles of an app's application user. An empty
// list removes them all (requests then get 403 "has not been assigned any roles").
func (e *Emulator) SetApplicationUserRoles(ctx context.Context, appID string, roles []string) error {
	u, err := e.ApplicationUser(ctx, appID)
	if err != nil {
		return err
	}
	names, err := e.roleNames(ctx, roles)
	if err != nil {
		return err
	}
	return fromStore(e.store.SetUserRoles(ctx, u.UserID, names))
}

// SetApplicationUserBusinessUnit moves an app's application user to a business unit (by name or
// ID). Its security roles stay assigned; what it may read at business-unit depth follows the
// new unit. An unknown app user or business unit is ErrNotFound.
func (e *Emulator) SetApplicationUserBusinessUnit(ctx context.Context, appID, businessUnit string) error {
	u, err := e.ApplicationUser(ctx, appID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(businessUnit) == "" {
		return invalidf("give the business unit's name or ID to move app %s's application user to", u.ApplicationID)
	}
	bu, err := e.BusinessUnit(ctx, businessUnit)
	if err != nil {
		return err
	}
	return fromStore(e.store.SetUserBusinessUnit(ctx, u.UserID, bu.ID))
}

// RemoveApplicationUser removes an app's application user. Dataverse never deletes systemuser
// rows (records keep pointing at their creators), so the user is unlinked from the app and
// disabled: the app's requests then get 403 0x80072560 "The user is not a member of the
// organization.", and CreateApplicationUser may create a new one.
func (e *Emulator) RemoveApplicationUser(ctx context.Context, appID string) error {
	u, err := e.ApplicationUser(ctx, appID)
	if err != nil {
		return err
	}
	return fromStore(e.store.RemoveApplicationUser(ctx, u.ApplicationID))
}
