package emulator

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/identity"
)

// App is an app registration with its service principal in its home tenant.
type App struct {
	// ClientID is the application (client) ID; tokens carry it as appid.
	ClientID string `json:"clientId"`
	// TenantID is the home tenant's ID.
	TenantID string `json:"tenantId"`
	// ObjectID is the service principal's object ID; tokens carry it as oid, and the app's
	// application user records it.
	ObjectID string `json:"objectId"`
	// DisplayName is the app's name.
	DisplayName string `json:"displayName"`
	// Disabled apps get AADSTS7000112 from the token endpoint.
	Disabled bool `json:"disabled"`
}

// NewApp describes an app registration to create. Every field is optional.
type NewApp struct {
	// DisplayName is the app's name; empty means the client ID.
	DisplayName string `json:"displayName,omitempty"`
	// Tenant is the home tenant, by ID or domain; empty means the organization's tenant.
	Tenant string `json:"tenant,omitempty"`
	// ClientID is the application (client) ID to use; empty means a new random GUID.
	ClientID string `json:"clientId,omitempty"`
	// ObjectID is the service principal's object ID; empty means a new random GUID.
	ObjectID string `json:"objectId,omitempty"`
	// Disabled creates the app disabled.
	Disabled bool `json:"disabled,omitempty"`
}

// CreateApp registers an app ("New registration" in the portal). It has no credentials yet: add
// a secret with AddSecret or a certificate with AddCertificate. An app whose client ID exists is
// ErrConflict; an unknown tenant is ErrNotFound.
func (e *Emulator) CreateApp(ctx context.Context, a NewApp) (App, error) {
	tenant := strings.TrimSpace(a.Tenant)
	if tenant == "" {
		tenant = e.orgTenantID
	}
	t, err := e.Tenant(ctx, tenant)
	if err != nil {
		return App{}, err
	}
	clientID := strings.TrimSpace(a.ClientID)
	if clientID == "" {
		clientID = uuid.NewString()
	}
	if existing, err := e.identity.App(ctx, clientID); err == nil {
		return App{}, conflictf("app %s (%s) is already registered in tenant %s", existing.ClientID, existing.DisplayName, existing.TenantID)
	}
	err = e.identity.EnsureApp(ctx, identity.App{
		ClientID: clientID, TenantID: t.ID, ObjectID: a.ObjectID, DisplayName: a.DisplayName, Disabled: a.Disabled,
	})
	if err != nil {
		return App{}, fromIdentity(err)
	}
	return e.App(ctx, clientID)
}

// App returns the app registration with the given client ID.
func (e *Emulator) App(ctx context.Context, clientID string) (App, error) {
	a, err := e.identity.App(ctx, clientID)
	if errors.Is(err, identity.ErrNotFound) {
		return App{}, notFoundf("no app registration has client ID %q; list them with Apps (GET /_emulator/apps)", clientID)
	}
	if err != nil {
		return App{}, fromIdentity(err)
	}
	return App(a), nil
}

// Apps lists the app registrations of one tenant (by ID or domain), or of all tenants when tenant
// is empty, ordered by display name.
func (e *Emulator) Apps(ctx context.Context, tenant string) ([]App, error) {
	as, err := e.identity.Apps(ctx, tenant)
	if err != nil {
		return nil, fromIdentity(err)
	}
	out := make([]App, len(as))
	for i, a := range as {
		out[i] = App(a)
	}
	return out, nil
}

// SetAppEnabled enables or disables an app. A disabled app's token requests get AADSTS7000112;
// tokens it obtained before stay valid until they expire, as in Entra.
func (e *Emulator) SetAppEnabled(ctx context.Context, clientID string, enabled bool) error {
	if _, err := e.App(ctx, clientID); err != nil {
		return err
	}
	if enabled {
		return fromIdentity(e.identity.EnableApp(ctx, clientID))
	}
	return fromIdentity(e.identity.DisableApp(ctx, clientID))
}

// RemoveApp deletes an app registration with its secrets and certificates. Its application
// user, if any, stays in Dataverse (as it does when an app is deleted in Entra) but no token can
// be issued for it any more.
func (e *Emulator) RemoveApp(ctx context.Context, clientID string) error {
	if _, err := e.App(ctx, clientID); err != nil {
		return err
	}
	return fromIdentity(e.identity.RemoveApp(ctx, clientID))
}
