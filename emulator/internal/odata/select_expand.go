package odata

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSelect parses a $select value: a comma-separated list of property
// names (or paths) and '*'. An empty value gives an empty, non-nil list.
func ParseSelect(s string) ([]SelectItem, error) {
	return parseSelectText(s, 0, len(s), "")
}

// ParseExpand parses an $expand value: navigation properties, each with
// optional nested options in parentheses separated by ';'
// (`Account_Tasks($select=subject;$filter=statecode eq 0;$orderby=createdon desc;$top=5)`),
// or `nav/$ref`. Dataverse's refusals of $skip, $count, $search and $levels
// inside $expand are reported here.
func ParseExpand(s string) ([]ExpandItem, error) {
	return parseExpandText(s, 0, len(s), "", MaxDepth)
}

// SelectTrailingCommaRefused makes a $select ending in a comma
// ("lastname,") a syntax error at the position after the comma, like a
// leading or doubled comma, rather than a list with an empty last item
// [unverified: ODataLib's select lexer stops at the end after a comma,
// which tolerates the trailing comma; whether Dataverse does is not
// documented. Set to false to accept it].
const SelectTrailingCommaRefused = true

func newSelectExpandParser(src string, lo, hi int, option string) *parser {
	p := newParser(src, lo, hi, option)
	p.aliases = false // ODataLib's select/expand lexer does not know aliases
	return p
}

func parseSelectText(src string, lo, hi int, option string) ([]SelectItem, error) {
	return run(func() []SelectItem {
		p := newSelectExpandParser(src, lo, hi, option)
		p.next()
		items := []SelectItem{}
		for p.tok.kind != tEnd {
			items = append(items, p.selectTerm())
			if p.tok.kind != tComma {
				break
			}
			p.next()
			if p.tok.kind == tEnd && SelectTrailingCommaRefused {
				p.bail(p.win.fail(p.tok.start, fmt.Sprintf(msgIdentifierExpected, p.win.charPos(p.tok.start))))
			}
		}
		p.expectTermsEnd()
		return items
	})
}

// expectTermsEnd fails with ODataLib's "Term '…' is not valid" when
// something is left after the last $select or $expand term.
func (p *parser) expectTermsEnd() {
	if p.tok.kind != tEnd {
		p.bail(p.win.fail(p.tok.start, fmt.Sprintf(msgTermNotValid, p.win.text())))
	}
}

func (p *parser) selectTerm() SelectItem {
	start := p.tok.start
	if p.tok.kind == tStar {
		if p.nextByteIs('/') {
			p.bail(p.win.fail(start, fmt.Sprintf(msgIdentifierExpected, p.win.charPos(start))))
		}
		p.next()
		return SelectItem{Star: true, Offset: start}
	}
	segs := p.termPath(true)
	if p.tok.kind == tOpenParen {
		// Options nested in $select (OData 4.01) are not something
		// Dataverse takes.
		p.bail(p.win.fail(p.tok.start, fmt.Sprintf(msgTermNotValid, p.win.text())))
	}
	return SelectItem{Path: segs, Offset: start}
}

// termPath reads a $select or $expand path: segments separated by '/'.
// In $expand the last segment may be $ref.
func (p *parser) termPath(isSelect bool) []Segment {
	segs := make([]Segment, 0, 1)
	for {
		if len(segs) == MaxPathLength {
			p.bail(p.win.fail(p.tok.start, msgTooDeep))
		}
		t := p.tok
		text := p.text()
		if len(segs) > 0 && segs[len(segs)-1].Name == "$ref" {
			p.bail(p.win.fail(t.start, msgNoPropAfterRef))
		}
		if strings.HasPrefix(text, "$") {
			switch {
			case text == "$count" && isSelect:
				p.bail(p.win.fail(t.start, msgCountInSelect))
			case text == "$ref" && !isSelect:
			default:
				p.bail(p.win.fail(t.start, fmt.Sprintf(msgSystemTokenInSelectExpand, text, p.win.text())))
			}
		}
		if t.kind != tIdent {
			p.bail(p.win.fail(t.start, fmt.Sprintf(msgIdentifierExpected, p.win.charPos(t.start))))
		}
		s := Segment{Offset: t.start}
		if p.nextByteIs('.') {
			name, _, hasQuoted := p.readDotted()
			if hasQuoted {
				p.bail(p.win.failAt(t.start, msgSyntaxError))
			}
			s.Name = name
		} else {
			s.Name = text
			p.next()
		}
		segs = append(segs, s)
		if p.tok.kind != tSlash {
			return segs
		}
		p.next()
		// ODataLib tolerates one trailing '/' after a path of two or more
		// segments (for compatibility with WCF Data Services).
		if len(segs) > 1 && p.tok.kind == tEnd {
			return segs
		}
	}
}

func parseExpandText(src string, lo, hi int, option string, depth int) ([]ExpandItem, error) {
	return run(func() []ExpandItem {
		return parseExpandItems(src, lo, hi, option, depth)
	})
}

// parseExpandItems parses an $expand list in src[lo:hi]; failures bail.
func parseExpandItems(src string, lo, hi int, option string, depth int) []ExpandItem {
	p := newSelectExpandParser(src, lo, hi, option)
	if depth <= 0 {
		p.bail(p.win.fail(lo, msgTooDeep))
	}
	p.next()
	items := []ExpandItem{}
	for p.tok.kind != tEnd {
		items = append(items, p.expandTerm(depth))
		if p.tok.kind != tComma {
			break
		}
		p.next()
	}
	p.expectTermsEnd()
	return items
}

func (p *parser) expandTerm(depth int) ExpandItem {
	item := ExpandItem{Offset: p.tok.start}
	if p.tok.kind == tStar {
		// $expand=* needs every navigation property; Dataverse does not
		// offer it. [unverified message]
		p.bail(p.win.fail(p.tok.start, fmt.Sprintf(msgTermNotValid, p.win.text())))
	}
	segs := p.termPath(false)
	if last := len(segs) - 1; segs[last].Name == "$ref" {
		if last == 0 {
			p.bail(p.win.fail(segs[0].Offset, fmt.Sprintf(msgTermNotValid, p.win.text())))
		}
		item.Ref, segs = true, segs[:last]
	}
	item.Path = segs
	if p.tok.kind == tOpenParen {
		open := p.tok.start
		end := p.skipBalanced(open)
		if item.Ref {
			// Dataverse returns references only; options make no sense.
			p.bail(p.win.fail(open, fmt.Sprintf(msgTermNotValid, p.win.text())))
		}
		item.Options = parseExpandOptions(p.win.src, open, end, p.win.option, segs[len(segs)-1].Name, depth)
		p.reset(end)
	}
	return item
}

// skipBalanced returns the offset just after the ')' that closes the '('
// at open, skipping quoted strings, as ODataLib's
// AdvanceThroughBalancedExpression does.
func (p *parser) skipBalanced(open int) int {
	s, hi := p.win.src, p.win.hi
	level := 0
	for i := open; i < hi; i++ {
		switch s[i] {
		case '\'':
			i++
			for i < hi && s[i] != '\'' {
				i++
			}
			if i >= hi {
				p.bail(p.win.fail(open, "Found an unbalanced bracket expression."))
			}
		case '(':
			level++
		case ')':
			level--
			if level == 0 {
				return i + 1
			}
		}
	}
	p.bail(p.win.fail(open, "Found an unbalanced bracket expression."))
	return 0
}

// parseExpandOptions parses the "(…)" in src[lo:hi] after an expanded
// navigation property. As in ODataLib, each option's value is parsed as a
// text of its own, so messages quote and count from that text.
func parseExpandOptions(src string, lo, hi int, option, nav string, depth int) *ExpandOptions {
	q := newSelectExpandParser(src, lo, hi, option)
	q.semicolons = true
	q.next() // '('
	q.next()
	if q.tok.kind == tCloseParen {
		q.bail(q.win.fail(q.tok.start, fmt.Sprintf(msgMissingExpandOption, nav)))
	}
	opts := &ExpandOptions{}
	for q.tok.kind != tCloseParen {
		name := q.tok
		text := q.text()
		switch text {
		case "$filter", "$orderby", "$top", "$select", "$expand":
		case "$skip", "$count", "$search", "$levels":
			q.bail(q.win.fail(name.start, fmt.Sprintf(msgOptionNotSupported, text)))
		default:
			q.bail(q.win.fail(name.start, fmt.Sprintf(msgTermNotValid, q.win.text())))
		}
		q.next()
		a, b := q.readExpandOption()
		var err error
		switch text {
		case "$filter":
			opts.Filter, err = parseFilterText(src, a, b, option)
		case "$orderby":
			opts.OrderBy, err = parseOrderByText(src, a, b, option)
		case "$select":
			opts.Select, err = parseSelectText(src, a, b, option)
		case "$expand":
			opts.Expand = parseExpandItems(src, a, b, option, depth-1)
		case "$top":
			top, ok := parseNonNegative(src[a:b])
			if !ok {
				q.bail(q.win.fail(a, fmt.Sprintf(msgInvalidNestedTop, src[a:b])))
			}
			opts.Top = &top
		}
		if err != nil {
			q.bail(err.(*SyntaxError))
		}
	}
	return opts
}

// readExpandOption reads "=value" up to the next ';' or the closing ')' at
// this level, skipping quoted strings and balanced parentheses, and returns
// the value's bounds. It leaves the lexer on the option after the ';', or
// on the ')'.
func (q *parser) readExpandOption() (int, int) {
	if q.tok.kind != tEqual {
		q.bail(q.win.failAt(q.tok.start, msgSyntaxError))
	}
	s, hi := q.win.src, q.win.hi
	a := q.tok.end
	i := a
	for i < hi {
		c := s[i]
		if c == '\'' {
			i++
			for i < hi && s[i] != '\'' {
				i++
			}
			if i >= hi {
				break
			}
		} else if c == '(' {
			i = q.skipBalanced(i)
			continue
		} else if c == ';' || c == ')' {
			break
		}
		i++
	}
	q.reset(i)
	if q.tok.kind == tSemicolon {
		q.next()
	} else if q.tok.kind != tCloseParen {
		q.bail(q.win.failAt(q.tok.end, msgSyntaxError))
	}
	return a, i
}

// parseNonNegative parses a non-negative integer as .NET's long.TryParse
// does with its default style: surrounding whitespace and a sign allowed.
func parseNonNegative(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "+")
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if !isASCIIDigit(s[i]) && !(i == 0 && s[i] == '-') {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}
