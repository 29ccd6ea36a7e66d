package odata

import (
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Expr is a node of a $filter (or $orderby, or $apply filter) expression.
//
// The concrete types are *BinaryExpr, *NotExpr, *NegateExpr, *PathExpr, *LambdaExpr,
// *CallExpr, *QueryFunctionExpr, *AliasExpr and the literals *NullLiteral,
// *StringLiteral, *IntLiteral, *DecimalLiteral, *DoubleLiteral,
// *BoolLiteral, *GUIDLiteral, *DateTimeOffsetLiteral, *DateLiteral,
// *EnumLiteral and *ArrayLiteral. Parentheses leave no node behind.
type Expr interface {
	// Pos is the 0-based byte offset in the option value at which the node
	// starts.
	Pos() int
	// String formats the node as canonical OData text; parsing the result
	// gives back an equal tree (positions aside).
	String() string
	exprNode()
}

// BinaryOp is a binary operator of the filter language.
type BinaryOp uint8

// The binary operators. The arithmetic ones parse (ODataLib parses them) but
// Dataverse does not evaluate them; see [BinaryOp.Arithmetic].
const (
	OpOr BinaryOp = iota + 1
	OpAnd
	OpEq
	OpNe
	OpGt
	OpGe
	OpLt
	OpLe
	OpHas // enum flags test; parsed, not supported by Dataverse
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpMod
)

var binaryOpNames = [...]string{
	OpOr: "or", OpAnd: "and", OpEq: "eq", OpNe: "ne", OpGt: "gt", OpGe: "ge",
	OpLt: "lt", OpLe: "le", OpHas: "has", OpAdd: "add", OpSub: "sub",
	OpMul: "mul", OpDiv: "div", OpMod: "mod",
}

// String returns the operator keyword as written in OData ("eq", "and"…).
func (op BinaryOp) String() string {
	if int(op) < len(binaryOpNames) && binaryOpNames[op] != "" {
		return binaryOpNames[op]
	}
	return "BinaryOp(?)"
}

// Logical reports whether op is "and" or "or".
func (op BinaryOp) Logical() bool { return op == OpAnd || op == OpOr }

// Comparison reports whether op is one of eq ne gt ge lt le.
func (op BinaryOp) Comparison() bool { return op >= OpEq && op <= OpLe }

// Arithmetic reports whether op is add, sub, mul, div or mod. The
// Dataverse Web API does not support arithmetic in $filter; the binder
// should reject these.
func (op BinaryOp) Arithmetic() bool { return op >= OpAdd && op <= OpMod }

// KindName is the operator's name in ODataLib's BinaryOperatorKind
// enumeration ("Equal", "And"…), which Dataverse uses in type errors such as
// "Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'."
func (op BinaryOp) KindName() string {
	switch op {
	case OpOr:
		return "Or"
	case OpAnd:
		return "And"
	case OpEq:
		return "Equal"
	case OpNe:
		return "NotEqual"
	case OpGt:
		return "GreaterThan"
	case OpGe:
		return "GreaterThanOrEqual"
	case OpLt:
		return "LessThan"
	case OpLe:
		return "LessThanOrEqual"
	case OpHas:
		return "Has"
	case OpAdd:
		return "Add"
	case OpSub:
		return "Subtract"
	case OpMul:
		return "Multiply"
	case OpDiv:
		return "Divide"
	case OpMod:
		return "Modulo"
	}
	return "Unknown"
}

// BinaryExpr is Left Op Right, for example `revenue gt 1000` or
// `a eq 1 and b eq 2`.
type BinaryExpr struct {
	Op          BinaryOp
	Left, Right Expr
	OpOffset    int // byte offset of the operator keyword
}

// NotExpr is `not X`.
type NotExpr struct {
	Offset int // byte offset of "not"
	X      Expr
}

// NegateExpr is unary minus applied to something other than a number
// literal (`-revenue`); a minus before a number is part of the literal, as in
// ODataLib. Dataverse does not support arithmetic; the binder rejects it.
type NegateExpr struct {
	Offset int // byte offset of '-'
	X      Expr
}

// PathRoot says what a property path starts from.
type PathRoot uint8

// The path roots.
const (
	// RootEntity: the path starts at the entity being queried
	// (`name`, `primarycontactid/fullname`).
	RootEntity PathRoot = iota
	// RootIt: the path starts with `$it`, the entity being queried
	// (inside a lambda, the outer entity).
	RootIt
	// RootRangeVariable: the path starts with a lambda range variable
	// (`t/subject` inside `Account_Tasks/any(t:…)`); PathExpr.Var names it.
	RootRangeVariable
)

// Segment is one step of a property path: a property, a navigation
// property, or (if Name contains dots) a type-cast segment.
type Segment struct {
	Name   string
	Offset int // byte offset of the segment's first character
}

// PathExpr is a property path: `name`, `_parentcustomerid_value`,
// `primarycontactid/fullname`, `t/subject` (range variable t), `$it/name`.
// A bare range variable (`t` in `tags/any(t:t eq 'x')`) has Root
// RootRangeVariable and no Segments; a bare `$it` has Root RootIt and no
// Segments.
type PathExpr struct {
	Offset   int
	Root     PathRoot
	Var      string // the range variable's name when Root is RootRangeVariable
	Segments []Segment
}

// LambdaKind is "any" or "all".
type LambdaKind uint8

// The lambda operators.
const (
	LambdaAny LambdaKind = iota + 1
	LambdaAll
)

// String returns "any" or "all".
func (k LambdaKind) String() string {
	if k == LambdaAll {
		return "all"
	}
	return "any"
}

// LambdaExpr is `Collection/any(Var:Predicate)`, `Collection/all(Var:Predicate)`
// or `Collection/any()` (Var empty, Predicate nil: "is not empty").
type LambdaExpr struct {
	Collection *PathExpr // the collection-valued path before "/any"
	Kind       LambdaKind
	KindOffset int    // byte offset of "any"/"all"
	Var        string // range variable; empty for any()
	VarOffset  int
	Predicate  Expr // nil for any()
}

// CallExpr is a call of a built-in OData function with positional
// arguments: `contains(name,'x')`, `startswith(name,'a')`, `tolower(name)`.
// The parser accepts any function name; [LookupFunction] says which ones
// exist and which Dataverse supports.
type CallExpr struct {
	Name   string
	Offset int // byte offset of the name
	Args   []Expr
}

// QueryFunctionExpr is a call of a namespace-qualified function with named
// parameters, as Dataverse's query functions are written:
// `Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=["a","b"])`.
type QueryFunctionExpr struct {
	Namespace string // "Microsoft.Dynamics.CRM"
	Name      string // "In"
	Offset    int    // byte offset of the qualified name
	Params    []NamedParam
}

// FullName returns Namespace + "." + Name.
func (f *QueryFunctionExpr) FullName() string { return f.Namespace + "." + f.Name }

// Param returns the value of the named parameter (case-sensitive) and
// whether it was given.
func (f *QueryFunctionExpr) Param(name string) (Expr, bool) {
	for _, p := range f.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return nil, false
}

// NamedParam is one `Name=Value` parameter of a [QueryFunctionExpr], in the
// order written. Value is a literal, an *ArrayLiteral or an *AliasExpr.
type NamedParam struct {
	Name   string
	Offset int // byte offset of the name
	Value  Expr
}

// AliasExpr is a parameter alias such as `@p1`; the binder resolves it from
// the query string (see [Query.Alias]).
type AliasExpr struct {
	Name   string // including the '@'
	Offset int
}

// NullLiteral is `null`.
type NullLiteral struct{ Offset int }

// StringLiteral is a string: `'O”Brien'` has Value "O'Brien". In a JSON
// array it is a JSON string ("a\"b"). '%', '_' and '[' are kept verbatim:
// Dataverse treats them as LIKE wildcards, which is the binder's concern.
type StringLiteral struct {
	Offset int
	Value  string
}

// IntLiteral is an integer that fits in int64 (`42`, `-7`, `42L`).
type IntLiteral struct {
	Offset int
	Value  int64
}

// DecimalLiteral is a number with a fraction and no exponent (`1.5`,
// `-0.25`, `12.5M`), or an integer too large for int64. Text keeps the
// digits exactly as written (suffix removed) so the binder can keep full
// precision; see [DecimalLiteral.Float64].
type DecimalLiteral struct {
	Offset int
	Text   string
}

// Float64 returns the nearest float64 to the decimal (for comparisons
// with floating-point columns; use Text where precision matters).
func (d *DecimalLiteral) Float64() float64 {
	v, _ := strconv.ParseFloat(d.Text, 64) // Text is always [-]digits[.digits]
	return v
}

// DoubleLiteral is a number with an exponent (`1e10`, `2.5E-3`), a `d`/`f`
// suffix, or one of `INF`, `-INF`, `NaN`. Text is the source text.
type DoubleLiteral struct {
	Offset int
	Value  float64
	Text   string
}

// BoolLiteral is `true` or `false`.
type BoolLiteral struct {
	Offset int
	Value  bool
}

// GUIDLiteral is an unquoted GUID (`70bf4d48-34cb-ed11-b596-0022481d68cd`).
// A quoted GUID is a *StringLiteral, as in OData.
type GUIDLiteral struct {
	Offset int
	Value  uuid.UUID
}

// DateTimeOffsetLiteral is an unquoted ISO-8601 timestamp with offset
// (`2024-01-01T00:00:00Z`, `2024-01-01T09:30:00.125+02:00`). Text is the
// source text.
type DateTimeOffsetLiteral struct {
	Offset int
	Value  time.Time
	Text   string
}

// DateLiteral is an unquoted date (`2024-01-01`).
type DateLiteral struct {
	Offset int
	Year   int
	Month  time.Month
	Day    int
}

// Time returns the date at midnight UTC.
func (d *DateLiteral) Time() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// EnumLiteral is a qualified enum value:
// `Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'` has Type
// "Microsoft.Dynamics.CRM.OwnershipTypes" and Value "UserOwned" (flags
// values stay comma-separated as written, e.g. "A,B").
type EnumLiteral struct {
	Offset int
	Type   string
	Value  string
}

// ArrayLiteral is a JSON array as used for the PropertyValues parameter of
// Dataverse query functions: `["a","b"]`, `[1,2]`. Items are
// *StringLiteral, *IntLiteral, *DecimalLiteral, *DoubleLiteral,
// *BoolLiteral or *NullLiteral.
type ArrayLiteral struct {
	Offset int
	Items  []Expr
}

// Pos implements Expr: the start of the left operand.
func (e *BinaryExpr) Pos() int { return e.Left.Pos() }

// Pos implements Expr.
func (e *NotExpr) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *NegateExpr) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *PathExpr) Pos() int { return e.Offset }

// Pos implements Expr: the start of the collection path.
func (e *LambdaExpr) Pos() int { return e.Collection.Offset }

// Pos implements Expr.
func (e *CallExpr) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *QueryFunctionExpr) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *AliasExpr) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *NullLiteral) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *StringLiteral) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *IntLiteral) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *DecimalLiteral) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *DoubleLiteral) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *BoolLiteral) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *GUIDLiteral) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *DateTimeOffsetLiteral) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *DateLiteral) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *EnumLiteral) Pos() int { return e.Offset }

// Pos implements Expr.
func (e *ArrayLiteral) Pos() int { return e.Offset }

func (*BinaryExpr) exprNode()            {}
func (*NotExpr) exprNode()               {}
func (*NegateExpr) exprNode()            {}
func (*PathExpr) exprNode()              {}
func (*LambdaExpr) exprNode()            {}
func (*CallExpr) exprNode()              {}
func (*QueryFunctionExpr) exprNode()     {}
func (*AliasExpr) exprNode()             {}
func (*NullLiteral) exprNode()           {}
func (*StringLiteral) exprNode()         {}
func (*IntLiteral) exprNode()            {}
func (*DecimalLiteral) exprNode()        {}
func (*DoubleLiteral) exprNode()         {}
func (*BoolLiteral) exprNode()           {}
func (*GUIDLiteral) exprNode()           {}
func (*DateTimeOffsetLiteral) exprNode() {}
func (*DateLiteral) exprNode()           {}
func (*EnumLiteral) exprNode()           {}
func (*ArrayLiteral) exprNode()          {}
