package emulator

import (
	"context"
	"slices"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/identity"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// applyScenario creates what a checked scenario describes, in dependency order. Failures name the
// scenario's file, line and field. The caller discards the database when it fails.
func (e *Emulator) applyScenario(ctx context.Context, p *scenarioPlan) error {
	sc := p.sc
	at := func(where []any, err error) error {
		return sc.errorAt(where, "%s", strings.TrimPrefix(err.Error(), "emulator: "))
	}
	// Privilege names depend on the compiled tables: check them all before creating anything.
	for _, r := range p.roles {
		for j, priv := range r.privileges {
			if _, err := e.checkPrivileges([]RolePrivilege{priv}); err != nil {
				return at(append(slices.Clone(r.path), "privileges", j), err)
			}
		}
	}
	for i, t := range p.tenants {
		if _, err := e.AddTenant(ctx, t); err != nil {
			return at(path("tenants", i), err)
		}
	}
	for i, bu := range p.businessUnits {
		if _, err := e.CreateBusinessUnit(ctx, bu.Name, bu.Parent); err != nil {
			return at(path("businessUnits", i), err)
		}
	}
	for _, r := range p.roles {
		if _, err := e.CreateRole(ctx, r.name, r.privileges); err != nil {
			return at(r.path, err)
		}
	}
	now := e.clock.Now()
	for _, a := range p.apps {
		if _, err := e.CreateApp(ctx, a.app); err != nil {
			return at(path("apps", a.index), err)
		}
		for _, s := range a.secrets {
			sec := identity.Secret{ID: s.id, DisplayName: s.secret.DisplayName, Value: s.secret.Value}
			if s.expires != nil {
				sec.Expires = s.expires(now)
			}
			if err := e.identity.EnsureSecret(ctx, a.app.ClientID, sec); err != nil {
				return at(s.path, fromIdentity(err))
			}
		}
		for _, c := range a.certs {
			if _, err := e.AddCertificate(ctx, a.app.ClientID, c.data); err != nil {
				return at(c.path, err)
			}
		}
	}
	for _, u := range p.users {
		if _, err := e.CreateApplicationUser(ctx, u.user); err != nil {
			return at(u.path, err)
		}
	}
	// Business units are disabled last: children and users are created in them first.
	for i, bu := range p.businessUnits {
		if bu.Disabled {
			if err := e.SetBusinessUnitEnabled(ctx, bu.Name, false); err != nil {
				return at(path("businessUnits", i, "disabled"), err)
			}
		}
	}
	if len(p.rows) > 0 {
		sys, err := e.system(ctx)
		if err != nil {
			return err
		}
		var failed []any
		err = e.store.Write(ctx, func(tx *store.Tx) error {
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

// scenarioCredentials are the credentials to print for a scenario: the first app with a secret.
func scenarioCredentials(p *scenarioPlan) Credentials {
	creds := Credentials{TenantID: p.orgTenantID}
	for _, a := range p.apps {
		if len(a.secrets) > 0 {
			tenant := a.app.Tenant
			if tenant == "" {
				tenant = p.orgTenantID
			}
			return Credentials{TenantID: tenant, ClientID: a.app.ClientID, ClientSecret: a.secrets[0].secret.Value}
		}
	}
	return creds
}
