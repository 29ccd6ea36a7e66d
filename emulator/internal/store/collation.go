package store

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"modernc.org/sqlite"
)

// The names of the collations and functions the store registers on its
// own driver. They are private to the store's connections.
const (
	// collationText compares strings case-insensitively over all of
	// Unicode, as Dataverse's default SQL Server collation does.
	collationText = "dv_ci"
	// collationDecimal compares fixed-point decimal text numerically.
	collationDecimal = "dv_decimal"
	// funcLike is dv_like(value, pattern): SQL Server LIKE semantics
	// (%, _, [set], [^set]), case-insensitive; Dataverse passes these
	// wildcards through from $filter string functions.
	funcLike = "dv_like"
)

// newDriver returns a modernc SQLite driver carrying the store's
// collations and functions. A private driver keeps them off the
// process-wide "sqlite" driver other packages may use.
func newDriver() (*sqlite.Driver, error) {
	d := &sqlite.Driver{}
	if err := d.RegisterCollationUtf8(collationText, compareFold); err != nil {
		return nil, err
	}
	if err := d.RegisterCollationUtf8(collationDecimal, compareDecimalText); err != nil {
		return nil, err
	}
	if err := d.RegisterDeterministicScalarFunction(funcLike, 2, likeFunc); err != nil {
		return nil, err
	}
	return d, nil
}

// compareFold orders strings by their simple case folding, rune by rune,
// without allocating.
func compareFold(a, b string) int {
	for {
		if a == "" || b == "" {
			switch {
			case a == "" && b == "":
				return 0
			case a == "":
				return -1
			default:
				return 1
			}
		}
		var ra, rb rune
		if c := a[0]; c < utf8.RuneSelf {
			ra, a = rune(c), a[1:]
		} else {
			r, n := utf8.DecodeRuneInString(a)
			ra, a = r, a[n:]
		}
		if c := b[0]; c < utf8.RuneSelf {
			rb, b = rune(c), b[1:]
		} else {
			r, n := utf8.DecodeRuneInString(b)
			rb, b = r, b[n:]
		}
		if ra == rb {
			continue
		}
		fa, fb := foldRune(ra), foldRune(rb)
		if fa != fb {
			if fa < fb {
				return -1
			}
			return 1
		}
	}
}

// foldRune maps a rune to a canonical case: lowercase ASCII fast, the
// smallest rune of its simple-fold orbit otherwise.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	min := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < min {
			min = f
		}
	}
	if min < utf8.RuneSelf && 'A' <= min && min <= 'Z' {
		// Orbits containing ASCII letters (k, K, Kelvin sign) fold to the
		// same lowercase letter as the ASCII fast path.
		return min + 'a' - 'A'
	}
	return min
}

// compareDecimalText compares two canonical decimal strings
// ("-12.5000", "3") numerically. Malformed text sorts by bytes, which
// never happens for values the store wrote.
func compareDecimalText(a, b string) int {
	negA, intA, fracA, okA := splitDecimal(a)
	negB, intB, fracB, okB := splitDecimal(b)
	if !okA || !okB {
		return strings.Compare(a, b)
	}
	zeroA := isZeroDigits(intA) && isZeroDigits(fracA)
	zeroB := isZeroDigits(intB) && isZeroDigits(fracB)
	if zeroA && zeroB {
		return 0
	}
	if negA && zeroA {
		negA = false
	}
	if negB && zeroB {
		negB = false
	}
	if negA != negB {
		if negA {
			return -1
		}
		return 1
	}
	c := compareMagnitude(intA, fracA, intB, fracB)
	if negA {
		return -c
	}
	return c
}

func splitDecimal(s string) (neg bool, intPart, frac string, ok bool) {
	if s == "" {
		return false, "", "", false
	}
	if s[0] == '-' {
		neg, s = true, s[1:]
	} else if s[0] == '+' {
		s = s[1:]
	}
	intPart, frac, _ = strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return false, "", "", false
	}
	for i := 0; i < len(intPart); i++ {
		if intPart[i] < '0' || intPart[i] > '9' {
			return false, "", "", false
		}
	}
	for i := 0; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return false, "", "", false
		}
	}
	return neg, strings.TrimLeft(intPart, "0"), strings.TrimRight(frac, "0"), true
}

func isZeroDigits(s string) bool { return strings.Trim(s, "0") == "" }

func compareMagnitude(intA, fracA, intB, fracB string) int {
	if len(intA) != len(intB) {
		if len(intA) < len(intB) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(intA, intB); c != 0 {
		return c
	}
	n := max(len(fracA), len(fracB))
	for i := 0; i < n; i++ {
		da, db := byte('0'), byte('0')
		if i < len(fracA) {
			da = fracA[i]
		}
		if i < len(fracB) {
			db = fracB[i]
		}
		if da != db {
			if da < db {
				return -1
			}
			return 1
		}
	}
	return 0
}

// likeFunc implements dv_like(value, pattern). NULL in gives NULL out,
// which a WHERE clause treats as false.
func likeFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	if args[0] == nil || args[1] == nil {
		return nil, nil
	}
	value, ok1 := args[0].(string)
	pattern, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s expects text arguments", funcLike)
	}
	if matchLike(value, pattern) {
		return int64(1), nil
	}
	return int64(0), nil
}

// matchLike reports whether value matches a SQL Server LIKE pattern,
// ignoring case: % matches any run of characters, _ one character,
// [abc] and [a-c] one character of a set, [^abc] one character outside
// it. An unterminated '[' matches itself.
func matchLike(value, pattern string) bool {
	// Iterative matcher with backtracking to the last '%', as in
	// wildcard matching; linear in practice.
	var starP, starV = -1, -1
	p, v := 0, 0
	for v < len(value) {
		if p < len(pattern) {
			switch pattern[p] {
			case '%':
				starP, starV = p, v
				p++
				continue
			case '_':
				_, n := utf8.DecodeRuneInString(value[v:])
				v += n
				p++
				continue
			case '[':
				if end, ok := setEnd(pattern, p); ok {
					r, n := utf8.DecodeRuneInString(value[v:])
					if matchSet(pattern[p+1:end], r) {
						v += n
						p = end + 1
						continue
					}
					break
				}
				fallthrough
			default:
				pr, pn := utf8.DecodeRuneInString(pattern[p:])
				vr, vn := utf8.DecodeRuneInString(value[v:])
				if pr == vr || foldRune(pr) == foldRune(vr) {
					p += pn
					v += vn
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(value[starV:])
		starV += n
		p, v = starP+1, starV
	}
	for p < len(pattern) && pattern[p] == '%' {
		p++
	}
	return p == len(pattern)
}

// setEnd returns the index of the ']' closing the set that starts at
// pattern[start] == '['.
func setEnd(pattern string, start int) (int, bool) {
	i := start + 1
	if i < len(pattern) && pattern[i] == '^' {
		i++
	}
	if i < len(pattern) && pattern[i] == ']' {
		i++ // a leading ']' is a member
	}
	for ; i < len(pattern); i++ {
		if pattern[i] == ']' {
			return i, true
		}
	}
	return 0, false
}

func matchSet(set string, r rune) bool {
	negate := false
	if strings.HasPrefix(set, "^") {
		negate, set = true, set[1:]
	}
	fr := foldRune(r)
	found := false
	for set != "" {
		lo, n := utf8.DecodeRuneInString(set)
		set = set[n:]
		hi := lo
		if len(set) >= 2 && set[0] == '-' {
			h, m := utf8.DecodeRuneInString(set[1:])
			hi, set = h, set[1+m:]
		}
		if (lo <= r && r <= hi) || (foldRune(lo) <= fr && fr <= foldRune(hi)) {
			found = true
		}
	}
	return found != negate
}
