package emulator

import (
	"go.yaml.in/yaml/v3"
)

// Scenario describes an emulator's whole setup in one YAML file: tenants, app registrations with
// their secrets and certificates, business units, security roles, application users, extra
// tables, seed rows and the token lifetime. Load one with LoadScenario (or ParseScenario) and
// pass it as Options.Scenario; `d365 emulator --scenario FILE` does the same.
//
// A scenario replaces the default seed: the emulator then holds what the scenario says and
// nothing else (besides the organization's root business unit, the System Administrator role and
// the SYSTEM user every Dataverse organization has). It is applied on the first start of a data
// directory, or on every start of an in-memory emulator, and Reset returns to it.
//
// The format, with every field (all optional except where noted):
//
//	organization:
//	  tenant: contoso.onmicrosoft.com  # the organization's tenant (ID or domain); default: the first tenant
//	tenants:
//	  - id: 72f988bf-86f1-41af-91ab-2d7cd011db47   # default: a random GUID
//	    domain: contoso.onmicrosoft.com             # required
//	    displayName: Contoso
//	apps:
//	  - name: contact-sync            # display name; applicationUsers may refer to the app by it
//	    clientId: 11111111-…          # default: a random GUID
//	    objectId: 22222222-…          # service principal object ID; default: a random GUID
//	    tenant: contoso.onmicrosoft.com   # home tenant; default: the organization's
//	    disabled: false               # true: token requests get AADSTS7000112
//	    secrets:
//	      - value: "…"                # required: the secret clients send
//	        id: 33333333-…            # the Secret ID; default: a random GUID
//	        description: CI
//	        expires: 2030-01-01T00:00:00Z   # or a date, or relative to the start: -24h (already expired), 720h
//	    certificates:
//	      - file: certs/app.pem       # PEM or DER, relative to the scenario file; or inline:
//	      - pem: |
//	          -----BEGIN CERTIFICATE-----
//	businessUnits:
//	  - name: Sales
//	    parent: ""                    # a business unit's name; default: the root
//	    disabled: false               # true: its users, and those of units under it, get 403
//	roles:
//	  - name: Contact integration
//	    privileges: [prvReadContact, "prvWriteContact:organization"]   # name[:depth]; depth user,
//	                                  # businessunit, parentchild or organization (the default)
//	applicationUsers:
//	  - app: contact-sync             # the app's name or client ID (required)
//	    roles: [Contact integration]  # none: every request gets 403 "not been assigned any roles"
//	    businessUnit: Sales
//	    fullName: Contact sync
//	    disabled: false
//	schema:                           # extra tables, in the table-definition format of schema files
//	  files: [tables.yaml]            # relative to the scenario file
//	  tables: […]
//	  relationships: […]
//	rows:                             # seed records by entity set, created in this order
//	  accounts:
//	    - {accountid: 44444444-…, name: Contoso}
//	  contacts:
//	    - {firstname: Ada, lastname: Lovelace, parentcustomerid: "accounts(44444444-…)"}
//	tokenLifetime: 1h                 # used when Options.TokenLifetime is zero
//	limits: {preset: strict}          # service protection limits (or requests:, executionTime:,
//	                                  # concurrent:, window:); used when Options.Limits is nil
//	faults:                           # fault rules, in the form of the admin API's POST /_emulator/faults
//	  - id: contacts-flaky
//	    match: {table: contacts, methods: [GET]}
//	    trigger: {nth: 2, count: 3}
//	    action: {kind: throttle, retryAfter: 2}
//	faultSeed: 42                     # replays the same probabilistic faults
//
// Row values follow the column types: text, whole numbers, decimals (numbers or numeric
// strings), booleans, date-times (RFC 3339 or a date), choices (their integer values), GUIDs,
// and lookups as "entityset(guid)" (or a bare GUID for a single-target lookup).
//
// Decoding is strict: an unknown field is an error naming its line, and so is every value that
// does not fit (a privilege that does not exist, a role no application user can get, an app
// reference nothing matches), before anything is created.
type Scenario struct {
	Organization     ScenarioOrganization      `yaml:"organization,omitempty"`
	Tenants          []ScenarioTenant          `yaml:"tenants,omitempty"`
	Apps             []ScenarioApp             `yaml:"apps,omitempty"`
	BusinessUnits    []ScenarioBusinessUnit    `yaml:"businessUnits,omitempty"`
	Roles            []ScenarioRole            `yaml:"roles,omitempty"`
	ApplicationUsers []ScenarioApplicationUser `yaml:"applicationUsers,omitempty"`
	Schema           ScenarioSchema            `yaml:"schema,omitempty"`
	Rows             ScenarioRows              `yaml:"rows,omitempty"`
	// TokenLifetime is a Go duration ("1h", "5s"); it applies when Options.TokenLifetime is
	// zero.
	TokenLifetime string `yaml:"tokenLifetime,omitempty"`
	// Limits are the service protection limits when Options.Limits is nil: {preset: strict} or
	// {requests: 100, window: 10s, …}.
	Limits *Limits `yaml:"limits,omitempty"`
	// Faults are fault rules in force from the start.
	Faults []FaultRule `yaml:"faults,omitempty"`
	// FaultSeed seeds the fault rules' probabilities when Options.FaultSeed is zero.
	FaultSeed int64 `yaml:"faultSeed,omitempty"`

	// name and dir locate the file (for messages and relative paths); root is its YAML tree, for
	// line numbers.
	name string
	dir  string
	root *yaml.Node
}

// ScenarioOrganization says which tenant the Dataverse organization belongs to: only tokens
// issued by it are accepted.
type ScenarioOrganization struct {
	Tenant string `yaml:"tenant,omitempty"`
}

// ScenarioTenant is a tenant of a scenario.
type ScenarioTenant struct {
	ID          string `yaml:"id,omitempty"`
	Domain      string `yaml:"domain"`
	DisplayName string `yaml:"displayName,omitempty"`
}

// ScenarioApp is an app registration of a scenario.
type ScenarioApp struct {
	Name         string                `yaml:"name,omitempty"`
	ClientID     string                `yaml:"clientId,omitempty"`
	ObjectID     string                `yaml:"objectId,omitempty"`
	Tenant       string                `yaml:"tenant,omitempty"`
	Disabled     bool                  `yaml:"disabled,omitempty"`
	Secrets      []ScenarioSecret      `yaml:"secrets,omitempty"`
	Certificates []ScenarioCertificate `yaml:"certificates,omitempty"`
}

// ScenarioSecret is a client secret of a scenario app.
type ScenarioSecret struct {
	Value       string `yaml:"value"`
	ID          string `yaml:"id,omitempty"`
	Description string `yaml:"description,omitempty"`
	// Expires is an RFC 3339 time, a date (2006-01-02, midnight UTC), or a Go duration relative
	// to the moment the scenario is applied ("-24h" is already expired). Empty means never.
	Expires string `yaml:"expires,omitempty"`
}

// String keeps the value out of prints.
func (s ScenarioSecret) String() string { return "secret " + s.ID + " [REDACTED]" }

// GoString keeps the value out of %#v.
func (s ScenarioSecret) GoString() string {
	return "emulator.ScenarioSecret{ID:" + quote(s.ID) + ", Value:\"[REDACTED]\"}"
}

// ScenarioCertificate is a certificate of a scenario app: a file (relative to the scenario file)
// or inline PEM.
type ScenarioCertificate struct {
	File string `yaml:"file,omitempty"`
	PEM  string `yaml:"pem,omitempty"`
}

// ScenarioBusinessUnit is a business unit of a scenario.
type ScenarioBusinessUnit struct {
	Name   string `yaml:"name"`
	Parent string `yaml:"parent,omitempty"`
	// Disabled disables the business unit once everything is created, and with it the business
	// units under it (see Emulator.SetBusinessUnitEnabled).
	Disabled bool `yaml:"disabled,omitempty"`
}

// ScenarioRole is a security role of a scenario; privileges are written as ParsePrivilege reads
// them ("prvReadContact:organization").
type ScenarioRole struct {
	Name       string   `yaml:"name"`
	Privileges []string `yaml:"privileges,omitempty"`
}

// ScenarioApplicationUser is an application user of a scenario.
type ScenarioApplicationUser struct {
	// App is the app's name or client ID.
	App          string   `yaml:"app"`
	Roles        []string `yaml:"roles,omitempty"`
	BusinessUnit string   `yaml:"businessUnit,omitempty"`
	FullName     string   `yaml:"fullName,omitempty"`
	Disabled     bool     `yaml:"disabled,omitempty"`
}

// ScenarioSchema adds tables: definition files (relative to the scenario file) and inline
// definitions, both in the schema file format (SchemaDefinition).
type ScenarioSchema struct {
	Files            []string `yaml:"files,omitempty"`
	SchemaDefinition `yaml:",inline"`
}

// ScenarioRows are seed records, grouped by entity set, in the order they are created.
type ScenarioRows []ScenarioRowSet

// ScenarioRowSet is the seed records of one entity set; each record maps column logical names to
// values.
type ScenarioRowSet struct {
	EntitySet string
	Records   []map[string]any
}
