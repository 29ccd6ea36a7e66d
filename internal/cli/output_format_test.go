package cli

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rivo/uniseg"
)

// TestPrinterFormats prints the same documents in every -o format, with and without --jq.
func TestPrinterFormats(t *testing.T) {
	t.Parallel()
	collection := `{"@odata.context":"x#contacts","value":[{"@odata.etag":"W/\"1\"","name":"Ada","n":2,"tel":"0123","ok":true,"big":12345678901234567890},{"name":"Bob, \"B\"","n":null,"tel":null,"ok":false,"big":1.5}]}`
	tests := []struct {
		name, format, jq, doc string
		columns               []string
		want                  string
	}{
		{"json re-indents", outputJSON, "", `{"b":1,"a":[1,2]}`, nil, "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    2\n  ]\n}\n"},
		{"jsonl: the rows of a collection", outputJSONL, "", collection, nil,
			`{"@odata.etag":"W/\"1\"","name":"Ada","n":2,"tel":"0123","ok":true,"big":12345678901234567890}` + "\n" +
				`{"name":"Bob, \"B\"","n":null,"tel":null,"ok":false,"big":1.5}` + "\n"},
		{"jsonl: an object is one row", outputJSONL, "", `{"a": 1}`, nil, "{\"a\":1}\n"},
		{"yaml keeps order and types", outputYAML, "", `{"z":"0123","a":12345678901234567890,"t":"true","b":true,"n":null,"l":[1.5,"x"],"e":{}}`, nil,
			"z: \"0123\"\na: 12345678901234567890\nt: \"true\"\nb: true\nn: null\nl:\n  - 1.5\n  - x\ne: {}\n"},
		{"csv: columns inferred, annotations left out", outputCSV, "", collection, nil,
			"name,n,tel,ok,big\nAda,2,0123,true,12345678901234567890\n\"Bob, \"\"B\"\"\",,,false,1.5\n"},
		{"csv: given columns", outputCSV, "", collection, []string{"tel", "name"}, "tel,name\n0123,Ada\n,\"Bob, \"\"B\"\"\"\n"},
		{"table", outputTable, "", collection, []string{"name", "n"}, "NAME      N\nAda       2\nBob, \"B\"  \n"},
		{"table of scalars", outputTable, "", `[1,"a"]`, nil, "VALUE\n1\na\n"},
		{"jq: strings raw, numbers exact", outputJSON, ".value[] | .name, .big", collection, nil, "Ada\n12345678901234567890\nBob, \"B\"\n1.5\n"},
		{"jq: objects indented, keys sorted", outputJSON, ".value[0] | {tel, name}", collection, nil, "{\n  \"name\": \"Ada\",\n  \"tel\": \"0123\"\n}\n"},
		{"jq + jsonl", outputJSONL, ".value[] | {name}", collection, nil, "{\"name\":\"Ada\"}\n{\"name\":\"Bob, \\\"B\\\"\"}\n"},
		{"jq + yaml: a document per result", outputYAML, ".value[] | .n", collection, nil, "---\n2\n---\nnull\n"},
		{"jq + table: arrays are rows; --select is not the filter's columns", outputTable, "[.value[] | {k: .name}]", collection, []string{"name"}, "K\nAda\nBob, \"B\"\n"},
		{"jq + csv", outputCSV, ".value[] | {k: .n}", collection, nil, "k\n2\n\n"},
		{"jq: empty output", outputJSON, "empty", collection, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := printer{IO: &IOStreams{Out: &out}, Format: tt.format, JQ: tt.jq, Columns: tt.columns}
			if err := p.print(context.Background(), []byte(tt.doc)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestPrinterJQErrors: a filter that does not compile is a usage error; one that fails on the
// data is the command's failure (exit 1); neither prints anything.
func TestPrinterJQErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		jq, want string
		code     int
	}{
		{".[", "does not parse", ExitUsage},
		{"nosuchfunction(1)", "does not compile", ExitUsage},
		{".a + 1", `cannot add: string ("x") and number (1)`, ExitError},
		{`error("boom")`, "boom", ExitError},
	} {
		var out bytes.Buffer
		err := printer{IO: &IOStreams{Out: &out}, Format: outputJSON, JQ: tt.jq}.print(context.Background(), []byte(`{"a":"x"}`))
		if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != tt.code {
			t.Errorf("--jq %q: err = %v (exit %d), want %q (exit %d)", tt.jq, err, exitCode(err), tt.want, tt.code)
		}
		if out.Len() != 0 {
			t.Errorf("--jq %q printed %q", tt.jq, out.String())
		}
	}
}

// TestTableWidth: a table wider than the terminal narrows its widest columns first, cuts their
// cells with "…", and every line fits; wide characters count as two cells.
func TestTableWidth(t *testing.T) {
	t.Parallel()
	records := []orderedObject{
		{{Key: "id", Value: jsonString("01a24e83-b6f8-7195-89e6-76b8c1bebe6d")}, {Key: "name", Value: jsonString("Ada")}, {Key: "description", Value: jsonString(strings.Repeat("long text ", 20))}},
		{{Key: "id", Value: jsonString("01a24e83-b6f8-7195-89e6-76b8c1bebe6e")}, {Key: "name", Value: jsonString("漢字の名前です")}, {Key: "description", Value: jsonString("short")}},
	}
	for _, width := range []int{0, 400, 60, 40, 20} {
		var out bytes.Buffer
		if err := writeTableWidth(&out, records, nil, width); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") {
			t.Fatalf("width %d: %q", width, out.String())
		}
		for _, l := range lines {
			if w := uniseg.StringWidth(l); width > 0 && w > width && width >= 3*minTableColumn+2*tableGap {
				t.Errorf("width %d: line %q is %d cells wide", width, l, w)
			}
		}
		cut := strings.Contains(out.String(), "…")
		if (width == 0 || width == 400) == cut {
			t.Errorf("width %d: cut = %v:\n%s", width, cut, out.String())
		}
		if width == 60 && !strings.Contains(lines[1], "01a24e83-b6f8-7195-89e6-76b8c1bebe6d") {
			t.Errorf("width 60: the id column was cut before the wider description:\n%s", out.String())
		}
	}
}

func TestTruncateCell(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in    string
		width int
		want  string
	}{
		{"abcdef", 6, "abcdef"},
		{"abcdef", 5, "abcd…"},
		{"漢字漢字", 5, "漢字…"},
		{"漢字漢字", 4, "漢…"},
		{"e\u0301e\u0301e\u0301", 2, "e\u0301…"}, // a combining accent stays with its letter
	} {
		if got := truncateCell(tt.in, tt.width); got != tt.want {
			t.Errorf("truncateCell(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}

// TestTableWidthFromEnvironment: $COLUMNS sets the width; a buffer is no terminal (no limit).
func TestTableWidthFromEnvironment(t *testing.T) {
	t.Parallel()
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) { return v, k == "COLUMNS" && v != "" }
	}
	for v, want := range map[string]int{"80": 80, " 132 ": 132, "": 0, "x": 0, "-5": 0} {
		if got := tableWidth(&IOStreams{Out: &bytes.Buffer{}, LookupEnv: env(v)}); got != want {
			t.Errorf("COLUMNS=%q: width %d, want %d", v, got, want)
		}
	}
}

// TestPreferredTableColumns: without columns, a table shows the preferred ones the rows hold, in
// the preferred order, and every column when the rows hold none of them.
func TestPreferredTableColumns(t *testing.T) {
	t.Parallel()
	doc := `[{"@odata.etag":"x","emailaddress1":"a@b.c","contactid":"01a24e83-b6f8-7195-89e6-76b8c1bebe6d","fullname":"Ada"}]`
	for _, tt := range []struct {
		prefer []string
		want   string
	}{
		{namingRuleColumns("contacts"), "FULLNAME  CONTACTID\nAda       01a24e83-b6f8-7195-89e6-76b8c1bebe6d\n"},
		{[]string{"nothing"}, "EMAILADDRESS1  CONTACTID                             FULLNAME\na@b.c          01a24e83-b6f8-7195-89e6-76b8c1bebe6d  Ada\n"},
	} {
		var out bytes.Buffer
		p := printer{IO: &IOStreams{Out: &out}, Format: outputTable, Prefer: tt.prefer}
		if err := p.print(context.Background(), []byte(doc)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, out.String()); diff != "" {
			t.Errorf("prefer %v (-want +got):\n%s", tt.prefer, diff)
		}
	}
}

func TestNamingRuleColumns(t *testing.T) {
	t.Parallel()
	for set, id := range map[string]string{"contacts": "contactid", "opportunities": "opportunityid", "addresses": "addressid", "new_widgets": "new_widgetid"} {
		if cols := namingRuleColumns(set); !slices.Contains(cols, id) {
			t.Errorf("namingRuleColumns(%q) = %v, want %s among them", set, cols, id)
		}
	}
}
