package webapi

import (
	"math"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// attributeKind is how a column type appears as AttributeMetadata: its
// AttributeType, its AttributeTypeName value and its derived type.
type attributeKind struct{ code, typeName, metaType string }

// attributeKinds maps column types, by name (ColumnType.String()), to
// AttributeMetadata types. MultiSelect, File and Image columns report
// AttributeType Virtual, as Dataverse does.
var attributeKinds = map[string]attributeKind{
	"String":              {"String", "StringType", "StringAttributeMetadata"},
	"Memo":                {"Memo", "MemoType", "MemoAttributeMetadata"},
	"Integer":             {"Integer", "IntegerType", "IntegerAttributeMetadata"},
	"BigInt":              {"BigInt", "BigIntType", "BigIntAttributeMetadata"},
	"Decimal":             {"Decimal", "DecimalType", "DecimalAttributeMetadata"},
	"Double":              {"Double", "DoubleType", "DoubleAttributeMetadata"},
	"Money":               {"Money", "MoneyType", "MoneyAttributeMetadata"},
	"Boolean":             {"Boolean", "BooleanType", "BooleanAttributeMetadata"},
	"DateTime":            {"DateTime", "DateTimeType", "DateTimeAttributeMetadata"},
	"Picklist":            {"Picklist", "PicklistType", "PicklistAttributeMetadata"},
	"MultiSelectPicklist": {"Virtual", "MultiSelectPicklistType", "MultiSelectPicklistAttributeMetadata"},
	"State":               {"State", "StateType", "StateAttributeMetadata"},
	"Status":              {"Status", "StatusType", "StatusAttributeMetadata"},
	"Lookup":              {"Lookup", "LookupType", "LookupAttributeMetadata"},
	"Customer":            {"Customer", "CustomerType", "LookupAttributeMetadata"},
	"Owner":               {"Owner", "OwnerType", "LookupAttributeMetadata"},
	"Uniqueidentifier":    {"Uniqueidentifier", "UniqueidentifierType", "UniqueIdentifierAttributeMetadata"},
	"EntityName":          {"EntityName", "EntityNameType", "EntityNameAttributeMetadata"},
	"File":                {"Virtual", "FileType", "FileAttributeMetadata"},
	"Image":               {"Virtual", "ImageType", "ImageAttributeMetadata"},
}

func columnKind(c *schema.Column) attributeKind {
	if k, ok := attributeKinds[c.Type.String()]; ok {
		return k
	}
	return attributeKind{"Virtual", "VirtualType", "AttributeMetadata"}
}

func attributeKey(c *schema.Column) string { return c.Table.LogicalName + "." + c.LogicalName }

// attributeMetadata describes a column as the AttributeMetadata type
// its column type maps to, with every property of that type.
func (b *metaBuilder) attributeMetadata(c *schema.Column) record {
	kind := columnKind(c)
	key := attributeKey(c)
	custom := !isBuiltinColumn(c)
	system := c.Role != schema.RoleNone
	var attributeOf any
	if c.Internal && c.Role == schema.RoleLookupType || c.Role == schema.RoleOwnerIDType {
		for _, other := range c.Table.Columns {
			if other.TypeColumn == c.LogicalName {
				attributeOf = other.LogicalName
			}
		}
	}
	v := map[string]any{
		"MetadataId":             metadataID("attribute", key),
		"LogicalName":            c.LogicalName,
		"SchemaName":             c.SchemaName,
		"EntityLogicalName":      c.Table.LogicalName,
		"AttributeType":          kind.code,
		"AttributeTypeName":      record{{"Value", kind.typeName}},
		"AttributeOf":            attributeOf,
		"DisplayName":            b.label(c.DisplayName, metadataID("attribute-label", key), !custom),
		"Description":            b.label(c.Description, metadataID("attribute-description", key), !custom),
		"RequiredLevel":          record{{"Value", c.RequiredLevel.String()}, {"CanBeChanged", !system}, {"ManagedPropertyLogicalName", "canmodifyrequirementlevelsettings"}},
		"IsValidForCreate":       c.ValidForCreate,
		"IsValidForUpdate":       c.ValidForUpdate,
		"IsValidForRead":         c.ValidForRead,
		"IsValidForForm":         c.ValidForRead && !c.Internal,
		"IsValidForGrid":         c.ValidForRead && !c.Internal,
		"IsValidODataAttribute":  !c.Internal,
		"IsRetrievable":          true,
		"IsFilterable":           !c.Internal,
		"IsSearchable":           !c.Internal,
		"IsPrimaryId":            c == c.Table.PrimaryID(),
		"IsPrimaryName":          c == c.Table.PrimaryName(),
		"IsCustomAttribute":      custom,
		"IsManaged":              !custom,
		"IsLogical":              c.Internal,
		"IntroducedVersion":      "1.0.0.0",
		"SourceType":             int64(0),
		"ColumnNumber":           int64(columnNumber(c)),
		"IsCustomizable":         managedProperty(!system, custom, "iscustomizable"),
		"IsRenameable":           managedProperty(!system, custom, "isrenameable"),
		"IsValidForAdvancedFind": managedProperty(c.ValidForRead && !c.Internal, custom, "canmodifysearchsettings"),
		"IsSortableEnabled":      managedProperty(false, custom, "canmodifyissortablesettings"),
	}
	if c.Formula != nil {
		v["SourceType"] = int64(1)
	}
	switch kind.metaType {
	case "StringAttributeMetadata":
		v["MaxLength"], v["DatabaseLength"] = int64(c.MaxLength), int64(c.MaxLength*metaDatabaseLengthPerCharacter)
		v["Format"], v["FormatName"] = "Text", record{{"Value", "Text"}}
		v["ImeMode"], v["SourceTypeMask"] = "Auto", int64(0)
	case "MemoAttributeMetadata":
		v["MaxLength"], v["Format"], v["FormatName"] = int64(c.MaxLength), "TextArea", record{{"Value", "TextArea"}}
		v["ImeMode"] = "Auto"
	case "IntegerAttributeMetadata":
		v["MinValue"], v["MaxValue"], v["Format"] = int64(c.MinValue), int64(c.MaxValue), "None"
		v["SourceTypeMask"] = int64(0)
	case "BigIntAttributeMetadata":
		v["MinValue"], v["MaxValue"] = clampInt64(c.MinValue), clampInt64(c.MaxValue)
	case "DecimalAttributeMetadata", "DoubleAttributeMetadata", "MoneyAttributeMetadata":
		v["MinValue"], v["MaxValue"], v["Precision"], v["ImeMode"] = c.MinValue, c.MaxValue, int64(c.Precision), "Auto"
		if kind.metaType != "DoubleAttributeMetadata" {
			v["SourceTypeMask"] = int64(0)
		}
		if kind.metaType == "MoneyAttributeMetadata" {
			v["PrecisionSource"] = int64(metaMoneyPrecisionSource)
		}
	case "BooleanAttributeMetadata":
		v["DefaultValue"] = c.Default != nil && *c.Default == 1
		v["FormulaDefinition"], v["SourceTypeMask"] = "", int64(0)
	case "DateTimeAttributeMetadata":
		format := "DateAndTime"
		if c.DateOnly {
			format = "DateOnly"
		}
		v["Format"], v["DateTimeBehavior"] = format, record{{"Value", c.Behavior.String()}}
		v["CanChangeDateTimeBehavior"] = managedProperty(custom && c.Behavior == schema.BehaviorUserLocal, custom, "canchangedatetimebehavior")
		v["ImeMode"], v["SourceTypeMask"] = "Auto", int64(0)
		v["MinSupportedValue"], v["MaxSupportedValue"] = "1753-01-01T00:00:00Z", "9999-12-30T23:59:59Z"
	case "LookupAttributeMetadata":
		v["Targets"], v["Format"] = append([]string{}, c.Targets...), "None"
	case "PicklistAttributeMetadata", "MultiSelectPicklistAttributeMetadata", "StateAttributeMetadata", "StatusAttributeMetadata":
		if c.Default != nil {
			v["DefaultFormValue"] = *c.Default
		} else if kind.metaType == "PicklistAttributeMetadata" || kind.metaType == "MultiSelectPicklistAttributeMetadata" {
			v["DefaultFormValue"] = int64(metaNoDefaultFormValue)
		}
		if kind.metaType == "PicklistAttributeMetadata" || kind.metaType == "MultiSelectPicklistAttributeMetadata" {
			v["SourceTypeMask"] = int64(0)
		}
	case "EntityNameAttributeMetadata":
		v["IsEntityReferenceStored"] = true
	case "FileAttributeMetadata", "ImageAttributeMetadata":
		if c.File != nil {
			v["MaxSizeInKB"] = int64(c.File.MaxSizeInKB)
		}
		if kind.metaType == "ImageAttributeMetadata" {
			v["CanStoreFullImage"] = c.File != nil && c.File.CanStoreFullImage
			v["IsPrimaryImage"] = primaryImage(c.Table) == c
			v["MaxHeight"], v["MaxWidth"] = int64(imageThumbnailSide), int64(imageThumbnailSide)
			// An image is set with the row's update, and the primary image with its create
			// (image-column-data: "Set with Update", "Set with Create"), as the emulator does
			// (files_patch.go): a client that reads these flags before writing sends it. The
			// column itself stays read-only in the schema; its value goes through the file store.
			v["IsValidForUpdate"], v["IsValidForCreate"] = true, v["IsPrimaryImage"]
		}
	}
	if owner := companionOf(c); owner != nil {
		v["AttributeOf"] = owner.LogicalName
	}
	return fillMeta(kind.metaType, v, c, custom)
}

func clampInt64(f float64) int64 {
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// columnNumber is the column's position in its table, from 1.
func columnNumber(c *schema.Column) int {
	for i, other := range c.Table.Columns {
		if other == c {
			return i + 1
		}
	}
	return 0
}

// metadataAttributes lists a table's columns as AttributeMetadata.
func (b *metaBuilder) metadataAttributes(t *schema.Table) []record {
	out := make([]record, 0, len(t.Columns))
	for _, c := range t.Columns {
		out = append(out, b.attributeMetadata(c))
	}
	return out
}

// imageThumbnailSide is the width and height of an image column's
// thumbnail (ImageAttributeMetadata.MaxHeight and MaxWidth: 144).
const imageThumbnailSide = 144

// primaryImage is the table's primary image column: its first Image
// column (EntityMetadata.PrimaryImageAttribute), or nil.
func primaryImage(t *schema.Table) *schema.Column {
	for _, c := range t.Columns {
		if c.Type == schema.TypeImage {
			return c
		}
	}
	return nil
}

// companionOf returns the File or Image column whose companion c is
// (<file>_name, <image>id, <image>_timestamp, <image>_url), or nil.
func companionOf(c *schema.Column) *schema.Column {
	for _, other := range c.Table.Columns {
		f := other.File
		if f != nil && (f.NameColumn == c || f.IDColumn == c || f.TimestampColumn == c || f.URLColumn == c) {
			return other
		}
	}
	return nil
}
