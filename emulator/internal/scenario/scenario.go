// Package scenario reads, checks and applies scenario files: an emulator's whole setup (tenants,
// apps, business units, roles, application users, tables, rows, limits and faults) in one YAML
// file. The emulator package documents the format on its exported Scenario type, which mirrors
// the types here field for field; this package holds the work: strict decoding with messages for
// people, a plan that checks every reference before anything is created, and Apply, which creates
// the plan through a Target (the emulator's admin methods).
//
// No message of this package repeats a client secret the scenario holds.
package scenario

import (
	"go.yaml.in/yaml/v3"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/traffic"
)

// Scenario is a scenario file as decoded. Its fields and YAML names are those of
// emulator.Scenario, which documents them.
type Scenario struct {
	Organization     Organization        `yaml:"organization,omitempty"`
	Tenants          []Tenant            `yaml:"tenants,omitempty"`
	Apps             []App               `yaml:"apps,omitempty"`
	BusinessUnits    []BusinessUnit      `yaml:"businessUnits,omitempty"`
	Roles            []Role              `yaml:"roles,omitempty"`
	ApplicationUsers []ApplicationUser   `yaml:"applicationUsers,omitempty"`
	Schema           Schema              `yaml:"schema,omitempty"`
	Rows             Rows                `yaml:"rows,omitempty"`
	TokenLifetime    string              `yaml:"tokenLifetime,omitempty"`
	Limits           *traffic.Limits     `yaml:"limits,omitempty"`
	Faults           []traffic.FaultRule `yaml:"faults,omitempty"`
	FaultSeed        int64               `yaml:"faultSeed,omitempty"`

	// Name and Dir locate the file (for messages and relative paths); Root is its YAML tree, for
	// line numbers. All three are empty for a scenario built in Go.
	Name string     `yaml:"-"`
	Dir  string     `yaml:"-"`
	Root *yaml.Node `yaml:"-"`
}

// Organization says which tenant the Dataverse organization belongs to.
type Organization struct {
	Tenant                     string `yaml:"tenant,omitempty"`
	ExpireChangeTrackingInDays *int   `yaml:"expireChangeTrackingInDays,omitempty"`
}

// Tenant is a tenant of a scenario (and, in a Plan, a tenant to create).
type Tenant struct {
	ID          string `yaml:"id,omitempty"`
	Domain      string `yaml:"domain"`
	DisplayName string `yaml:"displayName,omitempty"`
}

// App is an app registration of a scenario.
type App struct {
	Name         string        `yaml:"name,omitempty"`
	ClientID     string        `yaml:"clientId,omitempty"`
	ObjectID     string        `yaml:"objectId,omitempty"`
	Tenant       string        `yaml:"tenant,omitempty"`
	Disabled     bool          `yaml:"disabled,omitempty"`
	Secrets      []Secret      `yaml:"secrets,omitempty"`
	Certificates []Certificate `yaml:"certificates,omitempty"`
}

// Secret is a client secret of a scenario app.
type Secret struct {
	Value       string `yaml:"value"`
	ID          string `yaml:"id,omitempty"`
	Description string `yaml:"description,omitempty"`
	Expires     string `yaml:"expires,omitempty"`
}

// String keeps the value out of prints.
func (s Secret) String() string { return "secret " + s.ID + " [REDACTED]" }

// GoString keeps the value out of %#v.
func (s Secret) GoString() string {
	return "scenario.Secret{ID:\"" + s.ID + "\", Value:\"[REDACTED]\"}"
}

// Certificate is a certificate of a scenario app: a file (relative to the scenario file) or
// inline PEM.
type Certificate struct {
	File string `yaml:"file,omitempty"`
	PEM  string `yaml:"pem,omitempty"`
}

// BusinessUnit is a business unit of a scenario.
type BusinessUnit struct {
	Name     string `yaml:"name"`
	Parent   string `yaml:"parent,omitempty"`
	Disabled bool   `yaml:"disabled,omitempty"`
}

// Role is a security role of a scenario; privileges are written "prvReadContact:organization".
type Role struct {
	Name       string   `yaml:"name"`
	Privileges []string `yaml:"privileges,omitempty"`
}

// ApplicationUser is an application user of a scenario; App is the app's name or client ID.
type ApplicationUser struct {
	App          string   `yaml:"app"`
	Roles        []string `yaml:"roles,omitempty"`
	BusinessUnit string   `yaml:"businessUnit,omitempty"`
	FullName     string   `yaml:"fullName,omitempty"`
	Disabled     bool     `yaml:"disabled,omitempty"`
}

// Schema adds tables: definition files (relative to the scenario file) and inline definitions,
// both in the schema file format.
type Schema struct {
	Files             []string `yaml:"files,omitempty"`
	schema.Definition `yaml:",inline"`
}

// Rows are seed records, grouped by entity set, in the order they are created.
type Rows []RowSet

// RowSet is the seed records of one entity set; each record maps column logical names to values.
type RowSet struct {
	EntitySet string
	Records   []map[string]any
}
