package odata

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
