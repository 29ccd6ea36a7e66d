package jsonobj

// The pieces of the JSON grammar Parse and Valid share.

// SkipSpace returns the index of the first byte at or after i that is not
// JSON white space (space, tab, line feed, carriage return).
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// plainStringByte marks the bytes a string holds as they are: anything but
// control characters, '"' and '\\'. plainASCII is its ASCII half, which
// Parse copies without checking UTF-8.
var plainStringByte, plainASCII = func() (all, ascii [256]bool) {
	for c := 0x20; c < 256; c++ {
		all[c] = c != '"' && c != '\\'
		ascii[c] = all[c] && c < 0x80
	}
	return all, ascii
}()

// hasLiteral reports whether b holds s at i.
func hasLiteral(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// numberEnd returns the end of the number at i, which must match
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; ok is false when it does not.
func numberEnd(b []byte, i int) (end int, ok bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digitsEnd(b, i)
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		d := i + 1
		if i = digitsEnd(b, d); i == d {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		if i = digitsEnd(b, d); i == d {
			return 0, false
		}
	}
	return i, true
}

// digitsEnd returns the end of the run of decimal digits at i.
func digitsEnd(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}
