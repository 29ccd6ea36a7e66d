package webapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/fetchxml"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// FetchXML condition operators: each compiles to a store condition on one
// column with bound values.

// fetchDateOperators maps FetchXML date operators to the shared date
// conditions (dateops.go).
var fetchDateOperators = map[string]string{
	"today": "Today", "yesterday": "Yesterday", "tomorrow": "Tomorrow",
	"last-seven-days": "Last7Days", "next-seven-days": "Next7Days",
	"this-week": "ThisWeek", "last-week": "LastWeek", "next-week": "NextWeek",
	"this-month": "ThisMonth", "last-month": "LastMonth", "next-month": "NextMonth",
	"this-year": "ThisYear", "last-year": "LastYear", "next-year": "NextYear",
	"last-x-hours": "LastXHours", "next-x-hours": "NextXHours", "last-x-days": "LastXDays", "next-x-days": "NextXDays",
	"last-x-weeks": "LastXWeeks", "next-x-weeks": "NextXWeeks", "last-x-months": "LastXMonths", "next-x-months": "NextXMonths",
	"last-x-years": "LastXYears", "next-x-years": "NextXYears",
	"olderthan-x-minutes": "OlderThanXMinutes", "olderthan-x-hours": "OlderThanXHours", "olderthan-x-days": "OlderThanXDays",
	"olderthan-x-weeks": "OlderThanXWeeks", "olderthan-x-months": "OlderThanXMonths", "olderthan-x-years": "OlderThanXYears",
	"older-x-months": "OlderThanXMonths", // the schema's legacy spelling
	"on":             "On", "on-or-after": "OnOrAfter", "on-or-before": "OnOrBefore",
}

// fetchUnsupportedOperators are valid FetchXML operators the emulator
// does not evaluate (fiscal periods, hierarchies, teams, languages).
var fetchUnsupportedOperators = nameSet("eq-userteams", "eq-useroruserteams", "eq-useroruserhierarchy", "eq-useroruserhierarchyandteams",
	"eq-userlanguage", "under", "eq-or-under", "not-under", "above", "eq-or-above",
	"this-fiscal-year", "this-fiscal-period", "next-fiscal-year", "next-fiscal-period", "last-fiscal-year", "last-fiscal-period",
	"last-x-fiscal-years", "last-x-fiscal-periods", "next-x-fiscal-years", "next-x-fiscal-periods",
	"in-fiscal-year", "in-fiscal-period", "in-fiscal-period-and-year", "in-or-before-fiscal-period-and-year", "in-or-after-fiscal-period-and-year")

var fetchCompareOps = map[string]store.Op{
	"eq": store.OpEq, "ne": store.OpNe, "neq": store.OpNe, "gt": store.OpGt, "ge": store.OpGe, "lt": store.OpLt, "le": store.OpLe,
}

func errBadCondition(col *schema.Column, op, need string) *apiError {
	return fetchError(dverr.CodeFetchBadCondition, "Incorrect filter condition or conditions. The '%s' operator on '%s.%s' needs %s.", op, col.Table.LogicalName, col.LogicalName, need)
}

func errUnsupportedOperator(col *schema.Column, op string) *apiError {
	return fetchError(dverr.CodeFetchInvalidOperator, "Unsupported condition operator. The operator '%s' cannot be used with '%s.%s' (%s).", op, col.Table.LogicalName, col.LogicalName, col.Type)
}

// bindOperator compiles one condition on col.
func (fb *fetchBinder) bindOperator(c *fetchxml.Condition, col *schema.Column, scope *fetchScope) (store.Cond, error) {
	op := c.Operator
	// The single value of a one-value operator: the value attribute, or
	// one <value> child.
	single := func() (string, error) {
		switch {
		case c.HasValue && len(c.Values) == 0:
			return c.Value, nil
		case !c.HasValue && len(c.Values) == 1:
			return c.Values[0], nil
		}
		return "", errBadCondition(col, op, "one value (a value attribute)")
	}
	text := col.Type.IsText() || col.Type == schema.TypeEntityName
	if cmp, ok := fetchCompareOps[op]; ok {
		if c.ValueOf != "" {
			other, ok := scope.table.Column(c.ValueOf)
			if !ok {
				return nil, errFetchNoAttribute(scope.table, c.ValueOf)
			}
			if other.EdmType() != col.EdmType() {
				return nil, fetchError(dverr.CodeFetchBadCondition, "Incorrect filter condition or conditions. '%s' and '%s' have different types and cannot be compared.", col.LogicalName, other.LogicalName)
			}
			return store.CompareColumns(col, cmp, other), nil
		}
		s, err := single()
		if err != nil {
			return nil, err
		}
		v, err := fetchValue(col, s)
		if err != nil {
			return nil, err
		}
		return store.Compare(col, cmp, v), nil
	}
	if c.ValueOf != "" {
		return nil, fetchError(dverr.CodeFetchBadCondition, "Incorrect filter condition or conditions. valueof can only be used with eq, ne, gt, ge, lt and le, not '%s'.", op)
	}
	switch op {
	case "null", "not-null":
		if c.HasValue || len(c.Values) > 0 {
			return nil, errBadCondition(col, op, "no value")
		}
		if op == "null" {
			return store.IsNull(col), nil
		}
		return store.NotNull(col), nil
	case "like", "not-like", "begins-with", "not-begin-with", "ends-with", "not-end-with":
		if !text {
			return nil, errUnsupportedOperator(col, op)
		}
		s, err := single()
		if err != nil {
			return nil, err
		}
		pattern := s
		switch op {
		case "begins-with", "not-begin-with":
			pattern = s + "%"
		case "ends-with", "not-end-with":
			pattern = "%" + s
		}
		cond := store.Like(col, pattern)
		if strings.HasPrefix(op, "not-") {
			cond = store.Not(cond)
		}
		return cond, nil
	case "in", "not-in", "between", "not-between":
		if c.HasValue || len(c.Values) == 0 {
			return nil, errBadCondition(col, op, "<value> elements")
		}
		values := make([]any, len(c.Values))
		for i, s := range c.Values {
			v, err := fetchValue(col, s)
			if err != nil {
				return nil, err
			}
			values[i] = v
		}
		switch op {
		case "in":
			return store.In(col, values), nil
		case "not-in":
			return store.Not(store.In(col, values)), nil
		}
		if len(values) != 2 {
			return nil, errBadCondition(col, op, "exactly two <value> elements")
		}
		if op == "between" {
			return store.And(store.Compare(col, store.OpGe, values[0]), store.Compare(col, store.OpLe, values[1])), nil
		}
		return store.Or(store.Compare(col, store.OpLt, values[0]), store.Compare(col, store.OpGt, values[1])), nil
	case "eq-userid", "ne-userid", "eq-businessid", "ne-businessid":
		if !col.IsLookup() && col.Type != schema.TypeUniqueidentifier {
			return nil, errUnsupportedOperator(col, op)
		}
		if c.HasValue || len(c.Values) > 0 {
			return nil, errBadCondition(col, op, "no value")
		}
		ref := store.Ref{Table: "systemuser", ID: fb.p.UserID}
		if strings.Contains(op, "business") {
			ref = store.Ref{Table: "businessunit", ID: fb.p.BusinessUnitID}
		}
		var v any = ref
		if col.Type == schema.TypeUniqueidentifier {
			v = ref.ID
		}
		if strings.HasPrefix(op, "ne-") {
			return store.Compare(col, store.OpNe, v), nil
		}
		return store.Compare(col, store.OpEq, v), nil
	case "contain-values", "not-contain-values":
		if col.Type != schema.TypeMultiSelectPicklist {
			return nil, errUnsupportedOperator(col, op)
		}
		if c.HasValue || len(c.Values) == 0 {
			return nil, errBadCondition(col, op, "<value> elements")
		}
		var any []store.Cond
		for _, s := range c.Values {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return nil, errFetchConversion(col, s, "Input string was not in a correct format.")
			}
			any = append(any, store.ContainsValue(col, n))
		}
		if op == "not-contain-values" {
			return store.Not(store.Or(any...)), nil
		}
		return store.Or(any...), nil
	}
	if name, ok := fetchDateOperators[op]; ok {
		if col.Type != schema.TypeDateTime {
			return nil, errUnsupportedOperator(col, op)
		}
		var n int
		var day time.Time
		switch dateFunctions[name] {
		case dateNoArg:
			if c.HasValue || len(c.Values) > 0 {
				return nil, errBadCondition(col, op, "no value")
			}
		case dateCount:
			s, err := single()
			if err != nil {
				return nil, err
			}
			if n, err = strconv.Atoi(strings.TrimSpace(s)); err != nil || n < 0 || n > 1_000_000 {
				return nil, errFetchConversion(col, s, "The value must be a whole number of units.")
			}
		case dateOnDate:
			s, err := single()
			if err != nil {
				return nil, err
			}
			v, err := fetchValue(col, s)
			if err != nil {
				return nil, err
			}
			day = v.(time.Time)
		}
		return dateCondition(name, col, fb.now, n, day), nil
	}
	if fetchUnsupportedOperators[op] {
		return nil, errNotImplemented("the FetchXML condition operator '" + op + "'")
	}
	return nil, fetchError(dverr.CodeFetchInvalidOperator, "Unsupported condition operator. '%s' is not a FetchXML condition operator.", op)
}

// netTypeNames are the .NET type names Dataverse's conversion errors use.
var netTypeNames = map[schema.ColumnType]string{
	schema.TypeInteger: "System.Int32", schema.TypeBigInt: "System.Int64", schema.TypeDecimal: "System.Decimal",
	schema.TypeMoney: "System.Decimal", schema.TypeDouble: "System.Double", schema.TypeBoolean: "System.Boolean",
	schema.TypeDateTime: "System.DateTime", schema.TypePicklist: "System.Int32", schema.TypeState: "System.Int32",
	schema.TypeStatus: "System.Int32", schema.TypeUniqueidentifier: "System.Guid", schema.TypeLookup: "System.Guid",
	schema.TypeCustomer: "System.Guid", schema.TypeOwner: "System.Guid",
}

// errFetchConversion is the failure to read a condition value as the
// column's type, in the shape of the service's message.
func errFetchConversion(col *schema.Column, value, reason string) *apiError {
	typ := netTypeNames[col.Type]
	if typ == "" {
		typ = "System.String"
	}
	return fetchError(dverr.CodeFetchConversion, "An exception System.FormatException was thrown while trying to convert input value '%s' to attribute '%s.%s'. Expected type of attribute value: %s. Exception raised: %s",
		value, col.Table.LogicalName, col.LogicalName, typ, reason)
}

// fetchDateLayouts are the date and time forms a condition value may take;
// values without a zone are read in UTC, the emulated users' time zone.
var fetchDateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "1/2/2006 3:04:05 PM", "1/2/2006 3:04 PM", "1/2/2006"}

// fetchValue reads a condition value as the store's value for col.
func fetchValue(col *schema.Column, s string) (any, error) {
	trimmed := strings.TrimSpace(s)
	switch col.Type {
	case schema.TypeString, schema.TypeMemo, schema.TypeEntityName:
		return s, nil
	case schema.TypeInteger, schema.TypeBigInt, schema.TypePicklist, schema.TypeState, schema.TypeStatus:
		n, err := strconv.ParseInt(trimmed, 10, 64)
		if err != nil {
			return nil, errFetchConversion(col, s, "Input string was not in a correct format.")
		}
		return n, nil
	case schema.TypeMultiSelectPicklist:
		var out []int64
		for _, part := range strings.Split(trimmed, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				return nil, errFetchConversion(col, s, "Input string was not in a correct format.")
			}
			out = append(out, n)
		}
		return out, nil
	case schema.TypeDecimal, schema.TypeMoney:
		d, err := store.ParseDecimal(trimmed, fractionDigits(trimmed))
		if err != nil {
			return nil, errFetchConversion(col, s, "Input string was not in a correct format.")
		}
		return d, nil
	case schema.TypeDouble:
		f, err := strconv.ParseFloat(trimmed, 64)
		if err != nil {
			return nil, errFetchConversion(col, s, "Input string was not in a correct format.")
		}
		return f, nil
	case schema.TypeBoolean:
		switch strings.ToLower(trimmed) {
		case "1", "true":
			return true, nil
		case "0", "false":
			return false, nil
		}
		return nil, errFetchConversion(col, s, "String was not recognized as a valid Boolean.")
	case schema.TypeDateTime:
		for _, layout := range fetchDateLayouts {
			if t, err := time.Parse(layout, trimmed); err == nil {
				return t.UTC(), nil
			}
		}
		return nil, errFetchConversion(col, s, "String was not recognized as a valid DateTime.")
	case schema.TypeUniqueidentifier, schema.TypeLookup, schema.TypeCustomer, schema.TypeOwner:
		id, err := uuid.Parse(trimmed)
		if err != nil {
			return nil, errFetchConversion(col, s, "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
		}
		if col.Type == schema.TypeUniqueidentifier {
			return id, nil
		}
		return store.Ref{Table: col.Targets[0], ID: id}, nil
	}
	return s, nil
}
