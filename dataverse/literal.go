package dataverse

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// FormatLiteral returns v as an OData literal for $filter expressions,
// alternate keys and function parameters:
//
//   - string (and named string types): single-quoted, with each quote
//     doubled, as in the example below
//   - uuid.UUID: bare, lower case (GUIDs must not be quoted)
//   - time.Time: bare ISO-8601 in UTC (2024-01-01T00:00:00Z), with at
//     most 7 fractional digits (100 ns, truncated); years 1 to 9999
//   - Date: bare 2024-01-31; a real calendar day of the years 1 to 9999
//   - bool, integers, floats, json.Number: bare; NaN and ±Inf are errors
//   - nil, nil pointers: null; other pointers: the pointed-to value
//   - slices and arrays: a JSON array of strings (["a","b"]), the form the
//     PropertyValues parameter of Microsoft.Dynamics.CRM.In and friends takes
//   - Raw: as is, unchecked
//
// Any other type is an error: formatting it with fmt could let its text
// escape the literal. The result is not URL-encoded; the client encodes
// the whole query option when it builds the URL.
//
//	FormatLiteral("O'Brien") // 'O''Brien'
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows
func FormatLiteral(v any) (string, error) {
	var b strings.Builder
	if err := appendLiteral(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Raw is OData text that Filterf, FormatLiteral and the filter builder
// insert verbatim, for example an enum literal
// Raw("Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'"). Never build a
// Raw from untrusted input.
type Raw string

// Date is an Edm.Date value (a calendar day without time or zone), written
// bare as 2024-01-31 in filters and keys and as "2024-01-31" in JSON bodies
// (the date-only columns: birthdate, anniversary). It must be a real day of
// the years 1 to 9999: FormatLiteral and MarshalText refuse the zero Date,
// month 13 or 30 February.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String returns the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

var (
	uuidType   = reflect.TypeFor[uuid.UUID]()
	timeType   = reflect.TypeFor[time.Time]()
	numberType = reflect.TypeFor[json.Number]()
	rawType    = reflect.TypeFor[Raw]()
	dateType   = reflect.TypeFor[Date]()
)

func appendLiteral(b *strings.Builder, v any) error {
	// Fast paths for the common types, without reflection.
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
		return nil
	case string:
		appendQuoted(b, x)
		return nil
	case uuid.UUID:
		b.WriteString(x.String())
		return nil
	case time.Time:
		if err := checkTime(x); err != nil {
			return err
		}
		b.WriteString(formatTime(x))
		return nil
	case int:
		b.WriteString(strconv.Itoa(x))
		return nil
	case bool:
		b.WriteString(strconv.FormatBool(x))
		return nil
	case Raw:
		b.WriteString(string(x))
		return nil
	}
	return appendLiteralValue(b, reflect.ValueOf(v))
}

func appendLiteralValue(b *strings.Builder, rv reflect.Value) error {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			b.WriteString("null")
			return nil
		}
		rv = rv.Elem()
	}
	switch rv.Type() {
	case uuidType:
		b.WriteString(rv.Interface().(uuid.UUID).String())
		return nil
	case timeType:
		t := rv.Interface().(time.Time)
		if err := checkTime(t); err != nil {
			return err
		}
		b.WriteString(formatTime(t))
		return nil
	case numberType:
		n := rv.Interface().(json.Number)
		if _, err := strconv.ParseFloat(string(n), 64); err != nil || !isJSONNumber(string(n)) {
			return invalidf("dataverse: %q is not a number", string(n))
		}
		b.WriteString(string(n))
		return nil
	case rawType:
		b.WriteString(rv.String())
		return nil
	case dateType:
		d := rv.Interface().(Date)
		if err := checkDate(d); err != nil {
			return err
		}
		b.WriteString(d.String())
		return nil
	}
	switch rv.Kind() {
	case reflect.String:
		appendQuoted(b, rv.String())
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(rv.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		b.WriteString(strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return invalidf("dataverse: %v cannot be written as an OData literal", f)
		}
		bits := 64
		if rv.Kind() == reflect.Float32 {
			bits = 32
		}
		b.WriteString(strconv.FormatFloat(f, 'f', -1, bits))
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return invalidf("dataverse: a %s cannot be written as an OData literal", rv.Type())
		}
		return appendJSONStringArray(b, rv)
	default:
		return invalidf("dataverse: a %s cannot be written as an OData literal; pass a string, number, bool, uuid.UUID, time.Time, Date or Raw", rv.Type())
	}
	return nil
}

// appendJSONStringArray writes ["v1","v2"]: each element's bare literal text
// as a JSON string.
func appendJSONStringArray(b *strings.Builder, rv reflect.Value) error {
	b.WriteByte('[')
	for i := range rv.Len() {
		if i > 0 {
			b.WriteByte(',')
		}
		var elem strings.Builder
		ev := rv.Index(i)
		for ev.Kind() == reflect.Pointer || ev.Kind() == reflect.Interface {
			if ev.IsNil() {
				return invalidf("dataverse: element %d of the list is nil", i)
			}
			ev = ev.Elem()
		}
		if ev.Kind() == reflect.String && ev.Type() != rawType {
			elem.WriteString(ev.String())
		} else if ev.Kind() == reflect.Slice || ev.Kind() == reflect.Array {
			if ev.Type() != uuidType {
				return invalidf("dataverse: element %d of the list is itself a list", i)
			}
			elem.WriteString(ev.Interface().(uuid.UUID).String())
		} else if err := appendLiteralValue(&elem, ev); err != nil {
			return err
		}
		q, _ := json.Marshal(elem.String())
		b.Write(q)
	}
	b.WriteByte(']')
	return nil
}

// appendQuoted writes s as an OData string literal, doubling quotes.
func appendQuoted(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		b.WriteString(s[:i+1])
		b.WriteByte('\'')
		s = s[i+1:]
	}
	b.WriteString(s)
	b.WriteByte('\'')
}

// timeLiteralLayout writes a DateTimeOffset literal in UTC with at most
// seven fractional digits, trailing zeros dropped. Dataverse parses
// literals into .NET's DateTimeOffset, whose resolution is a 100 ns tick:
// its OData parser (and the emulator) accept ".3126979Z" and answer 400 to
// ".31269791Z", so Go's nanoseconds must not all be written.
const timeLiteralLayout = "2006-01-02T15:04:05.9999999Z"

// formatTime writes t as a DateTimeOffset literal: UTC, truncated (never
// rounded, which could carry into the next second) to 100 ns.
func formatTime(t time.Time) string {
	return t.UTC().Truncate(100 * time.Nanosecond).Format(timeLiteralLayout)
}

// checkTime refuses times that a DateTimeOffset cannot hold (years 1 to
// 9999), which Go would otherwise write as text the service cannot parse.
func checkTime(t time.Time) error {
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return invalidf("dataverse: time %s is outside the years 1 to 9999 that Dataverse can store", t.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkDate refuses a Date that is not a real calendar day of the years 1
// to 9999 (the range of Edm.Date and of .NET's DateOnly): the zero Date,
// month 13 or 31 February would otherwise be written as text such as
// "0000-00-00" that the service rejects far from the code that built it.
func checkDate(d Date) error {
	if d.Year >= 1 && d.Year <= 9999 && d.Month >= time.January && d.Month <= time.December && d.Day >= 1 {
		// time.Date normalises 31 February to 2 or 3 March.
		if y, m, day := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Date(); y == d.Year && m == d.Month && day == d.Day {
			return nil
		}
	}
	return invalidf("dataverse: date %s is not a calendar day of the years 1 to 9999 that Dataverse can store (Month 1 to 12, Day within the month); build dates with DateOf or from a parsed time", d)
}

// isJSONNumber reports whether s is a JSON number (no hex, no leading +,
// no Inf), so a json.Number cannot smuggle other text into a filter.
func isJSONNumber(s string) bool {
	return json.Valid([]byte(s)) && s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}

// Component escaping. The client percent-encodes query option values and
// literal text in paths the way JavaScript's encodeURIComponent does (what
// Microsoft's own samples use): every byte except A-Z a-z 0-9 - _ . ! ~ * ' ( )
// is written as %XX of its UTF-8 encoding. In particular + & # ? / ; = , and
// spaces (as %20, never +) are encoded, so a server cannot read them as
// separators, and no query string can split or end early.

// shouldEscape reports whether byte c must be percent-encoded.
func shouldEscape(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return false
	}
	switch c {
	case '-', '_', '.', '!', '~', '*', '\'', '(', ')':
		return false
	}
	return true
}

// escapeComponent percent-encodes s as encodeURIComponent does.
func escapeComponent(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if shouldEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	buf := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if shouldEscape(c) {
			buf = append(buf, '%', hex[c>>4], hex[c&15])
		} else {
			buf = append(buf, c)
		}
	}
	return string(buf)
}
