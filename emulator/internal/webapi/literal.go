package webapi

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// literalEdmType names the OData type of a literal, as type errors do.
func literalEdmType(e odata.Expr) string {
	switch x := e.(type) {
	case *odata.StringLiteral:
		return "Edm.String"
	case *odata.IntLiteral:
		if x.Value >= math.MinInt32 && x.Value <= math.MaxInt32 {
			return "Edm.Int32"
		}
		return "Edm.Int64"
	case *odata.DecimalLiteral:
		return "Edm.Decimal"
	case *odata.DoubleLiteral:
		return "Edm.Double"
	case *odata.BoolLiteral:
		return "Edm.Boolean"
	case *odata.GUIDLiteral:
		return "Edm.Guid"
	case *odata.DateTimeOffsetLiteral:
		return "Edm.DateTimeOffset"
	case *odata.DateLiteral:
		return "Edm.Date"
	case *odata.EnumLiteral:
		return x.Type
	case *odata.NullLiteral:
		return "null"
	}
	return "Edm.Untyped"
}

// errIncompatible is ODataLib's binary-operator type error, naming the
// column's type first.
func errIncompatible(col *schema.Column, lit odata.Expr, op odata.BinaryOp) *apiError {
	return newError(http.StatusBadRequest, dverr.CodeIncompatibleTypes,
		"A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'.",
		col.EdmType(), literalEdmType(lit), op.KindName())
}

// literalValue converts a literal compared with (or assigned to, in a
// key) a column to the store's value for that column. Numeric types
// promote to each other as in ODataLib; everything else must match:
// a quoted GUID against a GUID column is a type error, as in Dataverse.
// null gives nil.
func literalValue(col *schema.Column, lit odata.Expr, op odata.BinaryOp) (any, error) {
	if _, ok := lit.(*odata.NullLiteral); ok {
		return nil, nil
	}
	bad := func() (any, error) { return nil, errIncompatible(col, lit, op) }
	switch col.Type {
	case schema.TypeString, schema.TypeMemo, schema.TypeMultiSelectPicklist:
		if s, ok := lit.(*odata.StringLiteral); ok {
			return s.Value, nil
		}
	case schema.TypeInteger, schema.TypeBigInt, schema.TypePicklist, schema.TypeState, schema.TypeStatus:
		switch x := lit.(type) {
		case *odata.IntLiteral:
			return x.Value, nil
		case *odata.DecimalLiteral:
			f := x.Float64()
			if f == math.Trunc(f) && math.Abs(f) < 1<<62 {
				return int64(f), nil
			}
			return f, nil
		case *odata.DoubleLiteral:
			return x.Value, nil
		}
	case schema.TypeDecimal, schema.TypeMoney:
		var text string
		switch x := lit.(type) {
		case *odata.IntLiteral:
			text = strconv.FormatInt(x.Value, 10)
		case *odata.DecimalLiteral:
			text = x.Text
		case *odata.DoubleLiteral:
			text = strconv.FormatFloat(x.Value, 'f', -1, 64)
		default:
			return bad()
		}
		d, err := store.ParseDecimal(text, fractionDigits(text))
		if err != nil {
			return bad()
		}
		return d, nil
	case schema.TypeDouble:
		switch x := lit.(type) {
		case *odata.IntLiteral:
			return float64(x.Value), nil
		case *odata.DecimalLiteral:
			return x.Float64(), nil
		case *odata.DoubleLiteral:
			return x.Value, nil
		}
	case schema.TypeBoolean:
		if b, ok := lit.(*odata.BoolLiteral); ok {
			return b.Value, nil
		}
	case schema.TypeDateTime:
		switch x := lit.(type) {
		case *odata.DateTimeOffsetLiteral:
			return x.Value.UTC(), nil
		case *odata.DateLiteral:
			return x.Time(), nil
		}
	case schema.TypeUniqueidentifier:
		if g, ok := lit.(*odata.GUIDLiteral); ok {
			return g.Value, nil
		}
	case schema.TypeLookup, schema.TypeCustomer, schema.TypeOwner:
		if g, ok := lit.(*odata.GUIDLiteral); ok {
			target := ""
			if len(col.Targets) > 0 {
				target = col.Targets[0]
			}
			return store.Ref{Table: target, ID: g.Value}, nil
		}
	}
	return bad()
}

// fractionDigits counts the digits after the decimal point of a number
// written in plain notation.
func fractionDigits(text string) int {
	for i := 0; i < len(text); i++ {
		if text[i] == '.' {
			n := 0
			for j := i + 1; j < len(text) && text[j] >= '0' && text[j] <= '9'; j++ {
				n++
			}
			return n
		}
	}
	return 0
}

// timeValue is a helper for query functions taking a date.
func timeValue(col *schema.Column, lit odata.Expr) (time.Time, bool) {
	v, err := literalValue(col, lit, odata.OpEq)
	if err != nil {
		if s, ok := lit.(*odata.StringLiteral); ok {
			for _, layout := range []string{time.RFC3339, "2006-01-02"} {
				if t, err := time.Parse(layout, s.Value); err == nil {
					return t.UTC(), true
				}
			}
		}
		return time.Time{}, false
	}
	t, ok := v.(time.Time)
	return t, ok
}
