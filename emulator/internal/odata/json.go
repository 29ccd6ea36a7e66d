package odata

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parseArray reads the JSON array that starts at the current '[' token
// (the PropertyValues of Dataverse query functions: ["a","b"], [1,2]) and
// leaves the lexer on the token after its ']'.
//
// Dataverse reads these arrays with Json.NET, which also takes
// single-quoted strings (with backslash escapes, not doubled quotes: that
// is why the docs ask for double quotes around values containing an
// apostrophe). Items are strings, numbers, true, false and null; nested
// arrays and objects are refused.
func (p *parser) parseArray() Expr {
	j := jsonReader{p: p, s: p.win.src, i: p.tok.start + 1, hi: p.win.hi}
	arr := &ArrayLiteral{Offset: p.tok.start}
	j.space()
	if j.i < j.hi && j.s[j.i] == ']' {
		p.reset(j.i + 1)
		arr.Items = []Expr{}
		return arr
	}
	for {
		j.space()
		arr.Items = append(arr.Items, j.value())
		j.space()
		if j.i >= j.hi {
			j.fail(j.i, "Unexpected end of content while loading JArray.")
		}
		switch j.s[j.i] {
		case ',':
			j.i++
		case ']':
			p.reset(j.i + 1)
			return arr
		default:
			j.fail(j.i, "A comma character ',' was expected in scope 'Array'. Was there a missing comma?")
		}
	}
}

// jsonReader scans one JSON array in place.
type jsonReader struct {
	p     *parser
	s     string
	i, hi int
}

func (j *jsonReader) fail(at int, detail string) {
	j.p.bail(j.p.win.fail(at, fmt.Sprintf(msgInvalidJSON, detail)))
}

func (j *jsonReader) space() {
	for j.i < j.hi {
		switch j.s[j.i] {
		case ' ', '\t', '\n', '\r':
			j.i++
		default:
			return
		}
	}
}

func (j *jsonReader) value() Expr {
	if j.i >= j.hi {
		j.fail(j.i, "Unexpected end of content while loading JArray.")
	}
	start := j.i
	c := j.s[j.i]
	switch {
	case c == '"' || c == '\'':
		return &StringLiteral{Offset: start, Value: j.str(c)}
	case c == '-' || isASCIIDigit(c):
		return j.number()
	case isASCIILetter(c):
		end := j.i
		for end < j.hi && isASCIILetter(j.s[end]) {
			end++
		}
		switch j.s[j.i:end] {
		case "true", "false":
			j.i = end
			return &BoolLiteral{Offset: start, Value: j.s[start] == 't'}
		case "null":
			j.i = end
			return &NullLiteral{Offset: start}
		}
	case c == '[' || c == '{':
		j.fail(start, "Nested arrays and objects are not supported in a list of property values.")
	}
	j.fail(start, "Unexpected character encountered while parsing value: "+quoteChar(j.s, start)+".")
	return nil
}

// str reads a string quoted with q (at j.i), with JSON escapes.
func (j *jsonReader) str(q byte) string {
	start := j.i
	j.i++
	var b []byte // nil while the value is a plain slice of the source
	from := j.i
	for {
		if j.i >= j.hi {
			j.fail(start, "Unterminated string. Expected delimiter: "+string(q)+".")
		}
		c := j.s[j.i]
		switch {
		case c == q:
			var v string
			if b == nil {
				v = j.s[from:j.i]
			} else {
				v = string(append(b, j.s[from:j.i]...))
			}
			j.i++
			return v
		case c == '\\':
			b = append(b, j.s[from:j.i]...)
			b = j.escape(b)
			from = j.i
		default:
			j.i++
		}
	}
}

// escape decodes the escape sequence at j.i (a backslash) onto b.
func (j *jsonReader) escape(b []byte) []byte {
	at := j.i
	j.i++
	if j.i >= j.hi {
		j.fail(at, "Unterminated string.")
	}
	c := j.s[j.i]
	j.i++
	switch c {
	case '"', '\'', '\\', '/':
		return append(b, c)
	case 'b':
		return append(b, '\b')
	case 'f':
		return append(b, '\f')
	case 'n':
		return append(b, '\n')
	case 'r':
		return append(b, '\r')
	case 't':
		return append(b, '\t')
	case 'u':
		r, ok := j.hex4()
		if !ok {
			j.fail(at, "Invalid Unicode escape sequence.")
		}
		if utf16.IsSurrogate(r) && j.i+1 < j.hi && j.s[j.i] == '\\' && j.s[j.i+1] == 'u' {
			save := j.i
			j.i += 2
			if r2, ok := j.hex4(); ok {
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					return utf8.AppendRune(b, d)
				}
			}
			j.i = save
		}
		return utf8.AppendRune(b, r)
	}
	j.fail(at, "Bad JSON escape sequence: \\"+string(c)+".")
	return nil
}

func (j *jsonReader) hex4() (rune, bool) {
	if j.i+4 > j.hi {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		v, ok := hexVal(j.s[j.i+k])
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	j.i += 4
	return r, true
}

// number reads a JSON number: -?(0|[1-9]digits)(.digits)?([eE][+-]?digits)?
func (j *jsonReader) number() Expr {
	start := j.i
	s := j.s
	i := j.i
	if s[i] == '-' {
		i++
	}
	digitsFrom := i
	for i < j.hi && isASCIIDigit(s[i]) {
		i++
	}
	if i == digitsFrom || (s[digitsFrom] == '0' && i-digitsFrom > 1) {
		j.fail(start, "Input string '"+s[start:max(i, start+1)]+"' is not a valid number.")
	}
	frac, exp := false, false
	if i < j.hi && s[i] == '.' {
		frac = true
		i++
		from := i
		for i < j.hi && isASCIIDigit(s[i]) {
			i++
		}
		if i == from {
			j.fail(start, "Input string '"+s[start:i]+"' is not a valid number.")
		}
	}
	if i < j.hi && s[i]|0x20 == 'e' {
		exp = true
		i++
		if i < j.hi && (s[i] == '+' || s[i] == '-') {
			i++
		}
		from := i
		for i < j.hi && isASCIIDigit(s[i]) {
			i++
		}
		if i == from {
			j.fail(start, "Input string '"+s[start:i]+"' is not a valid number.")
		}
	}
	j.i = i
	text := s[start:i]
	switch {
	case exp:
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			j.fail(start, "Input string '"+text+"' is not a valid number.")
		}
		return &DoubleLiteral{Offset: start, Value: v, Text: text}
	case frac:
		return &DecimalLiteral{Offset: start, Text: text}
	}
	if v, err := strconv.ParseInt(text, 10, 64); err == nil {
		return &IntLiteral{Offset: start, Value: v}
	}
	return &DecimalLiteral{Offset: start, Text: text}
}
