package webapi

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// bindQueryFunction binds the Dataverse query functions
// (Microsoft.Dynamics.CRM.In, Between, LastXDays…). Dates are evaluated
// in UTC, the emulated users' time zone.
func (b *binder) bindQueryFunction(f *odata.QueryFunctionExpr) (store.Cond, error) {
	if f.Namespace != odata.QueryFunctionNamespace {
		return nil, errFilterUnsupported("The function '%s' is not supported.", f.FullName())
	}
	params, known := odata.QueryFunctionParams[f.Name]
	if !known {
		return nil, errFilterUnsupported("The function '%s' is not supported.", f.FullName())
	}
	for _, p := range f.Params {
		found := false
		for _, name := range params {
			found = found || name == p.Name
		}
		if !found {
			return nil, errFilterUnsupported("The function '%s' has no parameter '%s'.", f.FullName(), p.Name)
		}
	}
	p, err := b.columnByName(f)
	if err != nil {
		return nil, err
	}
	col := p.col
	now := b.req.h.store.Now()
	var c store.Cond
	switch f.Name {
	case "In", "NotIn", "Between", "NotBetween", "ContainValues", "DoesNotContainValues":
		values, err := b.arrayParam(f, col)
		if err != nil {
			return nil, err
		}
		switch f.Name {
		case "In":
			c = store.In(col, values)
		case "NotIn":
			c = store.Not(store.In(col, values))
		case "Between", "NotBetween":
			if len(values) != 2 {
				return nil, errFilterUnsupported("The function '%s' needs exactly two values in PropertyValues.", f.FullName())
			}
			if f.Name == "Between" {
				c = store.And(store.Compare(col, store.OpGe, values[0]), store.Compare(col, store.OpLe, values[1]))
			} else {
				c = store.Or(store.Compare(col, store.OpLt, values[0]), store.Compare(col, store.OpGt, values[1]))
			}
		default:
			if col.Type != schema.TypeMultiSelectPicklist {
				return nil, errFilterUnsupported("The function '%s' applies only to multi-select choice columns.", f.FullName())
			}
			var any []store.Cond
			for _, v := range values {
				any = append(any, store.ContainsValue(col, v.(int64)))
			}
			c = store.Or(any...)
			if f.Name == "DoesNotContainValues" {
				c = store.Not(c)
			}
		}
	case "EqualUserId", "NotEqualUserId", "EqualBusinessId", "NotEqualBusinessId":
		ref := store.Ref{Table: "systemuser", ID: b.req.p.UserID}
		if strings.Contains(f.Name, "Business") {
			ref = store.Ref{Table: "businessunit", ID: b.req.p.BusinessUnitID}
		}
		op := store.OpEq
		if strings.HasPrefix(f.Name, "Not") {
			op = store.OpNe
		}
		switch {
		case col == col.Table.PrimaryID() && col.Table.LogicalName == ref.Table:
			// systemuserid of systemuser, businessunitid of businessunit.
			c = store.Compare(col, op, ref.ID)
		case col.IsLookup() && slices.Contains(col.Targets, ref.Table):
			c = store.Compare(col, op, ref)
		default:
			return nil, errFilterUnsupported("The function '%s' applies only to lookup columns that reference a %s, or to the primary key of %s, not to '%s'.",
				f.FullName(), ref.Table, ref.Table, col.LogicalName)
		}
	default:
		kind, isDate := dateFunctions[f.Name]
		if !isDate {
			return nil, errFilterUnsupported("The emulator does not implement the query function '%s' yet.", f.FullName())
		}
		if col.Type != schema.TypeDateTime {
			return nil, errFilterUnsupported("The function '%s' applies only to date and time columns.", f.FullName())
		}
		var n int
		var day time.Time
		switch kind {
		case dateOnDate:
			v, ok := f.Param("PropertyValue")
			if ok {
				if v, err = b.operand(v); err != nil {
					return nil, err
				}
				day, ok = timeValue(col, v)
			}
			if !ok {
				return nil, errFilterUnsupported("The function '%s' needs a date in PropertyValue.", f.FullName())
			}
		case dateCount:
			if n, err = b.countParam(f); err != nil {
				return nil, err
			}
		}
		c = dateCondition(f.Name, col, now, n, day)
	}
	return p.wrap(c), nil
}

// countParam reads PropertyValue as a whole number.
func (b *binder) countParam(f *odata.QueryFunctionExpr) (int, error) {
	v, ok := f.Param("PropertyValue")
	if !ok {
		return 0, errFilterUnsupported("The function '%s' requires the parameter 'PropertyValue'.", f.FullName())
	}
	v, err := b.operand(v)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case *odata.IntLiteral:
		if x.Value >= 0 && x.Value < 1_000_000 {
			return int(x.Value), nil
		}
	case *odata.StringLiteral:
		if n, err := strconv.Atoi(x.Value); err == nil && n >= 0 && n < 1_000_000 {
			return n, nil
		}
	}
	return 0, errFilterUnsupported("The PropertyValue of '%s' must be a non-negative whole number.", f.FullName())
}

// arrayParam reads PropertyValues, converting each item to col's type.
// Items may be written as strings whatever the type (["5","2000"]).
func (b *binder) arrayParam(f *odata.QueryFunctionExpr, col *schema.Column) ([]any, error) {
	v, ok := f.Param("PropertyValues")
	if !ok {
		return nil, errFilterUnsupported("The function '%s' requires the parameter 'PropertyValues'.", f.FullName())
	}
	v, err := b.operand(v)
	if err != nil {
		return nil, err
	}
	arr, ok := v.(*odata.ArrayLiteral)
	if !ok {
		return nil, errFilterUnsupported("The PropertyValues of '%s' must be a JSON array.", f.FullName())
	}
	elem := col
	if col.Type == schema.TypeMultiSelectPicklist {
		// Each value is one option.
		elem = &schema.Column{Table: col.Table, LogicalName: col.LogicalName, Type: schema.TypePicklist, OptionSet: col.OptionSet}
	}
	out := make([]any, 0, len(arr.Items))
	for _, item := range arr.Items {
		if s, isStr := item.(*odata.StringLiteral); isStr && !elem.Type.IsText() {
			parsed, err := valueFromText(elem, s.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, parsed)
			continue
		}
		val, err := literalValue(elem, item, odata.OpEq)
		if err != nil {
			return nil, err
		}
		out = append(out, val)
	}
	return out, nil
}

// valueFromText converts a value written as a string to col's type.
func valueFromText(col *schema.Column, s string) (any, error) {
	bad := newError(400, dverr.CodeIncompatibleTypes, "The value '%s' cannot be converted to the type of '%s' (%s).", s, col.LogicalName, col.EdmType())
	switch col.Type {
	case schema.TypeInteger, schema.TypeBigInt, schema.TypePicklist, schema.TypeState, schema.TypeStatus:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, bad
		}
		return n, nil
	case schema.TypeDecimal, schema.TypeMoney:
		d, err := store.ParseDecimal(strings.TrimSpace(s), fractionDigits(s))
		if err != nil {
			return nil, bad
		}
		return d, nil
	case schema.TypeDouble:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, bad
		}
		return f, nil
	case schema.TypeBoolean:
		bv, err := strconv.ParseBool(s)
		if err != nil {
			return nil, bad
		}
		return bv, nil
	case schema.TypeDateTime:
		for _, layout := range []string{time.RFC3339, "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		return nil, bad
	case schema.TypeUniqueidentifier, schema.TypeLookup, schema.TypeCustomer, schema.TypeOwner:
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, bad
		}
		if col.Type == schema.TypeUniqueidentifier {
			return id, nil
		}
		return store.Ref{Table: col.Targets[0], ID: id}, nil
	}
	return s, nil
}
