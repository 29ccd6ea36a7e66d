package odata

import (
	"strconv"
	"strings"
	"time"
)

// Operator precedence, lowest first, as in the OData ABNF and ODataLib:
// or < and < comparison (eq ne gt ge lt le has) < additive < multiplicative
// < unary (not) < primary.
const (
	precOr = iota + 1
	precAnd
	precComparison
	precAdditive
	precMultiplicative
	precUnary
	precPrimary
)

func (op BinaryOp) precedence() int {
	switch {
	case op == OpOr:
		return precOr
	case op == OpAnd:
		return precAnd
	case op.Comparison() || op == OpHas:
		return precComparison
	case op == OpAdd || op == OpSub:
		return precAdditive
	default:
		return precMultiplicative
	}
}

func precedenceOf(e Expr) int {
	switch e := e.(type) {
	case *BinaryExpr:
		return e.Op.precedence()
	case *NotExpr, *NegateExpr:
		return precUnary
	}
	return precPrimary
}

// writeOperand writes e, in parentheses when its precedence is below min.
func writeOperand(b *strings.Builder, e Expr, min int) {
	if precedenceOf(e) < min {
		b.WriteByte('(')
		writeExpr(b, e)
		b.WriteByte(')')
		return
	}
	writeExpr(b, e)
}

// FormatExpr formats e as canonical OData text (the same as e.String()).
// It returns "" for a nil expression.
func FormatExpr(e Expr) string {
	if e == nil {
		return ""
	}
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

func writeExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *BinaryExpr:
		p := e.Op.precedence()
		// Binary operators are left-associative: the left operand may have
		// the same precedence, the right one must bind tighter.
		writeOperand(b, e.Left, p)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeOperand(b, e.Right, p+1)
	case *NotExpr:
		b.WriteString("not ")
		writeOperand(b, e.X, precUnary)
	case *NegateExpr:
		b.WriteByte('-')
		switch e.X.(type) {
		case *PathExpr, *CallExpr, *QueryFunctionExpr, *AliasExpr, *LambdaExpr, *NotExpr, *NegateExpr:
			writeExpr(b, e.X)
		default:
			// A literal right after '-' would lex as a negative number (or
			// not at all), and a binary operand needs its parentheses.
			b.WriteByte('(')
			writeExpr(b, e.X)
			b.WriteByte(')')
		}
	case *PathExpr:
		writePath(b, e)
	case *LambdaExpr:
		writePath(b, e.Collection)
		b.WriteByte('/')
		b.WriteString(e.Kind.String())
		b.WriteByte('(')
		if e.Predicate != nil {
			b.WriteString(e.Var)
			b.WriteByte(':')
			writeExpr(b, e.Predicate)
		}
		b.WriteByte(')')
	case *CallExpr:
		b.WriteString(e.Name)
		b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				b.WriteByte(',')
			}
			writeExpr(b, a)
		}
		b.WriteByte(')')
	case *QueryFunctionExpr:
		b.WriteString(e.Namespace)
		b.WriteByte('.')
		b.WriteString(e.Name)
		b.WriteByte('(')
		for i, p := range e.Params {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(p.Name)
			b.WriteByte('=')
			writeExpr(b, p.Value)
		}
		b.WriteByte(')')
	case *AliasExpr:
		b.WriteString(e.Name)
	case *NullLiteral:
		b.WriteString("null")
	case *StringLiteral:
		writeQuoted(b, e.Value)
	case *IntLiteral:
		b.WriteString(strconv.FormatInt(e.Value, 10))
	case *DecimalLiteral:
		b.WriteString(e.Text)
		if strings.IndexByte(e.Text, '.') < 0 {
			// An integer-looking decimal (12M, or a number too big for
			// int64) keeps its type through a round trip.
			b.WriteByte('M')
		}
	case *DoubleLiteral:
		b.WriteString(e.Text)
	case *BoolLiteral:
		b.WriteString(strconv.FormatBool(e.Value))
	case *GUIDLiteral:
		b.WriteString(e.Value.String())
	case *DateTimeOffsetLiteral:
		if e.Text != "" {
			b.WriteString(e.Text)
		} else {
			b.WriteString(e.Value.Format(time.RFC3339Nano))
		}
	case *DateLiteral:
		b.WriteString(e.Time().Format(time.DateOnly))
	case *EnumLiteral:
		b.WriteString(e.Type)
		writeQuoted(b, e.Value)
	case *ArrayLiteral:
		b.WriteByte('[')
		for i, it := range e.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			switch it := it.(type) {
			case *StringLiteral:
				writeJSONString(b, it.Value)
			case *DecimalLiteral:
				b.WriteString(it.Text) // JSON numbers take no suffix
			default:
				writeExpr(b, it)
			}
		}
		b.WriteByte(']')
	}
}

func writePath(b *strings.Builder, p *PathExpr) {
	n := 0
	switch p.Root {
	case RootIt:
		b.WriteString("$it")
		n++
	case RootRangeVariable:
		b.WriteString(p.Var)
		n++
	}
	writeSegments(b, p.Segments, n > 0)
}

func writeSegments(b *strings.Builder, segs []Segment, slashFirst bool) {
	for i, s := range segs {
		if i > 0 || slashFirst {
			b.WriteByte('/')
		}
		b.WriteString(s.Name)
	}
}

// writeQuoted writes s as an OData string literal, doubling single quotes.
func writeQuoted(b *strings.Builder, s string) {
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

// writeJSONString writes s as a JSON string (for array items).
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// String implements Expr.
func (e *BinaryExpr) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *NotExpr) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *NegateExpr) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *PathExpr) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *LambdaExpr) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *CallExpr) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *QueryFunctionExpr) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *AliasExpr) String() string { return e.Name }

// String implements Expr.
func (e *NullLiteral) String() string { return "null" }

// String implements Expr.
func (e *StringLiteral) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *IntLiteral) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *DecimalLiteral) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *DoubleLiteral) String() string { return e.Text }

// String implements Expr.
func (e *BoolLiteral) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *GUIDLiteral) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *DateTimeOffsetLiteral) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *DateLiteral) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *EnumLiteral) String() string { return FormatExpr(e) }

// String implements Expr.
func (e *ArrayLiteral) String() string { return FormatExpr(e) }
