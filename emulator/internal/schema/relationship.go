package schema

// RelationshipType is one-to-many or many-to-many.
type RelationshipType uint8

// The relationship types.
const (
	OneToMany RelationshipType = iota + 1
	ManyToMany
)

// String returns "OneToManyRelationship" or "ManyToManyRelationship", the
// RelationshipType names of Dataverse metadata.
func (r RelationshipType) String() string {
	if r == ManyToMany {
		return "ManyToManyRelationship"
	}
	return "OneToManyRelationship"
}

// OwnerEntity is the pseudo-table that owner lookups reference: a row's
// ownerid points at a systemuser or a team. A relationship whose
// ReferencedEntity is OwnerEntity has no collection-valued side.
const OwnerEntity = "owner"

// Relationship is a 1:N or N:N relationship between tables.
type Relationship struct {
	// SchemaName is the relationship's name ("account_primary_contact").
	SchemaName string
	// Type is OneToMany or ManyToMany.
	Type RelationshipType

	// One-to-many: the referencing table's lookup column points at the
	// referenced table's primary key.
	ReferencedEntity     string
	ReferencedAttribute  string
	ReferencingEntity    string
	ReferencingAttribute string
	// ReferencingNavigation is the single-valued navigation property on
	// the referencing table ("primarycontactid", "parentcustomerid_account").
	ReferencingNavigation string
	// ReferencedNavigation is the collection-valued navigation property on
	// the referenced table ("account_primary_contact"); empty when the
	// referenced entity is [OwnerEntity].
	ReferencedNavigation string
	// CascadeDelete is what deleting the referenced row does to referencing
	// rows.
	CascadeDelete CascadeType

	// Many-to-many: rows are paired in the intersect table.
	Entity1, Entity2                                     string
	IntersectEntity                                      string
	Entity1IntersectAttribute, Entity2IntersectAttribute string
	Entity1Navigation, Entity2Navigation                 string
}

// NavigationProperty is a navigation property of a table: single-valued
// (a lookup seen from the referencing side), or collection-valued (the
// referencing rows seen from the referenced side, or the other side of an
// N:N relationship).
type NavigationProperty struct {
	// Name is the property name ("primarycontactid", "Account_Tasks").
	Name string
	// Table is the table that declares the property.
	Table *Table
	// Relationship is the relationship behind the property.
	Relationship *Relationship
	// Collection is true for collection-valued properties.
	Collection bool
	// Column is the lookup column: on Table for a single-valued property,
	// on Target for a one-to-many collection; nil for N:N.
	Column *Column
	// Targets are the tables a single-valued property may be bound to:
	// one table, or systemuser and team for ownerid. For a collection it
	// holds the one related table.
	Targets []*Table
}

// Target returns the related table: the first target of a single-valued
// property, the related table of a collection.
func (n *NavigationProperty) Target() *Table {
	if len(n.Targets) == 0 {
		return nil
	}
	return n.Targets[0]
}

// AcceptsTarget reports whether rows of t may be bound to the property.
func (n *NavigationProperty) AcceptsTarget(t *Table) bool {
	for _, x := range n.Targets {
		if x == t {
			return true
		}
	}
	return false
}

// IsManyToMany reports whether the property is a side of an N:N
// relationship.
func (n *NavigationProperty) IsManyToMany() bool {
	return n.Relationship != nil && n.Relationship.Type == ManyToMany
}
