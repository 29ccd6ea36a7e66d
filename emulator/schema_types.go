package emulator

import "github.com/d365s2s/d365/emulator/internal/schema"

// The table-definition format of schema files and of a scenario's schema section (see the
// package documentation, "Schema files"). The types are the emulator's own, so go doc shows
// their fields; the schema package has the same shapes, and toSchema is where the two meet.

// SchemaDefinition is the file format of table metadata, in JSON or YAML. The
// built-in tables are written in it (builtin.yaml) and users add tables
// with it. Field names are camelCase in both encodings:
//
//	tables:
//	  - logicalName: new_project
//	    displayName: Project
//	    primaryNameColumn: new_name
//	    columns:
//	      - {logicalName: new_name, type: String, maxLength: 100, requiredLevel: ApplicationRequired}
//	      - {logicalName: new_budget, type: Money}
//	      - {logicalName: new_accountid, type: Lookup, targets: [account]}
//	relationships:
//	  - {schemaName: new_account_new_project, referencedEntity: account, referencingEntity: new_project,
//	     referencingAttribute: new_accountid, cascadeDelete: RemoveLink}
//
// Omitted values get Dataverse's defaults: the entity set name is the
// plural of the logical name, the primary key is `<logicalname>id`,
// user-owned tables get ownerid, owninguser, owningteam and
// owningbusinessunit, every table gets createdon, modifiedon, createdby,
// modifiedby, createdonbehalfby, modifiedonbehalfby and versionnumber, and
// statecode/statuscode (Active/Inactive) unless stateColumns is false.
type SchemaDefinition struct {
	Tables        []TableDefinition        `json:"tables,omitempty" yaml:"tables,omitempty"`
	Relationships []RelationshipDefinition `json:"relationships,omitempty" yaml:"relationships,omitempty"`
	// OptionSets are global choices.
	OptionSets []OptionSetDefinition `json:"optionSets,omitempty" yaml:"optionSets,omitempty"`
}

// TableDefinition describes one table.
type TableDefinition struct {
	LogicalName           string `json:"logicalName" yaml:"logicalName"`
	SchemaName            string `json:"schemaName,omitempty" yaml:"schemaName,omitempty"`
	EntitySetName         string `json:"entitySetName,omitempty" yaml:"entitySetName,omitempty"`
	DisplayName           string `json:"displayName,omitempty" yaml:"displayName,omitempty"`
	DisplayCollectionName string `json:"displayCollectionName,omitempty" yaml:"displayCollectionName,omitempty"`
	Description           string `json:"description,omitempty" yaml:"description,omitempty"`
	ObjectTypeCode        int    `json:"objectTypeCode,omitempty" yaml:"objectTypeCode,omitempty"`
	PrimaryIDColumn       string `json:"primaryIdColumn,omitempty" yaml:"primaryIdColumn,omitempty"`
	PrimaryNameColumn     string `json:"primaryNameColumn,omitempty" yaml:"primaryNameColumn,omitempty"`
	// Ownership is UserOwned (default), OrganizationOwned, BusinessOwned or
	// None.
	Ownership string `json:"ownership,omitempty" yaml:"ownership,omitempty"`
	// Activity marks an activity table (its rows are activities: a regarding object and parties).
	Activity bool `json:"activity,omitempty" yaml:"activity,omitempty"`
	// ChangeTracking enables change tracking on the table (ChangeTrackingEnabled): reads with
	// Prefer: odata.track-changes and delta links.
	ChangeTracking bool `json:"changeTracking,omitempty" yaml:"changeTracking,omitempty"`
	// PrivilegeName overrides the <Name> of prv<Verb><Name>; default the
	// schema name.
	PrivilegeName string `json:"privilegeName,omitempty" yaml:"privilegeName,omitempty"`
	// StateColumns adds the standard statecode/statuscode columns when the
	// definition does not declare them; default true.
	StateColumns *bool `json:"stateColumns,omitempty" yaml:"stateColumns,omitempty"`
	// SystemRelationships overrides the schema names of the relationships
	// behind the system lookups, keyed by column: createdby, modifiedby,
	// createdonbehalfby, modifiedonbehalfby, ownerid, owninguser,
	// owningteam, owningbusinessunit.
	SystemRelationships map[string]string  `json:"systemRelationships,omitempty" yaml:"systemRelationships,omitempty"`
	Columns             []ColumnDefinition `json:"columns,omitempty" yaml:"columns,omitempty"`
	Keys                []KeyDefinition    `json:"keys,omitempty" yaml:"keys,omitempty"`
}

// ColumnDefinition describes one column.
type ColumnDefinition struct {
	LogicalName string `json:"logicalName" yaml:"logicalName"`
	SchemaName  string `json:"schemaName,omitempty" yaml:"schemaName,omitempty"`
	DisplayName string `json:"displayName,omitempty" yaml:"displayName,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Type is an AttributeTypeCode name (String, Memo, Integer, BigInt,
	// Decimal, Double, Money, Boolean, DateTime, Picklist,
	// MultiSelectPicklist, State, Status, Lookup, Customer, Owner,
	// Uniqueidentifier, File, Image) or an alias (choice, choices, guid…).
	Type          string `json:"type" yaml:"type"`
	RequiredLevel string `json:"requiredLevel,omitempty" yaml:"requiredLevel,omitempty"`
	// MaxLength of String (default 100, at most 4000) and Memo (default
	// 2000, at most 1048576) columns.
	MaxLength int `json:"maxLength,omitempty" yaml:"maxLength,omitempty"`
	// Precision of Decimal (0–10, default 2), Double (0–5, default 2) and
	// Money (0–4, default 2) columns.
	Precision *int `json:"precision,omitempty" yaml:"precision,omitempty"`
	// MinValue and MaxValue of numeric columns; defaults are Dataverse's.
	MinValue *float64 `json:"minValue,omitempty" yaml:"minValue,omitempty"`
	MaxValue *float64 `json:"maxValue,omitempty" yaml:"maxValue,omitempty"`
	// DateTimeBehavior of DateTime columns: UserLocal (default), DateOnly
	// or TimeZoneIndependent; Format DateAndTime (default) or DateOnly.
	DateTimeBehavior string `json:"dateTimeBehavior,omitempty" yaml:"dateTimeBehavior,omitempty"`
	Format           string `json:"format,omitempty" yaml:"format,omitempty"`
	// OptionSetName names the option set; default <table>_<column>.
	OptionSetName string             `json:"optionSetName,omitempty" yaml:"optionSetName,omitempty"`
	Options       []OptionDefinition `json:"options,omitempty" yaml:"options,omitempty"`
	// TrueLabel and FalseLabel label Boolean values; default Yes and No.
	TrueLabel  string `json:"trueLabel,omitempty" yaml:"trueLabel,omitempty"`
	FalseLabel string `json:"falseLabel,omitempty" yaml:"falseLabel,omitempty"`
	// DefaultValue is the value of a choice or boolean (0/1) on create when
	// none is given.
	DefaultValue *int64 `json:"defaultValue,omitempty" yaml:"defaultValue,omitempty"`
	// Targets are the tables a Lookup references (Customer: account and
	// contact; Owner: systemuser and team).
	Targets []string `json:"targets,omitempty" yaml:"targets,omitempty"`
	// TypeColumn names the EntityName column of a polymorphic lookup;
	// default <column>type.
	TypeColumn     string `json:"typeColumn,omitempty" yaml:"typeColumn,omitempty"`
	ValidForCreate *bool  `json:"validForCreate,omitempty" yaml:"validForCreate,omitempty"`
	ValidForUpdate *bool  `json:"validForUpdate,omitempty" yaml:"validForUpdate,omitempty"`
	ValidForRead   *bool  `json:"validForRead,omitempty" yaml:"validForRead,omitempty"`
	// Formula makes the column computed (read-only).
	Formula *FormulaDefinition `json:"formula,omitempty" yaml:"formula,omitempty"`
	// MaxSizeInKB of File (default 32768, at most 10485760) and Image
	// (default 10240, at most 30720) columns; CanStoreFullImage keeps the
	// full-size copy of an uploaded image besides its thumbnail.
	MaxSizeInKB       int   `json:"maxSizeInKB,omitempty" yaml:"maxSizeInKB,omitempty"`
	CanStoreFullImage *bool `json:"canStoreFullImage,omitempty" yaml:"canStoreFullImage,omitempty"`
}

// OptionDefinition is one option of a choice column.
type OptionDefinition struct {
	Value int    `json:"value" yaml:"value"`
	Label string `json:"label" yaml:"label"`
	// State is, for a Status option, the statecode it belongs to.
	State *int `json:"state,omitempty" yaml:"state,omitempty"`
	// DefaultStatus is, for a State option, its default statuscode.
	DefaultStatus *int `json:"defaultStatus,omitempty" yaml:"defaultStatus,omitempty"`
	// Color is the option's colour ("#0000ff"); Description its description label.
	Color       string `json:"color,omitempty" yaml:"color,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
}

// OptionSetDefinition describes a global choice, which Picklist and MultiSelectPicklist columns
// share by naming it in their optionSetName (without options of their own).
type OptionSetDefinition struct {
	Name        string             `json:"name" yaml:"name"`
	DisplayName string             `json:"displayName,omitempty" yaml:"displayName,omitempty"`
	Description string             `json:"description,omitempty" yaml:"description,omitempty"`
	Options     []OptionDefinition `json:"options" yaml:"options"`
}

// FormulaDefinition describes a computed column (Kind names the computation; Columns are its inputs).
type FormulaDefinition struct {
	Kind    string   `json:"kind" yaml:"kind"`
	Columns []string `json:"columns" yaml:"columns"`
}

// KeyDefinition describes an alternate key.
type KeyDefinition struct {
	SchemaName string   `json:"schemaName" yaml:"schemaName"`
	Columns    []string `json:"columns" yaml:"columns"`
}

// RelationshipDefinition describes a relationship. Type is OneToMany
// (default) or ManyToMany.
type RelationshipDefinition struct {
	SchemaName string `json:"schemaName" yaml:"schemaName"`
	Type       string `json:"type,omitempty" yaml:"type,omitempty"`

	// One-to-many. ReferencingNavigation defaults to the lookup's name
	// (with `_<referenced>` for polymorphic lookups and `_<referencing>`
	// on activity tables); ReferencedNavigation defaults to SchemaName.
	ReferencedEntity      string `json:"referencedEntity,omitempty" yaml:"referencedEntity,omitempty"`
	ReferencingEntity     string `json:"referencingEntity,omitempty" yaml:"referencingEntity,omitempty"`
	ReferencingAttribute  string `json:"referencingAttribute,omitempty" yaml:"referencingAttribute,omitempty"`
	ReferencingNavigation string `json:"referencingNavigation,omitempty" yaml:"referencingNavigation,omitempty"`
	ReferencedNavigation  string `json:"referencedNavigation,omitempty" yaml:"referencedNavigation,omitempty"`
	// CascadeDelete is NoCascade (default), RemoveLink, Cascade or
	// Restrict.
	CascadeDelete string `json:"cascadeDelete,omitempty" yaml:"cascadeDelete,omitempty"`

	// Many-to-many. The intersect attributes default to the tables'
	// primary keys, the navigation properties to SchemaName.
	Entity1                   string `json:"entity1,omitempty" yaml:"entity1,omitempty"`
	Entity2                   string `json:"entity2,omitempty" yaml:"entity2,omitempty"`
	IntersectEntity           string `json:"intersectEntity,omitempty" yaml:"intersectEntity,omitempty"`
	Entity1IntersectAttribute string `json:"entity1IntersectAttribute,omitempty" yaml:"entity1IntersectAttribute,omitempty"`
	Entity2IntersectAttribute string `json:"entity2IntersectAttribute,omitempty" yaml:"entity2IntersectAttribute,omitempty"`
	Entity1Navigation         string `json:"entity1Navigation,omitempty" yaml:"entity1Navigation,omitempty"`
	Entity2Navigation         string `json:"entity2Navigation,omitempty" yaml:"entity2Navigation,omitempty"`
}

// toSchema converts a definition for the schema compiler.
func (d SchemaDefinition) toSchema() schema.Definition {
	out := schema.Definition{}
	for _, t := range d.Tables {
		out.Tables = append(out.Tables, t.toSchema())
	}
	for _, r := range d.Relationships {
		out.Relationships = append(out.Relationships, schema.RelationshipDefinition(r))
	}
	for _, o := range d.OptionSets {
		set := schema.OptionSetDefinition{Name: o.Name, DisplayName: o.DisplayName, Description: o.Description}
		for _, opt := range o.Options {
			set.Options = append(set.Options, schema.OptionDefinition(opt))
		}
		out.OptionSets = append(out.OptionSets, set)
	}
	return out
}

func (t TableDefinition) toSchema() schema.TableDefinition {
	out := schema.TableDefinition{
		LogicalName: t.LogicalName, SchemaName: t.SchemaName, EntitySetName: t.EntitySetName,
		DisplayName: t.DisplayName, DisplayCollectionName: t.DisplayCollectionName,
		Description: t.Description, ObjectTypeCode: t.ObjectTypeCode, PrimaryIDColumn: t.PrimaryIDColumn,
		PrimaryNameColumn: t.PrimaryNameColumn, Ownership: t.Ownership, Activity: t.Activity, ChangeTracking: t.ChangeTracking,
		PrivilegeName: t.PrivilegeName, StateColumns: t.StateColumns, SystemRelationships: t.SystemRelationships,
	}
	for _, c := range t.Columns {
		out.Columns = append(out.Columns, c.toSchema())
	}
	for _, k := range t.Keys {
		out.Keys = append(out.Keys, schema.KeyDefinition(k))
	}
	return out
}

func (c ColumnDefinition) toSchema() schema.ColumnDefinition {
	out := schema.ColumnDefinition{
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
		out.Options = append(out.Options, schema.OptionDefinition(o))
	}
	if c.Formula != nil {
		f := schema.FormulaDefinition(*c.Formula)
		out.Formula = &f
	}
	return out
}
