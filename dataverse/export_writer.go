package dataverse

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ExportFormat is the output format of an export.
type ExportFormat string

// Export formats.
const (
	// FormatJSONLines writes one JSON object per line (JSON Lines,
	// https://jsonlines.org), each row as the service sent it.
	FormatJSONLines ExportFormat = "jsonl"
	// FormatCSV writes a header line and one line per row (RFC 4180, as
	// encoding/csv writes it).
	FormatCSV ExportFormat = "csv"
	// FormatJSON writes one JSON array of the rows.
	FormatJSON ExportFormat = "json"
)

// FormattedColumnSuffix ends the name of the CSV column that holds a
// column's formatted value (a choice's label, a lookup's primary name,
// currency with its symbol): "statuscode@formatted".
const FormattedColumnSuffix = "@formatted"

// LookupTableSuffix ends the name of the CSV column that holds, for a
// lookup column, the logical name of the table its id is in (the
// Microsoft.Dynamics.CRM.lookuplogicalname annotation):
// "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"
// holds "account" or "contact". A polymorphic lookup's id alone does not
// say which table it points into; "d365 import" reads this column to bind
// it. The name is the JSON member's, so the column is the annotation as
// the service sends it.
const LookupTableSuffix = "@" + AnnotationLookupLogicalName

// formattedValueAnnotation ends the JSON member name of a formatted value.
const formattedValueAnnotation = "@" + AnnotationFormattedValue

// exportBufferSize is the RowWriter's output buffer: large enough that a
// page costs a few write calls, small enough not to matter for memory.
const exportBufferSize = 256 << 10

// RowWriterOptions configure a RowWriter.
type RowWriterOptions struct {
	// Format is the output format; "" means FormatJSONLines.
	Format ExportFormat
	// Columns are the CSV columns, in order. A name ending in
	// FormattedColumnSuffix holds the formatted value of the column it
	// names. Empty means: the columns of the first page written (see
	// InferColumns). Ignored by the JSON formats.
	Columns []string
	// FormattedValues adds, after each CSV column, the column
	// "<column>@formatted" holding its formatted value (empty where the
	// service sent none). The JSON formats keep the annotations as sent.
	FormattedValues bool
	// LookupTables are lookup columns ("_parentcustomerid_value") after
	// which a CSV adds the column "<column>"+LookupTableSuffix, holding the
	// logical name of the table each row's id is in (empty where the
	// service sent no annotation: ask for AnnotationLookupLogicalName).
	// See TableMetadata.PolymorphicLookups. Ignored by the JSON formats,
	// which keep the annotations as sent.
	LookupTables []string
	// Indent, when not empty, writes each row of a FormatJSON array
	// indented by it (json.Indent with Indent as both prefix and indent),
	// as "d365 get" prints. Empty writes each row compact on its own line.
	Indent string
}

// RowWriter writes rows, raw JSON objects as the Web API returns them, to
// an io.Writer as JSON Lines, CSV or a JSON array. Rows pass through as
// bytes: JSON rows are copied as sent (compacted when they span lines),
// CSV cells are read from each row's top-level members. Output is
// buffered; Close writes what a format needs at the end (the JSON array's
// "]") and flushes. A RowWriter is not safe for concurrent use.
type RowWriter struct {
	out     *bufio.Writer
	counter *countingWriter
	format  ExportFormat
	opts    RowWriterOptions
	columns []string       // CSV: the header, set by the first page
	cellOf  map[string]int // CSV: the cell of each member a column holds
	csv     *csv.Writer
	record  []string
	scratch bytes.Buffer
	rows    int64
	dropped map[string]bool // CSV: members no column holds
	header  bool            // CSV: the header is written
	closed  bool
}

// NewRowWriter returns a RowWriter on w.
func NewRowWriter(w io.Writer, opts *RowWriterOptions) (*RowWriter, error) {
	if opts == nil {
		opts = &RowWriterOptions{}
	}
	o := *opts
	o.Columns = slices.Clone(o.Columns)
	switch o.Format {
	case "":
		o.Format = FormatJSONLines
	case FormatJSONLines, FormatJSON, FormatCSV:
	default:
		return nil, invalidf("dataverse: export format %q is unknown: use %q, %q or %q", o.Format, FormatJSONLines, FormatCSV, FormatJSON)
	}
	if strings.Trim(o.Indent, " \t") != "" {
		return nil, invalidf("dataverse: RowWriterOptions.Indent %q must be spaces or tabs", o.Indent)
	}
	cw := &countingWriter{w: w}
	rw := &RowWriter{counter: cw, out: bufio.NewWriterSize(cw, exportBufferSize), format: o.Format, opts: o}
	if o.Format == FormatCSV {
		rw.csv = csv.NewWriter(rw.out)
		rw.dropped = map[string]bool{}
		if len(o.Columns) > 0 {
			if err := rw.setColumns(o.Columns); err != nil {
				return nil, err
			}
		}
	}
	return rw, nil
}

// resumeRowWriter returns a RowWriter that continues output already
// written: rows and bytes count on from there, the header or the array's
// "[" is not written again.
func resumeRowWriter(w io.Writer, opts *RowWriterOptions, rows, written int64) (*RowWriter, error) {
	rw, err := NewRowWriter(w, opts)
	if err != nil {
		return nil, err
	}
	rw.rows = rows
	rw.counter.n = written
	rw.header = true
	if rw.format == FormatCSV && rw.columns == nil {
		return nil, invalidf("dataverse: resuming a CSV export needs its columns")
	}
	return rw, nil
}

// setColumns fixes the CSV header.
func (rw *RowWriter) setColumns(cols []string) error {
	var header []string
	seen := map[string]bool{}
	for _, c := range cols {
		c = strings.TrimSpace(c)
		if c == "" {
			return invalidf("dataverse: CSV column names must not be empty (columns %q)", cols)
		}
		names := []string{c}
		if rw.opts.FormattedValues && !strings.HasSuffix(c, FormattedColumnSuffix) {
			names = append(names, c+FormattedColumnSuffix)
		}
		if slices.Contains(rw.opts.LookupTables, c) {
			names = append(names, c+LookupTableSuffix)
		}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			header = append(header, n)
		}
	}
	rw.columns = header
	rw.cellOf = make(map[string]int, len(header))
	for i, h := range header {
		if base, ok := strings.CutSuffix(h, FormattedColumnSuffix); ok {
			rw.cellOf[base+formattedValueAnnotation] = i
		} else {
			rw.cellOf[h] = i
		}
	}
	rw.record = make([]string, len(header))
	return nil
}

// InferColumns returns the CSV columns a page implies when none are given:
// every member of every row that is not an annotation (no "@" in its
// name), in the order first seen, reading the rows in order. Lookups are
// their "_name_value" members. The Web API sends every selected column on
// every row (null included), so for an OData query this is the columns of
// the first row in the service's order; FetchXML leaves null columns out,
// so a column null in every row of the page is missing.
func InferColumns(rows []json.RawMessage) ([]string, error) {
	var cols []string
	seen := map[string]bool{}
	for i, row := range rows {
		err := scanObject(row, func(name, _ []byte) error {
			if bytes.IndexByte(name, '@') < 0 && !seen[string(name)] {
				seen[string(name)] = true
				cols = append(cols, string(name))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("dataverse: row %d of the first page: %w", i+1, err)
		}
	}
	return cols, nil
}

// Columns returns the CSV header, nil before it is known and for the JSON
// formats.
func (rw *RowWriter) Columns() []string { return slices.Clone(rw.columns) }

// Rows returns the number of rows written.
func (rw *RowWriter) Rows() int64 { return rw.rows }

// Bytes returns the number of bytes passed to the underlying writer
// (after Flush or Close: all of them).
func (rw *RowWriter) Bytes() int64 { return rw.counter.n }

// DroppedMembers returns, sorted, the members rows carried that no CSV
// column holds (other than annotations): columns missing from an
// inferred header, or not selected.
func (rw *RowWriter) DroppedMembers() []string {
	var out []string
	for k := range rw.dropped {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// WritePage writes rows. The first call of a CSV writer without columns
// takes them from these rows (InferColumns) and writes the header.
func (rw *RowWriter) WritePage(rows []json.RawMessage) error {
	if rw.closed {
		return fmt.Errorf("dataverse: RowWriter: write after Close")
	}
	if rw.format == FormatCSV && rw.columns == nil {
		cols, err := InferColumns(rows)
		if err != nil {
			return err
		}
		if len(cols) == 0 {
			// Nothing to infer from (an empty first page); wait for rows.
			if len(rows) == 0 {
				return nil
			}
			return fmt.Errorf("dataverse: the first page's rows have no columns to make a CSV header of; select columns")
		}
		if err := rw.setColumns(cols); err != nil {
			return err
		}
	}
	if rw.format == FormatCSV && !rw.header {
		rw.header = true
		if err := rw.csv.Write(rw.columns); err != nil {
			return err
		}
	}
	for _, row := range rows {
		var err error
		switch rw.format {
		case FormatJSONLines:
			err = rw.writeJSONLine(row)
		case FormatJSON:
			err = rw.writeArrayElement(row)
		case FormatCSV:
			err = rw.writeCSV(row)
		}
		if err != nil {
			return fmt.Errorf("dataverse: writing row %d: %w", rw.rows+1, err)
		}
		rw.rows++
	}
	if rw.csv != nil {
		rw.csv.Flush() // into rw.out; the buffer decides when to write
		return rw.csv.Error()
	}
	return nil
}

func (rw *RowWriter) writeJSONLine(row json.RawMessage) error {
	row = bytes.TrimSpace(row)
	if bytes.IndexByte(row, '\n') >= 0 || bytes.IndexByte(row, '\r') >= 0 {
		// Line breaks can only be whitespace between tokens (strings
		// escape them): compact the row onto one line.
		rw.scratch.Reset()
		if err := json.Compact(&rw.scratch, row); err != nil {
			return err
		}
		row = rw.scratch.Bytes()
	}
	rw.out.Write(row)
	return rw.out.WriteByte('\n')
}

func (rw *RowWriter) writeArrayElement(row json.RawMessage) error {
	sep := ",\n"
	if rw.rows == 0 {
		sep = "[\n"
	}
	rw.out.WriteString(sep)
	row = bytes.TrimSpace(row)
	if rw.opts.Indent != "" {
		rw.scratch.Reset()
		if err := json.Indent(&rw.scratch, row, rw.opts.Indent, rw.opts.Indent); err != nil {
			return err
		}
		rw.out.WriteString(rw.opts.Indent)
		_, err := rw.out.Write(rw.scratch.Bytes())
		return err
	}
	if bytes.IndexByte(row, '\n') >= 0 || bytes.IndexByte(row, '\r') >= 0 {
		rw.scratch.Reset()
		if err := json.Compact(&rw.scratch, row); err != nil {
			return err
		}
		row = rw.scratch.Bytes()
	}
	_, err := rw.out.Write(row)
	return err
}

func (rw *RowWriter) writeCSV(row json.RawMessage) error {
	clear(rw.record)
	err := scanObject(row, func(name, value []byte) error {
		i, ok := rw.cellOf[string(name)]
		if !ok {
			if bytes.IndexByte(name, '@') < 0 && !rw.dropped[string(name)] {
				rw.dropped[string(name)] = true
			}
			return nil
		}
		v, err := csvCell(value)
		if err != nil {
			return fmt.Errorf("column %s: %w", rw.columns[i], err)
		}
		rw.record[i] = v
		return nil
	})
	if err != nil {
		return err
	}
	return rw.csv.Write(rw.record)
}

// csvCell returns a JSON value as CSV cell text: a string's text, a
// number or boolean as written, "" for null or a missing member, and an
// object or array as compact JSON.
func csvCell(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", nil
	}
	switch v[0] {
	case 'n':
		return "", nil
	case '"':
		if bytes.IndexByte(v, '\\') < 0 {
			return string(v[1 : len(v)-1]), nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, v); err != nil {
			return "", err
		}
		return b.String(), nil
	default:
		return string(v), nil
	}
}

// Flush writes buffered output to the underlying writer.
func (rw *RowWriter) Flush() error {
	if rw.csv != nil {
		rw.csv.Flush()
		if err := rw.csv.Error(); err != nil {
			return err
		}
	}
	return rw.out.Flush()
}

// Close ends the output (a JSON array's "]"; a CSV header when no row was
// written and the columns are known) and flushes it. It does not close
// the underlying writer.
func (rw *RowWriter) Close() error {
	if rw.closed {
		return nil
	}
	rw.closed = true
	switch rw.format {
	case FormatJSON:
		if rw.rows == 0 {
			rw.out.WriteString("[]\n")
		} else {
			rw.out.WriteString("\n]\n")
		}
	case FormatCSV:
		if !rw.header && rw.columns != nil {
			rw.header = true
			if err := rw.csv.Write(rw.columns); err != nil {
				return err
			}
		}
	}
	return rw.Flush()
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
