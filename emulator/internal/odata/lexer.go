package odata

import (
	"unicode"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token. The lexer follows ODataLib's
// ExpressionLexer closely, because the positions in Dataverse's error
// messages come from it.
type tokKind uint8

const (
	tEnd            tokKind = iota
	tIdent                  // name, $it, $count, any, and, …
	tString                 // 'text' ('' inside is one quote)
	tQuoted                 // prefix'text': enum values, typed literals
	tNull                   // null
	tBool                   // true, false
	tInt                    // 42, -7, 42L
	tDecimal                // 1.5, 2M
	tDouble                 // 1e5, 2.5d, 1f, INF, -INF, NaN
	tGUID                   // 8-4-4-4-12 hex digits, unquoted
	tDate                   // 2024-01-31
	tDateTimeOffset         // 2024-01-31T10:00:00Z
	tTimeOfDay              // 10:00:00
	tBinary                 // 0x1F
	tAlias                  // @p1
	tOpenParen
	tCloseParen
	tComma
	tMinus
	tEqual
	tSlash
	tDot
	tColon
	tSemicolon // only when the lexer is told to split on ';' (expand options)
	tStar
	tQuestion
	tOpenBracket // '[': the parser reads the JSON array itself
	tOpenBrace   // '{': a JSON object, which Dataverse's filters never take
)

// token is a token: its kind and the bytes it spans in the source.
type token struct {
	kind       tokKind
	start, end int
}

// bailout carries a *SyntaxError up the recursive-descent parser through a
// panic; every exported entry point recovers it (and only it), so no panic
// ever leaves the package.
type bailout struct{ err *SyntaxError }

// catch is deferred by every entry point: it turns a bailout back into an
// error and lets any other panic (a bug) continue.
func catch(err *error) {
	if r := recover(); r != nil {
		b, ok := r.(bailout)
		if !ok {
			panic(r)
		}
		*err = b.err
	}
}

// lexer splits src[lo:hi] of its window into tokens, skipping whitespace.
type lexer struct {
	w          *textWindow
	pos        int   // next byte to read
	tok        token // current token
	semicolons bool  // ';' is a token
	aliases    bool  // '@name' is a token (filter, orderby, apply)
}

func (l *lexer) bail(err *SyntaxError) { panic(bailout{err}) }

// text returns the source text of the current token.
func (l *lexer) text() string { return l.w.src[l.tok.start:l.tok.end] }

// is reports whether the current token is the identifier id (keywords are
// case-sensitive in OData: "AND" is not "and").
func (l *lexer) is(id string) bool {
	return l.tok.kind == tIdent && l.tok.end-l.tok.start == len(id) && l.w.src[l.tok.start:l.tok.end] == id
}

// peek returns the token after the current one without consuming it.
func (l *lexer) peek() token {
	saved, savedPos := l.tok, l.pos
	l.next()
	t := l.tok
	l.tok, l.pos = saved, savedPos
	return t
}

// reset moves the lexer to byte offset pos and reads the token there.
func (l *lexer) reset(pos int) {
	l.pos = pos
	l.next()
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isHexDigit(c byte) bool {
	return isASCIIDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// isIdentStart mirrors ODataLib: letters (Lu Ll Lt Lm Lo), Nl, '_' and '$'.
func isIdentStart(r rune) bool {
	if r < utf8.RuneSelf {
		c := byte(r)
		return isASCIILetter(c) || c == '_' || c == '$'
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r)
}

// isIdentPart mirrors ODataLib: letters, Nd, Nl, Mn, Mc, Pc, Cf.
func isIdentPart(r rune) bool {
	if r < utf8.RuneSelf {
		c := byte(r)
		return isASCIILetter(c) || isASCIIDigit(c) || c == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) ||
		unicode.In(r, unicode.Nl, unicode.Mn, unicode.Mc, unicode.Pc, unicode.Cf)
}

// runeAt decodes the rune at byte offset i (i < hi).
func (l *lexer) runeAt(i int) (rune, int) {
	c := l.w.src[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(l.w.src[i:l.w.hi])
}

func (l *lexer) skipSpace() {
	s, hi := l.w.src, l.w.hi
	for l.pos < hi {
		c := s[l.pos]
		if c == ' ' || (c >= '\t' && c <= '\r') {
			l.pos++
			continue
		}
		if c < utf8.RuneSelf {
			return
		}
		r, size := utf8.DecodeRuneInString(s[l.pos:hi])
		if !unicode.IsSpace(r) {
			return
		}
		l.pos += size
	}
}

// scanIdent advances over identifier characters from i and returns the end.
func (l *lexer) scanIdent(i int) int {
	s, hi := l.w.src, l.w.hi
	for i < hi {
		c := s[i]
		if c < utf8.RuneSelf {
			if isASCIILetter(c) || isASCIIDigit(c) || c == '_' {
				i++
				continue
			}
			return i
		}
		r, size := utf8.DecodeRuneInString(s[i:hi])
		if !isIdentPart(r) {
			return i
		}
		i += size
	}
	return i
}

// scanQuoted advances over a quoted body starting at the opening quote at
// i, where two quotes in a row stand for one, and returns the end (after
// the closing quote). It fails with template at the end of the text when
// the closing quote is missing.
func (l *lexer) scanQuoted(i int, template string) int {
	s, hi := l.w.src, l.w.hi
	for {
		i++ // past the opening (or doubled) quote
		for i < hi && s[i] != '\'' {
			i++
		}
		if i >= hi {
			l.bail(l.w.failAt(hi, template))
		}
		i++ // past the closing quote
		if i >= hi || s[i] != '\'' {
			return i
		}
	}
}

// next reads the next token into l.tok.
func (l *lexer) next() {
	l.skipSpace()
	s, hi := l.w.src, l.w.hi
	start := l.pos
	if start >= hi {
		l.tok = token{tEnd, hi, hi}
		return
	}
	kind := tEnd
	c := s[start]
	switch c {
	case '(':
		kind, l.pos = tOpenParen, start+1
	case ')':
		kind, l.pos = tCloseParen, start+1
	case ',':
		kind, l.pos = tComma, start+1
	case '=':
		kind, l.pos = tEqual, start+1
	case '/':
		kind, l.pos = tSlash, start+1
	case '?':
		kind, l.pos = tQuestion, start+1
	case '.':
		kind, l.pos = tDot, start+1
	case ':':
		kind, l.pos = tColon, start+1
	case '*':
		kind, l.pos = tStar, start+1
	case '[':
		kind, l.pos = tOpenBracket, start+1
	case '{':
		kind, l.pos = tOpenBrace, start+1
	case '\'':
		kind, l.pos = tString, l.scanQuoted(start, msgUnterminatedString)
	case '-':
		kind = l.scanMinus(start)
	case ';':
		if !l.semicolons {
			l.bail(l.w.failAt(start, invalidChar(s, start)))
		}
		kind, l.pos = tSemicolon, start+1
	case '@':
		if !l.aliases {
			l.bail(l.w.failAt(start, invalidChar(s, start)))
		}
		i := start + 1
		if i >= hi {
			l.bail(l.w.failAt(hi, msgSyntaxError))
		}
		if r, _ := l.runeAt(i); !isIdentStart(r) {
			l.bail(l.w.failAt(i, invalidChar(s, i)))
		}
		kind, l.pos = tAlias, l.scanIdent(i+1)
	default:
		switch {
		case isASCIIDigit(c):
			kind = l.scanNumber(start)
		default:
			r, size := l.runeAt(start)
			if !isIdentStart(r) {
				l.bail(l.w.failAt(start, invalidChar(s, start)))
			}
			kind = l.scanWord(start, start+size)
		}
	}
	l.tok = token{kind, start, l.pos}
}

// invalidChar builds the invalid-character template with the character
// filled in (its position and the text are filled in by failAt).
func invalidChar(s string, pos int) string {
	return "Syntax error: character '" + escapePercent(quoteChar(s, pos)) + "' is not valid at position %d in '%s'."
}

// escapePercent doubles '%' so a user-supplied character can sit in a
// format template.
func escapePercent(s string) string {
	if s == "%" {
		return "%%"
	}
	return s
}

// scanMinus handles '-': a negative number, -INF, or the minus operator.
func (l *lexer) scanMinus(start int) tokKind {
	s, hi := l.w.src, l.w.hi
	if start+1 < hi {
		if isASCIIDigit(s[start+1]) {
			return l.scanNumber(start)
		}
		if s[start+1] == 'I' {
			end := l.scanIdent(start + 2)
			if isInfOrNaN(s[start+1 : end]) {
				l.pos = end
				return tDouble
			}
		}
	}
	l.pos = start + 1
	return tMinus
}

// scanWord reads an identifier (or keyword, or GUID starting with a letter,
// or prefix'quoted' literal) starting at start; after is the byte after
// its first character.
func (l *lexer) scanWord(start, after int) tokKind {
	s, hi := l.w.src, l.w.hi
	end := l.scanIdent(after)
	if end < hi && s[end] == '-' {
		if lit := l.literalEnd(start); isGUID(s[start:lit]) {
			l.pos = lit
			return tGUID
		}
	}
	l.pos = end
	word := s[start:end]
	if end < hi && s[end] == '\'' {
		if word == "null" {
			// typed nulls (null'Edm.String') are not supported
			l.bail(l.w.failAt(end, msgSyntaxError))
		}
		l.pos = l.scanQuoted(end, msgUnterminatedLiteral)
		return tQuoted
	}
	switch word {
	case "null":
		return tNull
	case "true", "false":
		return tBool
	}
	if isInfOrNaN(word) {
		return tDouble
	}
	return tIdent
}

// isInfOrNaN reports whether w is one of ODataLib's special double or
// single literals.
func isInfOrNaN(w string) bool {
	switch w {
	case "INF", "NaN", "INFD", "NaND", "INFd", "NaNd", "INFF", "NaNF", "INFf", "NaNf":
		return true
	}
	return false
}

// literalEnd mirrors ODataLib's ParseLiteral: the candidate text of a
// date, timestamp or GUID runs to the next ',', ')' or ' ', or the end.
func (l *lexer) literalEnd(start int) int {
	s, hi := l.w.src, l.w.hi
	i := start + 1
	for i < hi && s[i] != ',' && s[i] != ')' && s[i] != ' ' {
		i++
	}
	return i
}

// scanNumber reads a token that starts with a digit (or '-' and a digit):
// a number, date, timestamp, time of day, GUID or 0x binary.
func (l *lexer) scanNumber(start int) tokKind {
	s, hi := l.w.src, l.w.hi
	i := start
	if s[i] == '-' {
		i++
	}
	if s[i] == '0' && i+1 < hi && s[i+1]|0x20 == 'x' {
		i += 2
		for i < hi && isHexDigit(s[i]) {
			i++
		}
		l.pos = i
		return tBinary
	}
	for i < hi && isASCIIDigit(s[i]) {
		i++
	}
	if i < hi {
		switch c := s[i]; {
		case c == '-':
			lit := l.literalEnd(start)
			text := s[start:lit]
			switch {
			case isDate(text):
				l.pos = lit
				return tDate
			case isDateTimeOffset(text):
				l.pos = lit
				return tDateTimeOffset
			case isGUID(text):
				l.pos = lit
				return tGUID
			}
		case c == ':':
			if lit := l.literalEnd(start); isTimeOfDay(s[start:lit]) {
				l.pos = lit
				return tTimeOfDay
			}
		default:
			if r, _ := l.runeAt(i); unicode.IsLetter(r) {
				if lit := l.literalEnd(start); isGUID(s[start:lit]) {
					l.pos = lit
					return tGUID
				}
			}
		}
	}
	kind := tInt
	if i < hi && s[i] == '.' {
		kind = tDecimal
		i++
		if i >= hi || !isASCIIDigit(s[i]) {
			l.bail(l.w.failAt(i, msgDigitExpected))
		}
		for i < hi && isASCIIDigit(s[i]) {
			i++
		}
	}
	if i < hi && s[i]|0x20 == 'e' {
		kind = tDouble
		i++
		if i < hi && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= hi || !isASCIIDigit(s[i]) {
			l.bail(l.w.failAt(i, msgDigitExpected))
		}
		for i < hi && isASCIIDigit(s[i]) {
			i++
		}
	}
	if i < hi {
		switch s[i] | 0x20 {
		case 'm':
			kind = tDecimal
			i++
		case 'd', 'f':
			kind = tDouble
			i++
		case 'l':
			if kind == tInt {
				i++
			}
		}
	}
	l.pos = i
	return kind
}
