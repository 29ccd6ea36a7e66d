package emulator

import (
	"github.com/d365s2s/d365/emulator/internal/scenario"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/traffic"
)

// The scenario types are the emulator's own (go doc shows their fields); the scenario package
// has the same shapes, and the conversions below are the only place the two meet.

// toInternal converts a scenario, from a file or built in Go, for the scenario package.
func (sc *Scenario) toInternal() *scenario.Scenario {
	out := &scenario.Scenario{
		Organization:  scenario.Organization(sc.Organization),
		Schema:        scenario.Schema{Files: sc.Schema.Files, Definition: sc.Schema.SchemaDefinition.toSchema()},
		TokenLifetime: sc.TokenLifetime,
		Faults:        faultRulesToTraffic(sc.Faults),
		FaultSeed:     sc.FaultSeed,
		Name:          sc.name,
		Dir:           sc.dir,
		Root:          sc.root,
	}
	for _, t := range sc.Tenants {
		out.Tenants = append(out.Tenants, scenario.Tenant(t))
	}
	for _, a := range sc.Apps {
		app := scenario.App{Name: a.Name, ClientID: a.ClientID, ObjectID: a.ObjectID, Tenant: a.Tenant, Disabled: a.Disabled}
		for _, s := range a.Secrets {
			app.Secrets = append(app.Secrets, scenario.Secret(s))
		}
		for _, c := range a.Certificates {
			app.Certificates = append(app.Certificates, scenario.Certificate(c))
		}
		out.Apps = append(out.Apps, app)
	}
	for _, bu := range sc.BusinessUnits {
		out.BusinessUnits = append(out.BusinessUnits, scenario.BusinessUnit(bu))
	}
	for _, r := range sc.Roles {
		out.Roles = append(out.Roles, scenario.Role(r))
	}
	for _, u := range sc.ApplicationUsers {
		out.ApplicationUsers = append(out.ApplicationUsers, scenario.ApplicationUser(u))
	}
	for _, set := range sc.Rows {
		out.Rows = append(out.Rows, scenario.RowSet(set))
	}
	if sc.Limits != nil {
		l := traffic.Limits(*sc.Limits)
		out.Limits = &l
	}
	return out
}

// scenarioFrom converts a scenario the scenario package read.
func scenarioFrom(sc *scenario.Scenario) *Scenario {
	out := &Scenario{
		Organization:  ScenarioOrganization(sc.Organization),
		Schema:        ScenarioSchema{Files: sc.Schema.Files, SchemaDefinition: schemaDefinitionFrom(sc.Schema.Definition)},
		Rows:          rowsFrom(sc.Rows),
		TokenLifetime: sc.TokenLifetime,
		FaultSeed:     sc.FaultSeed,
		name:          sc.Name,
		dir:           sc.Dir,
		root:          sc.Root,
	}
	for _, t := range sc.Tenants {
		out.Tenants = append(out.Tenants, ScenarioTenant(t))
	}
	for _, a := range sc.Apps {
		app := ScenarioApp{Name: a.Name, ClientID: a.ClientID, ObjectID: a.ObjectID, Tenant: a.Tenant, Disabled: a.Disabled}
		for _, s := range a.Secrets {
			app.Secrets = append(app.Secrets, ScenarioSecret(s))
		}
		for _, c := range a.Certificates {
			app.Certificates = append(app.Certificates, ScenarioCertificate(c))
		}
		out.Apps = append(out.Apps, app)
	}
	for _, bu := range sc.BusinessUnits {
		out.BusinessUnits = append(out.BusinessUnits, ScenarioBusinessUnit(bu))
	}
	for _, r := range sc.Roles {
		out.Roles = append(out.Roles, ScenarioRole(r))
	}
	for _, u := range sc.ApplicationUsers {
		out.ApplicationUsers = append(out.ApplicationUsers, ScenarioApplicationUser(u))
	}
	if sc.Limits != nil {
		l := Limits(*sc.Limits)
		out.Limits = &l
	}
	for _, r := range sc.Faults {
		out.Faults = append(out.Faults, faultRuleFrom(r))
	}
	return out
}

func rowsFrom(rows scenario.Rows) ScenarioRows {
	var out ScenarioRows
	for _, set := range rows {
		out = append(out, ScenarioRowSet(set))
	}
	return out
}

// schemaDefinitionFrom is the reverse of SchemaDefinition.toSchema.
func schemaDefinitionFrom(d schema.Definition) SchemaDefinition {
	var out SchemaDefinition
	for _, t := range d.Tables {
		table := TableDefinition{
			LogicalName: t.LogicalName, SchemaName: t.SchemaName, EntitySetName: t.EntitySetName,
			DisplayName: t.DisplayName, DisplayCollectionName: t.DisplayCollectionName,
			Description: t.Description, ObjectTypeCode: t.ObjectTypeCode, PrimaryIDColumn: t.PrimaryIDColumn,
			PrimaryNameColumn: t.PrimaryNameColumn, Ownership: t.Ownership, Activity: t.Activity, ChangeTracking: t.ChangeTracking,
			PrivilegeName: t.PrivilegeName, StateColumns: t.StateColumns, SystemRelationships: t.SystemRelationships,
		}
		for _, c := range t.Columns {
			col := ColumnDefinition{
				LogicalName: c.LogicalName, SchemaName: c.SchemaName, DisplayName: c.DisplayName,
				Description: c.Description, Type: c.Type, RequiredLevel: c.RequiredLevel, MaxLength: c.MaxLength,
				Precision: c.Precision, MinValue: c.MinValue, MaxValue: c.MaxValue,
				DateTimeBehavior: c.DateTimeBehavior, Format: c.Format, OptionSetName: c.OptionSetName,
				TrueLabel: c.TrueLabel, FalseLabel: c.FalseLabel, DefaultValue: c.DefaultValue,
				Targets: c.Targets, TypeColumn: c.TypeColumn, ValidForCreate: c.ValidForCreate,
				ValidForUpdate: c.ValidForUpdate, ValidForRead: c.ValidForRead,
				MaxSizeInKB: c.MaxSizeInKB, CanStoreFullImage: c.CanStoreFullImage,
			}
			for _, o := range c.Options {
				col.Options = append(col.Options, OptionDefinition(o))
			}
			if c.Formula != nil {
				f := FormulaDefinition(*c.Formula)
				col.Formula = &f
			}
			table.Columns = append(table.Columns, col)
		}
		for _, k := range t.Keys {
			table.Keys = append(table.Keys, KeyDefinition(k))
		}
		out.Tables = append(out.Tables, table)
	}
	for _, r := range d.Relationships {
		out.Relationships = append(out.Relationships, RelationshipDefinition(r))
	}
	for _, o := range d.OptionSets {
		set := OptionSetDefinition{Name: o.Name, DisplayName: o.DisplayName, Description: o.Description}
		for _, opt := range o.Options {
			set.Options = append(set.Options, OptionDefinition(opt))
		}
		out.OptionSets = append(out.OptionSets, set)
	}
	return out
}
