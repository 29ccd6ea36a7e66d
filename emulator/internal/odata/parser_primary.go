package odata

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

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
