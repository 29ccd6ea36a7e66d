package cli

import (
	"bytes"
	"context"
	"encoding/json"
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

// browseOutput is what the browse commands print with: the streams, -o and --jq.
type browseOutput struct {
	IO     *IOStreams
	Output string // -o
	JQ     string // --jq, or ""
}

// flat reports whether rows are printed as cells (a table or CSV, no --jq), so that a list such as
// a choice's options is folded into one cell rather than kept as JSON.
func (o browseOutput) flat() bool {
	return o.JQ == "" && (o.Output == outputTable || o.Output == outputCSV)
}

// printRows prints rows as a JSON array through the -o format and --jq; columns are those of a
// table or CSV.
func (o browseOutput) printRows(ctx context.Context, rows []orderedObject, columns []string) error {
	if rows == nil {
		rows = []orderedObject{}
	}
	var doc bytes.Buffer
	enc := json.NewEncoder(&doc)
	enc.SetEscapeHTML(false) // a label with "&" stays "&"
	if err := enc.Encode(rows); err != nil {
		return err
	}
	p := printer{IO: o.IO, Format: o.Output, JQ: o.JQ, Columns: columns}
	return p.print(ctx, bytes.TrimRight(doc.Bytes(), "\n"))
}

// newBrowseOutput reads -o and --jq from f when the command runs.
func newBrowseOutput(f *Factory) browseOutput {
	o := browseOutput{IO: f.IOStreams, Output: f.OutputFormat()}
	if f.JQ != nil {
		o.JQ = f.JQ()
	}
	return o
}
