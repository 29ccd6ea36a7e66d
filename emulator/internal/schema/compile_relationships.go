package schema

import "strings"

// systemLookupDefaults gives, for each system lookup, the referenced table
// and the default relationship name pattern (%s = table logical name) of
// Dataverse's custom tables.
var systemLookupDefaults = map[SystemRole]struct {
	column, referenced, pattern string
}{
	RoleCreatedBy:          {"createdby", "systemuser", "lk_%s_createdby"},
	RoleModifiedBy:         {"modifiedby", "systemuser", "lk_%s_modifiedby"},
	RoleCreatedOnBehalfBy:  {"createdonbehalfby", "systemuser", "lk_%s_createdonbehalfby"},
	RoleModifiedOnBehalfBy: {"modifiedonbehalfby", "systemuser", "lk_%s_modifiedonbehalfby"},
	RoleOwnerID:            {"ownerid", OwnerEntity, "owner_%s"},
	RoleOwningUser:         {"owninguser", "systemuser", "user_%s"},
	RoleOwningTeam:         {"owningteam", "team", "team_%s"},
	RoleOwningBusinessUnit: {"owningbusinessunit", "businessunit", "business_unit_%s"},
}

// systemLookupOrder fixes the order in which system relationships are
// created, so navigation properties come out in a stable order.
var systemLookupOrder = []SystemRole{
	RoleCreatedBy, RoleCreatedOnBehalfBy, RoleModifiedBy, RoleModifiedOnBehalfBy,
	RoleOwnerID, RoleOwningBusinessUnit, RoleOwningTeam, RoleOwningUser,
}

func (c *compiler) systemRelationships(t *Table) {
	overrides := c.defs[t].SystemRelationships
	for key := range overrides {
		known := false
		for _, d := range systemLookupDefaults {
			if d.column == key {
				known = true
			}
		}
		if !known {
			c.errorf("table %q: systemRelationships: %q is not a system lookup (createdby, modifiedby, createdonbehalfby, modifiedonbehalfby, ownerid, owninguser, owningteam, owningbusinessunit)", t.LogicalName, key)
		}
	}
	for _, role := range systemLookupOrder {
		col := t.roles[role]
		if col == nil {
			continue
		}
		def := systemLookupDefaults[role]
		name := overrides[def.column]
		if name == "" {
			name = strings.Replace(def.pattern, "%s", t.LogicalName, 1)
		}
		r := &Relationship{
			SchemaName:           name,
			Type:                 OneToMany,
			ReferencedEntity:     def.referenced,
			ReferencingEntity:    t.LogicalName,
			ReferencingAttribute: col.LogicalName,
		}
		if def.referenced != OwnerEntity {
			r.ReferencedNavigation = name
		}
		c.oneToMany(r, t, col, def.referenced)
	}
}

func (c *compiler) relationship(d *RelationshipDefinition) {
	if !identifierPattern.MatchString(d.SchemaName) {
		c.errorf("relationship %q: schemaName must be letters, digits and underscores", d.SchemaName)
		return
	}
	switch strings.ToLower(d.Type) {
	case "", "onetomany", "onetomanyrelationship":
		c.explicitOneToMany(d)
	case "manytomany", "manytomanyrelationship":
		c.manyToMany(d)
	default:
		c.errorf("relationship %q: type %q is not OneToMany or ManyToMany", d.SchemaName, d.Type)
	}
}

func (c *compiler) explicitOneToMany(d *RelationshipDefinition) {
	where := "relationship " + quote(d.SchemaName)
	if d.Entity1 != "" || d.Entity2 != "" || d.IntersectEntity != "" {
		c.errorf("%s: entity1, entity2 and intersectEntity apply only to ManyToMany relationships", where)
		return
	}
	t, ok := c.s.byLogical[d.ReferencingEntity]
	if !ok {
		c.errorf("%s: referencingEntity %q is not a table", where, d.ReferencingEntity)
		return
	}
	col, ok := t.columns[d.ReferencingAttribute]
	if !ok || !col.IsLookup() {
		c.errorf("%s: referencingAttribute %q is not a lookup column of table %q", where, d.ReferencingAttribute, t.LogicalName)
		return
	}
	if col.Role != RoleNone {
		c.errorf("%s: %q is a system lookup; rename its relationship with systemRelationships on table %q", where, col.LogicalName, t.LogicalName)
		return
	}
	targetOK := false
	for _, name := range col.Targets {
		if name == d.ReferencedEntity {
			targetOK = true
		}
	}
	if !targetOK {
		c.errorf("%s: referencedEntity %q is not a target of %s.%s (targets: %s)", where, d.ReferencedEntity, t.LogicalName, col.LogicalName, strings.Join(col.Targets, ", "))
		return
	}
	cascade, ok := parseCascade(d.CascadeDelete)
	if !ok {
		c.errorf("%s: cascadeDelete %q is not one of NoCascade, RemoveLink, Cascade, Restrict", where, d.CascadeDelete)
	}
	if c.covered[col][d.ReferencedEntity] {
		c.errorf("%s: %s.%s already has a relationship with %q", where, t.LogicalName, col.LogicalName, d.ReferencedEntity)
		return
	}
	c.oneToMany(&Relationship{
		SchemaName:            d.SchemaName,
		Type:                  OneToMany,
		ReferencedEntity:      d.ReferencedEntity,
		ReferencingEntity:     t.LogicalName,
		ReferencingAttribute:  col.LogicalName,
		ReferencingNavigation: d.ReferencingNavigation,
		ReferencedNavigation:  orDefault(d.ReferencedNavigation, d.SchemaName),
		CascadeDelete:         cascade,
	}, t, col, d.ReferencedEntity)
}

// implicitRelationships creates a relationship for every lookup target
// that no definition covers, named "<target>_<table>_<column>".
func (c *compiler) implicitRelationships(t *Table) {
	for _, col := range t.Columns {
		if !col.IsLookup() || col.Role != RoleNone {
			continue
		}
		for _, target := range col.Targets {
			if c.covered[col][target] || c.s.byLogical[target] == nil {
				continue
			}
			name := target + "_" + t.LogicalName + "_" + col.LogicalName
			c.oneToMany(&Relationship{
				SchemaName:           name,
				Type:                 OneToMany,
				ReferencedEntity:     target,
				ReferencingEntity:    t.LogicalName,
				ReferencingAttribute: col.LogicalName,
				ReferencedNavigation: name,
				CascadeDelete:        CascadeRemoveLink,
			}, t, col, target)
		}
	}
}

// oneToMany registers a 1:N relationship and its navigation properties.
func (c *compiler) oneToMany(r *Relationship, t *Table, col *Column, referenced string) {
	if _, dup := c.s.byRelName[r.SchemaName]; dup {
		c.errorf("relationship %q: defined twice", r.SchemaName)
		return
	}
	var targets []*Table
	if referenced == OwnerEntity {
		targets = col.targets
	} else {
		target, ok := c.s.byLogical[referenced]
		if !ok {
			c.errorf("relationship %q: table %q is not defined (needed by %s.%s)", r.SchemaName, referenced, t.LogicalName, col.LogicalName)
			return
		}
		targets = []*Table{target}
		if target.primaryID != nil {
			r.ReferencedAttribute = target.primaryID.LogicalName
		}
	}
	if referenced == OwnerEntity {
		r.ReferencedAttribute = "ownerid"
	}
	if r.ReferencingNavigation == "" {
		r.ReferencingNavigation = col.LogicalName
		if col.Type != TypeOwner && len(col.Targets) > 1 {
			r.ReferencingNavigation += "_" + referenced
		}
		if t.IsActivity {
			r.ReferencingNavigation += "_" + t.LogicalName
		}
	}
	c.s.relationships = append(c.s.relationships, r)
	c.s.byRelName[r.SchemaName] = r
	if c.covered == nil {
		c.covered = map[*Column]map[string]bool{}
	}
	if c.covered[col] == nil {
		c.covered[col] = map[string]bool{}
	}
	c.covered[col][referenced] = true
	c.addNavigation(t, &NavigationProperty{Name: r.ReferencingNavigation, Table: t, Relationship: r, Column: col, Targets: targets})
	if r.ReferencedNavigation != "" && len(targets) == 1 {
		c.addNavigation(targets[0], &NavigationProperty{Name: r.ReferencedNavigation, Table: targets[0], Relationship: r,
			Collection: true, Column: col, Targets: []*Table{t}})
	}
}

func (c *compiler) manyToMany(d *RelationshipDefinition) {
	where := "relationship " + quote(d.SchemaName)
	if d.ReferencedEntity != "" || d.ReferencingEntity != "" || d.ReferencingAttribute != "" {
		c.errorf("%s: referencedEntity, referencingEntity and referencingAttribute apply only to OneToMany relationships", where)
		return
	}
	if _, dup := c.s.byRelName[d.SchemaName]; dup {
		c.errorf("%s: defined twice", where)
		return
	}
	t1, ok1 := c.s.byLogical[d.Entity1]
	t2, ok2 := c.s.byLogical[d.Entity2]
	if !ok1 || !ok2 {
		c.errorf("%s: entity1 %q and entity2 %q must both be tables", where, d.Entity1, d.Entity2)
		return
	}
	if t1.primaryID == nil || t2.primaryID == nil {
		return
	}
	r := &Relationship{
		SchemaName:                d.SchemaName,
		Type:                      ManyToMany,
		Entity1:                   t1.LogicalName,
		Entity2:                   t2.LogicalName,
		IntersectEntity:           orDefault(d.IntersectEntity, strings.ToLower(d.SchemaName)),
		Entity1IntersectAttribute: orDefault(d.Entity1IntersectAttribute, t1.primaryID.LogicalName),
		Entity2IntersectAttribute: orDefault(d.Entity2IntersectAttribute, t2.primaryID.LogicalName),
		Entity1Navigation:         orDefault(d.Entity1Navigation, d.SchemaName),
		Entity2Navigation:         orDefault(d.Entity2Navigation, d.SchemaName),
	}
	if !logicalNamePattern.MatchString(r.IntersectEntity) {
		c.errorf("%s: intersectEntity %q must be lowercase letters, digits and underscores", where, r.IntersectEntity)
		return
	}
	if other, clash := c.s.byLogical[r.IntersectEntity]; clash {
		c.errorf("%s: intersectEntity %q is the name of table %q", where, r.IntersectEntity, other.LogicalName)
		return
	}
	for _, other := range c.s.relationships {
		if other.Type == ManyToMany && other.IntersectEntity == r.IntersectEntity {
			c.errorf("%s: intersectEntity %q is already used by relationship %q", where, r.IntersectEntity, other.SchemaName)
			return
		}
	}
	if !logicalNamePattern.MatchString(r.Entity1IntersectAttribute) || !logicalNamePattern.MatchString(r.Entity2IntersectAttribute) ||
		r.Entity1IntersectAttribute == r.Entity2IntersectAttribute {
		c.errorf("%s: entity1IntersectAttribute and entity2IntersectAttribute must be two different lowercase names (set them for a relationship of a table with itself)", where)
		return
	}
	if t1 == t2 && r.Entity1Navigation == r.Entity2Navigation {
		c.errorf("%s: a relationship of a table with itself needs different entity1Navigation and entity2Navigation", where)
		return
	}
	c.s.relationships = append(c.s.relationships, r)
	c.s.byRelName[r.SchemaName] = r
	c.s.intersects[r.IntersectEntity] = intersectTable(r)
	c.addNavigation(t1, &NavigationProperty{Name: r.Entity1Navigation, Table: t1, Relationship: r, Collection: true, Targets: []*Table{t2}})
	c.addNavigation(t2, &NavigationProperty{Name: r.Entity2Navigation, Table: t2, Relationship: r, Collection: true, Targets: []*Table{t1}})
}

func (c *compiler) addNavigation(t *Table, n *NavigationProperty) {
	if !identifierPattern.MatchString(n.Name) {
		c.errorf("table %q: navigation property %q must be letters, digits and underscores", t.LogicalName, n.Name)
		return
	}
	if other, dup := t.navigations[n.Name]; dup {
		c.errorf("table %q: navigation property %q is declared by relationships %q and %q", t.LogicalName, n.Name, other.Relationship.SchemaName, n.Relationship.SchemaName)
		return
	}
	t.navigations[n.Name] = n
	t.Navigations = append(t.Navigations, n)
}

// intersectTable describes the intersect table of an N:N relationship as
// the store creates it.
func intersectTable(r *Relationship) *Table {
	t := &Table{
		LogicalName: r.IntersectEntity, SchemaName: r.IntersectEntity, DisplayName: r.SchemaName,
		Ownership: OwnershipNone, Intersect: r,
		columns: map[string]*Column{}, properties: map[string]*Column{}, navigations: map[string]*NavigationProperty{},
	}
	add := func(name string, typ ColumnType, role SystemRole) *Column {
		col := &Column{Table: t, Ordinal: len(t.Columns), LogicalName: name, SchemaName: name, Type: typ, Role: role, ValidForRead: true, property: name}
		t.Columns = append(t.Columns, col)
		t.columns[name] = col
		t.properties[name] = col
		t.roles[role] = col
		return col
	}
	t.primaryID = add(r.IntersectEntity+"id", TypeUniqueidentifier, RolePrimaryID)
	add(r.Entity1IntersectAttribute, TypeUniqueidentifier, RoleNone)
	add(r.Entity2IntersectAttribute, TypeUniqueidentifier, RoleNone)
	add("versionnumber", TypeBigInt, RoleVersionNumber)
	t.roles[RoleNone] = nil
	return t
}
