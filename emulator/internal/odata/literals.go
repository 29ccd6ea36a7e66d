package odata

import (
	"time"

	"github.com/google/uuid"
)

// The unquoted literal forms are recognised the way ODataLib's lexer does:
// it cuts a candidate at the next ',', ')' or ' ' and asks whether the
// whole candidate is a date, a timestamp, a time of day or a GUID.

// digits parses s[i:i+n] as n ASCII digits.
func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for k := i; k < i+n; k++ {
		c := s[k]
		if !isASCIIDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseDate parses YYYY-MM-DD (years 0001-9999, a real calendar day).
func parseDate(s string) (y int, m time.Month, d int, ok bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := digits(s, 0, 4)
	mm, ok2 := digits(s, 5, 2)
	d, ok3 := digits(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || y < 1 || mm < 1 || mm > 12 || d < 1 {
		return 0, 0, 0, false
	}
	m = time.Month(mm)
	if d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func isDate(s string) bool {
	if len(s) != 10 {
		return false
	}
	_, _, _, ok := parseDate(s)
	return ok
}

// parseClock parses hh:mm[:ss[.fffffff]] at the start of s and returns the
// time of day and how many bytes it used. maxFrac limits the digits of the
// fraction (7 for DateTimeOffset, .NET's tick precision).
func parseClock(s string, maxFrac int) (h, mi, sec, nsec, n int, ok bool) {
	if len(s) < 5 || s[2] != ':' {
		return
	}
	var ok1, ok2 bool
	h, ok1 = digits(s, 0, 2)
	mi, ok2 = digits(s, 3, 2)
	if !ok1 || !ok2 || h > 23 || mi > 59 {
		return
	}
	n = 5
	if n < len(s) && s[n] == ':' {
		var ok3 bool
		sec, ok3 = digits(s, n+1, 2)
		if !ok3 || sec > 59 {
			return
		}
		n += 3
		if n < len(s) && s[n] == '.' {
			n++
			k := 0
			scale := 100000000
			for n < len(s) && isASCIIDigit(s[n]) {
				if k == maxFrac {
					return
				}
				nsec += int(s[n]-'0') * scale
				scale /= 10
				k++
				n++
			}
			if k == 0 {
				return
			}
		}
	}
	return h, mi, sec, nsec, n, true
}

// parseDateTimeOffset parses YYYY-MM-DDThh:mm[:ss[.fffffff]][Z|±hh:mm].
// Without an offset the time is taken as UTC (what a Dataverse server,
// which runs in UTC, makes of it). [unverified for the no-offset form]
func parseDateTimeOffset(s string) (time.Time, bool) {
	if len(s) < 16 || s[10] != 'T' {
		return time.Time{}, false
	}
	y, m, d, ok := parseDate(s[:10])
	if !ok {
		return time.Time{}, false
	}
	h, mi, sec, nsec, n, ok := parseClock(s[11:], 7)
	if !ok {
		return time.Time{}, false
	}
	rest := s[11+n:]
	loc := time.UTC
	switch {
	case rest == "" || rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := digits(rest, 1, 2)
		om, ok2 := digits(rest, 4, 2)
		if !ok1 || !ok2 || oh > 14 || om > 59 {
			return time.Time{}, false
		}
		off := (oh*60 + om) * 60
		if rest[0] == '-' {
			off = -off
		}
		if off != 0 {
			loc = time.FixedZone("", off)
		}
	default:
		return time.Time{}, false
	}
	return time.Date(y, m, d, h, mi, sec, nsec, loc), true
}

func isDateTimeOffset(s string) bool {
	_, ok := parseDateTimeOffset(s)
	return ok
}

func isTimeOfDay(s string) bool {
	_, _, _, _, n, ok := parseClock(s, 12)
	return ok && n == len(s)
}

// parseGUID parses exactly 8-4-4-4-12 hex digits (no braces, no urn).
func parseGUID(s string) (uuid.UUID, bool) {
	var u uuid.UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := hexVal(s[i])
		lo, ok2 := hexVal(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, true
}

func isGUID(s string) bool {
	_, ok := parseGUID(s)
	return ok
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return c | 0x20 - 'a' + 10, true
	}
	return 0, false
}

// isDecimalText reports whether s is [-]digits[.digits].
func isDecimalText(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && isASCIIDigit(s[i]) {
		i++
	}
	if i == start {
		return false
	}
	if i == len(s) {
		return true
	}
	if s[i] != '.' {
		return false
	}
	i++
	start = i
	for i < len(s) && isASCIIDigit(s[i]) {
		i++
	}
	return i > start && i == len(s)
}

// unquote removes the quotes around an OData string literal body and turns
// each doubled quote into one. q is the text including both quotes.
func unquote(q string) string {
	body := q[1 : len(q)-1]
	i := indexQuote(body)
	if i < 0 {
		return body // no escapes: share the source string
	}
	b := make([]byte, 0, len(body))
	for i >= 0 {
		b = append(b, body[:i+1]...)
		body = body[i+2:] // skip the second quote of the pair
		i = indexQuote(body)
	}
	b = append(b, body...)
	return string(b)
}

func indexQuote(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			return i
		}
	}
	return -1
}
