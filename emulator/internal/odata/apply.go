package odata

import (
	"fmt"
)

// applyKeywords is what ODataLib lists when an $apply step is not one it
// knows (Dataverse supports the same three).
const applyKeywords = "aggregate|filter|groupby"

// ParseApply parses an $apply value: filter(...), groupby((...)[,aggregate(...)])
// and aggregate(...) steps chained with '/'. An empty value gives no steps.
func ParseApply(s string) ([]Transformation, error) {
	return parseApplyText(s, 0, len(s), "")
}

func parseApplyText(src string, lo, hi int, option string) ([]Transformation, error) {
	if lo == hi {
		return nil, nil
	}
	return run(func() []Transformation {
		p := newParser(src, lo, hi, option)
		p.next()
		var steps []Transformation
		for {
			switch {
			case p.is("aggregate"):
				steps = append(steps, p.parseAggregate())
			case p.is("filter"):
				steps = append(steps, p.parseApplyFilter())
			case p.is("groupby"):
				steps = append(steps, p.parseGroupBy())
			case p.tok.kind != tIdent:
				p.bail(p.win.fail(p.tok.start, fmt.Sprintf(msgIdentifierExpected, p.win.charPos(p.tok.start))))
			default:
				p.failKeyword(applyKeywords)
			}
			if p.tok.kind != tSlash {
				break
			}
			p.next()
		}
		p.expectEnd()
		return steps
	})
}

// failKeyword fails with "'kw' expected at position N in '…'." at the
// current token.
func (p *parser) failKeyword(kw string) {
	at := p.tok.start
	p.bail(p.win.fail(at, fmt.Sprintf(msgKeywordExpected, kw, p.win.charPos(at), p.win.text())))
}

func (p *parser) expectOpenParen() {
	if p.tok.kind != tOpenParen {
		p.bail(p.win.failAt(p.tok.start, msgOpenParenExpected))
	}
	p.next()
}

// parseApplyFilter parses filter(expr); the current token is "filter".
func (p *parser) parseApplyFilter() Transformation {
	t := &FilterTransformation{Offset: p.tok.start}
	p.next()
	p.expectOpenParen()
	t.Filter = p.parseExpression()
	if p.tok.kind != tCloseParen {
		p.bail(p.win.failAt(p.tok.start, msgCloseParenOrOperator))
	}
	p.next()
	return t
}

// parseAggregate parses aggregate(item,...); the current token is
// "aggregate".
func (p *parser) parseAggregate() *AggregateTransformation {
	t := &AggregateTransformation{Offset: p.tok.start}
	p.next()
	p.expectOpenParen()
	for {
		t.Items = append(t.Items, p.parseAggregateItem())
		if p.tok.kind != tComma {
			break
		}
		p.next()
	}
	if p.tok.kind != tCloseParen {
		p.bail(p.win.failAt(p.tok.start, msgCloseParenOrComma))
	}
	p.next()
	return t
}

var aggregateMethods = map[string]AggregateMethod{
	"sum":           AggregateSum,
	"average":       AggregateAverage,
	"min":           AggregateMin,
	"max":           AggregateMax,
	"countdistinct": AggregateCountDistinct,
}

// parseAggregateItem parses "path with method as Alias" or "$count as
// Alias".
func (p *parser) parseAggregateItem() AggregateItem {
	item := AggregateItem{Offset: p.tok.start}
	e := p.parseExpression()
	path, isPath := e.(*PathExpr)
	if isPath && path.Root == RootEntity && len(path.Segments) == 1 && path.Segments[0].Name == "$count" {
		item.Method, item.MethodOffset = AggregateCountRows, path.Offset
	} else {
		if !isPath || path.Root != RootEntity {
			at := e.Pos()
			p.bail(p.win.fail(at, fmt.Sprintf(msgAggregateNotPath, e.String(), p.win.charPos(at), p.win.text())))
		}
		item.Path = path
		if !p.is("with") {
			p.failKeyword("with")
		}
		p.next()
		if p.tok.kind != tIdent {
			p.bail(p.win.fail(p.tok.start, fmt.Sprintf(msgIdentifierExpected, p.win.charPos(p.tok.start))))
		}
		m, ok := aggregateMethods[p.text()]
		if !ok {
			at := p.tok.start
			p.bail(p.win.fail(at, fmt.Sprintf(msgUnrecognizedWith, p.text(), p.win.charPos(at), p.win.text())))
		}
		item.Method, item.MethodOffset = m, p.tok.start
		p.next()
	}
	if !p.is("as") {
		p.failKeyword("as")
	}
	p.next()
	if p.tok.kind != tIdent {
		p.bail(p.win.fail(p.tok.start, fmt.Sprintf(msgIdentifierExpected, p.win.charPos(p.tok.start))))
	}
	item.Alias, item.AliasOffset = p.text(), p.tok.start
	p.next()
	return item
}

// parseGroupBy parses groupby((p1,p2)[,aggregate(...)]); the current token
// is "groupby".
func (p *parser) parseGroupBy() Transformation {
	t := &GroupByTransformation{Offset: p.tok.start}
	p.next()
	p.expectOpenParen()
	p.expectOpenParen()
	for {
		e := p.parsePrimary(-1)
		path, ok := e.(*PathExpr)
		if !ok || path.Root != RootEntity {
			p.bail(p.win.failAt(p.tok.start, msgExpressionExpected))
		}
		t.Properties = append(t.Properties, path)
		if p.tok.kind != tComma {
			break
		}
		p.next()
	}
	if p.tok.kind != tCloseParen {
		p.bail(p.win.failAt(p.tok.start, msgCloseParenOrOperator))
	}
	p.next()
	if p.tok.kind == tComma {
		p.next()
		if !p.is("aggregate") {
			p.failKeyword("aggregate")
		}
		t.Aggregate = p.parseAggregate()
	}
	if p.tok.kind != tCloseParen {
		p.bail(p.win.failAt(p.tok.start, msgCloseParenOrComma))
	}
	p.next()
	return t
}
