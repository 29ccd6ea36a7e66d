package schema

// Table is one table (entity) of the schema.
type Table struct {
	// LogicalName is the lowercase name ("contact").
	LogicalName string
	// SchemaName is the Pascal-cased name ("Contact").
	SchemaName string
	// EntitySetName is the Web API resource name ("contacts").
	EntitySetName string
	// DisplayName, DisplayCollectionName and Description are labels.
	DisplayName, DisplayCollectionName, Description string
	// ObjectTypeCode is the table's number (account 1, contact 2…).
	ObjectTypeCode int
	// Ownership is the OwnershipType.
	Ownership Ownership
	// IsActivity marks activity tables (task): their privileges are the
	// shared Activity privileges and their system navigation properties
	// carry a `_<logicalname>` suffix (createdby_task).
	IsActivity bool
	// ChangeTracking is EntityMetadata.ChangeTrackingEnabled: the table
	// can be read with Prefer: odata.track-changes and its deletes are
	// kept as tombstones for delta reads.
	ChangeTracking bool
	// PrivilegeName is the <Name> in the privilege names
	// prv<Verb><Name> that guard the table ("Contact", "User" for
	// systemuser, "Activity" for task).
	PrivilegeName string
	// Columns are all columns in a stable order: the primary key first,
	// then the definition's columns, then the system columns.
	Columns []*Column
	// Keys are the alternate keys.
	Keys []*AlternateKey
	// Navigations are the navigation properties, single-valued first.
	Navigations []*NavigationProperty
	// Intersect, for the intersect table of an N:N relationship, is that
	// relationship; nil for ordinary tables. An intersect table has no
	// entity set, no privileges of its own and four columns: its primary
	// key (<name>id), the two related tables' ids and versionnumber.
	Intersect *Relationship

	primaryID, primaryName *Column
	columns                map[string]*Column
	properties             map[string]*Column
	navigations            map[string]*NavigationProperty
	roles                  [roleCount]*Column
}

// AlternateKey is a set of columns whose values identify a row.
type AlternateKey struct {
	// SchemaName is the key's name.
	SchemaName string
	// Columns are the key's columns, in definition order.
	Columns []*Column
}

// PrimaryID returns the primary key column ("contactid").
func (t *Table) PrimaryID() *Column { return t.primaryID }

// PrimaryName returns the primary name column ("fullname"), or nil when
// the table has none.
func (t *Table) PrimaryName() *Column { return t.primaryName }

// Column returns the column with the given logical name (case-sensitive),
// internal columns included.
func (t *Table) Column(logicalName string) (*Column, bool) {
	c, ok := t.columns[logicalName]
	return c, ok
}

// Property returns the column behind a Web API property name
// (case-sensitive): a logical name, or `_<lookup>_value` for a lookup.
// Internal columns and lookup logical names are not properties.
func (t *Table) Property(name string) (*Column, bool) {
	c, ok := t.properties[name]
	return c, ok
}

// NavigationProperty returns the navigation property with the given name
// (case-sensitive).
func (t *Table) NavigationProperty(name string) (*NavigationProperty, bool) {
	n, ok := t.navigations[name]
	return n, ok
}

// SystemColumn returns the column holding the given emulator-maintained
// value, or nil when the table has none (systemuser has no ownerid).
func (t *Table) SystemColumn(r SystemRole) *Column {
	if r >= roleCount {
		return nil
	}
	return t.roles[r]
}

// EntityTypeName returns the qualified OData type name
// ("Microsoft.Dynamics.CRM.contact") used in error messages and
// @odata.type annotations.
func (t *Table) EntityTypeName() string { return Namespace + "." + t.LogicalName }

// Namespace is the OData namespace of Dataverse's types.
const Namespace = "Microsoft.Dynamics.CRM"

// String returns the logical name.
func (t *Table) String() string { return t.LogicalName }
