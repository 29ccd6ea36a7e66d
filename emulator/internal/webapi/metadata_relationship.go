package webapi

import (
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// keyMetadata describes an alternate key as EntityKeyMetadata; the
// emulator builds key indexes at once, so every key is Active.
func (b *metaBuilder) keyMetadata(t *schema.Table, k *schema.AlternateKey) record {
	custom := !isBuiltinTable(t)
	columns := make([]string, 0, len(k.Columns))
	for _, c := range k.Columns {
		columns = append(columns, c.LogicalName)
	}
	id := metadataID("key", t.LogicalName+"."+k.SchemaName)
	return fillMeta("EntityKeyMetadata", map[string]any{
		"MetadataId":           id,
		"LogicalName":          strings.ToLower(k.SchemaName),
		"SchemaName":           k.SchemaName,
		"EntityLogicalName":    t.LogicalName,
		"KeyAttributes":        columns,
		"EntityKeyIndexStatus": "Active",
		"IntroducedVersion":    "1.0.0.0",
		"IsManaged":            !custom,
		"IsCustomizable":       managedProperty(true, custom, "iscustomizable"),
		"DisplayName":          b.label(k.SchemaName, metadataID("key-label", id.String()), !custom),
	}, k, custom)
}

func (b *metaBuilder) metadataKeys(t *schema.Table) []record {
	out := make([]record, 0, len(t.Keys))
	for _, k := range t.Keys {
		out = append(out, b.keyMetadata(t, k))
	}
	return out
}

func relationshipID(r *schema.Relationship) uuid.UUID {
	return metadataID("relationship", r.SchemaName)
}

// isBuiltinRelationship reports whether r is one of the built-in schema's.
func isBuiltinRelationship(r *schema.Relationship) bool {
	_, ok := schema.Builtin().Relationship(r.SchemaName)
	return ok
}

// relationshipMetadata describes a relationship as
// OneToManyRelationshipMetadata or ManyToManyRelationshipMetadata.
func (b *metaBuilder) relationshipMetadata(r *schema.Relationship) record {
	custom := !isBuiltinRelationship(r)
	v := map[string]any{
		"MetadataId":             relationshipID(r),
		"SchemaName":             r.SchemaName,
		"RelationshipType":       r.Type.String(),
		"IsCustomRelationship":   custom,
		"IsManaged":              !custom,
		"IsValidForAdvancedFind": true,
		"IntroducedVersion":      "1.0.0.0",
		"IsCustomizable":         managedProperty(true, custom, "iscustomizable"),
	}
	menu := func(label string) record {
		return record{
			{"Behavior", "UseCollectionName"}, {"Group", "Details"},
			{"Label", b.label(label, metadataID("menu-label", r.SchemaName+":"+label), !custom)},
			{"Order", int64(10000)}, {"IsCustomizable", true}, {"Icon", nil},
			{"ViewId", uuid.Nil}, {"AvailableOffline", true}, {"MenuId", nil}, {"QueryApi", nil},
		}
	}
	if r.Type == schema.ManyToMany {
		v["SecurityTypes"] = "None"
		v["Entity1LogicalName"], v["Entity2LogicalName"] = r.Entity1, r.Entity2
		v["IntersectEntityName"] = strings.ToLower(r.IntersectEntity)
		v["Entity1IntersectAttribute"], v["Entity2IntersectAttribute"] = r.Entity1IntersectAttribute, r.Entity2IntersectAttribute
		v["Entity1NavigationPropertyName"], v["Entity2NavigationPropertyName"] = r.Entity1Navigation, r.Entity2Navigation
		v["Entity1AssociatedMenuConfiguration"], v["Entity2AssociatedMenuConfiguration"] = menu(""), menu("")
		return fillMeta("ManyToManyRelationshipMetadata", v, r, custom)
	}
	security := "Append"
	if r.CascadeDelete == schema.CascadeDelete {
		security = "ParentChild"
	}
	v["SecurityTypes"] = security
	v["ReferencedEntity"], v["ReferencedAttribute"] = r.ReferencedEntity, r.ReferencedAttribute
	v["ReferencingEntity"], v["ReferencingAttribute"] = r.ReferencingEntity, r.ReferencingAttribute
	v["ReferencingEntityNavigationPropertyName"] = r.ReferencingNavigation
	var referencedNav any
	if r.ReferencedNavigation != "" {
		referencedNav = r.ReferencedNavigation
	}
	v["ReferencedEntityNavigationPropertyName"] = referencedNav
	v["IsHierarchical"] = r.ReferencedEntity == r.ReferencingEntity && custom
	v["RelationshipBehavior"] = int64(1)
	v["AssociatedMenuConfiguration"] = menu("")
	parentChild := r.CascadeDelete == schema.CascadeDelete
	cascadeIf := func(yes bool) string {
		if yes {
			return "Cascade"
		}
		return "NoCascade"
	}
	v["CascadeConfiguration"] = record{
		{"Assign", cascadeIf(parentChild)}, {"Delete", r.CascadeDelete.String()}, {"Archive", archiveCascade(r.CascadeDelete)},
		{"Merge", "Cascade"}, {"Reparent", cascadeIf(parentChild)}, {"Share", cascadeIf(parentChild)},
		{"Unshare", cascadeIf(parentChild)}, {"RollupView", "NoCascade"},
	}
	return fillMeta("OneToManyRelationshipMetadata", v, r, custom)
}

// archiveCascade mirrors Delete for Archive, as Dataverse's defaults do
// (RemoveLink with RemoveLink, Cascade with Cascade).
func archiveCascade(c schema.CascadeType) string {
	if c == schema.CascadeNone {
		return "NoCascade"
	}
	return c.String()
}

// tableRelationships lists the relationships a table takes part in, by
// navigation: 1:N where it is referenced, N:1 where it references, N:N.
func (b *metaBuilder) tableRelationships(t *schema.Table, nav string) []record {
	out := []record{}
	for _, r := range b.h.schema.Relationships() {
		var match bool
		switch nav {
		case "OneToManyRelationships":
			match = r.Type == schema.OneToMany && r.ReferencedEntity == t.LogicalName
		case "ManyToOneRelationships":
			match = r.Type == schema.OneToMany && r.ReferencingEntity == t.LogicalName
		case "ManyToManyRelationships":
			match = r.Type == schema.ManyToMany && (r.Entity1 == t.LogicalName || r.Entity2 == t.LogicalName)
		}
		if match {
			out = append(out, b.relationshipMetadata(r))
		}
	}
	return out
}
