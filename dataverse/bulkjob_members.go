package dataverse

import (
	"encoding/json"
	"slices"

	"github.com/d365s2s/d365/internal/jsonobj"
)

// appendMembers appends the members of rec that omit does not name, as
// json.Marshal writes them between the braces of the object: names sorted,
// values in json.Marshal's encoding, byte for byte. The bytes matter beyond
// the wire: a row without an id gets one derived from them (deriveRowID),
// and a resumed job, of this version or an earlier one, must derive the same.
//
// It is json.Marshal without the copy of the map and the reflection: what a
// row holds after decoding (strings, json.Number, booleans, null) is written
// directly, and anything else (a nested object or list, a float64, a
// caller's own type) is handed to json.Marshal on its own.
func appendMembers(b []byte, rec Record, omit map[string]bool) ([]byte, error) {
	names := make([]string, 0, len(rec))
	size := 0
	for k, v := range rec {
		if omit[k] {
			continue
		}
		names = append(names, k)
		size += len(k) + 8 // quotes, colon, comma, a short value
		if s, ok := v.(string); ok {
			size += len(s)
		}
	}
	b = slices.Grow(b, size)
	slices.Sort(names) // json.Marshal's order: byte-wise
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendMarshalString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendMarshalValue(b, rec[k]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendMarshalValue appends json.Marshal(v).
func appendMarshalValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendMarshalString(b, x), nil
	case bool:
		if x {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case json.Number:
		// json.Marshal writes a valid number as it is (and "" as 0); an
		// invalid one is its error, which the fallback gives. A number
		// starts with '-' or a digit and ends with a digit, so Valid,
		// which allows white space around a value, sees exactly one.
		if x != "" && (x[0] == '-' || isDigit(x[0])) && isDigit(x[len(x)-1]) && jsonobj.Valid([]byte(x)) {
			return append(b, x...), nil
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, out...), nil
}

// appendMarshalString appends json.Marshal(s). A string of printable ASCII
// that JSON and json.Marshal's HTML escaping leave alone is copied between
// quotes; any other goes through json.Marshal.
func appendMarshalString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !copiedAsIs[s[i]] {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// copiedAsIs says which bytes json.Marshal writes unchanged in a string:
// printable ASCII but the quote, the backslash and its HTML escapes.
var copiedAsIs = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()
