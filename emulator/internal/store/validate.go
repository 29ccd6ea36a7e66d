package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Dataverse's supported range of date-times (SQL Server datetime).
var (
	minDateTime = time.Date(1753, 1, 1, 0, 0, 0, 0, time.UTC)
	maxDateTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// checkValue validates v for column col and returns it in canonical form
// (decimals rounded to the column's scale, times normalised, choices
// sorted). A value of the wrong Go type is a bug in the caller, reported
// as a validation error naming the column.
func checkValue(col *schema.Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	table := col.Table.LogicalName
	wrongType := func() error {
		return validationf("A validation error occurred.  The value of '%s' on record of type '%s' has the wrong type (%T; %s expected).", col.LogicalName, table, v, col.Type)
	}
	switch col.Type {
	case schema.TypeString, schema.TypeMemo, schema.TypeEntityName:
		s, ok := v.(string)
		if !ok {
			return nil, wrongType()
		}
		if !utf8.ValidString(s) {
			return nil, validationf("A validation error occurred.  The value of '%s' on record of type '%s' is not valid UTF-8.", col.LogicalName, table)
		}
		if col.MaxLength > 0 && utf16Len(s) > col.MaxLength {
			return nil, validationf("A validation error occurred.  The length of the '%s' attribute of the '%s' entity exceeded the maximum allowed length of '%d'.", col.LogicalName, table, col.MaxLength)
		}
		return v, nil // the caller's box: boxing s again would allocate
	case schema.TypeInteger, schema.TypeBigInt:
		n, ok := asInt64(v)
		if !ok {
			return nil, wrongType()
		}
		if float64(n) < col.MinValue || float64(n) > col.MaxValue {
			return nil, outOfRange(col, strconv.FormatInt(n, 10))
		}
		if _, boxed := v.(int64); boxed {
			return v, nil
		}
		return n, nil
	case schema.TypeDouble:
		f, ok := v.(float64)
		if !ok {
			if n, isInt := asInt64(v); isInt {
				f, ok = float64(n), true
			}
		}
		if !ok {
			return nil, wrongType()
		}
		if f < col.MinValue || f > col.MaxValue || f != f {
			return nil, outOfRange(col, strconv.FormatFloat(f, 'f', -1, 64))
		}
		if _, boxed := v.(float64); boxed {
			return v, nil
		}
		return f, nil
	case schema.TypeDecimal, schema.TypeMoney:
		d, ok := v.(Decimal)
		if !ok {
			return nil, wrongType()
		}
		d, err := ParseDecimal(d.String(), col.Scale())
		if err != nil {
			return nil, wrongType()
		}
		if f := d.Float64(); f < col.MinValue || f > col.MaxValue {
			return nil, outOfRange(col, d.String())
		}
		return d, nil
	case schema.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, wrongType()
		}
		return b, nil
	case schema.TypeDateTime:
		t, ok := v.(time.Time)
		if !ok {
			return nil, wrongType()
		}
		t = NormalizeTime(col, t)
		if t.Before(minDateTime) || t.After(maxDateTime) {
			return nil, validationf("A validation error occurred.  The date-time format for %s is invalid, or value is outside the supported range.", col.LogicalName)
		}
		return t, nil
	case schema.TypePicklist, schema.TypeState, schema.TypeStatus:
		n, ok := asInt64(v)
		if !ok {
			return nil, wrongType()
		}
		if _, ok := col.OptionSet.Option(int(n)); !ok {
			return nil, optionOutOfRange(col, n)
		}
		return n, nil
	case schema.TypeMultiSelectPicklist:
		values, ok := v.([]int64)
		if !ok {
			return nil, wrongType()
		}
		for _, n := range values {
			if _, ok := col.OptionSet.Option(int(n)); !ok {
				return nil, optionOutOfRange(col, n)
			}
		}
		out, err := goValue(col, formatMulti(values), "")
		return out, err
	case schema.TypeUniqueidentifier:
		id, ok := v.(uuid.UUID)
		if !ok {
			return nil, wrongType()
		}
		return id, nil
	case schema.TypeLookup, schema.TypeCustomer, schema.TypeOwner:
		r, ok := v.(Ref)
		if !ok {
			return nil, wrongType()
		}
		for _, target := range col.Targets {
			if target == r.Table {
				return r, nil
			}
		}
		return nil, validationf("A validation error occurred.  The lookup '%s' on record of type '%s' cannot reference a record of type '%s' (allowed: %s).", col.LogicalName, table, r.Table, strings.Join(col.Targets, ", "))
	}
	return nil, wrongType()
}

func asInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	}
	return 0, false
}

// utf16Len counts UTF-16 code units, as .NET string lengths (and so
// Dataverse's MaxLength) do.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// outOfRange is a numeric value outside the column's limits
// [unverified message].
func outOfRange(col *schema.Column, value string) *Error {
	return validationf("A validation error occurred.  The value %s of '%s' on record of type '%s' is outside the valid range.", value, col.LogicalName, col.Table.LogicalName)
}

func optionOutOfRange(col *schema.Column, n int64) *Error {
	accepted := make([]string, len(col.OptionSet.Options))
	for i, o := range col.OptionSet.Options {
		accepted[i] = strconv.Itoa(o.Value)
	}
	return &Error{Kind: KindValidation, Reason: ReasonOptionSetValueOutOfRange, Message: fmt.Sprintf(
		"A validation error occurred.  The value %d of '%s' on record of type '%s' is outside the valid range. Accepted Values: %s",
		n, col.LogicalName, col.Table.LogicalName, strings.Join(accepted, ","))}
}
