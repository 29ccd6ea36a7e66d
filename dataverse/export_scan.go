package dataverse

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/d365s2s/d365/internal/jsonobj"
)

// scanObject calls fn with the name and the raw value of each member of
// the JSON object row, in document order, in one pass and without
// allocating (but for a name that holds an escape). It is what CSV export
// reads rows with: decoding 60 columns into a map per row cost more than
// reading the page. Values are returned as they appear (a string with its
// quotes); nested objects and arrays whole. A row that is not one JSON
// object is an error; values are checked only as far as finding their end
// needs (rows come from a page jsonobj.Valid has already checked).
func scanObject(row []byte, fn func(name, value []byte) error) error {
	return scanMembers(row, func(name []byte, i int) (int, error) {
		end, err := valueEnd(row, i)
		if err != nil {
			return 0, err
		}
		return end, fn(name, row[i:end])
	})
}

// scanMembers is scanObject for a caller that reads each value itself:
// read gets the member's name and the index of its value in row, and
// returns the index after the value.
func scanMembers(row []byte, read func(name []byte, i int) (end int, err error)) error {
	i := jsonobj.SkipSpace(row, 0)
	if i >= len(row) || row[i] != '{' {
		return errors.New("a row is not a JSON object")
	}
	i = jsonobj.SkipSpace(row, i+1)
	if i < len(row) && row[i] == '}' {
		return checkTrailing(row, i+1)
	}
	for {
		if i >= len(row) || row[i] != '"' {
			return fmt.Errorf("a member name was expected at byte %d", i)
		}
		end, escaped, err := stringEnd(row, i)
		if err != nil {
			return err
		}
		name := row[i+1 : end-1]
		if escaped || !utf8.Valid(name) {
			// As encoding/json reads it: escapes decoded, invalid
			// UTF-8 replaced.
			var s string
			if err := json.Unmarshal(row[i:end], &s); err != nil {
				return fmt.Errorf("member name at byte %d: %w", i, err)
			}
			name = []byte(s)
		}
		i = jsonobj.SkipSpace(row, end)
		if i >= len(row) || row[i] != ':' {
			return fmt.Errorf("':' was expected at byte %d", i)
		}
		i = jsonobj.SkipSpace(row, i+1)
		vend, err := read(name, i)
		if err != nil {
			return err
		}
		i = jsonobj.SkipSpace(row, vend)
		if i >= len(row) {
			return errors.New("the row ends inside the object")
		}
		switch row[i] {
		case ',':
			i = jsonobj.SkipSpace(row, i+1)
		case '}':
			return checkTrailing(row, i+1)
		default:
			return fmt.Errorf("',' or '}' was expected at byte %d", i)
		}
	}
}

func checkTrailing(row []byte, i int) error {
	if jsonobj.SkipSpace(row, i) != len(row) {
		return fmt.Errorf("data follows the object at byte %d", i)
	}
	return nil
}

// stringEnd returns the index after the closing quote of the string that
// starts at b[i] == '"', and whether it holds an escape.
func stringEnd(b []byte, i int) (end int, escaped bool, err error) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			j++
		case c < 0x20:
			return 0, false, fmt.Errorf("a control character in a string at byte %d", j)
		}
	}
	return 0, false, fmt.Errorf("a string starting at byte %d does not end", i)
}

// valueEnd returns the index after the JSON value that starts at b[i].
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("a value was expected at the end of the row")
	}
	switch b[i] {
	case '"':
		end, _, err := stringEnd(b, i)
		return end, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _, err := stringEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, fmt.Errorf("an object or array starting at byte %d does not end", i)
	default:
		j := i
		for j < len(b) {
			c := b[j]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			j++
		}
		if j == i {
			return 0, fmt.Errorf("a value was expected at byte %d", i)
		}
		if !jsonobj.Valid(b[i:j]) {
			return 0, fmt.Errorf("%q at byte %d is not a JSON value", truncate(string(b[i:j]), 40), i)
		}
		return j, nil
	}
}
