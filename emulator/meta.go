package emulator

// The emulator's own bookkeeping, under the "emulator" namespace of the store's one metadata
// table (store.Meta; so snapshots carry it): how the database was seeded and which tenant the
// organization belongs to. A data directory made when it had a table of its own (emulator_meta)
// is migrated by the store on open.
const (
	metaNamespace   = "emulator"
	metaSeed        = "seed"          // seedDefault, seedScenario or seedInProgress
	metaOrgTenantID = "org_tenant_id" // the organization's tenant
)

const (
	seedDefault    = "default"
	seedScenario   = "scenario"
	seedInProgress = "in-progress"
)
