package schema

import (
	"math"
	"regexp"
	"strings"
)

// systemColumnNames are the columns the compiler adds itself; a definition
// may not declare them.
var systemColumnNames = map[string]SystemRole{
	"createdon":          RoleCreatedOn,
	"modifiedon":         RoleModifiedOn,
	"createdby":          RoleCreatedBy,
	"modifiedby":         RoleModifiedBy,
	"createdonbehalfby":  RoleCreatedOnBehalfBy,
	"modifiedonbehalfby": RoleModifiedOnBehalfBy,
	"versionnumber":      RoleVersionNumber,
	"ownerid":            RoleOwnerID,
	"owneridtype":        RoleOwnerIDType,
	"owninguser":         RoleOwningUser,
	"owningteam":         RoleOwningTeam,
	"owningbusinessunit": RoleOwningBusinessUnit,
}

// Dataverse's default numeric limits.
const (
	maxInt32          = math.MaxInt32
	minInt32          = math.MinInt32
	defaultDecimalMax = 100000000000
	defaultDoubleMax  = 100000000000
	moneyMax          = 922337203685477
	maxStringLength   = 4000
	maxMemoLength     = 1048576
)

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func (c *compiler) columns(t *Table, d *TableDefinition) {
	pk := orDefault(d.PrimaryIDColumn, t.LogicalName+"id")
	declaresPK := false
	for i := range d.Columns {
		if d.Columns[i].LogicalName == pk {
			declaresPK = true
		}
	}
	if !declaresPK {
		c.addColumn(t, &Column{
			LogicalName: pk, SchemaName: t.SchemaName + "Id", DisplayName: t.DisplayName,
			Description: "Unique identifier of the " + strings.ToLower(t.DisplayName) + ".",
			Type:        TypeUniqueidentifier, RequiredLevel: RequiredSystem,
			ValidForCreate: true, ValidForRead: true, Role: RolePrimaryID,
		})
	}
	hasState := false
	for i := range d.Columns {
		cd := &d.Columns[i]
		if _, reserved := systemColumnNames[cd.LogicalName]; reserved {
			c.errorf("table %q: column %q is maintained by the emulator and added to every table; remove it from the definition", t.LogicalName, cd.LogicalName)
			continue
		}
		col := c.column(t, cd)
		if col == nil {
			continue
		}
		switch {
		case col.LogicalName == pk:
			if col.Type != TypeUniqueidentifier {
				c.errorf("table %q: primary key column %q must be of type Uniqueidentifier", t.LogicalName, pk)
			}
			col.Role, col.ValidForUpdate, col.RequiredLevel = RolePrimaryID, false, RequiredSystem
		case col.LogicalName == "statecode":
			hasState = true
			if col.Type != TypeState {
				c.errorf("table %q: column statecode must be of type State", t.LogicalName)
			}
			col.Role = RoleStateCode
		case col.LogicalName == "statuscode":
			if col.Type != TypeStatus {
				c.errorf("table %q: column statuscode must be of type Status", t.LogicalName)
			}
			col.Role = RoleStatusCode
		case col.Type == TypeState || col.Type == TypeStatus:
			c.errorf("table %q: column %q: only statecode and statuscode may be of type %s", t.LogicalName, col.LogicalName, col.Type)
		}
		c.addColumn(t, col)
		c.fileCompanions(t, col)
	}
	if hasState != (t.columns["statuscode"] != nil) {
		c.errorf("table %q: statecode and statuscode must be defined together", t.LogicalName)
	}
	if !hasState && boolOr(d.StateColumns, true) {
		c.standardStateColumns(t)
	}
	c.systemColumns(t)
	if t.roles[RolePrimaryID] == nil {
		return
	}
	t.primaryID = t.roles[RolePrimaryID]
	if d.PrimaryNameColumn != "" {
		pn, ok := t.columns[d.PrimaryNameColumn]
		switch {
		case !ok:
			c.errorf("table %q: primaryNameColumn %q is not a column of the table", t.LogicalName, d.PrimaryNameColumn)
		case pn.Type != TypeString:
			c.errorf("table %q: primaryNameColumn %q must be of type String", t.LogicalName, d.PrimaryNameColumn)
		default:
			t.primaryName = pn
		}
	}
}

// column compiles one declared column; nil when it is unusable.
func (c *compiler) column(t *Table, d *ColumnDefinition) *Column {
	where := func() string { return "table " + quote(t.LogicalName) + ": column " + quote(d.LogicalName) }
	if !logicalNamePattern.MatchString(d.LogicalName) {
		c.errorf("%s: logicalName must be 1-64 lowercase letters, digits or underscores, starting with a letter", where())
		return nil
	}
	typ, ok := ParseColumnType(d.Type)
	if !ok {
		c.errorf("%s: type %q is not a column type (String, Memo, Integer, BigInt, Decimal, Double, Money, Boolean, DateTime, Picklist, MultiSelectPicklist, State, Status, Lookup, Customer, Owner, Uniqueidentifier, File, Image)", where(), d.Type)
		return nil
	}
	req, ok := parseRequiredLevel(d.RequiredLevel)
	if !ok {
		c.errorf("%s: requiredLevel %q is not one of None, Recommended, ApplicationRequired, SystemRequired", where(), d.RequiredLevel)
	}
	col := &Column{
		LogicalName:   d.LogicalName,
		SchemaName:    orDefault(d.SchemaName, d.LogicalName),
		DisplayName:   d.DisplayName,
		Description:   d.Description,
		Type:          typ,
		RequiredLevel: req,
		Targets:       d.Targets,
		TypeColumn:    d.TypeColumn,
		Default:       d.DefaultValue,
	}
	col.DisplayName = orDefault(col.DisplayName, col.SchemaName)
	writable := d.Formula == nil && typ != TypeEntityName
	col.ValidForCreate = boolOr(d.ValidForCreate, writable)
	col.ValidForUpdate = boolOr(d.ValidForUpdate, writable)
	col.ValidForRead = boolOr(d.ValidForRead, true)
	if d.Formula != nil {
		if d.Formula.Kind != FormulaFullName || len(d.Formula.Columns) == 0 {
			c.errorf("%s: formula kind must be %q with at least one column", where(), FormulaFullName)
		} else if typ != TypeString {
			c.errorf("%s: a %s formula needs a String column", where(), FormulaFullName)
		}
		col.Formula = &Formula{Kind: d.Formula.Kind, Columns: d.Formula.Columns}
	}

	if d.MaxLength != 0 && !typ.IsText() {
		c.errorf("%s: maxLength applies only to String and Memo columns", where())
	}
	if d.Precision != nil && typ != TypeDecimal && typ != TypeDouble && typ != TypeMoney {
		c.errorf("%s: precision applies only to Decimal, Double and Money columns", where())
	}
	if (d.MinValue != nil || d.MaxValue != nil) && !typ.IsNumeric() {
		c.errorf("%s: minValue and maxValue apply only to numeric columns", where())
	}
	if len(d.Options) > 0 && !typ.IsChoice() {
		c.errorf("%s: options apply only to Picklist, MultiSelectPicklist, State and Status columns", where())
	}
	if len(d.Targets) > 0 && !typ.IsLookup() {
		c.errorf("%s: targets apply only to Lookup, Customer and Owner columns", where())
	}
	if (d.DateTimeBehavior != "" || d.Format != "") && typ != TypeDateTime {
		c.errorf("%s: dateTimeBehavior and format apply only to DateTime columns", where())
	}

	switch typ {
	case TypeString:
		col.MaxLength = c.length(where, d.MaxLength, 100, maxStringLength)
	case TypeMemo:
		col.MaxLength = c.length(where, d.MaxLength, 2000, maxMemoLength)
	case TypeInteger:
		col.MinValue, col.MaxValue = c.numericRange(where, d, minInt32, maxInt32, minInt32, maxInt32)
	case TypeBigInt:
		col.MinValue, col.MaxValue = c.numericRange(where, d, math.MinInt64, math.MaxInt64, math.MinInt64, math.MaxInt64)
	case TypeDecimal:
		col.Precision = c.precision(where, d.Precision, 2, 10)
		col.MinValue, col.MaxValue = c.numericRange(where, d, -defaultDecimalMax, defaultDecimalMax, -defaultDecimalMax, defaultDecimalMax)
	case TypeDouble:
		col.Precision = c.precision(where, d.Precision, 2, 5)
		col.MinValue, col.MaxValue = c.numericRange(where, d, -defaultDoubleMax, defaultDoubleMax, -defaultDoubleMax, defaultDoubleMax)
	case TypeMoney:
		col.Precision = c.precision(where, d.Precision, 2, 4)
		col.MinValue, col.MaxValue = c.numericRange(where, d, -moneyMax, moneyMax, -moneyMax, moneyMax)
	case TypeDateTime:
		b, ok := parseBehavior(d.DateTimeBehavior)
		if !ok {
			c.errorf("%s: dateTimeBehavior %q is not one of UserLocal, DateOnly, TimeZoneIndependent", where(), d.DateTimeBehavior)
		}
		col.Behavior = b
		switch strings.ToLower(d.Format) {
		case "", "dateandtime":
			col.DateOnly = b == BehaviorDateOnly
		case "dateonly":
			col.DateOnly = true
		default:
			c.errorf("%s: format %q is not one of DateAndTime, DateOnly", where(), d.Format)
		}
	case TypeBoolean:
		col.OptionSet = &OptionSet{
			Name: orDefault(d.OptionSetName, t.LogicalName+"_"+d.LogicalName),
			Options: []Option{
				{Value: 0, Label: orDefault(d.FalseLabel, "No"), State: -1, DefaultStatus: -1},
				{Value: 1, Label: orDefault(d.TrueLabel, "Yes"), State: -1, DefaultStatus: -1},
			},
		}
		col.OptionSet.index()
		if col.Default == nil {
			zero := int64(0)
			col.Default = &zero
		} else if *col.Default != 0 && *col.Default != 1 {
			c.errorf("%s: defaultValue of a Boolean column must be 0 or 1", where())
		}
	case TypePicklist, TypeMultiSelectPicklist, TypeState, TypeStatus:
		col.OptionSet = c.optionSet(where, t, d, typ)
		if col.Default != nil {
			if _, ok := col.OptionSet.Option(int(*col.Default)); !ok {
				c.errorf("%s: defaultValue %d is not one of the options", where(), *col.Default)
			}
		}
	case TypeCustomer:
		if len(col.Targets) == 0 {
			col.Targets = []string{"account", "contact"}
		}
	case TypeOwner:
		if len(col.Targets) == 0 {
			col.Targets = []string{"systemuser", "team"}
		}
	case TypeLookup:
		if len(col.Targets) == 0 {
			c.errorf("%s: a Lookup column needs targets (the tables it references)", where())
		}
	case TypeEntityName:
		col.Internal = true
	case TypeFile, TypeImage:
		c.fileColumn(where, col, d)
	}
	if (d.MaxSizeInKB != 0 || d.CanStoreFullImage != nil) && typ != TypeFile && typ != TypeImage {
		c.errorf("%s: maxSizeInKB and canStoreFullImage apply only to File and Image columns", where())
	}
	if typ.IsLookup() && len(col.Targets) > 1 {
		col.TypeColumn = orDefault(col.TypeColumn, col.LogicalName+"type")
	} else if d.TypeColumn != "" {
		c.errorf("%s: typeColumn applies only to lookups with more than one target", where())
	}
	return col
}

func quote(s string) string { return `"` + s + `"` }

func (c *compiler) length(where func() string, n, def, max int) int {
	if n == 0 {
		return def
	}
	if n < 1 || n > max {
		c.errorf("%s: maxLength %d must be between 1 and %d", where(), n, max)
		return def
	}
	return n
}

func (c *compiler) precision(where func() string, p *int, def, max int) int {
	if p == nil {
		return def
	}
	if *p < 0 || *p > max {
		c.errorf("%s: precision %d must be between 0 and %d", where(), *p, max)
		return def
	}
	return *p
}

func (c *compiler) numericRange(where func() string, d *ColumnDefinition, defMin, defMax, lo, hi float64) (float64, float64) {
	minV, maxV := defMin, defMax
	if d.MinValue != nil {
		minV = *d.MinValue
	}
	if d.MaxValue != nil {
		maxV = *d.MaxValue
	}
	if minV < lo || maxV > hi {
		c.errorf("%s: minValue and maxValue must lie between %g and %g", where(), lo, hi)
		return defMin, defMax
	}
	if minV > maxV {
		c.errorf("%s: minValue %g is greater than maxValue %g", where(), minV, maxV)
		return defMin, defMax
	}
	return minV, maxV
}

func (c *compiler) optionSet(where func() string, t *Table, d *ColumnDefinition, typ ColumnType) *OptionSet {
	if global, ok := c.s.byOptionSet[d.OptionSetName]; ok && d.OptionSetName != "" {
		switch {
		case len(d.Options) > 0:
			c.errorf("%s: optionSetName %q is a global choice; remove the column's options (they come from the global choice)", where(), d.OptionSetName)
		case typ != TypePicklist && typ != TypeMultiSelectPicklist:
			c.errorf("%s: only Picklist and MultiSelectPicklist columns may use the global choice %q", where(), d.OptionSetName)
		}
		return global
	}
	if len(d.Options) == 0 {
		c.errorf("%s: a %s column needs options (or an optionSetName naming a global choice)", where(), typ)
	}
	set := c.options(where, d.Options, typ)
	set.Name = orDefault(d.OptionSetName, t.LogicalName+"_"+d.LogicalName)
	return set
}

// options compiles the options of a choice column or a global choice.
func (c *compiler) options(where func() string, defs []OptionDefinition, typ ColumnType) *OptionSet {
	set := &OptionSet{}
	seen := map[int]bool{}
	for _, o := range defs {
		if seen[o.Value] {
			c.errorf("%s: option value %d appears twice", where(), o.Value)
			continue
		}
		seen[o.Value] = true
		if o.Label == "" {
			c.errorf("%s: option %d needs a label", where(), o.Value)
		}
		if o.Color != "" && !colorPattern.MatchString(o.Color) {
			c.errorf("%s: option %d: color %q must be #rrggbb", where(), o.Value, o.Color)
		}
		opt := Option{Value: o.Value, Label: o.Label, State: -1, DefaultStatus: -1, Color: o.Color, Description: o.Description}
		switch typ {
		case TypeStatus:
			if o.State == nil {
				c.errorf("%s: status option %d needs the state it belongs to", where(), o.Value)
			} else {
				opt.State = *o.State
			}
		case TypeState:
			if o.DefaultStatus == nil {
				c.errorf("%s: state option %d needs its defaultStatus", where(), o.Value)
			} else {
				opt.DefaultStatus = *o.DefaultStatus
			}
		default:
			if o.State != nil || o.DefaultStatus != nil {
				c.errorf("%s: state and defaultStatus apply only to State and Status options", where())
			}
		}
		set.Options = append(set.Options, opt)
	}
	set.index()
	return set
}

// colorPattern is the form of an option colour.
var colorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// standardStateColumns adds the Active/Inactive statecode and statuscode
// every custom table gets.
func (c *compiler) standardStateColumns(t *Table) {
	state := &OptionSet{Name: t.LogicalName + "_statecode", Options: []Option{
		{Value: 0, Label: "Active", State: -1, DefaultStatus: 1},
		{Value: 1, Label: "Inactive", State: -1, DefaultStatus: 2},
	}}
	status := &OptionSet{Name: t.LogicalName + "_statuscode", Options: []Option{
		{Value: 1, Label: "Active", State: 0, DefaultStatus: -1},
		{Value: 2, Label: "Inactive", State: 1, DefaultStatus: -1},
	}}
	state.index()
	status.index()
	c.addColumn(t, &Column{LogicalName: "statecode", SchemaName: "StateCode", DisplayName: "Status",
		Type: TypeState, RequiredLevel: RequiredSystem, OptionSet: state,
		ValidForCreate: true, ValidForUpdate: true, ValidForRead: true, Role: RoleStateCode})
	c.addColumn(t, &Column{LogicalName: "statuscode", SchemaName: "StatusCode", DisplayName: "Status Reason",
		Type: TypeStatus, OptionSet: status,
		ValidForCreate: true, ValidForUpdate: true, ValidForRead: true, Role: RoleStatusCode})
}

// systemColumns adds the audit, version and ownership columns.
func (c *compiler) systemColumns(t *Table) {
	readOnly := func(name, schemaName, display string, typ ColumnType, role SystemRole, targets ...string) *Column {
		return &Column{LogicalName: name, SchemaName: schemaName, DisplayName: display, Type: typ,
			ValidForRead: true, Role: role, Targets: targets}
	}
	c.addColumn(t, readOnly("createdon", "CreatedOn", "Created On", TypeDateTime, RoleCreatedOn))
	c.addColumn(t, readOnly("modifiedon", "ModifiedOn", "Modified On", TypeDateTime, RoleModifiedOn))
	c.addColumn(t, readOnly("createdby", "CreatedBy", "Created By", TypeLookup, RoleCreatedBy, "systemuser"))
	c.addColumn(t, readOnly("modifiedby", "ModifiedBy", "Modified By", TypeLookup, RoleModifiedBy, "systemuser"))
	c.addColumn(t, readOnly("createdonbehalfby", "CreatedOnBehalfBy", "Created By (Delegate)", TypeLookup, RoleCreatedOnBehalfBy, "systemuser"))
	c.addColumn(t, readOnly("modifiedonbehalfby", "ModifiedOnBehalfBy", "Modified By (Delegate)", TypeLookup, RoleModifiedOnBehalfBy, "systemuser"))
	version := readOnly("versionnumber", "VersionNumber", "Version Number", TypeBigInt, RoleVersionNumber)
	version.MinValue, version.MaxValue = math.MinInt64, math.MaxInt64
	c.addColumn(t, version)
	if t.Ownership != OwnershipUser {
		return
	}
	c.addColumn(t, &Column{LogicalName: "ownerid", SchemaName: "OwnerId", DisplayName: "Owner",
		Type: TypeOwner, RequiredLevel: RequiredSystem, Targets: []string{"systemuser", "team"},
		TypeColumn: "owneridtype", ValidForCreate: true, ValidForUpdate: true, ValidForRead: true, Role: RoleOwnerID})
	c.addColumn(t, readOnly("owningbusinessunit", "OwningBusinessUnit", "Owning Business Unit", TypeLookup, RoleOwningBusinessUnit, "businessunit"))
	c.addColumn(t, readOnly("owningteam", "OwningTeam", "Owning Team", TypeLookup, RoleOwningTeam, "team"))
	c.addColumn(t, readOnly("owninguser", "OwningUser", "Owning User", TypeLookup, RoleOwningUser, "systemuser"))
}

// resolveColumns links lookup targets, adds the EntityName companions of
// polymorphic lookups and compiles alternate keys and formulas.
func (c *compiler) resolveColumns(t *Table) {
	for _, col := range t.Columns {
		if !col.IsLookup() {
			continue
		}
		for _, name := range col.Targets {
			target, ok := c.s.byLogical[name]
			if !ok {
				c.errorf("table %q: column %q: target %q is not a table", t.LogicalName, col.LogicalName, name)
				continue
			}
			col.targets = append(col.targets, target)
		}
		if col.TypeColumn == "" {
			continue
		}
		if existing, ok := t.columns[col.TypeColumn]; ok {
			if existing.Type != TypeEntityName {
				c.errorf("table %q: column %q: typeColumn %q exists and is not of type EntityName", t.LogicalName, col.LogicalName, col.TypeColumn)
			}
			existing.Role, existing.Internal = RoleLookupType, true
			continue
		}
		role := RoleLookupType
		if col.Role == RoleOwnerID {
			role = RoleOwnerIDType
		}
		c.addColumn(t, &Column{LogicalName: col.TypeColumn, SchemaName: col.SchemaName + "Type",
			Type: TypeEntityName, ValidForRead: true, Internal: true, Role: role})
	}
	for _, col := range t.Columns {
		if col.Formula == nil {
			continue
		}
		for _, src := range col.Formula.Columns {
			sc, ok := t.columns[src]
			if !ok || !sc.Type.IsText() {
				c.errorf("table %q: column %q: formula column %q is not a text column of the table", t.LogicalName, col.LogicalName, src)
			}
		}
	}
	d := c.defs[t]
	for _, kd := range d.Keys {
		c.key(t, kd)
	}
}

func (c *compiler) key(t *Table, kd KeyDefinition) {
	if !identifierPattern.MatchString(kd.SchemaName) {
		c.errorf("table %q: key %q: schemaName must be letters, digits and underscores", t.LogicalName, kd.SchemaName)
		return
	}
	if len(kd.Columns) == 0 || len(kd.Columns) > 16 {
		c.errorf("table %q: key %q: a key has between 1 and 16 columns", t.LogicalName, kd.SchemaName)
		return
	}
	for _, other := range t.Keys {
		if other.SchemaName == kd.SchemaName {
			c.errorf("table %q: key %q is defined twice", t.LogicalName, kd.SchemaName)
			return
		}
	}
	k := &AlternateKey{SchemaName: kd.SchemaName}
	seen := map[string]bool{}
	for _, name := range kd.Columns {
		col, ok := t.columns[name]
		if !ok {
			c.errorf("table %q: key %q: column %q is not a column of the table", t.LogicalName, kd.SchemaName, name)
			return
		}
		if seen[name] {
			c.errorf("table %q: key %q: column %q appears twice", t.LogicalName, kd.SchemaName, name)
			return
		}
		seen[name] = true
		switch col.Type {
		case TypeString, TypeInteger, TypeBigInt, TypeDecimal, TypeDateTime, TypeLookup, TypeCustomer, TypeOwner, TypePicklist, TypeUniqueidentifier:
		default:
			c.errorf("table %q: key %q: column %q of type %s cannot be part of a key (String, Integer, BigInt, Decimal, DateTime, Lookup, Picklist and Uniqueidentifier can)", t.LogicalName, kd.SchemaName, name, col.Type)
			return
		}
		if col.Role != RoleNone && col.Role != RoleOwnerID {
			c.errorf("table %q: key %q: column %q is maintained by the emulator and cannot be part of a key", t.LogicalName, kd.SchemaName, name)
			return
		}
		k.Columns = append(k.Columns, col)
	}
	t.Keys = append(t.Keys, k)
}
