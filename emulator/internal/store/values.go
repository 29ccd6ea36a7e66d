package store

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Values the store accepts and returns, by column type:
//
//	String, Memo, EntityName           string
//	Integer, BigInt                    int64
//	Picklist, State, Status            int64
//	MultiSelectPicklist                []int64 (sorted, distinct)
//	Decimal, Money                     Decimal
//	Double                             float64
//	Boolean                            bool
//	DateTime                           time.Time (UTC, whole seconds; midnight for DateOnly)
//	Uniqueidentifier                   uuid.UUID
//	Lookup, Customer, Owner            Ref
//
// nil is null.

// Ref is the value of a lookup: the referenced table and row.
type Ref struct {
	Table string // logical name of the referenced table
	ID    uuid.UUID
}

// Decimal is an exact fixed-point number, kept as canonical text with a
// fixed number of decimal places ("80000.0000").
type Decimal struct{ text string }

// ErrDecimalSyntax is returned by ParseDecimal for text that is not a
// number.
var ErrDecimalSyntax = errors.New("not a decimal number")

// decimalOnes holds 1 at each scale a decimal column can have (0 to 10
// places): the exchange rate of every row a create gives money to.
var decimalOnes = func() (ones [11]Decimal) {
	for scale := range ones {
		ones[scale], _ = ParseDecimal("1", scale)
	}
	return ones
}()

// decimalOne is 1 at scale places.
func decimalOne(scale int) Decimal {
	if scale >= 0 && scale < len(decimalOnes) {
		return decimalOnes[scale]
	}
	one, _ := ParseDecimal("1", scale)
	return one
}

// ParseDecimal reads a decimal number (optional sign, digits, optional
// fraction, optional exponent as JSON numbers have) and rounds it half
// away from zero to scale decimal places.
func ParseDecimal(s string, scale int) (Decimal, error) {
	neg := false
	body := s
	if strings.HasPrefix(body, "-") {
		neg, body = true, body[1:]
	} else if strings.HasPrefix(body, "+") {
		body = body[1:]
	}
	exp := 0
	if i := strings.IndexAny(body, "eE"); i >= 0 {
		e, err := strconv.Atoi(body[i+1:])
		if err != nil || e > 400 || e < -400 {
			return Decimal{}, ErrDecimalSyntax
		}
		exp, body = e, body[:i]
	}
	intPart, frac, hasDot := strings.Cut(body, ".")
	if intPart == "" && (!hasDot || frac == "") {
		return Decimal{}, ErrDecimalSyntax
	}
	digits := intPart + frac
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return Decimal{}, ErrDecimalSyntax
		}
	}
	// value = digits * 10^(exp - len(frac)); shift to `scale` places.
	shift := exp - len(frac) + scale
	var roundUp bool
	switch {
	case shift >= 0:
		digits += strings.Repeat("0", shift)
	default:
		cut := len(digits) + shift
		if cut < 0 {
			digits = ""
		} else {
			roundUp = digits[cut] >= '5'
			digits = digits[:cut]
		}
	}
	digits = strings.TrimLeft(digits, "0")
	if roundUp {
		digits = addOne(digits)
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	text := digits
	if scale > 0 {
		text = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg && strings.Trim(digits, "0") != "" {
		text = "-" + text
	}
	return Decimal{text: text}, nil
}

func addOne(digits string) string {
	b := []byte(digits)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}

// DecimalFromFloat converts a float64 to a Decimal with scale places.
func DecimalFromFloat(f float64, scale int) (Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Decimal{}, ErrDecimalSyntax
	}
	return ParseDecimal(strconv.FormatFloat(f, 'f', -1, 64), scale)
}

// String returns the canonical text, which is also valid JSON.
func (d Decimal) String() string {
	if d.text == "" {
		return "0"
	}
	return d.text
}

// Float64 returns the nearest float64.
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// Cmp compares two decimals numerically.
func (d Decimal) Cmp(other Decimal) int { return compareDecimalText(d.String(), other.String()) }

// IsZero reports whether the value is the zero Decimal value (no text).
func (d Decimal) IsZero() bool { return d.text == "" }

// Time formats of the stored text. Both sort chronologically as text.
const (
	dateTimeLayout = "2006-01-02T15:04:05Z"
	dateLayout     = "2006-01-02"
)

// NormalizeTime returns t as the store keeps it for the column: UTC,
// truncated to whole seconds, and truncated to midnight for DateOnly
// behaviour.
func NormalizeTime(col *schema.Column, t time.Time) time.Time {
	t = t.UTC().Truncate(time.Second)
	if col.Behavior == schema.BehaviorDateOnly {
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// sqlValue converts a Go value for column col to the SQL parameter stored
// in its column. The value must already have the column's Go type.
func sqlValue(col *schema.Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch x := v.(type) {
	case string, int64, float64:
		return v, nil // already what SQLite stores; boxing it again would allocate
	case int:
		return int64(x), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case Decimal:
		return x.String(), nil
	case time.Time:
		x = NormalizeTime(col, x)
		if col.Behavior == schema.BehaviorDateOnly {
			return x.Format(dateLayout), nil
		}
		return x.Format(dateTimeLayout), nil
	case uuid.UUID:
		return x.String(), nil
	case Ref:
		return x.ID.String(), nil
	case []int64:
		return formatMulti(x), nil
	}
	return nil, fmt.Errorf("store: value of type %T cannot be stored in %s", v, col)
}

func formatMulti(values []int64) string {
	s := slices.Clone(values)
	slices.Sort(s)
	s = slices.Compact(s)
	var b strings.Builder
	for i, v := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(v, 10))
	}
	return b.String()
}

// goValue converts a scanned SQL value of column col to its Go type.
// typeName is the EntityName companion's value for polymorphic lookups.
func goValue(col *schema.Column, raw any, typeName string) (any, error) {
	if raw == nil {
		return nil, nil
	}
	switch col.Type {
	case schema.TypeString, schema.TypeMemo, schema.TypeEntityName, schema.TypeImage:
		if _, ok := raw.(string); ok {
			return raw, nil // already boxed: converting it again would allocate
		}
		return asString(raw), nil
	case schema.TypeInteger, schema.TypeBigInt, schema.TypePicklist, schema.TypeState, schema.TypeStatus:
		n, ok := raw.(int64)
		if !ok {
			return nil, fmt.Errorf("store: %s holds %T, not an integer", col, raw)
		}
		return n, nil
	case schema.TypeBoolean:
		n, _ := raw.(int64)
		return n != 0, nil
	case schema.TypeDouble:
		switch f := raw.(type) {
		case float64:
			return f, nil
		case int64:
			return float64(f), nil
		}
		return nil, fmt.Errorf("store: %s holds %T, not a number", col, raw)
	case schema.TypeDecimal, schema.TypeMoney:
		return Decimal{text: asString(raw)}, nil
	case schema.TypeDateTime:
		s := asString(raw)
		layout := dateTimeLayout
		if len(s) == len(dateLayout) {
			layout = dateLayout
		}
		t, err := time.Parse(layout, s)
		if err != nil {
			return nil, fmt.Errorf("store: %s holds %q: %w", col, s, err)
		}
		return t, nil
	case schema.TypeUniqueidentifier, schema.TypeFile:
		return uuid.Parse(asString(raw))
	case schema.TypeLookup, schema.TypeCustomer, schema.TypeOwner:
		id, err := uuid.Parse(asString(raw))
		if err != nil {
			return nil, fmt.Errorf("store: %s holds %q: %w", col, raw, err)
		}
		if typeName == "" && len(col.Targets) > 0 {
			typeName = col.Targets[0]
		}
		return Ref{Table: typeName, ID: id}, nil
	case schema.TypeMultiSelectPicklist:
		s := asString(raw)
		if s == "" {
			return []int64{}, nil
		}
		parts := strings.Split(s, ",")
		out := make([]int64, 0, len(parts))
		for _, p := range parts {
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("store: %s holds %q", col, s)
			}
			out = append(out, n)
		}
		return out, nil
	}
	return raw, nil
}

func asString(raw any) string {
	switch x := raw.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(raw)
}
