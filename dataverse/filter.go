package dataverse

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
)

// Building $filter expressions without injection. Values never become
// syntax: each value is written by FormatLiteral (strings quoted with quotes
// doubled, GUIDs bare, times as ISO-8601 UTC), and property names are
// checked against the OData identifier syntax. Percent-encoding happens
// later, when the client builds the URL.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows

// badMarker starts the text written in place of a value or property that
// cannot be formatted. The service rejects such a filter (400), and the
// client refuses to send a query containing it, so a formatting mistake
// can never silently widen a filter.
const badMarker = "%!(dataverse:"

// Filterf formats a $filter expression: every verb (%v, %s, %d, %t, %q, …)
// is replaced by the next argument written as an OData literal by
// FormatLiteral; %% is a literal percent sign. Property names and operators
// belong in the format string, values in the arguments:
//
//	dataverse.Filterf("lastname eq %v and createdon ge %v", "O'Brien", since)
//
// yields a filter that quotes O'Brien with the quote doubled and writes
// since in UTC. An argument that cannot be a literal, a missing or an
// extra argument is written as a "%!(dataverse:…)" marker, which makes the
// client refuse the query with an error naming the problem.
func Filterf(format string, args ...any) string {
	var b strings.Builder
	argi := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(format) {
			b.WriteString(badMarker + "NOVERB)")
			break
		}
		i++
		verb := format[i]
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if !('a' <= verb && verb <= 'z' || 'A' <= verb && verb <= 'Z') {
			b.WriteString(badMarker + "BADVERB)")
			continue
		}
		if argi >= len(args) {
			b.WriteString(badMarker + "MISSING)")
			continue
		}
		if err := appendLiteral(&b, args[argi]); err != nil {
			b.WriteString(badMarker + "BADTYPE " + typeName(args[argi]) + ")")
		}
		argi++
	}
	for ; argi < len(args); argi++ {
		b.WriteString(badMarker + "EXTRA " + typeName(args[argi]) + ")")
	}
	return b.String()
}

// typeName returns a Go type name for a marker; it never includes the
// value.
func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return strings.Map(func(r rune) rune {
		if r == '\'' || r == ')' || r == '(' {
			return '_'
		}
		return r
	}, reflect.TypeOf(v).String())
}

// checkFilter refuses a filter that contains a formatting marker.
func checkFilter(where, filter string) error {
	i := strings.Index(filter, badMarker)
	if i < 0 {
		return nil
	}
	end := strings.IndexByte(filter[i:], ')')
	if end < 0 {
		end = len(filter) - i - 1
	}
	return invalidf("dataverse: %s: the filter has a formatting error %s; check the arguments of Filterf or the filter builder", where, filter[i:i+end+1])
}

// Expr is a $filter expression built by the filter builder (Eq, And, …).
// Its String is the filter text for Query.Filter.
type Expr struct {
	text string
	prec int // 0 atom, 1 and, 2 or (for parentheses)
	err  error
}

// String returns the expression's text. An invalid expression (see Err)
// returns a "%!(dataverse:…)" marker that the client refuses to send.
func (e Expr) String() string {
	if e.err != nil {
		return badMarker + "INVALID " + strings.ReplaceAll(e.err.Error(), ")", "_") + ")"
	}
	return e.text
}

// Err reports why the expression is invalid, or nil.
func (e Expr) Err() error { return e.err }

var filterPathPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$`)

func checkPath(p string) error {
	if !filterPathPattern.MatchString(p) {
		return errors.New("bad property name")
	}
	return nil
}

func compare(op, property string, value any) Expr {
	if err := checkPath(property); err != nil {
		return Expr{err: err}
	}
	lit, err := FormatLiteral(value)
	if err != nil {
		return Expr{err: errors.New("bad value of type " + typeName(value))}
	}
	return Expr{text: property + " " + op + " " + lit}
}

// Eq is "property eq value". A nil value compares with null.
func Eq(property string, value any) Expr { return compare("eq", property, value) }

// Ne is "property ne value".
func Ne(property string, value any) Expr { return compare("ne", property, value) }

// Gt is "property gt value".
func Gt(property string, value any) Expr { return compare("gt", property, value) }

// Ge is "property ge value".
func Ge(property string, value any) Expr { return compare("ge", property, value) }

// Lt is "property lt value".
func Lt(property string, value any) Expr { return compare("lt", property, value) }

// Le is "property le value".
func Le(property string, value any) Expr { return compare("le", property, value) }

func stringFunc(fn, property, value string) Expr {
	if err := checkPath(property); err != nil {
		return Expr{err: err}
	}
	var b strings.Builder
	b.WriteString(fn + "(" + property + ",")
	appendQuoted(&b, value)
	b.WriteByte(')')
	return Expr{text: b.String()}
}

// Contains is "contains(property,'value')". The service honours SQL
// wildcards (% _ [ ]) inside value.
func Contains(property, value string) Expr { return stringFunc("contains", property, value) }

// StartsWith is "startswith(property,'value')".
func StartsWith(property, value string) Expr { return stringFunc("startswith", property, value) }

// EndsWith is "endswith(property,'value')".
func EndsWith(property, value string) Expr { return stringFunc("endswith", property, value) }

// In is the Dataverse query function
// Microsoft.Dynamics.CRM.In(PropertyName='property',PropertyValues=["v1","v2"]).
func In(property string, values ...any) Expr {
	return queryFunction("In", property, values)
}

// NotIn is Microsoft.Dynamics.CRM.NotIn.
func NotIn(property string, values ...any) Expr {
	return queryFunction("NotIn", property, values)
}

func queryFunction(name, property string, values []any) Expr {
	if !propertyNamePattern.MatchString(property) {
		return Expr{err: errors.New("bad property name")}
	}
	if len(values) == 0 {
		return Expr{err: errors.New(name + " needs at least one value")}
	}
	var b strings.Builder
	b.WriteString("Microsoft.Dynamics.CRM." + name + "(PropertyName='" + property + "',PropertyValues=")
	if err := appendLiteral(&b, values); err != nil {
		return Expr{err: errors.New("bad value in the list")}
	}
	b.WriteByte(')')
	return Expr{text: b.String()}
}

// And joins expressions with "and", parenthesising "or" operands.
func And(exprs ...Expr) Expr { return join("and", 1, exprs) }

// Or joins expressions with "or".
func Or(exprs ...Expr) Expr { return join("or", 2, exprs) }

func join(op string, prec int, exprs []Expr) Expr {
	if len(exprs) == 0 {
		return Expr{err: errors.New(op + " of no expressions")}
	}
	if len(exprs) == 1 {
		return exprs[0]
	}
	var b strings.Builder
	for i, e := range exprs {
		if e.err != nil {
			return e
		}
		if i > 0 {
			b.WriteString(" " + op + " ")
		}
		if e.prec > prec {
			b.WriteString("(" + e.text + ")")
		} else {
			b.WriteString(e.text)
		}
	}
	return Expr{text: b.String(), prec: prec}
}

// Not negates an expression: "not contains(…)" or "not (a or b)". The
// service does not allow not around Dataverse query functions such as In.
func Not(e Expr) Expr {
	if e.err != nil {
		return e
	}
	if e.prec > 0 {
		return Expr{text: "not (" + e.text + ")"}
	}
	return Expr{text: "not " + e.text}
}

// Any is the lambda "nav/any(v:cond)": rows with at least one related row
// matching cond, whose properties are written through v ("t/statecode").
// A zero cond (Expr{}) gives "nav/any()", rows with any related row.
func Any(navProperty, variable string, cond Expr) Expr {
	return lambda("any", navProperty, variable, cond)
}

// All is the lambda "nav/all(v:cond)".
func All(navProperty, variable string, cond Expr) Expr {
	return lambda("all", navProperty, variable, cond)
}

func lambda(op, nav, v string, cond Expr) Expr {
	if err := checkPath(nav); err != nil {
		return Expr{err: err}
	}
	if cond.err != nil {
		return cond
	}
	if cond.text == "" {
		if op == "all" {
			return Expr{err: errors.New("all needs a condition")}
		}
		return Expr{text: nav + "/any()"}
	}
	if !propertyNamePattern.MatchString(v) {
		return Expr{err: errors.New("bad lambda variable")}
	}
	return Expr{text: nav + "/" + op + "(" + v + ":" + cond.text + ")"}
}

// RawExpr wraps trusted filter text, e.g. the result of Filterf, so it can
// be combined with And and Or. Never pass untrusted input.
func RawExpr(text string) Expr { return Expr{text: text, prec: 2} }
