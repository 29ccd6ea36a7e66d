package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/d365s2s/d365/dataverse"
)

// printer prints a command's data on stdout in the -o format, after passing it through the --jq
// expression when there is one. Output is buffered and flushed once; messages go to stderr, never
// through a printer.
type printer struct {
	IO     *IOStreams
	Format string // -o
	JQ     string // --jq, or ""
	// Columns are the table and CSV columns; empty means every non-annotation member of the rows.
	Columns []string
	// Formatted adds "<column>@formatted" CSV columns (formatted values, as d365 export writes).
	Formatted bool
	// LookupTables are the lookup columns after which a CSV adds the table of each id
	// (dataverse.RowWriterOptions.LookupTables).
	LookupTables []string
	// Prefer are the table columns to show when Columns is empty: those of them the rows hold,
	// in this order; every column when the rows hold none of them.
	Prefer []string
}

// print writes the JSON document doc (an object, an array, or a collection with "value"). Table,
// CSV and JSON Lines print its rows: the elements of an array, the "value" of a collection, or
// the object itself.
func (p printer) print(ctx context.Context, doc []byte) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if p.JQ != "" {
		results, err := runJQ(ctx, p.JQ, doc)
		if err != nil {
			return err
		}
		return p.printJQ(results)
	}
	switch p.Format {
	case outputTable, outputCSV:
		return p.printRows(docRows(doc))
	case outputJSONL:
		return p.writeBuffered(func(w io.Writer) error {
			for _, row := range docRows(doc) {
				if err := writeCompactLine(w, row); err != nil {
					return err
				}
			}
			return nil
		})
	case outputYAML:
		return p.writeBuffered(func(w io.Writer) error { return writeYAML(w, doc) })
	default:
		return p.writeBuffered(func(w io.Writer) error { return writeJSON(w, json.RawMessage(doc)) })
	}
}

// printValue marshals v and prints it as print does.
func (p printer) printValue(ctx context.Context, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "&" in a URL stays "&"
	if err := enc.Encode(v); err != nil {
		return err
	}
	return p.print(ctx, buf.Bytes())
}

// printJQ prints the results of --jq. As with gh --jq, a string result is printed raw (no
// quotes) in the JSON formats, so that "--jq '.[0].contactid'" gives a bare id to a script.
func (p printer) printJQ(results []any) error {
	switch p.Format {
	case outputTable, outputCSV:
		var rows []json.RawMessage
		for _, r := range results {
			items := []any{r}
			if arr, ok := r.([]any); ok {
				items = arr
			}
			for _, it := range items {
				b, err := marshalJQ(it)
				if err != nil {
					return err
				}
				rows = append(rows, b)
			}
		}
		// The filter made new rows: their columns are their own, not --select's.
		p.Columns, p.Formatted = nil, false
		return p.printRows(rows)
	}
	return p.writeBuffered(func(w io.Writer) error {
		for _, r := range results {
			if s, ok := r.(string); ok && p.Format != outputYAML {
				if _, err := fmt.Fprintln(w, s); err != nil {
					return err
				}
				continue
			}
			b, err := marshalJQ(r)
			if err != nil {
				return err
			}
			switch p.Format {
			case outputJSONL:
				err = writeCompactLine(w, b)
			case outputYAML:
				if _, err = io.WriteString(w, "---\n"); err == nil {
					err = writeYAML(w, b)
				}
			default:
				err = writeJSON(w, json.RawMessage(b))
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// printRows prints rows as a table or as CSV.
func (p printer) printRows(rows []json.RawMessage) error {
	for i, row := range rows {
		if t := bytes.TrimSpace(row); len(t) == 0 || t[0] != '{' {
			rows[i] = json.RawMessage(`{"value":` + string(t) + `}`)
		}
	}
	if p.Format == outputCSV {
		cw, err := dataverse.NewRowWriter(p.IO.Out, &dataverse.RowWriterOptions{
			Format: dataverse.FormatCSV, Columns: p.Columns, FormattedValues: p.Formatted, LookupTables: p.LookupTables,
		})
		if err != nil {
			return err
		}
		if len(rows) > 0 || len(p.Columns) > 0 {
			if err := cw.WritePage(rows); err != nil {
				return err
			}
		}
		return cw.Close()
	}
	records := make([]orderedObject, 0, len(rows))
	for _, row := range rows {
		var rec orderedObject
		if err := json.Unmarshal(row, &rec); err != nil {
			return err
		}
		records = append(records, rec)
	}
	columns := p.Columns
	if len(columns) == 0 && len(p.Prefer) > 0 {
		columns = presentColumns(records, p.Prefer)
	}
	return writeTableWidth(p.IO.Out, records, columns, tableWidth(p.IO))
}

// presentColumns returns the names of want that some record holds, in want's order.
func presentColumns(records []orderedObject, want []string) []string {
	held := map[string]bool{}
	for _, rec := range records {
		for _, f := range rec {
			held[f.Key] = true
		}
	}
	var out []string
	for _, w := range want {
		if held[w] {
			out = append(out, w)
		}
	}
	return out
}

// writeBuffered runs write on a buffered stdout and flushes it.
func (p printer) writeBuffered(write func(io.Writer) error) error {
	bw := bufio.NewWriter(p.IO.Out)
	if err := write(bw); err != nil {
		return err
	}
	return bw.Flush()
}

// writeCompactLine writes a JSON value on one line.
func writeCompactLine(w io.Writer, doc []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, doc); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// docRows returns the rows of a JSON document: the elements of an array, the "value" array of an
// OData collection, else the document itself.
func docRows(doc []byte) []json.RawMessage {
	t := bytes.TrimSpace(doc)
	if len(t) == 0 {
		return nil
	}
	switch t[0] {
	case '[':
		var rows []json.RawMessage
		if json.Unmarshal(t, &rows) == nil {
			return rows
		}
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(t, &obj) == nil {
			_, isContext := obj["@odata.context"]
			var rows []json.RawMessage
			if value, ok := obj["value"]; ok && (isContext || len(obj) == 1) && json.Unmarshal(value, &rows) == nil {
				return rows
			}
		}
	}
	return []json.RawMessage{json.RawMessage(t)}
}
