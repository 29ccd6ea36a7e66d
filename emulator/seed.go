package emulator

import (
	"context"
	"crypto/rsa"
	"fmt"
	"path/filepath"

	"github.com/d365s2s/d365/emulator/internal/identity"
	"github.com/d365s2s/d365/emulator/internal/scenario"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// Well-known development values the emulator seeds on first start. They are printed by
// `d365 emulator` and are only ever accepted by an emulator: never use them for anything real.
const (
	// DefaultTenantID is the seeded Entra tenant (directory) ID.
	DefaultTenantID = "d365d365-0000-4000-8000-000000000001"
	// DefaultTenantDomain is the seeded tenant's verified domain; token requests may name the
	// tenant by it instead of by DefaultTenantID.
	DefaultTenantDomain = "d365emulator.onmicrosoft.com"
	// DefaultClientID is the seeded app registration's application (client) ID.
	DefaultClientID = "d365d365-0000-4000-8000-000000000002"
	// DefaultServicePrincipalID is the object ID of the seeded app's service principal; access
	// tokens carry it as oid and sub, and the application user records it as its Entra object ID.
	DefaultServicePrincipalID = "d365d365-0000-4000-8000-000000000003"
	// DefaultClientSecretID is the ID of the seeded client secret (what the portal shows as
	// "Secret ID"; it is not the secret).
	DefaultClientSecretID = "d365d365-0000-4000-8000-000000000004"
	// DefaultClientSecret is the value of the seeded client secret.
	DefaultClientSecret = "d365~emulator~dev~secret~not~for~production"
	// DefaultAppName is the display name of the seeded app registration and its application user.
	DefaultAppName = "d365 emulator app"
	// DefaultRoleName is the security role held by the seeded application user. It grants every
	// privilege at organization depth.
	DefaultRoleName = "System Administrator"
)

// Credentials are what a client needs to obtain a token for an app registration.
type Credentials struct {
	TenantID     string
	ClientID     string
	ClientSecret string
}

// String describes the credentials without the secret, so they are safe to log.
func (c Credentials) String() string {
	return "tenant " + c.TenantID + ", client " + c.ClientID + ", secret [REDACTED]"
}

// GoString keeps the secret out of %#v as well.
func (c Credentials) GoString() string {
	return "emulator.Credentials{TenantID:" + quote(c.TenantID) + ", ClientID:" + quote(c.ClientID) +
		", ClientSecret:\"[REDACTED]\"}"
}

func quote(s string) string { return "\"" + s + "\"" }

// startSigningKey starts generating a token signing key and returns a function that waits for
// it. The key belongs to one emulator: it is never shared.
func startSigningKey() func() (*rsa.PrivateKey, error) {
	type result struct {
		key *rsa.PrivateKey
		err error
	}
	done := make(chan result, 1)
	go func() {
		key, err := identity.GenerateSigningKey()
		done <- result{key, err}
	}()
	return func() (*rsa.PrivateKey, error) {
		r := <-done
		return r.key, r.err
	}
}

// seed brings the database to its seeded state on first start (the default seed or the
// scenario), remembers how it was seeded, and keeps a copy of that state for Reset. On a restart
// it only reads back what the first start recorded.
func (e *Emulator) seed(ctx context.Context, plan *scenario.Plan) error {
	meta, err := e.store.Meta(ctx, metaNamespace)
	if err != nil {
		return err
	}
	if err := e.rememberSystemUser(); err != nil {
		return err
	}
	seededNow := false
	switch meta[metaSeed] {
	case "":
		tenants, err := e.identity.Tenants(ctx)
		if err != nil {
			return fromIdentity(err)
		}
		if len(tenants) > 0 {
			// A database seeded before the emulator recorded how: the default seed.
			meta = map[string]string{metaSeed: seedDefault, metaOrgTenantID: DefaultTenantID}
			if err := e.store.SetMeta(ctx, metaNamespace, meta); err != nil {
				return err
			}
			break
		}
		if err := e.store.SetMeta(ctx, metaNamespace, map[string]string{metaSeed: seedInProgress}); err != nil {
			return err
		}
		if plan != nil {
			e.orgTenantID = plan.OrgTenantID
			if err := e.applyScenario(ctx, plan); err != nil {
				return err
			}
			meta = map[string]string{metaSeed: seedScenario, metaOrgTenantID: plan.OrgTenantID}
		} else {
			e.orgTenantID = DefaultTenantID
			if err := e.seedDefaults(ctx); err != nil {
				return err
			}
			meta = map[string]string{metaSeed: seedDefault, metaOrgTenantID: DefaultTenantID}
		}
		if err := e.store.SetMeta(ctx, metaNamespace, meta); err != nil {
			return err
		}
		seededNow = true
	case seedInProgress:
		return fmt.Errorf("emulator: the data directory %s was left half-seeded by a start that failed; remove %s and start again",
			e.dataDir, filepath.Join(e.dataDir, store.FileName))
	default:
		if plan != nil {
			e.logger.Warn("the data directory was seeded before: the scenario's tables are used, its tenants, apps, users and rows are not applied again (remove the data directory to start over)",
				"data_dir", e.dataDir)
		}
	}
	e.orgTenantID = meta[metaOrgTenantID]
	if e.orgTenantID == "" {
		e.orgTenantID = DefaultTenantID
	}
	switch {
	case seededNow && plan != nil:
		e.creds = scenarioCredentials(plan)
	case seededNow:
		e.creds = Credentials{TenantID: DefaultTenantID, ClientID: DefaultClientID, ClientSecret: DefaultClientSecret}
	default:
		// A restart: the scenario's apps were created on the first start, with the IDs drawn
		// then; hand out what the stored state accepts.
		if e.creds, err = e.storedCredentials(ctx, plan, meta[metaSeed] == seedDefault); err != nil {
			return err
		}
	}
	return e.keepSeedState(ctx, seededNow)
}

// keepSeedState keeps the seeded state for Reset: in memory, or in DataDir/seed.db, written when
// the database is seeded (or found without one) so that Reset after a restart still returns to
// the first start's state.
func (e *Emulator) keepSeedState(ctx context.Context, seededNow bool) error {
	var err error
	if e.dataDir == "" {
		e.seedSnap, err = e.store.SnapshotInMemory(ctx)
		return err
	}
	path := filepath.Join(e.dataDir, seedFile)
	if !seededNow {
		if e.seedSnap, err = store.OpenSnapshotFile(path); err == nil {
			return nil
		}
	}
	e.seedSnap, err = e.store.SnapshotToFile(ctx, path)
	return err
}

// seedDefaults creates the default tenant, app registration, secret and application user.
func (e *Emulator) seedDefaults(ctx context.Context) error {
	if err := e.identity.EnsureTenant(ctx, identity.Tenant{
		ID: DefaultTenantID, Domain: DefaultTenantDomain, DisplayName: "d365 emulator tenant",
	}); err != nil {
		return fmt.Errorf("emulator: seed tenant: %w", err)
	}
	if err := e.identity.EnsureApp(ctx, identity.App{
		ClientID: DefaultClientID, TenantID: DefaultTenantID, ObjectID: DefaultServicePrincipalID,
		DisplayName: DefaultAppName,
	}); err != nil {
		return fmt.Errorf("emulator: seed app registration: %w", err)
	}
	if err := e.identity.EnsureSecret(ctx, DefaultClientID, identity.Secret{
		ID: DefaultClientSecretID, DisplayName: "seeded by the emulator", Value: DefaultClientSecret,
	}); err != nil {
		return fmt.Errorf("emulator: seed client secret: %w", err)
	}
	if _, err := e.store.EnsureApplicationUser(ctx, store.ApplicationUser{
		ApplicationID: DefaultClientID, AzureADObjectID: DefaultServicePrincipalID,
		FullName: DefaultAppName, RoleNames: []string{DefaultRoleName},
	}); err != nil {
		return fmt.Errorf("emulator: seed application user: %w", err)
	}
	return nil
}
