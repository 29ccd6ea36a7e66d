package webapi

import (
	"strings"
	"sync"
)

// The metadata types the emulator serves, as Dataverse's CSDL declares
// them (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/entitymetadata
// and the pages it links: AttributeMetadata and its derived types,
// OptionSetMetadata, EntityKeyMetadata, the relationship types). One table
// drives three things, so they cannot drift apart: the $metadata
// declarations (csdl_metadata.go), which properties $select, $filter and
// casts accept, and the properties each served record carries (fillMeta
// writes every declared property, defaults included).

// metaType is one entity, complex or enum type of the metadata model.
type metaType struct {
	name, base string
	kind       metaKind
	abstract   bool
	props      []metaProp // own properties, base type's excluded
	navs       []metaNav
	members    []string // enum members, value = index unless given as "Name=7"
}

type metaKind uint8

const (
	metaEntity metaKind = iota
	metaComplex
	metaEnum
)

// metaProp is a structural property: its type is an Edm primitive, a
// metadata type name, or Collection(<one of those>).
type metaProp struct{ name, typ string }

// metaNav is a navigation property to another metadata entity type.
type metaNav struct {
	name, typ  string
	collection bool
}

// p parses "Name:Type Name:Type …"; a bare Name is Edm.Boolean.
func p(spec string) []metaProp {
	var out []metaProp
	for _, f := range strings.Fields(spec) {
		name, typ, ok := strings.Cut(f, ":")
		if !ok {
			typ = "Edm.Boolean"
		}
		out = append(out, metaProp{name, typ})
	}
	return out
}

// n parses "Name:Type Name:[Type] …" ([Type] is a collection).
func n(spec string) []metaNav {
	var out []metaNav
	for _, f := range strings.Fields(spec) {
		name, typ, _ := strings.Cut(f, ":")
		coll := strings.HasPrefix(typ, "[")
		out = append(out, metaNav{name, strings.Trim(typ, "[]"), coll})
	}
	return out
}

const (
	bmp   = "BooleanManagedProperty"
	lbl   = "Label"
	str   = "Edm.String"
	i32   = "Edm.Int32"
	guid  = "Edm.Guid"
	dto   = "Edm.DateTimeOffset"
	lname = "LogicalName:" + str
)

var metaTypeList = []*metaType{
	// Complex types.
	{name: "Label", kind: metaComplex, props: p("LocalizedLabels:Collection(LocalizedLabel) UserLocalizedLabel:LocalizedLabel")},
	{name: "LocalizedLabel", kind: metaComplex, props: p("Label:Edm.String LanguageCode:Edm.Int32 IsManaged MetadataId:Edm.Guid HasChanged")},
	{name: bmp, kind: metaComplex, props: p("Value CanBeChanged ManagedPropertyLogicalName:Edm.String")},
	{name: "AttributeRequiredLevelManagedProperty", kind: metaComplex, props: p("Value:AttributeRequiredLevel CanBeChanged ManagedPropertyLogicalName:Edm.String")},
	{name: "AttributeTypeDisplayName", kind: metaComplex, props: p("Value:Edm.String")},
	{name: "StringFormatName", kind: metaComplex, props: p("Value:Edm.String")},
	{name: "DateTimeBehavior", kind: metaComplex, props: p("Value:Edm.String")},
	{name: "SecurityPrivilegeMetadata", kind: metaComplex, props: p("CanBeBasic CanBeDeep CanBeGlobal CanBeLocal CanBeEntityReference CanBeParentEntityReference Name:Edm.String PrivilegeId:Edm.Guid PrivilegeType:PrivilegeType")},
	{name: "OptionMetadata", kind: metaComplex, props: p("Value:Edm.Int32 Label:Label Description:Label Color:Edm.String IsManaged ExternalValue:Edm.String ParentValues:Collection(Edm.Int32) Tag:Edm.String IsHidden MetadataId:Edm.Guid HasChanged")},
	{name: "StatusOptionMetadata", base: "OptionMetadata", kind: metaComplex, props: p("State:Edm.Int32 TransitionData:Edm.String")},
	{name: "StateOptionMetadata", base: "OptionMetadata", kind: metaComplex, props: p("DefaultStatus:Edm.Int32 InvariantName:Edm.String")},
	{name: "AssociatedMenuConfiguration", kind: metaComplex, props: p("Behavior:AssociatedMenuBehavior Group:AssociatedMenuGroup Label:Label Order:Edm.Int32 IsCustomizable Icon:Edm.String ViewId:Edm.Guid AvailableOffline MenuId:Edm.String QueryApi:Edm.String")},
	{name: "CascadeConfiguration", kind: metaComplex, props: p("Assign:CascadeType Delete:CascadeType Archive:CascadeType Merge:CascadeType Reparent:CascadeType Share:CascadeType Unshare:CascadeType RollupView:CascadeType")},

	// Enum types (member values as in the SDK's enumerations).
	{name: "OwnershipTypes", kind: metaEnum, members: []string{"None=0", "UserOwned=1", "TeamOwned=2", "BusinessOwned=4", "OrganizationOwned=8", "BusinessParented=16"}},
	{name: "AttributeTypeCode", kind: metaEnum, members: []string{"Boolean", "Customer", "DateTime", "Decimal", "Double", "Integer", "Lookup", "Memo", "Money", "Owner", "PartyList", "Picklist", "State", "Status", "String", "Uniqueidentifier", "CalendarRules", "Virtual", "BigInt", "ManagedProperty", "EntityName"}},
	{name: "AttributeRequiredLevel", kind: metaEnum, members: []string{"None", "SystemRequired", "ApplicationRequired", "Recommended"}},
	{name: "OptionSetType", kind: metaEnum, members: []string{"Picklist", "State", "Status", "Boolean"}},
	{name: "RelationshipType", kind: metaEnum, members: []string{"OneToManyRelationship", "ManyToManyRelationship"}},
	{name: "SecurityTypes", kind: metaEnum, members: []string{"None=0", "Append=1", "ParentChild=2", "Pointer=4", "Inheritance=8"}},
	{name: "CascadeType", kind: metaEnum, members: []string{"NoCascade", "Cascade", "Active", "UserOwned", "RemoveLink", "Restrict"}},
	{name: "AssociatedMenuBehavior", kind: metaEnum, members: []string{"UseCollectionName", "UseLabel", "DoNotDisplay"}},
	{name: "AssociatedMenuGroup", kind: metaEnum, members: []string{"Details", "Sales", "Service", "Marketing"}},
	{name: "EntityKeyIndexStatus", kind: metaEnum, members: []string{"Pending", "InProgress", "Active", "Failed"}},
	{name: "PrivilegeType", kind: metaEnum, members: []string{"None", "Create", "Read", "Write", "Delete", "Assign", "Share", "Append", "AppendTo"}},
	{name: "StringFormat", kind: metaEnum, members: []string{"Email", "Text", "TextArea", "Url", "TickerSymbol", "PhoneticGuide", "VersionNumber", "Phone", "Json", "RichText"}},
	{name: "IntegerFormat", kind: metaEnum, members: []string{"None", "Duration", "TimeZone", "Language", "Locale"}},
	{name: "DateTimeFormat", kind: metaEnum, members: []string{"DateOnly", "DateAndTime"}},
	{name: "ImeMode", kind: metaEnum, members: []string{"Auto", "Inactive", "Active", "Disabled"}},
	{name: "LookupFormat", kind: metaEnum, members: []string{"None", "Connection", "Regarding", "Text"}},

	// Entity types.
	{name: "MetadataBase", abstract: true, props: p("MetadataId:Edm.Guid HasChanged")},
	{name: "EntityMetadata", base: "MetadataBase", props: p(
		"ActivityTypeMask:Edm.Int32 AutoCreateAccessTeams AutoRouteToOwnerQueue " +
			"CanBeInCustomEntityAssociation:" + bmp + " CanBeInManyToMany:" + bmp + " CanBePrimaryEntityInRelationship:" + bmp +
			" CanBeRelatedEntityInRelationship:" + bmp + " CanChangeHierarchicalRelationship:" + bmp + " CanChangeTrackingBeEnabled:" + bmp +
			" CanCreateAttributes:" + bmp + " CanCreateCharts:" + bmp + " CanCreateForms:" + bmp + " CanCreateViews:" + bmp +
			" CanEnableSyncToExternalSearchIndex:" + bmp + " CanModifyAdditionalSettings:" + bmp + " CanTriggerWorkflow ChangeTrackingEnabled" +
			" CollectionSchemaName:" + str + " CreatedOn:" + dto + " DataProviderId:" + guid + " DataSourceId:" + guid +
			" DaysSinceRecordLastModified:" + i32 + " Description:" + lbl + " DisplayCollectionName:" + lbl + " DisplayName:" + lbl +
			" EnforceStateTransitions EntityColor:" + str + " EntityHelpUrl:" + str + " EntityHelpUrlEnabled EntitySetName:" + str +
			" ExternalCollectionName:" + str + " ExternalName:" + str + " HasActivities HasEmailAddresses HasFeedback HasNotes" +
			" IconLargeName:" + str + " IconMediumName:" + str + " IconSmallName:" + str + " IconVectorName:" + str +
			" IntroducedVersion:" + str + " IsActivity IsActivityParty IsAIRUpdated IsArchivalEnabled IsAuditEnabled:" + bmp +
			" IsAvailableOffline IsBPFEntity IsBusinessProcessEnabled IsChildEntity IsConnectionsEnabled:" + bmp +
			" IsCustomEntity IsCustomizable:" + bmp + " IsDocumentManagementEnabled IsDocumentRecommendationsEnabled" +
			" IsDuplicateDetectionEnabled:" + bmp + " IsEnabledForCharts IsEnabledForExternalChannels IsEnabledForTrace IsImportable" +
			" IsInteractionCentricEnabled IsIntersect IsKnowledgeManagementEnabled IsLogicalEntity IsMailMergeEnabled:" + bmp +
			" IsManaged IsMappable:" + bmp + " IsMSTeamsIntegrationEnabled IsOfflineInMobileClient:" + bmp +
			" IsOneNoteIntegrationEnabled IsOptimisticConcurrencyEnabled IsPrivate IsQuickCreateEnabled IsReadingPaneEnabled" +
			" IsReadOnlyInMobileClient:" + bmp + " IsRenameable:" + bmp + " IsRetrieveAuditEnabled IsRetrieveMultipleAuditEnabled" +
			" IsSLAEnabled IsSolutionAware IsStateModelAware IsValidForAdvancedFind IsValidForQueue:" + bmp +
			" IsVisibleInMobile:" + bmp + " IsVisibleInMobileClient:" + bmp + " LogicalCollectionName:" + str + " " + lname +
			" MobileOfflineFilters:" + str + " ModifiedOn:" + dto + " ObjectTypeCode:" + i32 + " OwnerId:" + guid + " OwnerIdType:" + i32 +
			" OwningBusinessUnit:" + guid + " OwnershipType:OwnershipTypes PrimaryIdAttribute:" + str + " PrimaryImageAttribute:" + str +
			" PrimaryNameAttribute:" + str + " Privileges:Collection(SecurityPrivilegeMetadata) RecurrenceBaseEntityLogicalName:" + str +
			" ReportViewName:" + str + " SchemaName:" + str + " SettingOf:" + str + " SyncToExternalSearchIndex TableType:" + str +
			" UsesBusinessDataLabelTable"),
		navs: n("Attributes:[AttributeMetadata] Keys:[EntityKeyMetadata] ManyToManyRelationships:[ManyToManyRelationshipMetadata] ManyToOneRelationships:[OneToManyRelationshipMetadata] OneToManyRelationships:[OneToManyRelationshipMetadata]")},

	{name: "AttributeMetadata", base: "MetadataBase", props: p(
		"AttributeOf:" + str + " AttributeType:AttributeTypeCode AttributeTypeName:AttributeTypeDisplayName AutoNumberFormat:" + str +
			" CanBeSecuredForCreate CanBeSecuredForRead CanBeSecuredForUpdate CanModifyAdditionalSettings:" + bmp +
			" ColumnNumber:" + i32 + " CreatedOn:" + dto + " DeprecatedVersion:" + str + " Description:" + lbl + " DisplayName:" + lbl +
			" EntityLogicalName:" + str + " ExternalName:" + str + " InheritsFrom:" + str + " IntroducedVersion:" + str +
			" IsAuditEnabled:" + bmp + " IsCustomAttribute IsCustomizable:" + bmp + " IsDataSourceSecret IsFilterable" +
			" IsGlobalFilterEnabled:" + bmp + " IsLogical IsManaged IsPrimaryId IsPrimaryName IsRenameable:" + bmp +
			" IsRequiredForForm IsRetrievable IsSearchable IsSecured IsSortableEnabled:" + bmp + " IsValidForAdvancedFind:" + bmp +
			" IsValidForCreate IsValidForForm IsValidForGrid IsValidForRead IsValidForUpdate IsValidODataAttribute" +
			" LinkedAttributeId:" + guid + " " + lname + " ModifiedOn:" + dto +
			" RequiredLevel:AttributeRequiredLevelManagedProperty SchemaName:" + str + " SourceType:" + i32)},
	{name: "StringAttributeMetadata", base: "AttributeMetadata", props: p("MaxLength:Edm.Int32 Format:StringFormat FormatName:StringFormatName DatabaseLength:Edm.Int32 ImeMode:ImeMode IsLocalizable YomiOf:Edm.String FormulaDefinition:Edm.String SourceTypeMask:Edm.Int32")},
	{name: "MemoAttributeMetadata", base: "AttributeMetadata", props: p("MaxLength:Edm.Int32 Format:StringFormat FormatName:StringFormatName ImeMode:ImeMode IsLocalizable")},
	{name: "IntegerAttributeMetadata", base: "AttributeMetadata", props: p("MinValue:Edm.Int32 MaxValue:Edm.Int32 Format:IntegerFormat FormulaDefinition:Edm.String SourceTypeMask:Edm.Int32")},
	{name: "BigIntAttributeMetadata", base: "AttributeMetadata", props: p("MinValue:Edm.Int64 MaxValue:Edm.Int64")},
	{name: "DecimalAttributeMetadata", base: "AttributeMetadata", props: p("MinValue:Edm.Decimal MaxValue:Edm.Decimal Precision:Edm.Int32 ImeMode:ImeMode FormulaDefinition:Edm.String SourceTypeMask:Edm.Int32")},
	{name: "DoubleAttributeMetadata", base: "AttributeMetadata", props: p("MinValue:Edm.Double MaxValue:Edm.Double Precision:Edm.Int32 ImeMode:ImeMode")},
	{name: "MoneyAttributeMetadata", base: "AttributeMetadata", props: p("MinValue:Edm.Double MaxValue:Edm.Double Precision:Edm.Int32 PrecisionSource:Edm.Int32 ImeMode:ImeMode IsBaseCurrency CalculationOf:Edm.String FormulaDefinition:Edm.String SourceTypeMask:Edm.Int32")},
	{name: "BooleanAttributeMetadata", base: "AttributeMetadata", props: p("DefaultValue FormulaDefinition:Edm.String SourceTypeMask:Edm.Int32"),
		navs: n("OptionSet:BooleanOptionSetMetadata GlobalOptionSet:BooleanOptionSetMetadata")},
	{name: "DateTimeAttributeMetadata", base: "AttributeMetadata", props: p("Format:DateTimeFormat DateTimeBehavior:DateTimeBehavior CanChangeDateTimeBehavior:" + bmp + " ImeMode:ImeMode MinSupportedValue:Edm.DateTimeOffset MaxSupportedValue:Edm.DateTimeOffset FormulaDefinition:Edm.String SourceTypeMask:Edm.Int32")},
	{name: "LookupAttributeMetadata", base: "AttributeMetadata", props: p("Targets:Collection(Edm.String) Format:LookupFormat")},
	{name: "EnumAttributeMetadata", base: "AttributeMetadata", abstract: true, props: p("DefaultFormValue:Edm.Int32"),
		navs: n("OptionSet:OptionSetMetadata GlobalOptionSet:OptionSetMetadata")},
	{name: "PicklistAttributeMetadata", base: "EnumAttributeMetadata", props: p("FormulaDefinition:Edm.String SourceTypeMask:Edm.Int32 ParentPicklistLogicalName:Edm.String ChildPicklistLogicalNames:Collection(Edm.String)")},
	{name: "MultiSelectPicklistAttributeMetadata", base: "EnumAttributeMetadata", props: p("FormulaDefinition:Edm.String SourceTypeMask:Edm.Int32 ParentPicklistLogicalName:Edm.String ChildPicklistLogicalNames:Collection(Edm.String)")},
	{name: "StateAttributeMetadata", base: "EnumAttributeMetadata"},
	{name: "StatusAttributeMetadata", base: "EnumAttributeMetadata"},
	{name: "UniqueIdentifierAttributeMetadata", base: "AttributeMetadata"},
	{name: "EntityNameAttributeMetadata", base: "EnumAttributeMetadata", props: p("IsEntityReferenceStored")},
	{name: "FileAttributeMetadata", base: "AttributeMetadata", props: p("MaxSizeInKB:Edm.Int32")},
	{name: "ImageAttributeMetadata", base: "AttributeMetadata", props: p("CanStoreFullImage IsPrimaryImage MaxHeight:Edm.Int16 MaxWidth:Edm.Int16 MaxSizeInKB:Edm.Int32")},

	{name: "OptionSetMetadataBase", base: "MetadataBase", abstract: true, props: p("Description:Label DisplayName:Label ExternalTypeName:Edm.String IntroducedVersion:Edm.String IsCustomizable:" + bmp + " IsCustomOptionSet IsGlobal IsManaged Name:Edm.String OptionSetType:OptionSetType")},
	{name: "OptionSetMetadata", base: "OptionSetMetadataBase", props: p("Options:Collection(OptionMetadata) ParentOptionSetName:Edm.String")},
	{name: "BooleanOptionSetMetadata", base: "OptionSetMetadataBase", props: p("TrueOption:OptionMetadata FalseOption:OptionMetadata")},

	{name: "EntityKeyMetadata", base: "MetadataBase", props: p("DisplayName:Label EntityKeyIndexStatus:EntityKeyIndexStatus EntityLogicalName:Edm.String IntroducedVersion:Edm.String IsCustomizable:" + bmp + " IsManaged KeyAttributes:Collection(Edm.String) LogicalName:Edm.String SchemaName:Edm.String")},

	{name: "RelationshipMetadataBase", base: "MetadataBase", abstract: true, props: p("IntroducedVersion:Edm.String IsCustomizable:" + bmp + " IsCustomRelationship IsManaged IsValidForAdvancedFind RelationshipType:RelationshipType SchemaName:Edm.String SecurityTypes:SecurityTypes")},
	{name: "OneToManyRelationshipMetadata", base: "RelationshipMetadataBase", props: p("AssociatedMenuConfiguration:AssociatedMenuConfiguration CascadeConfiguration:CascadeConfiguration DenormalizedAttributeName:Edm.String EntityKey:Edm.String IsDenormalizedLookup IsHierarchical IsRelationshipAttributeDenormalized ReferencedAttribute:Edm.String ReferencedEntity:Edm.String ReferencedEntityNavigationPropertyName:Edm.String ReferencingAttribute:Edm.String ReferencingEntity:Edm.String ReferencingEntityNavigationPropertyName:Edm.String RelationshipBehavior:Edm.Int32")},
	{name: "ManyToManyRelationshipMetadata", base: "RelationshipMetadataBase", props: p("Entity1AssociatedMenuConfiguration:AssociatedMenuConfiguration Entity1IntersectAttribute:Edm.String Entity1LogicalName:Edm.String Entity1NavigationPropertyName:Edm.String Entity2AssociatedMenuConfiguration:AssociatedMenuConfiguration Entity2IntersectAttribute:Edm.String Entity2LogicalName:Edm.String Entity2NavigationPropertyName:Edm.String IntersectEntityName:Edm.String")},
}

var metaTypesOnce = sync.OnceValue(func() map[string]*metaType {
	m := make(map[string]*metaType, len(metaTypeList))
	for _, t := range metaTypeList {
		m[t.name] = t
	}
	return m
})

// lookupMetaType returns the declared type by its short name
// ("PicklistAttributeMetadata").
func lookupMetaType(name string) (*metaType, bool) {
	t, ok := metaTypesOnce()[name]
	return t, ok
}

// chain returns t and its base types, most derived first.
func (t *metaType) chain() []*metaType {
	var out []*metaType
	for cur := t; cur != nil; {
		out = append(out, cur)
		if cur.base == "" {
			break
		}
		cur, _ = lookupMetaType(cur.base)
	}
	return out
}

// prop returns the structural property of t (or a base type) by name.
func (t *metaType) prop(name string) (metaProp, bool) {
	for _, c := range t.chain() {
		for _, pr := range c.props {
			if pr.name == name {
				return pr, true
			}
		}
	}
	return metaProp{}, false
}

// nav returns the navigation property of t (or a base type) by name.
func (t *metaType) nav(name string) (metaNav, bool) {
	for _, c := range t.chain() {
		for _, nv := range c.navs {
			if nv.name == name {
				return nv, true
			}
		}
	}
	return metaNav{}, false
}

// derivesFrom reports whether t is base or a type derived from it.
func (t *metaType) derivesFrom(base string) bool {
	for _, c := range t.chain() {
		if c.name == base {
			return true
		}
	}
	return false
}

// allProps lists the structural properties of t, base types' first.
func (t *metaType) allProps() []metaProp {
	chain := t.chain()
	var out []metaProp
	for i := len(chain) - 1; i >= 0; i-- {
		out = append(out, chain[i].props...)
	}
	return out
}
