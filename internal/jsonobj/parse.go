package jsonobj

import (
	"encoding/json"
	"unicode/utf8"
)

// maxDepth bounds the nesting Parse follows; deeper input is
// left to encoding/json, which has its own limit (10,000) and error.
const maxDepth = 1000

// Parse parses b, a JSON object (or null) with optional surrounding white
// space, into the map a json.Decoder with UseNumber would build: members as
// map[string]any, []any, string, json.Number, bool and nil; the last of
// repeated names wins. ok is false when b is not certainly valid, or not an
// object or null: decode it with encoding/json then, for its error.
func Parse(b []byte) (m map[string]any, ok bool) {
	p := parser{b: b}
	p.space()
	if p.i < len(b) && b[p.i] == 'n' {
		if !p.literal("null") {
			return nil, false
		}
		p.space()
		return nil, p.i == len(b)
	}
	if p.i >= len(b) || b[p.i] != '{' {
		return nil, false
	}
	m, ok = p.object(0)
	if !ok {
		return nil, false
	}
	p.space()
	return m, p.i == len(b)
}

// Member is one member of a JSON object, as ParseMembers returns it.
type Member struct {
	Name  string
	Value any
}

// ParseMembers is Parse for a caller that goes through the members rather
// than looking them up: it appends the members of the object b to dst, in
// document order, and builds no map for the object itself (nested objects
// are maps, as Parse makes them). A repeated name appears as often as it
// is written; Parse, like encoding/json, keeps the last. null reports that
// b is null. ok is false as for Parse.
func ParseMembers(b []byte, dst []Member) (members []Member, null, ok bool) {
	p := parser{b: b}
	p.space()
	if p.i < len(b) && b[p.i] == 'n' {
		if !p.literal("null") {
			return dst, false, false
		}
		p.space()
		return dst, true, p.i == len(b)
	}
	members = dst
	add := func(k string, v any) { members = append(members, Member{k, v}) }
	if p.i >= len(b) || b[p.i] != '{' || !p.eachMember(0, add) {
		return dst, false, false
	}
	p.space()
	return members, false, p.i == len(b)
}

// parser is a strict JSON parser over b producing encoding/json's
// UseNumber values: map[string]any, []any, string, json.Number, bool, nil.
type parser struct {
	b []byte
	i int
}

func (p *parser) space() { p.i = SkipSpace(p.b, p.i) }

func (p *parser) literal(s string) bool {
	if !hasLiteral(p.b, p.i, s) {
		return false
	}
	p.i += len(s)
	return true
}

// object parses an object starting at '{'.
func (p *parser) object(depth int) (map[string]any, bool) {
	m := map[string]any{}
	if !p.eachMember(depth, func(k string, v any) { m[k] = v }) {
		return nil, false
	}
	return m, true
}

// eachMember parses an object starting at '{' and gives add each member,
// in document order.
func (p *parser) eachMember(depth int, add func(name string, value any)) bool {
	if depth >= maxDepth {
		return false
	}
	p.i++ // '{'
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return true
	}
	for {
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return false
		}
		k, ok := p.str()
		if !ok {
			return false
		}
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return false
		}
		p.i++
		p.space()
		v, ok := p.value(depth + 1)
		if !ok {
			return false
		}
		add(k, v)
		p.space()
		if p.i >= len(p.b) {
			return false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.space()
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// array parses an array starting at '['.
func (p *parser) array(depth int) ([]any, bool) {
	if depth >= maxDepth {
		return nil, false
	}
	p.i++ // '['
	a := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return a, true
	}
	for {
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		p.space()
		if p.i >= len(p.b) {
			return nil, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.space()
		case ']':
			p.i++
			return a, true
		default:
			return nil, false
		}
	}
}

func (p *parser) value(depth int) (any, bool) {
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return nil, false
}

// str parses a string starting at '"'. A string without escapes is copied
// when it is valid UTF-8 (names and text in any language); one with an
// escape or invalid UTF-8 is handed to encoding/json (surrogates, U+FFFD
// for invalid bytes), which also checks it.
func (p *parser) str() (string, bool) {
	start := p.i
	p.i++
	// Most strings are printable ASCII without escapes: run through them
	// with one table lookup per byte.
	for p.i < len(p.b) && plainASCII[p.b[p.i]] {
		p.i++
	}
	if p.i < len(p.b) && p.b[p.i] == '"' {
		p.i++
		return string(p.b[start+1 : p.i-1]), true
	}
	escaped, ascii := false, true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			raw := p.b[start+1 : p.i-1]
			if !escaped && (ascii || utf8.Valid(raw)) {
				return string(raw), true
			}
			var s string
			if json.Unmarshal(p.b[start:p.i], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			escaped = true
			p.i += 2 // the escaped byte cannot end the string
		case c < 0x20:
			return "", false // a control character must be escaped
		default:
			if c >= utf8.RuneSelf {
				ascii = false
			}
			p.i++
		}
	}
	return "", false
}

// number parses a number by the JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *parser) number() (json.Number, bool) {
	end, ok := numberEnd(p.b, p.i)
	if !ok {
		return "", false
	}
	n := json.Number(p.b[p.i:end])
	p.i = end
	return n, true
}
