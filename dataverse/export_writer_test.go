package dataverse_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
)

func rawRows(rows ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(rows))
	for i, r := range rows {
		out[i] = json.RawMessage(r)
	}
	return out
}

func TestRowWriterFormats(t *testing.T) {
	page1 := rawRows(`{"a":1,"b":"x"}`, "{\n  \"a\": 2,\n  \"b\": \"line\\nbreak\"\n}")
	page2 := rawRows(`{"a":3.50,"b":null,"c":[1,{"d":"e"}]}`)
	tests := []struct {
		name string
		opts dataverse.RowWriterOptions
		want string
	}{
		{"jsonl: rows as sent, a row spanning lines compacted", dataverse.RowWriterOptions{},
			"{\"a\":1,\"b\":\"x\"}\n{\"a\":2,\"b\":\"line\\nbreak\"}\n{\"a\":3.50,\"b\":null,\"c\":[1,{\"d\":\"e\"}]}\n"},
		{"json array, compact rows", dataverse.RowWriterOptions{Format: dataverse.FormatJSON},
			"[\n{\"a\":1,\"b\":\"x\"},\n{\"a\":2,\"b\":\"line\\nbreak\"},\n{\"a\":3.50,\"b\":null,\"c\":[1,{\"d\":\"e\"}]}\n]\n"},
		{"json array indented as d365 get prints it", dataverse.RowWriterOptions{Format: dataverse.FormatJSON, Indent: "  "},
			"[\n  {\n    \"a\": 1,\n    \"b\": \"x\"\n  },\n  {\n    \"a\": 2,\n    \"b\": \"line\\nbreak\"\n  },\n  {\n    \"a\": 3.50,\n    \"b\": null,\n    \"c\": [\n      1,\n      {\n        \"d\": \"e\"\n      }\n    ]\n  }\n]\n"},
		{"csv: header from the first page, text unquoted, objects as JSON", dataverse.RowWriterOptions{Format: dataverse.FormatCSV},
			"a,b\n1,x\n2,\"line\nbreak\"\n3.50,\n"},
		{"csv: given columns, a missing one empty", dataverse.RowWriterOptions{Format: dataverse.FormatCSV, Columns: []string{"c", "zz", "a"}},
			"c,zz,a\n,,1\n,,2\n\"[1,{\"\"d\"\":\"\"e\"\"}]\",,3.50\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := dataverse.NewRowWriter(&buf, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WritePage(page1); err != nil {
				t.Fatal(err)
			}
			if err := w.WritePage(page2); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if w.Rows() != 3 || w.Bytes() != int64(buf.Len()) {
				t.Errorf("Rows %d Bytes %d, want 3 and %d", w.Rows(), w.Bytes(), buf.Len())
			}
		})
	}
}

// The indented array is what "d365 get" printed before it used the writer: json.MarshalIndent
// of each row with prefix and indent "  ", in an array.
func TestRowWriterIndentMatchesMarshalIndent(t *testing.T) {
	rows := rawRows(`{"@odata.etag":"W/\"5\"","fullname":"Ada Lovelace","numberofchildren":2,"_parentcustomerid_value":null,"x":{"y":[true,false]}}`,
		`{"@odata.etag":"W/\"6\"","fullname":"O'Brien","numberofchildren":0}`)
	var want strings.Builder
	for i, r := range rows {
		sep := ",\n  "
		if i == 0 {
			sep = "[\n  "
		}
		b, err := json.MarshalIndent(r, "  ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want.WriteString(sep + string(b))
	}
	want.WriteString("\n]\n")
	var buf bytes.Buffer
	w, _ := dataverse.NewRowWriter(&buf, &dataverse.RowWriterOptions{Format: dataverse.FormatJSON, Indent: "  "})
	if err := w.WritePage(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), buf.String()); diff != "" {
		t.Errorf("(-MarshalIndent +RowWriter):\n%s", diff)
	}
}

func TestRowWriterCSVFormattedColumnsAndDropped(t *testing.T) {
	var buf bytes.Buffer
	w, err := dataverse.NewRowWriter(&buf, &dataverse.RowWriterOptions{Format: dataverse.FormatCSV, FormattedValues: true, Columns: []string{"statuscode"}})
	if err != nil {
		t.Fatal(err)
	}
	err = w.WritePage(rawRows(`{"statuscode":1,"statuscode@OData.Community.Display.V1.FormattedValue":"Active","extra":"x","@odata.etag":"W/\"1\""}`))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got, want := buf.String(), "statuscode,statuscode@formatted\n1,Active\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := w.DroppedMembers(); !cmp.Equal(got, []string{"extra"}) {
		t.Errorf("DroppedMembers = %q, want [extra]", got)
	}
}

func TestRowWriterRefusals(t *testing.T) {
	if _, err := dataverse.NewRowWriter(&bytes.Buffer{}, &dataverse.RowWriterOptions{Format: "xml"}); !errors.Is(err, dataverse.ErrInvalidArgument) || !strings.Contains(err.Error(), `"xml" is unknown`) {
		t.Errorf("format xml: %v", err)
	}
	w, _ := dataverse.NewRowWriter(&bytes.Buffer{}, &dataverse.RowWriterOptions{Format: dataverse.FormatCSV})
	if err := w.WritePage(rawRows(`[1,2]`)); err == nil || !strings.Contains(err.Error(), "row 1 of the first page: a row is not a JSON object") {
		t.Errorf("array row: %v", err)
	}
	// An empty export still writes the header when the columns are known, and an empty array.
	var buf bytes.Buffer
	w, _ = dataverse.NewRowWriter(&buf, &dataverse.RowWriterOptions{Format: dataverse.FormatCSV, Columns: []string{"a", "b"}})
	w.WritePage(nil)
	w.Close()
	if buf.String() != "a,b\n" {
		t.Errorf("empty CSV = %q", buf.String())
	}
}

func TestRowWriterCSVLookupTables(t *testing.T) {
	var buf bytes.Buffer
	w, err := dataverse.NewRowWriter(&buf, &dataverse.RowWriterOptions{Format: dataverse.FormatCSV, LookupTables: []string{"_parentcustomerid_value"}})
	if err != nil {
		t.Fatal(err)
	}
	// Inferred columns: the companion column follows its lookup; the annotation is not dropped.
	err = w.WritePage(rawRows(
		`{"name":"a","_parentcustomerid_value":"11111111-1111-4111-8111-111111111111","_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":"account"}`,
		`{"name":"b","_parentcustomerid_value":null}`))
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	want := "name,_parentcustomerid_value,_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname\n" +
		"a,11111111-1111-4111-8111-111111111111,account\nb,,\n"
	if got := buf.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := w.DroppedMembers(); len(got) != 0 {
		t.Errorf("DroppedMembers = %q, want none", got)
	}
}
