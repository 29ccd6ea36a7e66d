package scenario

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/identity"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// Target is what Apply creates a plan with: the emulator's admin methods. Their errors read as
// the emulator's ("emulator: …"); Apply places them at the scenario's line and field.
type Target interface {
	// CheckPrivilege fails when the privilege's name does not exist in the compiled tables.
	CheckPrivilege(p Privilege) error
	AddTenant(ctx context.Context, t Tenant) error
	CreateBusinessUnit(ctx context.Context, name, parent string) error
	CreateRole(ctx context.Context, name string, privileges []Privilege) error
	CreateApp(ctx context.Context, app NewApp) error
	// EnsureSecret registers a secret with a known value for the app.
	EnsureSecret(ctx context.Context, clientID string, s identity.Secret) error
	AddCertificate(ctx context.Context, clientID string, data []byte) error
	CreateApplicationUser(ctx context.Context, u NewApplicationUser) error
	SetBusinessUnitEnabled(ctx context.Context, name string, enabled bool) error
	// WriteRows runs write in one store transaction as the SYSTEM user.
	WriteRows(ctx context.Context, write func(tx *store.Tx, system *store.Principal) error) error
	// Now is the emulator's clock, for expiries relative to the start.
	Now() time.Time
}

// Apply creates what a checked scenario describes, in dependency order. Failures name the
// scenario's file, line and field. The caller discards the database when it fails.
func Apply(ctx context.Context, t Target, p *Plan) error {
	sc := p.sc
	at := func(where []any, err error) error {
		return sc.errorAt(where, "%s", strings.TrimPrefix(err.Error(), "emulator: "))
	}
	// Privilege names depend on the compiled tables: check them all before creating anything.
	for _, r := range p.roles {
		for j, priv := range r.privileges {
			if err := t.CheckPrivilege(priv); err != nil {
				return at(append(slices.Clone(r.path), "privileges", j), err)
			}
		}
	}
	for i, tenant := range p.tenants {
		if err := t.AddTenant(ctx, tenant); err != nil {
			return at(path("tenants", i), err)
		}
	}
	for i, bu := range p.businessUnits {
		if err := t.CreateBusinessUnit(ctx, bu.Name, bu.Parent); err != nil {
			return at(path("businessUnits", i), err)
		}
	}
	for _, r := range p.roles {
		if err := t.CreateRole(ctx, r.name, r.privileges); err != nil {
			return at(r.path, err)
		}
	}
	now := t.Now()
	for _, a := range p.apps {
		if err := t.CreateApp(ctx, a.app); err != nil {
			return at(path("apps", a.index), err)
		}
		for _, s := range a.secrets {
			sec := identity.Secret{ID: s.id, DisplayName: s.description, Value: s.value}
			if s.expires != nil {
				sec.Expires = s.expires(now)
			}
			if err := t.EnsureSecret(ctx, a.app.ClientID, sec); err != nil {
				return at(s.path, err)
			}
		}
		for _, c := range a.certs {
			if err := t.AddCertificate(ctx, a.app.ClientID, c.data); err != nil {
				return at(c.path, err)
			}
		}
	}
	for _, u := range p.users {
		if err := t.CreateApplicationUser(ctx, u.user); err != nil {
			return at(u.path, err)
		}
	}
	// Business units are disabled last: children and users are created in them first.
	for i, bu := range p.businessUnits {
		if bu.Disabled {
			if err := t.SetBusinessUnitEnabled(ctx, bu.Name, false); err != nil {
				return at(path("businessUnits", i, "disabled"), err)
			}
		}
	}
	if len(p.rows) > 0 {
		var failed []any
		err := t.WriteRows(ctx, func(tx *store.Tx, sys *store.Principal) error {
			for _, set := range p.rows {
				for _, rec := range set.records {
					if _, err := tx.Create(ctx, sys, set.table, rec.fields); err != nil {
						failed = rec.path
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			if failed == nil {
				return err
			}
			return sc.errorAt(failed, "%s", err.Error())
		}
	}
	return nil
}

// Credentials are the credentials to print for a scenario: those of the first app with a secret,
// or the organization's tenant alone.
func (p *Plan) Credentials() (tenantID, clientID, clientSecret string) {
	for _, a := range p.apps {
		if len(a.secrets) > 0 {
			tenant := a.app.Tenant
			if tenant == "" {
				tenant = p.OrgTenantID
			}
			return tenant, a.app.ClientID, a.secrets[0].value
		}
	}
	return p.OrgTenantID, "", ""
}

// AppSecrets is an app of a plan that has secrets, with their values.
type AppSecrets struct {
	// FixedClientID is the client ID the scenario gives; empty when the plan drew a random one.
	FixedClientID string
	DisplayName   string
	// Secrets are the secret values, in the scenario's order.
	Secrets []string
}

// AppSecrets lists the plan's apps that have secrets, in the scenario's order: what a restart
// may still be able to print credentials for.
func (p *Plan) AppSecrets() []AppSecrets {
	var out []AppSecrets
	for _, a := range p.apps {
		if len(a.secrets) == 0 {
			continue
		}
		as := AppSecrets{FixedClientID: p.sc.Apps[a.index].ClientID, DisplayName: a.app.DisplayName}
		for _, s := range a.secrets {
			as.Secrets = append(as.Secrets, s.value)
		}
		out = append(out, as)
	}
	return out
}

// Scenario is the scenario the plan was made from.
func (p *Plan) Scenario() *Scenario { return p.sc }
