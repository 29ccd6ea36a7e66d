package webapi

import (
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// metadataNamespace derives stable MetadataIds from names: a table, a
// column or a relationship has the same MetadataId in every emulator
// started with the same schema.
var metadataNamespace = uuid.MustParse("6d8c5b0e-4f1a-4b8e-9a43-7c2d1e0f5a61")

func metadataID(kind, name string) uuid.UUID {
	return uuid.NewSHA1(metadataNamespace, []byte(kind+":"+name))
}

// builtinTableIDs are the MetadataIds of system tables as every
// environment has them (seen in public captures of real environments).
var builtinTableIDs = map[string]string{
	"account":    "70816501-edb9-4740-a16c-6a5efbc05d84",
	"contact":    "608861bc-50a4-4c5f-a02c-21fe1943e2cf",
	"annotation": "c1961a14-d4e6-470c-8d1e-23ae6b1bbb8d",
	"incident":   "e3fe4ff2-a630-49bb-a1e9-debc3a076815",
}

// tableMetadataID is a table's MetadataId.
func tableMetadataID(t *schema.Table) uuid.UUID {
	if id, ok := builtinTableIDs[t.LogicalName]; ok && isBuiltinTable(t) {
		return uuid.MustParse(id)
	}
	return metadataID("entity", t.LogicalName)
}

// isBuiltinTable reports whether t is one of the built-in schema's tables
// (system tables: managed, not custom); the others came from a schema file.
func isBuiltinTable(t *schema.Table) bool {
	if t.Intersect != nil {
		_, ok := schema.Builtin().IntersectTable(t.LogicalName)
		return ok
	}
	_, ok := schema.Builtin().Table(t.LogicalName)
	return ok
}

// isBuiltinColumn reports whether a column is one of the built-in
// schema's (the rest were added by a user schema file).
func isBuiltinColumn(c *schema.Column) bool {
	t, ok := schema.Builtin().Table(c.Table.LogicalName)
	if !ok {
		if t, ok = schema.Builtin().IntersectTable(c.Table.LogicalName); !ok {
			return false
		}
	}
	_, ok = t.Column(c.LogicalName)
	return ok
}

// metadataTables lists the tables EntityDefinitions describes: every
// table with an entity set, then the intersect tables of N:N
// relationships (IsIntersect true).
func (b *metaBuilder) metadataTables() []*schema.Table {
	s := b.h.schema
	out := append([]*schema.Table(nil), s.Tables()...)
	for _, r := range s.Relationships() {
		if r.Type != schema.ManyToMany {
			continue
		}
		if t, ok := s.IntersectTable(r.IntersectEntity); ok {
			out = append(out, t)
		}
	}
	return out
}

// entityMetadata describes a table as EntityMetadata.
func (b *metaBuilder) entityMetadata(t *schema.Table) record {
	custom := !isBuiltinTable(t)
	intersect := t.Intersect != nil
	var setName any = t.EntitySetName
	if intersect && metaIntersectEntitySetNull {
		setName = nil
	}
	var primaryName any
	if pn := t.PrimaryName(); pn != nil {
		primaryName = pn.LogicalName
	}
	ownership := t.Ownership.String()
	if intersect {
		ownership = schema.OwnershipNone.String()
	}
	var privileges []record
	for _, pv := range b.h.store.TablePrivileges(t) {
		var id any
		if u, err := uuid.Parse(pv.ID); err == nil {
			id = u
		}
		privileges = append(privileges, record{
			{"CanBeBasic", t.Ownership == schema.OwnershipUser}, {"CanBeDeep", t.Ownership == schema.OwnershipUser},
			{"CanBeGlobal", true}, {"CanBeLocal", t.Ownership == schema.OwnershipUser},
			{"CanBeEntityReference", false}, {"CanBeParentEntityReference", false},
			{"Name", pv.Name}, {"PrivilegeId", id}, {"PrivilegeType", string(pv.Verb)},
		})
	}
	if privileges == nil {
		privileges = []record{}
	}
	var imageName any
	if img := primaryImage(t); img != nil {
		imageName = img.LogicalName
	}
	notIntersect := !intersect
	id := tableMetadataID(t)
	v := map[string]any{
		"MetadataId":                       id,
		"LogicalName":                      t.LogicalName,
		"SchemaName":                       t.SchemaName,
		"EntitySetName":                    setName,
		"LogicalCollectionName":            setName,
		"CollectionSchemaName":             pluralName(t.SchemaName),
		"ObjectTypeCode":                   int64(t.ObjectTypeCode),
		"PrimaryIdAttribute":               t.PrimaryID().LogicalName,
		"PrimaryNameAttribute":             primaryName,
		"PrimaryImageAttribute":            imageName,
		"OwnershipType":                    ownership,
		"OwnerIdType":                      int64(8),
		"IsActivity":                       t.IsActivity,
		"IsCustomEntity":                   custom,
		"IsManaged":                        !custom,
		"IsIntersect":                      intersect,
		"IsPrivate":                        false,
		"IsLogicalEntity":                  false,
		"IsValidForAdvancedFind":           notIntersect,
		"IsImportable":                     notIntersect,
		"IsStateModelAware":                t.SystemColumn(schema.RoleStateCode) != nil,
		"IsOptimisticConcurrencyEnabled":   notIntersect,
		"IsEnabledForCharts":               notIntersect,
		"CanTriggerWorkflow":               notIntersect,
		"ChangeTrackingEnabled":            b.h.store.ChangeTracked(t),
		"TableType":                        "Standard",
		"IntroducedVersion":                "1.0.0.0",
		"ReportViewName":                   "Filtered" + t.SchemaName,
		"MobileOfflineFilters":             "",
		"Privileges":                       privileges,
		"DisplayName":                      b.label(t.DisplayName, metadataID("entity-label", t.LogicalName), !custom),
		"DisplayCollectionName":            b.label(t.DisplayCollectionName, metadataID("entity-collection-label", t.LogicalName), !custom),
		"Description":                      b.label(t.Description, metadataID("entity-description", t.LogicalName), !custom),
		"IsCustomizable":                   managedProperty(notIntersect, custom, "iscustomizable"),
		"IsRenameable":                     managedProperty(notIntersect, custom, "isrenameable"),
		"CanCreateAttributes":              managedProperty(notIntersect, custom, "cancreateattributes"),
		"CanCreateForms":                   managedProperty(notIntersect, custom, "cancreateforms"),
		"CanCreateViews":                   managedProperty(notIntersect, custom, "cancreateviews"),
		"CanCreateCharts":                  managedProperty(notIntersect, custom, "cancreatecharts"),
		"CanBeRelatedEntityInRelationship": managedProperty(notIntersect, custom, "canberelatedentityinrelationship"),
		"CanBePrimaryEntityInRelationship": managedProperty(notIntersect, custom, "canbeprimaryentityinrelationship"),
		"CanBeInManyToMany":                managedProperty(notIntersect, custom, "canbeinmanytomany"),
		"CanChangeTrackingBeEnabled":       managedProperty(notIntersect, custom, "canchangetrackingbeenabled"),
	}
	return fillMeta("EntityMetadata", v, t, custom)
}

// pluralName makes the plural of a schema name for CollectionSchemaName
// (Account -> Accounts, Opportunity -> Opportunities).
func pluralName(s string) string {
	lower := strings.ToLower(s)
	switch {
	case s == "":
		return s
	case strings.HasSuffix(lower, "y") && len(s) > 1 && !strings.ContainsRune("aeiou", rune(lower[len(lower)-2])):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(lower, "s"), strings.HasSuffix(lower, "x"), strings.HasSuffix(lower, "ch"), strings.HasSuffix(lower, "sh"):
		return s + "es"
	}
	return s + "s"
}
