package emulator

import (
	"context"
	"errors"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/d365s2s/d365/emulator/internal/identity"
	"github.com/d365s2s/d365/emulator/internal/scenario"
	"github.com/d365s2s/d365/emulator/internal/store"
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
//	  expireChangeTrackingInDays: 7    # how long delta tokens stay valid, 0–365; default 7
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
	// ExpireChangeTrackingInDays is the organization's ExpireChangeTrackingInDays (0–365): how
	// many days a change-tracking delta token stays valid. Nil means
	// DefaultExpireChangeTrackingInDays.
	ExpireChangeTrackingInDays *int `yaml:"expireChangeTrackingInDays,omitempty"`
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

// LoadScenario reads a scenario file (see Scenario). Relative paths inside it (certificate and
// schema files) are relative to the file's directory.
func LoadScenario(path string) (*Scenario, error) {
	sc, err := scenario.Load(path)
	if err != nil {
		return nil, fromScenario(err)
	}
	return scenarioFrom(sc), nil
}

// ParseScenario reads a scenario from YAML. name is used in messages ("scenario NAME: line 7:
// …"); relative paths inside the scenario are relative to the current directory. Unknown fields
// are errors naming their line.
func ParseScenario(data []byte, name string) (*Scenario, error) {
	sc, err := scenario.Parse(data, name)
	if err != nil {
		return nil, fromScenario(err)
	}
	return scenarioFrom(sc), nil
}

// UnmarshalYAML reads rows as a mapping of entity set to a list of records, keeping the order
// of the entity sets (rows are created in that order, so lookups can point at earlier ones).
func (r *ScenarioRows) UnmarshalYAML(n *yaml.Node) error {
	var rows scenario.Rows
	if err := rows.UnmarshalYAML(n); err != nil {
		return err
	}
	*r = append(*r, rowsFrom(rows)...)
	return nil
}

// fromScenario turns a scenario failure into ErrInvalid; other failures (I/O of the store)
// stay as they are.
func fromScenario(err error) error {
	var se *scenario.Error
	if errors.As(err, &se) {
		return invalidf("%s", se.Error())
	}
	return err
}

// plan checks the whole scenario and resolves it, reporting every problem it finds.
func (sc *Scenario) plan() (*scenario.Plan, error) {
	p, err := sc.toInternal().Plan(scenario.PlanOptions{
		ParsePrivilege: func(s string) (scenario.Privilege, error) {
			p, err := ParsePrivilege(s)
			return scenario.Privilege{Name: p.Name, Depth: string(p.Depth)}, err
		},
		DefaultTenant: scenario.Tenant{ID: DefaultTenantID, Domain: DefaultTenantDomain, DisplayName: "d365 emulator tenant"},
	})
	return p, fromScenario(err)
}

// applyScenario creates what a checked scenario describes. The caller discards the database
// when it fails.
func (e *Emulator) applyScenario(ctx context.Context, p *scenario.Plan) error {
	return fromScenario(scenario.Apply(ctx, scenarioTarget{e}, p))
}

// scenarioCredentials are the credentials to print for a scenario: the first app with a secret.
func scenarioCredentials(p *scenario.Plan) Credentials {
	tenantID, clientID, secret := p.Credentials()
	return Credentials{TenantID: tenantID, ClientID: clientID, ClientSecret: secret}
}

// scenarioTarget creates a scenario's objects with the admin methods.
type scenarioTarget struct{ e *Emulator }

func (t scenarioTarget) CheckPrivilege(p scenario.Privilege) error {
	_, err := t.e.checkPrivileges([]RolePrivilege{privilegeFrom(p)})
	return err
}

func (t scenarioTarget) AddTenant(ctx context.Context, tenant scenario.Tenant) error {
	_, err := t.e.AddTenant(ctx, Tenant{ID: tenant.ID, Domain: tenant.Domain, DisplayName: tenant.DisplayName})
	return err
}

func (t scenarioTarget) CreateBusinessUnit(ctx context.Context, name, parent string) error {
	_, err := t.e.CreateBusinessUnit(ctx, name, parent)
	return err
}

func (t scenarioTarget) CreateRole(ctx context.Context, name string, privileges []scenario.Privilege) error {
	var privs []RolePrivilege
	for _, p := range privileges {
		privs = append(privs, privilegeFrom(p))
	}
	_, err := t.e.CreateRole(ctx, name, privs)
	return err
}

func (t scenarioTarget) CreateApp(ctx context.Context, a scenario.NewApp) error {
	_, err := t.e.CreateApp(ctx, NewApp{DisplayName: a.DisplayName, Tenant: a.Tenant, ClientID: a.ClientID, ObjectID: a.ObjectID, Disabled: a.Disabled})
	return err
}

func (t scenarioTarget) EnsureSecret(ctx context.Context, clientID string, s identity.Secret) error {
	return fromIdentity(t.e.identity.EnsureSecret(ctx, clientID, s))
}

func (t scenarioTarget) AddCertificate(ctx context.Context, clientID string, data []byte) error {
	_, err := t.e.AddCertificate(ctx, clientID, data)
	return err
}

func (t scenarioTarget) CreateApplicationUser(ctx context.Context, u scenario.NewApplicationUser) error {
	_, err := t.e.CreateApplicationUser(ctx, NewApplicationUser{App: u.App, Roles: u.Roles, BusinessUnit: u.BusinessUnit, FullName: u.FullName, Disabled: u.Disabled})
	return err
}

func (t scenarioTarget) SetBusinessUnitEnabled(ctx context.Context, name string, enabled bool) error {
	return t.e.SetBusinessUnitEnabled(ctx, name, enabled)
}

func (t scenarioTarget) WriteRows(ctx context.Context, write func(*store.Tx, *store.Principal) error) error {
	sys, err := t.e.system(ctx)
	if err != nil {
		return err
	}
	return t.e.store.Write(ctx, func(tx *store.Tx) error { return write(tx, sys) })
}

func (t scenarioTarget) Now() time.Time { return t.e.clock.Now() }

func privilegeFrom(p scenario.Privilege) RolePrivilege {
	return RolePrivilege{Name: p.Name, Depth: Depth(p.Depth)}
}
