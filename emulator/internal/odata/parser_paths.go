package odata

import (
	"fmt"
	"strings"
)

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
