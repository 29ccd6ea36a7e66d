package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Output formats accepted by -o/--output.
const (
	outputJSON  = "json"
	outputJSONL = "jsonl"
	outputCSV   = "csv"
	outputYAML  = "yaml"
	outputTable = "table"
)

// outputFormats lists the -o values, in the order help and errors name them.
var outputFormats = []string{outputJSON, outputJSONL, outputCSV, outputYAML, outputTable}

// annotationJQ marks a command that prints its JSON result through --jq (cobra annotations).
const annotationJQ = "d365/jq"

// withJQ marks cmd as taking --jq and returns it.
func withJQ(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotationJQ] = "yes"
	return cmd
}

// checkOutput refuses an unknown -o value, a --jq expression that does not compile and --jq on
// a command that does not print a JSON result through it, before any command acts.
func (g *globalOptions) checkOutput(cmd *cobra.Command) error {
	if !slices.Contains(outputFormats, g.output) {
		return usageError(fmt.Errorf("unknown output format %q: use -o %s", g.output, strings.Join(outputFormats, ", -o ")))
	}
	if g.jq == "" {
		return nil
	}
	if cmd.Annotations[annotationJQ] == "" {
		return usageError(fmt.Errorf("--jq applies to the commands that print a JSON result (get, api, fetch, batch, whoami, token --decode, tables, columns, keys, relationships), not to %s", cmd.CommandPath()))
	}
	_, err := compileJQ(g.jq)
	return err
}

// writeJSON writes v as indented JSON followed by a newline. Raw JSON is re-indented as is.
func writeJSON(w io.Writer, v any) error {
	if raw, ok := v.(json.RawMessage); ok {
		var buf bytes.Buffer
		if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil { // one newline at the end, not the one Encode left plus ours
			return err
		}
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// field is one member of a JSON object, kept in document order.
type field struct {
	Key   string
	Value json.RawMessage
}

// orderedObject is a JSON object whose member order is preserved, so tables show columns in the
// order the service sent them.
type orderedObject []field

// UnmarshalJSON decodes a JSON object keeping its member order.
func (o *orderedObject) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("expected a JSON object, got %v", tok)
	}
	*o = (*o)[:0]
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		*o = append(*o, field{Key: key, Value: v})
	}
	return nil
}

// writeTable prints records as an aligned table with no width limit (see writeTableWidth).
func writeTable(w io.Writer, records []orderedObject, columns []string) error {
	return writeTableWidth(w, records, columns, 0)
}

const formattedValueSuffix = "@OData.Community.Display.V1.FormattedValue"

// cellOf returns the cell of column col in rec: the formatted value (member formatted) when
// the record has one, else the value; strings unquoted, other JSON as it is, null empty.
func cellOf(rec orderedObject, col, formatted string) string {
	var raw json.RawMessage
	for _, f := range rec {
		if f.Key == formatted {
			raw = f.Value
			break
		}
		if f.Key == col {
			raw = f.Value
		}
	}
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return sanitizeCell(s)
	}
	return sanitizeCell(string(raw))
}

// sanitizeCell keeps a value on one table line: tabs and line breaks would break the alignment.
func sanitizeCell(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return ' '
		}
		return r
	}, s)
}

// MarshalJSON encodes the object with its members in their original order.
func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		key, err := json.Marshal(f.Key)
		if err != nil {
			return nil, err
		}
		b.Write(key)
		b.WriteByte(':')
		if len(f.Value) == 0 {
			b.WriteString("null")
		} else {
			b.Write(f.Value)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
