package webapi

import (
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Metadata records are ordered property lists; values are string, int64,
// float64, bool, nil, uuid.UUID, []string, record or []record.
type prop struct {
	name  string
	value any
}

type record []prop

func (r record) get(name string) (any, bool) {
	for _, p := range r {
		if p.name == name {
			return p.value, true
		}
	}
	return nil, false
}

// metadataNamespace derives stable MetadataIds from names.
var metadataNamespace = uuid.MustParse("6d8c5b0e-4f1a-4b8e-9a43-7c2d1e0f5a61")

func metadataID(kind, name string) uuid.UUID {
	return uuid.NewSHA1(metadataNamespace, []byte(kind+":"+name))
}

func label(text string, id uuid.UUID) record {
	if text == "" {
		return record{{"LocalizedLabels", []record{}}, {"UserLocalizedLabel", nil}}
	}
	l := record{{"Label", text}, {"LanguageCode", int64(1033)}, {"IsManaged", true}, {"MetadataId", id}, {"HasChanged", nil}}
	return record{{"LocalizedLabels", []record{l}}, {"UserLocalizedLabel", l}}
}

// entityMetadata describes a table as EntityMetadata.
func entityMetadata(t *schema.Table) record {
	id := metadataID("entity", t.LogicalName)
	primaryName := ""
	if pn := t.PrimaryName(); pn != nil {
		primaryName = pn.LogicalName
	}
	return record{
		{"MetadataId", id},
		{"LogicalName", t.LogicalName},
		{"SchemaName", t.SchemaName},
		{"EntitySetName", t.EntitySetName},
		{"LogicalCollectionName", t.EntitySetName},
		{"CollectionSchemaName", t.SchemaName + "s"},
		{"ObjectTypeCode", int64(t.ObjectTypeCode)},
		{"PrimaryIdAttribute", t.PrimaryID().LogicalName},
		{"PrimaryNameAttribute", primaryName},
		{"OwnershipType", t.Ownership.String()},
		{"IsActivity", t.IsActivity},
		{"IsCustomEntity", t.ObjectTypeCode >= 10000},
		{"ChangeTrackingEnabled", t.ChangeTracking},
		{"DisplayName", label(t.DisplayName, metadataID("entity-label", t.LogicalName))},
		{"DisplayCollectionName", label(t.DisplayCollectionName, metadataID("entity-collection-label", t.LogicalName))},
		{"Description", label(t.Description, metadataID("entity-description", t.LogicalName))},
	}
}

// attributeTypeNames maps column types to AttributeMetadata types: the
// AttributeType, the AttributeTypeName value and the derived type.
var attributeTypeNames = map[schema.ColumnType][3]string{
	schema.TypeString:              {"String", "StringType", "StringAttributeMetadata"},
	schema.TypeMemo:                {"Memo", "MemoType", "MemoAttributeMetadata"},
	schema.TypeInteger:             {"Integer", "IntegerType", "IntegerAttributeMetadata"},
	schema.TypeBigInt:              {"BigInt", "BigIntType", "BigIntAttributeMetadata"},
	schema.TypeDecimal:             {"Decimal", "DecimalType", "DecimalAttributeMetadata"},
	schema.TypeDouble:              {"Double", "DoubleType", "DoubleAttributeMetadata"},
	schema.TypeMoney:               {"Money", "MoneyType", "MoneyAttributeMetadata"},
	schema.TypeBoolean:             {"Boolean", "BooleanType", "BooleanAttributeMetadata"},
	schema.TypeDateTime:            {"DateTime", "DateTimeType", "DateTimeAttributeMetadata"},
	schema.TypePicklist:            {"Picklist", "PicklistType", "PicklistAttributeMetadata"},
	schema.TypeMultiSelectPicklist: {"Virtual", "MultiSelectPicklistType", "MultiSelectPicklistAttributeMetadata"},
	schema.TypeState:               {"State", "StateType", "StateAttributeMetadata"},
	schema.TypeStatus:              {"Status", "StatusType", "StatusAttributeMetadata"},
	schema.TypeLookup:              {"Lookup", "LookupType", "LookupAttributeMetadata"},
	schema.TypeCustomer:            {"Customer", "CustomerType", "LookupAttributeMetadata"},
	schema.TypeOwner:               {"Owner", "OwnerType", "LookupAttributeMetadata"},
	schema.TypeUniqueidentifier:    {"Uniqueidentifier", "UniqueidentifierType", "UniqueIdentifierAttributeMetadata"},
	schema.TypeEntityName:          {"EntityName", "EntityNameType", "EntityNameAttributeMetadata"},
}

// attributeMetadata describes a column as AttributeMetadata.
func attributeMetadata(c *schema.Column) record {
	names := attributeTypeNames[c.Type]
	key := c.Table.LogicalName + "." + c.LogicalName
	r := record{
		{"@odata.type", "#Microsoft.Dynamics.CRM." + names[2]},
		{"MetadataId", metadataID("attribute", key)},
		{"LogicalName", c.LogicalName},
		{"SchemaName", c.SchemaName},
		{"EntityLogicalName", c.Table.LogicalName},
		{"AttributeType", names[0]},
		{"AttributeTypeName", record{{"Value", names[1]}}},
		{"DisplayName", label(c.DisplayName, metadataID("attribute-label", key))},
		{"Description", label(c.Description, metadataID("attribute-description", key))},
		{"RequiredLevel", record{{"Value", c.RequiredLevel.String()}, {"CanBeChanged", c.Role == schema.RoleNone}, {"ManagedPropertyLogicalName", "canmodifyrequirementlevelsettings"}}},
		{"IsValidForCreate", c.ValidForCreate},
		{"IsValidForUpdate", c.ValidForUpdate},
		{"IsValidForRead", c.ValidForRead},
		{"IsPrimaryId", c == c.Table.PrimaryID()},
		{"IsPrimaryName", c == c.Table.PrimaryName()},
		{"IsCustomAttribute", !isBuiltinColumn(c)},
	}
	switch {
	case c.Type.IsText():
		r = append(r, prop{"MaxLength", int64(c.MaxLength)})
	case c.Type == schema.TypeInteger || c.Type == schema.TypeBigInt:
		r = append(r, prop{"MinValue", int64(c.MinValue)}, prop{"MaxValue", int64(c.MaxValue)})
	case c.Type == schema.TypeDecimal || c.Type == schema.TypeDouble || c.Type == schema.TypeMoney:
		r = append(r, prop{"MinValue", c.MinValue}, prop{"MaxValue", c.MaxValue}, prop{"Precision", int64(c.Precision)})
	case c.Type == schema.TypeDateTime:
		format := "DateAndTime"
		if c.DateOnly {
			format = "DateOnly"
		}
		r = append(r, prop{"DateTimeBehavior", record{{"Value", c.Behavior.String()}}}, prop{"Format", format})
	case c.IsLookup():
		r = append(r, prop{"Targets", append([]string(nil), c.Targets...)})
	}
	return r
}

// isBuiltinColumn reports whether a column is one of the built-in
// schema's (the rest were added by a user schema file).
func isBuiltinColumn(c *schema.Column) bool {
	t, ok := schema.Builtin().Table(c.Table.LogicalName)
	if !ok {
		return false
	}
	_, ok = t.Column(c.LogicalName)
	return ok
}

// entityDefinitions answers EntityDefinitions requests.
func (req *request) entityDefinitions(segs []string) error {
	if req.r.Method != http.MethodGet {
		return errMethodNotAllowed(req.r.Method)
	}
	q, err := req.parseQuery()
	if err != nil {
		return err
	}
	_, keyText, hasKey, err := splitKeySegment(segs[0])
	if err != nil {
		return err
	}
	tables := req.h.schema.Tables()
	if !hasKey {
		if len(segs) > 1 {
			return errResourceNotFound(segs[1])
		}
		var records []record
		for _, t := range tables {
			records = append(records, entityMetadata(t))
		}
		return req.writeMetadata(q, records, "EntityMetadata", req.base+"/$metadata#EntityDefinitions", false, attributesExpander(req, tables))
	}
	t, err := req.metadataTable(keyText)
	if err != nil {
		return err
	}
	if len(segs) == 1 {
		return req.writeMetadata(q, []record{entityMetadata(t)}, "EntityMetadata", req.base+"/$metadata#EntityDefinitions", true, attributesExpander(req, []*schema.Table{t}))
	}
	attrSeg, attrKey, attrHasKey, err := splitKeySegment(segs[1])
	if err != nil || attrSeg != "Attributes" {
		return errResourceNotFound(segs[1])
	}
	cast := ""
	if len(segs) > 2 {
		cast = strings.TrimPrefix(segs[2], schema.Namespace+".")
		if attrHasKey || len(segs) > 3 || !knownAttributeType(cast) {
			return errResourceNotFound(segs[2])
		}
	}
	var attrs []record
	for _, c := range t.Columns {
		a := attributeMetadata(c)
		if cast != "" {
			if typ, _ := a.get("@odata.type"); typ != "#"+schema.Namespace+"."+cast {
				continue
			}
		}
		if attrHasKey {
			name := strings.Trim(strings.TrimPrefix(attrKey, "LogicalName="), "'")
			id, _ := a.get("MetadataId")
			if c.LogicalName != name && id.(uuid.UUID).String() != strings.ToLower(attrKey) {
				continue
			}
		}
		attrs = append(attrs, a)
	}
	context := req.base + "/$metadata#EntityDefinitions('" + t.LogicalName + "')/Attributes"
	if cast != "" {
		context += "/" + schema.Namespace + "." + cast
	}
	if attrHasKey {
		if len(attrs) == 0 {
			return newError(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "Could not find attribute with key '%s' on entity '%s'.", attrKey, t.LogicalName)
		}
		return req.writeMetadata(q, attrs, "AttributeMetadata", context, true, nil)
	}
	return req.writeMetadata(q, attrs, "AttributeMetadata", context, false, nil)
}

func knownAttributeType(name string) bool {
	for _, n := range attributeTypeNames {
		if n[2] == name {
			return true
		}
	}
	return name == "AttributeMetadata"
}

// metadataTable resolves EntityDefinitions(LogicalName='x') or
// EntityDefinitions(<MetadataId>).
func (req *request) metadataTable(key string) (*schema.Table, error) {
	if name, ok := strings.CutPrefix(key, "LogicalName="); ok {
		name = strings.Trim(name, "'")
		if t, ok := req.h.schema.Table(name); ok {
			return t, nil
		}
		return nil, newError(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "Could not find entity with LogicalName = '%s'.", name)
	}
	id, err := uuid.Parse(key)
	if err != nil {
		return nil, errKeySyntax()
	}
	for _, t := range req.h.schema.Tables() {
		if metadataID("entity", t.LogicalName) == id {
			return t, nil
		}
	}
	return nil, newError(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "Could not find entity with MetadataId = '%s'.", id)
}

// expander adds Attributes to entity records for $expand=Attributes.
type expander func(entity record, item odata.ExpandItem) (any, error)

func attributesExpander(req *request, tables []*schema.Table) expander {
	return func(entity record, item odata.ExpandItem) (any, error) {
		if len(item.Path) != 1 || item.Path[0].Name != "Attributes" || item.Ref {
			return nil, errPropertyNotFound(joinSegments(item.Path), metadataType("EntityMetadata"))
		}
		name, _ := entity.get("LogicalName")
		t, _ := req.h.schema.Table(name.(string))
		var out []record
		for _, c := range t.Columns {
			a := attributeMetadata(c)
			if item.Options != nil && item.Options.Filter != nil {
				ok, err := evalMetadataFilter(item.Options.Filter, a, "AttributeMetadata")
				if err != nil {
					return nil, err
				}
				if !ok {
					continue
				}
			}
			if item.Options != nil && item.Options.Select != nil {
				var err error
				if a, err = selectMetadata(a, item.Options.Select, "AttributeMetadata"); err != nil {
					return nil, err
				}
			}
			out = append(out, a)
		}
		return out, nil
	}
}

type metadataType string

func (m metadataType) EntityTypeName() string { return schema.Namespace + "." + string(m) }

// selectMetadata keeps the selected properties (MetadataId and
// @odata.type always).
func selectMetadata(r record, items []odata.SelectItem, typeName string) (record, error) {
	keep := map[string]bool{"MetadataId": true, "@odata.type": true}
	for _, it := range items {
		if it.Star {
			return r, nil
		}
		name := joinSegments(it.Path)
		if _, ok := r.get(name); !ok {
			return nil, errPropertyNotFound(name, metadataType(typeName))
		}
		keep[name] = true
	}
	var out record
	for _, p := range r {
		if keep[p.name] {
			out = append(out, p)
		}
	}
	return out, nil
}

// writeMetadata writes metadata records with $select, $filter and
// $expand applied; metadata queries are not paged.
func (req *request) writeMetadata(q *odata.Query, records []record, typeName, context string, single bool, expand expander) error {
	if q.Top != nil || q.OrderBy != nil || q.Apply != nil || q.Count {
		return errFilterUnsupported("Metadata queries support $select, $filter and $expand only.")
	}
	if q.Select != nil {
		context += "(" + odata.FormatSelect(q.Select) + ")"
	}
	var out []record
	for _, r := range records {
		if q.Filter != nil {
			ok, err := evalMetadataFilter(q.Filter, r, typeName)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		full := r
		if q.Select != nil {
			var err error
			if r, err = selectMetadata(r, q.Select, typeName); err != nil {
				return err
			}
		}
		for _, it := range q.Expand {
			if expand == nil {
				return errPropertyNotFound(joinSegments(it.Path), metadataType(typeName))
			}
			v, err := expand(full, it)
			if err != nil {
				return err
			}
			r = append(append(record{}, r...), prop{it.Path[0].Name, v})
		}
		out = append(out, r)
	}
	if single && len(out) == 0 {
		return newError(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "The metadata record does not match the query.")
	}
	jw := req.startJSON(http.StatusOK)
	if single {
		jw.byte('{')
		jw.raw(`"@odata.context":`)
		jw.str(context + "/$entity")
		writeRecordBody(jw, out[0], false)
		jw.byte('}')
		return req.endJSON(jw)
	}
	jw.raw(`{"@odata.context":`)
	jw.str(context)
	jw.raw(`,"value":[`)
	for i, r := range out {
		if i > 0 {
			jw.byte(',')
		}
		writeRecord(jw, r)
	}
	jw.raw("]}")
	return req.endJSON(jw)
}

func writeRecord(jw *jsonWriter, r record) {
	jw.byte('{')
	writeRecordBody(jw, r, true)
	jw.byte('}')
}

func writeRecordBody(jw *jsonWriter, r record, first bool) {
	for _, p := range r {
		jw.key(p.name, first)
		first = false
		writeMetaValue(jw, p.value)
	}
}

func writeMetaValue(jw *jsonWriter, v any) {
	switch x := v.(type) {
	case nil:
		jw.raw("null")
	case string:
		jw.str(x)
	case int64:
		jw.int(x)
	case float64:
		jw.value(&schema.Column{Type: schema.TypeDouble}, x)
	case bool:
		jw.value(&schema.Column{Type: schema.TypeBoolean}, x)
	case uuid.UUID:
		jw.guid(x)
	case []string:
		jw.byte('[')
		for i, s := range x {
			if i > 0 {
				jw.byte(',')
			}
			jw.str(s)
		}
		jw.byte(']')
	case record:
		writeRecord(jw, x)
	case []record:
		jw.byte('[')
		for i, r := range x {
			if i > 0 {
				jw.byte(',')
			}
			writeRecord(jw, r)
		}
		jw.byte(']')
	default:
		jw.raw("null")
	}
}
