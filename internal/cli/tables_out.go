package cli

import (
	"encoding/json"
	"io"
)

// row builds an orderedObject from alternating keys and values; a nil value, "" or 0 is left out
// of the JSON, so each row carries only what applies to it (a column's maxLength, a lookup's
// targets). Values are marshalled with encoding/json.
func row(kv ...any) orderedObject {
	o := make(orderedObject, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case nil:
			continue
		case string:
			if v == "" {
				continue
			}
		case int:
			if v == 0 {
				continue
			}
		}
		raw, err := json.Marshal(kv[i+1])
		if err != nil {
			continue // only the plain values of this file are passed
		}
		o = append(o, field{Key: kv[i].(string), Value: raw})
	}
	return o
}

// writeRows prints rows in the -o format: a table with the given columns, else a JSON array.
// The browse commands print through here so that a new -o format reaches all of them at once.
func writeRows(w io.Writer, output string, rows []orderedObject, columns []string) error {
	if output == outputTable {
		return writeTable(w, rows, columns)
	}
	if rows == nil {
		rows = []orderedObject{}
	}
	return writeJSON(w, rows)
}
