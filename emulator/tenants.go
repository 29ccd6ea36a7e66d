package emulator

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/identity"
)

// Tenant is an Entra tenant (directory). Token requests and admin calls may name it by ID or by
// domain.
type Tenant struct {
	// ID is the directory (tenant) ID, a GUID; tokens carry it as tid.
	ID string `json:"id"`
	// Domain is the tenant's verified domain, e.g. contoso.onmicrosoft.com.
	Domain string `json:"domain"`
	// DisplayName is the directory's name, as Entra quotes it in messages.
	DisplayName string `json:"displayName,omitempty"`
}

// AddTenant creates a tenant. An empty ID means a new random GUID; Domain is required. A tenant
// whose ID or domain is taken is ErrConflict. It returns the tenant as stored.
func (e *Emulator) AddTenant(ctx context.Context, t Tenant) (Tenant, error) {
	t.ID = strings.TrimSpace(t.ID)
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	if strings.TrimSpace(t.Domain) == "" {
		return Tenant{}, invalidf("a tenant needs a domain such as contoso.onmicrosoft.com")
	}
	for _, key := range []string{t.ID, t.Domain} {
		if existing, err := e.identity.Tenant(ctx, key); err == nil {
			return Tenant{}, conflictf("tenant %s (%s) already exists", existing.ID, existing.Domain)
		}
	}
	if err := e.identity.EnsureTenant(ctx, identity.Tenant(t)); err != nil {
		return Tenant{}, fromIdentity(err)
	}
	return e.Tenant(ctx, t.ID)
}

// Tenant returns the tenant whose ID or domain is idOrDomain (case-insensitive).
func (e *Emulator) Tenant(ctx context.Context, idOrDomain string) (Tenant, error) {
	t, err := e.identity.Tenant(ctx, idOrDomain)
	if err != nil {
		return Tenant{}, fromIdentity(err)
	}
	return Tenant(t), nil
}

// Tenants lists the tenants, ordered by domain.
func (e *Emulator) Tenants(ctx context.Context) ([]Tenant, error) {
	ts, err := e.identity.Tenants(ctx)
	if err != nil {
		return nil, fromIdentity(err)
	}
	out := make([]Tenant, len(ts))
	for i, t := range ts {
		out[i] = Tenant(t)
	}
	return out, nil
}
