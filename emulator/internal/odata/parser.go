package odata

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxDepth is the recursion budget of one $filter, $orderby or $apply
// expression, counted the way ODataLib counts it (ODataUriParserSettings'
// default FilterLimit and OrderByLimit of 800). Each parenthesised level
// costs seven units, each "not" or unary minus one, so about 114 nested
// parentheses or 790 nested "not"s fit. Past it parsing fails with
// "Recursion depth exceeded allowed limit." [unverified that Dataverse
// keeps ODataLib's default]
const MaxDepth = 800

// MaxPathLength is the longest $select or $expand path ODataLib accepts
// (ODataUriParserSettings.PathLimit).
const MaxPathLength = 100

// parser is a recursive-descent parser over one text window.
type parser struct {
	lexer
	win      textWindow
	depth    int
	maxDepth int
	vars     []string // lambda range variables in scope, innermost last

	// Node storage for the most common nodes (see slab).
	binaries slab[BinaryExpr]
	paths    slab[PathExpr]
	segments slab[Segment]
	strings  slab[StringLiteral]
	ints     slab[IntLiteral]
}

func (p *parser) binary(op BinaryOp, left, right Expr, opPos int) *BinaryExpr {
	b := p.binaries.alloc()
	*b = BinaryExpr{Op: op, Left: left, Right: right, OpOffset: opPos}
	return b
}

func newParser(src string, lo, hi int, option string) *parser {
	p := &parser{win: textWindow{src: src, lo: lo, hi: hi, option: option}, maxDepth: MaxDepth}
	p.lexer = lexer{w: &p.win, pos: lo, aliases: true}
	return p
}

// run calls f, turning a bailout into an error; on error the result is the
// zero value.
func run[T any](f func() T) (res T, err error) {
	defer catch(&err)
	res = f()
	return res, nil
}

// ParseFilter parses a $filter value (already URL-decoded) into an
// expression.
func ParseFilter(s string) (Expr, error) {
	return parseFilterText(s, 0, len(s), "")
}

func parseFilterText(src string, lo, hi int, option string) (Expr, error) {
	return run(func() Expr {
		p := newParser(src, lo, hi, option)
		p.next()
		e := p.parseExpression()
		p.expectEnd()
		return e
	})
}

// ParseOrderBy parses a $orderby value: a comma-separated list of
// expressions (normally property paths), each optionally followed by "asc"
// or "desc".
func ParseOrderBy(s string) ([]OrderByItem, error) {
	return parseOrderByText(s, 0, len(s), "")
}

func parseOrderByText(src string, lo, hi int, option string) ([]OrderByItem, error) {
	return run(func() []OrderByItem {
		p := newParser(src, lo, hi, option)
		p.next()
		var items []OrderByItem
		for {
			it := OrderByItem{Expr: p.parseExpression()}
			if p.is("asc") {
				p.next()
			} else if p.is("desc") {
				it.Desc = true
				p.next()
			}
			items = append(items, it)
			if p.tok.kind != tComma {
				break
			}
			p.next()
		}
		p.expectEnd()
		return items
	})
}

// ParseAliasValue parses the value of a parameter alias (`@p1='x'`,
// `@p2=["a","b"]`) as an expression, as ODataLib does.
func ParseAliasValue(s string) (Expr, error) {
	return parseFilterText(s, 0, len(s), "")
}

func (p *parser) enter() {
	p.depth++
	if p.depth > p.maxDepth {
		p.bail(p.win.fail(p.tok.start, msgTooDeep))
	}
}

func (p *parser) leave() { p.depth-- }

// expectEnd is ODataLib's ValidateToken(End): the position reported is the
// end of the offending token.
func (p *parser) expectEnd() {
	if p.tok.kind != tEnd {
		p.bail(p.win.failAt(p.tok.end, msgSyntaxError))
	}
}

func (p *parser) parseExpression() Expr {
	p.enter()
	e := p.parseOr()
	p.leave()
	return e
}

func (p *parser) parseOr() Expr {
	p.enter()
	left := p.parseAnd()
	for p.is("or") {
		opPos := p.tok.start
		p.next()
		left = p.binary(OpOr, left, p.parseAnd(), opPos)
	}
	p.leave()
	return left
}

func (p *parser) parseAnd() Expr {
	p.enter()
	left := p.parseComparison()
	for p.is("and") {
		opPos := p.tok.start
		p.next()
		left = p.binary(OpAnd, left, p.parseComparison(), opPos)
	}
	p.leave()
	return left
}

// binaryOp returns the operator the current token names, if it is one of
// ops.
func (p *parser) binaryOp(ops ...BinaryOp) (BinaryOp, bool) {
	if p.tok.kind != tIdent {
		return 0, false
	}
	t := p.text()
	for _, op := range ops {
		if binaryOpNames[op] == t {
			return op, true
		}
	}
	return 0, false
}

func (p *parser) parseComparison() Expr {
	p.enter()
	left := p.parseAdditive()
	for {
		op, ok := p.binaryOp(OpEq, OpNe, OpGt, OpGe, OpLt, OpLe, OpHas)
		if !ok {
			break
		}
		opPos := p.tok.start
		p.next()
		left = p.binary(op, left, p.parseAdditive(), opPos)
	}
	p.leave()
	return left
}

func (p *parser) parseAdditive() Expr {
	p.enter()
	left := p.parseMultiplicative()
	for {
		op, ok := p.binaryOp(OpAdd, OpSub)
		if !ok {
			break
		}
		opPos := p.tok.start
		p.next()
		left = p.binary(op, left, p.parseMultiplicative(), opPos)
	}
	p.leave()
	return left
}

func (p *parser) parseMultiplicative() Expr {
	p.enter()
	left := p.parseUnary()
	for {
		op, ok := p.binaryOp(OpMul, OpDiv, OpMod)
		if !ok {
			break
		}
		opPos := p.tok.start
		p.next()
		left = p.binary(op, left, p.parseUnary(), opPos)
	}
	p.leave()
	return left
}

func isNumericTok(k tokKind) bool { return k == tInt || k == tDecimal || k == tDouble }

// parseUnary handles "not" and '-'. As in ODataLib (and the OData ABNF),
// "not" binds tighter than the comparison operators: `not a eq b` is
// `(not a) eq b`, which the binder then rejects as Dataverse does.
func (p *parser) parseUnary() Expr {
	p.enter()
	if p.tok.kind == tMinus || p.is("not") {
		op := p.tok
		p.next()
		if op.kind == tMinus && isNumericTok(p.tok.kind) {
			// ODataLib glues the minus to the number that follows, even
			// across whitespace.
			p.leave()
			return p.parsePrimary(op.start)
		}
		x := p.parseUnary()
		p.leave()
		if op.kind == tMinus {
			return &NegateExpr{Offset: op.start, X: x}
		}
		return &NotExpr{Offset: op.start, X: x}
	}
	p.leave()
	return p.parsePrimary(-1)
}

// parsePrimary parses a primary expression. neg, when not -1, is the offset
// of a minus sign to glue onto the numeric literal that is the current
// token.
func (p *parser) parsePrimary(neg int) Expr {
	p.enter()
	var e Expr
	if p.tok.kind == tIdent && neg < 0 {
		e = p.parseIdentExpr()
	} else {
		first := p.tok
		single := first.kind != tOpenParen && first.kind != tOpenBracket
		e = p.parsePrimaryStart(neg)
		if p.tok.kind == tSlash {
			if single {
				// ODataLib takes a token followed by '/' for a path
				// segment and finds no identifier there.
				at := first.start
				if neg >= 0 {
					at = neg
				}
				p.bail(p.win.fail(at, fmt.Sprintf(msgIdentifierExpected, p.win.charPos(at))))
			}
			p.bail(p.win.failAt(p.tok.start, msgSyntaxError))
		}
	}
	p.leave()
	return e
}

// parsePrimaryStart parses a literal, an alias or a parenthesised
// expression.
func (p *parser) parsePrimaryStart(neg int) Expr {
	switch p.tok.kind {
	case tAlias:
		e := &AliasExpr{Name: p.text(), Offset: p.tok.start}
		p.next()
		return e
	case tOpenParen:
		p.next()
		e := p.parseExpression()
		if p.tok.kind != tCloseParen {
			p.bail(p.win.failAt(p.tok.start, msgCloseParenOrOperator))
		}
		p.next()
		return e
	case tOpenBracket:
		return p.parseArray()
	case tString, tQuoted, tNull, tBool, tInt, tDecimal, tDouble, tGUID, tDate,
		tDateTimeOffset, tTimeOfDay, tBinary:
		e := p.literal(neg)
		p.next()
		return e
	}
	p.bail(p.win.failAt(p.tok.start, msgExpressionExpected))
	return nil
}

// unrecognized fails with ODataLib's "Unrecognized 'Edm.X' literal" error.
func (p *parser) unrecognized(edmType, text string, at int) {
	p.bail(p.win.fail(at, fmt.Sprintf(msgUnrecognizedLiteral, edmType, text, p.win.charPos(at), p.win.text())))
}

// unsupported fails for a literal type Dataverse has no use for.
func (p *parser) unsupported(edmType string) {
	at := p.tok.start
	p.bail(p.win.fail(at, fmt.Sprintf(msgUnsupportedLiteral, p.text(), edmType, p.win.charPos(at), p.win.text())))
}

// literal builds the literal node for the current token (not consumed).
func (p *parser) literal(neg int) Expr {
	t := p.tok
	text := p.text()
	at := t.start
	if neg >= 0 {
		text = "-" + text
		at = neg
	}
	switch t.kind {
	case tString:
		l := p.strings.alloc()
		*l = StringLiteral{Offset: at, Value: unquote(text)}
		return l
	case tNull:
		return &NullLiteral{Offset: at}
	case tBool:
		return &BoolLiteral{Offset: at, Value: text == "true"}
	case tInt:
		digits, long := strings.CutSuffix(text, "L")
		if !long {
			digits, long = strings.CutSuffix(text, "l")
		}
		if v, err := strconv.ParseInt(digits, 10, 64); err == nil {
			l := p.ints.alloc()
			*l = IntLiteral{Offset: at, Value: v}
			return l
		}
		if long {
			p.unrecognized("Edm.Int64", text, at)
		}
		if !isDecimalText(digits) {
			p.unrecognized("Edm.Int32", text, at)
		}
		// Too big for Int64: ODataLib reads it as a decimal (or double).
		return &DecimalLiteral{Offset: at, Text: digits}
	case tDecimal:
		digits := text
		if c := text[len(text)-1]; c == 'M' || c == 'm' {
			digits = text[:len(text)-1]
		}
		if !isDecimalText(digits) {
			p.unrecognized("Edm.Decimal", text, at)
		}
		return &DecimalLiteral{Offset: at, Text: digits}
	case tDouble:
		v, ok := parseDouble(text)
		if !ok {
			p.unrecognized("Edm.Double", text, at)
		}
		return &DoubleLiteral{Offset: at, Value: v, Text: text}
	case tGUID:
		u, _ := parseGUID(text)
		return &GUIDLiteral{Offset: at, Value: u}
	case tDate:
		y, m, d, _ := parseDate(text)
		return &DateLiteral{Offset: at, Year: y, Month: m, Day: d}
	case tDateTimeOffset:
		v, _ := parseDateTimeOffset(text)
		return &DateTimeOffsetLiteral{Offset: at, Value: v, Text: text}
	case tTimeOfDay:
		p.unsupported("Edm.TimeOfDay")
	case tBinary:
		p.unsupported("Edm.Binary")
	case tQuoted:
		prefix := text[:strings.IndexByte(text, '\'')]
		switch strings.ToLower(prefix) {
		case "duration":
			p.unsupported("Edm.Duration")
		case "binary", "x":
			p.unsupported("Edm.Binary")
		case "geography":
			p.unsupported("Edm.Geography")
		case "geometry":
			p.unsupported("Edm.Geometry")
		}
		// A quoted value after a name without a namespace is no literal
		// ODataLib knows.
		p.bail(p.win.failAt(at, msgSyntaxError))
	}
	p.bail(p.win.failAt(at, msgExpressionExpected))
	return nil
}

// parseDouble parses a double literal: digits with fraction/exponent and an
// optional d/D/f/F suffix, or INF, -INF, NaN (optionally suffixed).
func parseDouble(text string) (float64, bool) {
	body := text
	neg := false
	if body[0] == '-' {
		neg, body = true, body[1:]
	}
	if isInfOrNaN(body) {
		switch {
		case body[0] == 'N':
			if !neg {
				return math.NaN(), true
			}
		case neg:
			return math.Inf(-1), true
		default:
			return math.Inf(1), true
		}
		return 0, false
	}
	body = text
	if c := body[len(body)-1]; c == 'd' || c == 'D' || c == 'f' || c == 'F' {
		body = body[:len(body)-1]
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !isASCIIDigit(c) && c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(body, 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// nextByteIs reports whether the next non-space byte after the current
// token is c, without moving.
func (p *parser) nextByteIs(c byte) bool {
	s, hi := p.win.src, p.win.hi
	for i := p.pos; i < hi; i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\v', '\f', '\r':
			continue
		case c:
			return true
		}
		if s[i] >= 0x80 {
			// Unicode whitespace is rare enough to take the slow path.
			t := p.peek()
			return t.start < hi && s[t.start] == c
		}
		return false
	}
	return false
}

// parseIdentExpr parses what starts with an identifier: a function call, a
// query function, an enum value, or a property path (possibly ending in a
// lambda).
func (p *parser) parseIdentExpr() Expr {
	s, hi := p.win.src, p.win.hi
	start := p.tok.start
	// ODataLib's ExpandIdentifierAsFunction: name(.name)* followed
	// directly, without whitespace, by '('.
	i, dotted := p.tok.end, false
	for i+1 < hi && s[i] == '.' {
		r, size := p.runeAt(i + 1)
		if !isIdentStart(r) {
			break
		}
		i = p.scanIdent(i + 1 + size)
		dotted = true
	}
	if i < hi && s[i] == '(' {
		name := s[start:i]
		p.reset(i)
		if dotted {
			return p.parseQueryFunction(start, name)
		}
		return p.parseCall(start, name)
	}
	return p.parsePath()
}

// readDotted reads Identifier ('.' Identifier)* from the current token,
// with whitespace allowed around the dots as in ODataLib, and returns the
// joined name. If the last part is prefix'value', quoted is that token.
func (p *parser) readDotted() (name string, quoted token, hasQuoted bool) {
	s := p.win.src
	start, end := p.tok.start, p.tok.end
	var b *strings.Builder
	p.next()
	for p.tok.kind == tDot {
		dot := p.tok
		p.next()
		if hasQuoted || (p.tok.kind != tIdent && p.tok.kind != tQuoted) {
			p.bail(p.win.failAt(p.tok.end, msgSyntaxError))
		}
		if b == nil && (dot.start != end || p.tok.start != dot.end) {
			b = &strings.Builder{}
			b.WriteString(s[start:end])
		}
		if b != nil {
			b.WriteByte('.')
			b.WriteString(p.text())
		}
		if p.tok.kind == tQuoted {
			quoted, hasQuoted = p.tok, true
		}
		end = p.tok.end
		p.next()
	}
	if b != nil {
		return b.String(), quoted, hasQuoted
	}
	return s[start:end], quoted, hasQuoted
}

func (p *parser) isRangeVar(name string) bool {
	for i := len(p.vars) - 1; i >= 0; i-- {
		if p.vars[i] == name {
			return true
		}
	}
	return false
}

// parsePath parses a property path from the current identifier, and a
// lambda if the path ends in /any(...) or /all(...).
func (p *parser) parsePath() Expr {
	first := p.tok
	path := p.paths.alloc()
	path.Offset = first.start
	if p.nextByteIs('.') {
		name, quoted, hasQuoted := p.readDotted()
		if hasQuoted {
			// Namespace.EnumType'Member'
			qt := p.win.src[quoted.start:quoted.end]
			q := strings.IndexByte(qt, '\'')
			typ := name[:len(name)-(len(qt)-q)]
			e := &EnumLiteral{Offset: first.start, Type: typ, Value: unquote(qt[q:])}
			if p.tok.kind == tSlash {
				p.bail(p.win.failAt(p.tok.start, msgSyntaxError))
			}
			return e
		}
		path.Segments = p.segments.one(Segment{Name: name, Offset: first.start})
	} else {
		name := p.text()
		switch {
		case name == "$it":
			path.Root = RootIt
		case p.isRangeVar(name):
			path.Root, path.Var = RootRangeVariable, name
		default:
			path.Segments = p.segments.one(Segment{Name: name, Offset: first.start})
		}
		p.next()
	}
	for p.tok.kind == tSlash {
		p.next()
		if p.is("any") || p.is("all") {
			e := p.parseLambda(path)
			if p.tok.kind == tSlash {
				p.bail(p.win.failAt(p.tok.start, msgSyntaxError))
			}
			return e
		}
		if p.tok.kind != tIdent {
			p.bail(p.win.fail(p.tok.start, fmt.Sprintf(msgIdentifierExpected, p.win.charPos(p.tok.start))))
		}
		seg := Segment{Offset: p.tok.start}
		if p.nextByteIs('.') {
			name, _, hasQuoted := p.readDotted()
			if hasQuoted {
				p.bail(p.win.failAt(seg.Offset, msgSyntaxError))
			}
			seg.Name = name
		} else {
			seg.Name = p.text()
			p.next()
		}
		if p.tok.kind == tOpenParen && p.tok.start == seg.Offset+len(seg.Name) {
			// A function bound to a navigation property: not something a
			// Dataverse filter can call.
			p.bail(p.win.failAt(p.tok.start, msgSyntaxError))
		}
		path.Segments = append(path.Segments, seg)
	}
	return path
}

// parseLambda parses any(...) or all(...) after coll/; the current token
// is "any" or "all".
func (p *parser) parseLambda(coll *PathExpr) Expr {
	l := &LambdaExpr{Collection: coll, Kind: LambdaAny, KindOffset: p.tok.start}
	if p.is("all") {
		l.Kind = LambdaAll
	}
	p.next()
	if p.tok.kind != tOpenParen {
		p.bail(p.win.failAt(p.tok.start, msgOpenParenExpected))
	}
	p.next()
	if p.tok.kind == tCloseParen {
		p.next()
		return l
	}
	if p.tok.kind != tIdent {
		p.bail(p.win.fail(p.tok.start, fmt.Sprintf(msgIdentifierExpected, p.win.charPos(p.tok.start))))
	}
	l.Var, l.VarOffset = p.text(), p.tok.start
	if l.Var == "$it" || p.isRangeVar(l.Var) {
		p.bail(p.win.fail(l.VarOffset, fmt.Sprintf(msgRangeVariableDeclared, l.Var)))
	}
	p.next()
	if p.tok.kind != tColon {
		p.bail(p.win.failAt(p.tok.end, msgSyntaxError))
	}
	p.next()
	p.vars = append(p.vars, l.Var)
	l.Predicate = p.parseExpression()
	if p.tok.kind != tCloseParen {
		p.bail(p.win.failAt(p.tok.start, msgCloseParenOrComma))
	}
	p.vars = p.vars[:len(p.vars)-1]
	p.next()
	return l
}

// parseCall parses name(arg,...) with positional arguments; the current
// token is '('.
func (p *parser) parseCall(start int, name string) Expr {
	c := &CallExpr{Name: name, Offset: start}
	p.next()
	if p.tok.kind != tCloseParen {
		for {
			c.Args = append(c.Args, p.parseExpression())
			if p.tok.kind != tComma {
				break
			}
			p.next()
		}
	}
	if p.tok.kind != tCloseParen {
		p.bail(p.win.failAt(p.tok.start, msgCloseParenOrComma))
	}
	p.next()
	return c
}

// parseQueryFunction parses Namespace.Name(Param=value,...); the current
// token is '('.
func (p *parser) parseQueryFunction(start int, fullName string) Expr {
	dot := strings.LastIndexByte(fullName, '.')
	f := &QueryFunctionExpr{Namespace: fullName[:dot], Name: fullName[dot+1:], Offset: start}
	p.next()
	if p.tok.kind != tCloseParen {
		for {
			if p.tok.kind != tIdent {
				p.bail(p.win.failAt(p.tok.start, msgSyntaxError))
			}
			param := NamedParam{Name: p.text(), Offset: p.tok.start}
			p.next()
			if p.tok.kind != tEqual {
				p.bail(p.win.failAt(p.tok.start, msgSyntaxError))
			}
			p.next()
			param.Value = p.parseExpression()
			if _, dup := f.Param(param.Name); dup {
				p.bail(p.win.fail(param.Offset, msgDuplicateParameter))
			}
			f.Params = append(f.Params, param)
			if p.tok.kind != tComma {
				break
			}
			p.next()
		}
	}
	if p.tok.kind != tCloseParen {
		p.bail(p.win.failAt(p.tok.start, msgCloseParenOrComma))
	}
	p.next()
	return f
}
