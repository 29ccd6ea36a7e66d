package schema

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Compile validates definitions and builds a Schema. Every problem found is
// reported, each naming the table, column or relationship at fault and
// what to change; the returned error joins them.
//
// Compile does not add the built-in tables; use [WithBuiltin] for a user
// schema file.
func Compile(def *Definition) (*Schema, error) {
	c := &compiler{
		s: &Schema{
			byLogical:   map[string]*Table{},
			bySet:       map[string]*Table{},
			byCode:      map[int]*Table{},
			byRelName:   map[string]*Relationship{},
			intersects:  map[string]*Table{},
			byOptionSet: map[string]*OptionSet{},
		},
		defs: map[*Table]*TableDefinition{},
	}
	c.globalOptionSets(def.OptionSets)
	for i := range def.Tables {
		c.table(&def.Tables[i])
	}
	c.assignObjectTypeCodes()
	for _, t := range c.s.tables {
		c.resolveColumns(t)
	}
	for _, t := range c.s.tables {
		c.systemRelationships(t)
	}
	for i := range def.Relationships {
		c.relationship(&def.Relationships[i])
	}
	for _, t := range c.s.tables {
		c.implicitRelationships(t)
	}
	for _, t := range c.s.tables {
		c.finishTable(t)
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return c.s, nil
}

type compiler struct {
	s    *Schema
	defs map[*Table]*TableDefinition
	errs []error
	// pending records which (lookup column, target) pairs have a
	// relationship, so that missing ones can be generated.
	covered map[*Column]map[string]bool
}

func (c *compiler) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("schema: "+format, args...))
}

// logicalNamePattern is what Dataverse allows in logical names: lowercase
// ASCII letters, digits and underscores, starting with a letter.
var logicalNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// propertyNamePattern is what the emulator allows in navigation property,
// entity set and relationship names (OData simple identifiers).
var identifierPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

func (c *compiler) table(d *TableDefinition) {
	if !logicalNamePattern.MatchString(d.LogicalName) {
		c.errorf("table %q: logicalName must be 1-64 lowercase letters, digits or underscores, starting with a letter", d.LogicalName)
		return
	}
	if d.LogicalName == OwnerEntity {
		c.errorf("table %q: the name %q is reserved for the owner of a row", d.LogicalName, OwnerEntity)
		return
	}
	if _, dup := c.s.byLogical[d.LogicalName]; dup {
		c.errorf("table %q: defined twice", d.LogicalName)
		return
	}
	own, ok := parseOwnership(d.Ownership)
	if !ok {
		c.errorf("table %q: ownership %q is not one of UserOwned, OrganizationOwned, BusinessOwned, None", d.LogicalName, d.Ownership)
		own = OwnershipUser
	}
	t := &Table{
		LogicalName:           d.LogicalName,
		SchemaName:            orDefault(d.SchemaName, d.LogicalName),
		EntitySetName:         orDefault(d.EntitySetName, plural(d.LogicalName)),
		Description:           d.Description,
		ObjectTypeCode:        d.ObjectTypeCode,
		Ownership:             own,
		IsActivity:            d.Activity,
		ChangeTracking:        d.ChangeTracking,
		columns:               map[string]*Column{},
		properties:            map[string]*Column{},
		navigations:           map[string]*NavigationProperty{},
		DisplayName:           d.DisplayName,
		DisplayCollectionName: d.DisplayCollectionName,
	}
	t.DisplayName = orDefault(t.DisplayName, t.SchemaName)
	t.DisplayCollectionName = orDefault(t.DisplayCollectionName, plural(t.DisplayName))
	t.PrivilegeName = orDefault(d.PrivilegeName, t.SchemaName)
	if !identifierPattern.MatchString(t.EntitySetName) {
		c.errorf("table %q: entitySetName %q must be letters, digits and underscores", t.LogicalName, t.EntitySetName)
	}
	if other, dup := c.s.bySet[t.EntitySetName]; dup {
		c.errorf("table %q: entitySetName %q is already used by table %q", t.LogicalName, t.EntitySetName, other.LogicalName)
	}
	if d.ObjectTypeCode < 0 {
		c.errorf("table %q: objectTypeCode must be positive", t.LogicalName)
	} else if other, dup := c.s.byCode[d.ObjectTypeCode]; dup && d.ObjectTypeCode != 0 {
		c.errorf("table %q: objectTypeCode %d is already used by table %q", t.LogicalName, d.ObjectTypeCode, other.LogicalName)
	}
	c.s.tables = append(c.s.tables, t)
	c.s.byLogical[t.LogicalName] = t
	c.s.bySet[t.EntitySetName] = t
	if t.ObjectTypeCode > 0 {
		c.s.byCode[t.ObjectTypeCode] = t
	}
	c.defs[t] = d
	c.columns(t, d)
}

// firstCustomObjectTypeCode is where Dataverse numbers custom tables from.
const firstCustomObjectTypeCode = 10000

func (c *compiler) assignObjectTypeCodes() {
	next := firstCustomObjectTypeCode
	for _, t := range c.s.tables {
		if t.ObjectTypeCode != 0 {
			continue
		}
		for c.s.byCode[next] != nil {
			next++
		}
		t.ObjectTypeCode = next
		c.s.byCode[next] = t
	}
}

// plural makes an English plural the way Dataverse derives entity set
// names for custom tables (new_category -> new_categories).
func plural(s string) string {
	if s == "" {
		return s
	}
	switch {
	case strings.HasSuffix(s, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(s[len(s)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"), strings.HasSuffix(s, "z"),
		strings.HasSuffix(s, "ch"), strings.HasSuffix(s, "sh"):
		return s + "es"
	}
	return s + "s"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// addColumn registers a compiled column on its table.
func (c *compiler) addColumn(t *Table, col *Column) {
	if _, dup := t.columns[col.LogicalName]; dup {
		c.errorf("table %q: column %q is defined twice", t.LogicalName, col.LogicalName)
		return
	}
	col.Table, col.Ordinal = t, len(t.Columns)
	t.Columns = append(t.Columns, col)
	t.columns[col.LogicalName] = col
	if col.Role != RoleNone && col.Role != RoleLookupType {
		t.roles[col.Role] = col
	}
}

// finishTable indexes properties and checks the names that must be unique
// across columns and navigation properties.
func (c *compiler) finishTable(t *Table) {
	for _, col := range t.Columns {
		if col.Internal {
			continue
		}
		if col.IsLookup() {
			col.property = "_" + col.LogicalName + "_value"
		} else {
			col.property = col.LogicalName
		}
		if other, dup := t.properties[col.property]; dup {
			c.errorf("table %q: column %q and column %q both appear as property %q", t.LogicalName, other.LogicalName, col.LogicalName, col.property)
			continue
		}
		t.properties[col.property] = col
	}
	for _, n := range t.Navigations {
		if col, clash := t.properties[n.Name]; clash {
			c.errorf("table %q: navigation property %q has the same name as column %q", t.LogicalName, n.Name, col.LogicalName)
		}
	}
	// Single-valued navigation properties first, as $metadata lists them.
	single := make([]*NavigationProperty, 0, len(t.Navigations))
	var many []*NavigationProperty
	for _, n := range t.Navigations {
		if n.Collection {
			many = append(many, n)
		} else {
			single = append(single, n)
		}
	}
	t.Navigations = append(single, many...)
}
