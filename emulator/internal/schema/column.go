package schema

import "strconv"

// Column is one column (attribute) of a table.
type Column struct {
	// Table is the table the column belongs to.
	Table *Table
	// Ordinal is the column's position in Table.Columns, so that a row
	// being written can hold its values in a slice rather than a map.
	Ordinal int
	// LogicalName is the lowercase name used in the Web API ("firstname").
	LogicalName string
	// SchemaName is the Pascal-cased name ("FirstName").
	SchemaName string
	// DisplayName and Description are the column's labels.
	DisplayName, Description string
	// Type is the column type.
	Type ColumnType
	// RequiredLevel is the AttributeRequiredLevel.
	RequiredLevel RequiredLevel

	// MaxLength is the maximum number of characters of a String or Memo
	// value.
	MaxLength int
	// Precision is the number of digits after the decimal point of a
	// Decimal, Double or Money value. Money is stored with
	// [MoneyStorageScale] digits whatever its precision.
	Precision int
	// MinValue and MaxValue bound numeric values. For BigInt and Integer
	// they are exact; for Decimal and Money they are the limits as
	// written in the definition.
	MinValue, MaxValue float64

	// Behavior is the DateTimeBehavior of a DateTime column, and DateOnly
	// its Format (DateOnly or DateAndTime).
	Behavior DateTimeBehavior
	DateOnly bool

	// OptionSet holds the options of a Picklist, MultiSelectPicklist,
	// State, Status or Boolean column.
	OptionSet *OptionSet
	// Default is the value a new row gets when the caller gives none
	// (choices and booleans); nil for no default.
	Default *int64

	// Targets are the logical names of the tables a lookup may reference,
	// in definition order.
	Targets []string
	// TypeColumn is the logical name of the EntityName column that records
	// the target table of a polymorphic lookup (owneridtype,
	// parentcustomeridtype, regardingobjecttypecode); empty otherwise.
	TypeColumn string

	// ValidForCreate, ValidForUpdate and ValidForRead say whether callers
	// may set the column on create, on update, and read it. Values sent
	// for a column that is not valid for the operation are ignored, as
	// Dataverse ignores them.
	ValidForCreate, ValidForUpdate, ValidForRead bool
	// Internal columns are kept by the store but are not Web API
	// properties (the EntityName companions of polymorphic lookups).
	Internal bool
	// Role says which value the store maintains in the column; RoleNone
	// for ordinary columns.
	Role SystemRole
	// Formula, when set, makes the column computed on every write.
	Formula *Formula
	// File holds the limits of a File or Image column; nil otherwise.
	File *FileLimits

	property string
	targets  []*Table
}

// MoneyStorageScale is the number of decimal places Dataverse stores and
// returns for money values ("80000.0000"), whatever the column's
// precision.
const MoneyStorageScale = 4

// Formula computes a column from other columns of the same row.
type Formula struct {
	// Kind is the computation; "fullname" joins the non-empty values of
	// Columns with single spaces, as contact.fullname and
	// systemuser.fullname are built from firstname and lastname.
	Kind string
	// Columns are the source columns, in order.
	Columns []string
}

// FormulaFullName is the Kind of a full-name formula.
const FormulaFullName = "fullname"

// PropertyName returns the Web API property name of the column: the
// logical name, or `_<name>_value` for a lookup.
func (c *Column) PropertyName() string { return c.property }

// IsLookup reports whether the column references rows (Lookup, Customer
// or Owner).
func (c *Column) IsLookup() bool { return c.Type.IsLookup() }

// IsPolymorphic reports whether the lookup may reference more than one
// table; such a lookup records its target in [Column.TypeColumn].
func (c *Column) IsPolymorphic() bool { return c.Type.IsLookup() && len(c.Targets) > 1 }

// TargetTables returns the tables a lookup may reference, in definition
// order.
func (c *Column) TargetTables() []*Table { return c.targets }

// Scale returns the number of decimal places a Decimal or Money value is
// stored and serialised with.
func (c *Column) Scale() int {
	switch c.Type {
	case TypeMoney:
		return MoneyStorageScale
	case TypeDecimal:
		return c.Precision
	}
	return 0
}

// EdmType returns the OData primitive type of the column's property
// ("Edm.String", "Edm.Guid"…). Lookups are Edm.Guid (their `_x_value`
// property); a File column's file id is Edm.Guid [unverified], an Image
// column's thumbnail Edm.Binary.
func (c *Column) EdmType() string {
	switch c.Type {
	case TypeString, TypeMemo, TypeEntityName, TypeMultiSelectPicklist:
		return "Edm.String"
	case TypeInteger, TypePicklist, TypeState, TypeStatus:
		return "Edm.Int32"
	case TypeBigInt:
		return "Edm.Int64"
	case TypeDecimal, TypeMoney:
		return "Edm.Decimal"
	case TypeDouble:
		return "Edm.Double"
	case TypeBoolean:
		return "Edm.Boolean"
	case TypeDateTime:
		if c.Behavior == BehaviorDateOnly {
			return "Edm.Date"
		}
		return "Edm.DateTimeOffset"
	case TypeLookup, TypeCustomer, TypeOwner, TypeUniqueidentifier, TypeFile:
		return "Edm.Guid"
	case TypeImage:
		return "Edm.Binary"
	}
	return "Edm.String"
}

// String returns "<table>.<column>".
func (c *Column) String() string {
	if c.Table == nil {
		return c.LogicalName
	}
	return c.Table.LogicalName + "." + c.LogicalName
}

// OptionSet is the set of options of a choice, status, state or boolean
// column.
type OptionSet struct {
	// Name is the option set's name (the global choice name, or
	// "<table>_<column>" for a local one).
	Name string
	// Options are the options in definition order.
	Options []Option
	// Global marks a global choice (declared in the definition's
	// optionSets and shared by the columns that name it).
	Global bool
	// DisplayName and Description are a global choice's labels.
	DisplayName, Description string

	byValue map[int]int
}

// Option is one option of an option set.
type Option struct {
	// Value is the integer stored and sent on the wire.
	Value int
	// Label is the user-facing label (the formatted value).
	Label string
	// State is, for a status option, the statecode it belongs to; -1
	// otherwise.
	State int
	// DefaultStatus is, for a state option, the statuscode a row gets when
	// the state is set without a status; -1 otherwise.
	DefaultStatus int
	// Color is the option's colour ("#0000ff"), empty for none.
	Color string
	// Description is the option's description label.
	Description string
}

// Option returns the option with the given value.
func (s *OptionSet) Option(value int) (Option, bool) {
	if s == nil {
		return Option{}, false
	}
	i, ok := s.byValue[value]
	if !ok {
		return Option{}, false
	}
	return s.Options[i], true
}

// Label returns the label of an option value, or the value in digits
// when the option is unknown.
func (s *OptionSet) Label(value int) string {
	if o, ok := s.Option(value); ok {
		return o.Label
	}
	return strconv.Itoa(value)
}

func (s *OptionSet) index() {
	s.byValue = make(map[int]int, len(s.Options))
	for i, o := range s.Options {
		s.byValue[o.Value] = i
	}
}
