package schema

import "strings"

// ColumnType is the type of a column, named after Dataverse's
// AttributeTypeCode.
type ColumnType uint8

// The column types.
const (
	TypeString              ColumnType = iota + 1 // single line of text
	TypeMemo                                      // multiple lines of text
	TypeInteger                                   // whole number (Edm.Int32)
	TypeBigInt                                    // Edm.Int64
	TypeDecimal                                   // fixed-point decimal
	TypeDouble                                    // floating point
	TypeMoney                                     // currency, 4 decimal places stored
	TypeBoolean                                   // two options
	TypeDateTime                                  // date and time or date only
	TypePicklist                                  // choice
	TypeMultiSelectPicklist                       // choices
	TypeState                                     // statecode
	TypeStatus                                    // statuscode
	TypeLookup                                    // reference to one or more tables
	TypeCustomer                                  // account or contact
	TypeOwner                                     // systemuser or team
	TypeUniqueidentifier                          // GUID
	TypeEntityName                                // logical name of a table (type of a polymorphic lookup)
	TypeFile                                      // file column (FileAttributeMetadata); see files.go
	TypeImage                                     // image column (ImageAttributeMetadata); see files.go
)

var columnTypeNames = [...]string{
	TypeString:              "String",
	TypeMemo:                "Memo",
	TypeInteger:             "Integer",
	TypeBigInt:              "BigInt",
	TypeDecimal:             "Decimal",
	TypeDouble:              "Double",
	TypeMoney:               "Money",
	TypeBoolean:             "Boolean",
	TypeDateTime:            "DateTime",
	TypePicklist:            "Picklist",
	TypeMultiSelectPicklist: "MultiSelectPicklist",
	TypeState:               "State",
	TypeStatus:              "Status",
	TypeLookup:              "Lookup",
	TypeCustomer:            "Customer",
	TypeOwner:               "Owner",
	TypeUniqueidentifier:    "Uniqueidentifier",
	TypeEntityName:          "EntityName",
	TypeFile:                "File",
	TypeImage:               "Image",
}

// columnTypeAliases are the extra spellings a schema file may use.
var columnTypeAliases = map[string]ColumnType{
	"text":        TypeString,
	"int":         TypeInteger,
	"int32":       TypeInteger,
	"int64":       TypeBigInt,
	"float":       TypeDouble,
	"currency":    TypeMoney,
	"bool":        TypeBoolean,
	"twooptions":  TypeBoolean,
	"date":        TypeDateTime,
	"choice":      TypePicklist,
	"optionset":   TypePicklist,
	"choices":     TypeMultiSelectPicklist,
	"multichoice": TypeMultiSelectPicklist,
	"guid":        TypeUniqueidentifier,
	"filetype":    TypeFile,
	"imagetype":   TypeImage,
}

// String returns the AttributeTypeCode name ("String", "Picklist"…).
func (t ColumnType) String() string {
	if int(t) < len(columnTypeNames) && columnTypeNames[t] != "" {
		return columnTypeNames[t]
	}
	return "ColumnType(?)"
}

// ParseColumnType reads a type name as written in a schema file. It accepts
// the AttributeTypeCode names and a few aliases ("choice", "guid"…),
// ignoring case.
func ParseColumnType(s string) (ColumnType, bool) {
	for i, n := range columnTypeNames {
		if n != "" && strings.EqualFold(n, s) {
			return ColumnType(i), true
		}
	}
	t, ok := columnTypeAliases[strings.ToLower(s)]
	return t, ok
}

// IsLookup reports whether values of this type reference rows
// (Lookup, Customer, Owner).
func (t ColumnType) IsLookup() bool {
	return t == TypeLookup || t == TypeCustomer || t == TypeOwner
}

// IsChoice reports whether values are option values of an option set
// (Picklist, State, Status, MultiSelectPicklist).
func (t ColumnType) IsChoice() bool {
	return t == TypePicklist || t == TypeState || t == TypeStatus || t == TypeMultiSelectPicklist
}

// IsNumeric reports whether the type is a number with a range
// (Integer, BigInt, Decimal, Double, Money).
func (t ColumnType) IsNumeric() bool {
	switch t {
	case TypeInteger, TypeBigInt, TypeDecimal, TypeDouble, TypeMoney:
		return true
	}
	return false
}

// IsText reports whether values are strings with a maximum length
// (String, Memo).
func (t ColumnType) IsText() bool { return t == TypeString || t == TypeMemo }

// RequiredLevel is a column's AttributeRequiredLevel.
type RequiredLevel uint8

// The required levels.
const (
	RequiredNone RequiredLevel = iota
	RequiredRecommended
	RequiredApplication
	RequiredSystem
)

var requiredLevelNames = [...]string{
	RequiredNone:        "None",
	RequiredRecommended: "Recommended",
	RequiredApplication: "ApplicationRequired",
	RequiredSystem:      "SystemRequired",
}

// String returns the Dataverse name ("None", "ApplicationRequired"…).
func (r RequiredLevel) String() string {
	if int(r) < len(requiredLevelNames) {
		return requiredLevelNames[r]
	}
	return "RequiredLevel(?)"
}

func parseRequiredLevel(s string) (RequiredLevel, bool) {
	switch strings.ToLower(s) {
	case "", "none":
		return RequiredNone, true
	case "recommended":
		return RequiredRecommended, true
	case "applicationrequired", "required":
		return RequiredApplication, true
	case "systemrequired":
		return RequiredSystem, true
	}
	return 0, false
}

// Ownership is a table's OwnershipType.
type Ownership uint8

// The ownership types.
const (
	OwnershipNone Ownership = iota
	OwnershipUser
	OwnershipOrganization
	OwnershipBusiness
)

var ownershipNames = [...]string{
	OwnershipNone:         "None",
	OwnershipUser:         "UserOwned",
	OwnershipOrganization: "OrganizationOwned",
	OwnershipBusiness:     "BusinessOwned",
}

// String returns the Dataverse name ("UserOwned"…).
func (o Ownership) String() string {
	if int(o) < len(ownershipNames) {
		return ownershipNames[o]
	}
	return "Ownership(?)"
}

func parseOwnership(s string) (Ownership, bool) {
	switch strings.ToLower(s) {
	case "none":
		return OwnershipNone, true
	case "", "userowned", "user":
		return OwnershipUser, true
	case "organizationowned", "organization":
		return OwnershipOrganization, true
	case "businessowned", "business":
		return OwnershipBusiness, true
	}
	return 0, false
}

// DateTimeBehavior is the DateTimeBehavior of a DateTime column.
type DateTimeBehavior uint8

// The date and time behaviours.
const (
	// BehaviorUserLocal stores UTC and converts to the user's time zone for
	// display; the Web API returns Edm.DateTimeOffset in UTC.
	BehaviorUserLocal DateTimeBehavior = iota
	// BehaviorDateOnly stores a calendar date without time zone; the Web
	// API returns Edm.Date ("2024-05-01").
	BehaviorDateOnly
	// BehaviorTimeZoneIndependent stores the value as given, without
	// conversion.
	BehaviorTimeZoneIndependent
)

var behaviorNames = [...]string{
	BehaviorUserLocal:           "UserLocal",
	BehaviorDateOnly:            "DateOnly",
	BehaviorTimeZoneIndependent: "TimeZoneIndependent",
}

// String returns the Dataverse name ("UserLocal"…).
func (b DateTimeBehavior) String() string {
	if int(b) < len(behaviorNames) {
		return behaviorNames[b]
	}
	return "DateTimeBehavior(?)"
}

func parseBehavior(s string) (DateTimeBehavior, bool) {
	switch strings.ToLower(s) {
	case "", "userlocal":
		return BehaviorUserLocal, true
	case "dateonly":
		return BehaviorDateOnly, true
	case "timezoneindependent":
		return BehaviorTimeZoneIndependent, true
	}
	return 0, false
}

// CascadeType is what happens to referencing rows when the referenced row
// is deleted (the Delete entry of a relationship's CascadeConfiguration).
type CascadeType uint8

// The delete cascade behaviours the store implements.
const (
	// CascadeNone leaves referencing rows untouched (NoCascade); used for
	// system lookups such as createdby.
	CascadeNone CascadeType = iota
	// CascadeRemoveLink clears the lookup on referencing rows.
	CascadeRemoveLink
	// CascadeDelete deletes the referencing rows too.
	CascadeDelete
	// CascadeRestrict refuses to delete a row that is still referenced.
	CascadeRestrict
)

var cascadeNames = [...]string{
	CascadeNone:       "NoCascade",
	CascadeRemoveLink: "RemoveLink",
	CascadeDelete:     "Cascade",
	CascadeRestrict:   "Restrict",
}

// String returns the Dataverse name ("RemoveLink"…).
func (c CascadeType) String() string {
	if int(c) < len(cascadeNames) {
		return cascadeNames[c]
	}
	return "CascadeType(?)"
}

func parseCascade(s string) (CascadeType, bool) {
	switch strings.ToLower(s) {
	case "", "nocascade", "none":
		return CascadeNone, true
	case "removelink":
		return CascadeRemoveLink, true
	case "cascade", "delete":
		return CascadeDelete, true
	case "restrict":
		return CascadeRestrict, true
	}
	return 0, false
}

// SystemRole says which emulator-maintained value a column holds. The
// store sets these columns itself; callers cannot write them.
type SystemRole uint8

// The system roles.
const (
	RoleNone SystemRole = iota
	RolePrimaryID
	RoleCreatedOn
	RoleModifiedOn
	RoleCreatedBy
	RoleModifiedBy
	RoleCreatedOnBehalfBy
	RoleModifiedOnBehalfBy
	RoleVersionNumber
	RoleOwnerID
	RoleOwnerIDType
	RoleOwningUser
	RoleOwningTeam
	RoleOwningBusinessUnit
	RoleStateCode
	RoleStatusCode
	RoleLookupType // the EntityName companion of a polymorphic lookup
	roleCount
)
