package webapi

import (
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/internal/jsonobj"
)

// The bulk actions receive thousands of records in one body. encoding/json's Decoder reads
// them token by token and copies every member's value through reflection, which cost more
// per row than the rest of the request's JSON work together. The body is validated once
// (readObject decodes it whole), so the records inside can be split by the scanner below,
// which only finds where each value ends; the values are decoded by bindMembers as before.

// errNotObject is returned by splitValidObject for a value that is not a JSON object.
var errNotObject = errors.New("not a JSON object")

// duplicateMember is returned by splitValidObject for a name that appears twice in an object.
type duplicateMember struct{ name string }

func (d *duplicateMember) Error() string { return "duplicate member " + d.name }

// splitValidArray returns the items of data, a JSON array already known to be valid JSON,
// as sub-slices of data. ok is false when data is not an array (null included).
func splitValidArray(data []byte) (items [][]byte, ok bool) {
	i := jsonobj.SkipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, false
	}
	i = jsonobj.SkipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return [][]byte{}, true
	}
	for i < len(data) {
		end := skipValue(data, i)
		items = append(items, data[i:end])
		i = jsonobj.SkipSpace(data, end)
		if i >= len(data) || data[i] != ',' {
			break
		}
		i = jsonobj.SkipSpace(data, i+1)
	}
	return items, true
}

// splitValidObject returns the members of data, a value already known to be valid JSON, in
// document order, their values as sub-slices of data. A value that is not an object gives
// errNotObject; a member name that appears twice gives a *duplicateMember.
func splitValidObject(data []byte) (members []member, err error) {
	i := jsonobj.SkipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errNotObject
	}
	members = make([]member, 0, 8)
	i = jsonobj.SkipSpace(data, i+1)
	for i < len(data) && data[i] == '"' {
		end := skipString(data, i)
		name, err := memberName(data[i:end])
		if err != nil {
			return nil, err
		}
		i = jsonobj.SkipSpace(data, end)
		i = jsonobj.SkipSpace(data, i+1) // the ':'
		vend := skipValue(data, i)
		for k := range members {
			if members[k].name == name {
				return nil, &duplicateMember{name: name}
			}
		}
		members = append(members, member{name: name, value: json.RawMessage(data[i:vend])})
		i = jsonobj.SkipSpace(data, vend)
		if i < len(data) && data[i] == ',' {
			i = jsonobj.SkipSpace(data, i+1)
		}
	}
	return members, nil
}

// memberName decodes a quoted member name; ASCII names without escapes (all of Dataverse's)
// are copied as they are, others go through encoding/json (escapes, invalid UTF-8 replaced).
func memberName(quoted []byte) (string, error) {
	plain := true
	for _, c := range quoted[1 : len(quoted)-1] {
		if c == '\\' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var s string
	err := json.Unmarshal(quoted, &s)
	return s, err
}

// skipString returns the index after the string that starts at data[i] (a quote).
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// skipValue returns the index after the value that starts at data[i].
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// decodeString decodes raw, a JSON string, as json.Unmarshal into a string does. A string
// without escapes, quotes or control characters inside and with valid UTF-8 (the usual value of
// a text column, an @odata.type, a GUID) is its bytes between the quotes, without reflection or
// a second scan; any other goes through encoding/json, which unescapes, replaces invalid
// UTF-8 and words the error.
func decodeString(raw []byte, s *string) error {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		inner := raw[1 : len(raw)-1]
		plain := true
		for _, c := range inner {
			if c < 0x20 || c == '"' || c == '\\' {
				plain = false
				break
			}
		}
		if plain && utf8.Valid(inner) {
			*s = string(inner)
			return nil
		}
	}
	return json.Unmarshal(raw, s)
}

// readBulkObject is readObject for the body of a bulk message, which holds thousands of
// records: a valid body (the usual one) is checked by jsonobj.Valid (json.Valid's answer, in
// one pass that allocates nothing, about four times faster), and split by splitValidObject, instead of being decoded token by token with its
// Targets copied; an invalid body goes through readObject, whose errors say what is wrong and
// where. The answers are readObject's.
func readBulkObject(t *schema.Table, body []byte) ([]member, error) {
	if !jsonobj.Valid(body) {
		return readObject(t, body)
	}
	members, err := splitValidObject(body)
	var dup *duplicateMember
	switch {
	case errors.As(err, &dup):
		return nil, errPayload(t, "Duplicate property named '%s' is not allowed.", dup.name)
	case errors.Is(err, errNotObject):
		return nil, errPayload(t, "Invalid JSON. The request body must be a JSON object.")
	case err != nil:
		return readObject(t, body)
	}
	return members, nil
}
