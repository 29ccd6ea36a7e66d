package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
)

// testContactMetadata is a hand-made contact table: text, numbers, a choice, dates, a GUID
// primary key, a polymorphic lookup and a single-target one, a computed column.
func testContactMetadata() *dataverse.TableMetadata {
	w := func(c dataverse.ColumnMetadata) dataverse.ColumnMetadata {
		c.IsValidForCreate, c.IsValidForUpdate, c.IsValidForRead = true, true, true
		return c
	}
	return &dataverse.TableMetadata{
		LogicalName: "contact", EntitySetName: "contacts", PrimaryIDAttribute: "contactid", PrimaryNameAttribute: "fullname",
		Columns: []dataverse.ColumnMetadata{
			{LogicalName: "contactid", AttributeType: "Uniqueidentifier", IsPrimaryID: true, IsValidForCreate: true, IsValidForRead: true},
			w(dataverse.ColumnMetadata{LogicalName: "lastname", AttributeType: "String", MaxLength: 10}),
			w(dataverse.ColumnMetadata{LogicalName: "emailaddress1", AttributeType: "String", MaxLength: 100}),
			w(dataverse.ColumnMetadata{LogicalName: "numberofchildren", AttributeType: "Integer"}),
			w(dataverse.ColumnMetadata{LogicalName: "creditlimit", AttributeType: "Money"}),
			w(dataverse.ColumnMetadata{LogicalName: "donotemail", AttributeType: "Boolean"}),
			w(dataverse.ColumnMetadata{LogicalName: "birthdate", AttributeType: "DateTime", DateTimeFormat: "DateOnly"}),
			w(dataverse.ColumnMetadata{LogicalName: "lastusedincampaign", AttributeType: "DateTime", DateTimeFormat: "DateAndTime"}),
			w(dataverse.ColumnMetadata{LogicalName: "preferredcontactmethodcode", AttributeType: "Picklist"}),
			w(dataverse.ColumnMetadata{LogicalName: "parentcustomerid", AttributeType: "Customer", Targets: []string{"account", "contact"}}),
			w(dataverse.ColumnMetadata{LogicalName: "originatingleadid", AttributeType: "Lookup", Targets: []string{"lead"}}),
			{LogicalName: "createdon", AttributeType: "DateTime", IsValidForRead: true},
		},
		Keys:      []dataverse.KeyMetadata{{Name: "contact_email", KeyAttributes: []string{"emailaddress1"}}},
		KeysKnown: true,
		Lookups: []dataverse.LookupMetadata{
			{NavigationProperty: "originatingleadid", Attribute: "originatingleadid", Targets: []string{"lead"}},
			{NavigationProperty: "parentcustomerid_account", Attribute: "parentcustomerid", Targets: []string{"account"}},
			{NavigationProperty: "parentcustomerid_contact", Attribute: "parentcustomerid", Targets: []string{"contact"}},
		},
	}
}

func testEntitySet(logical string) (string, error) {
	switch logical {
	case "account", "contact", "lead":
		return logical + "s", nil
	}
	return "", fmt.Errorf("no table %s", logical)
}

func testImportTable(mode string, keys ...string) *importTable {
	return newImportTable(testContactMetadata(), mode, keys, testEntitySet)
}

// TestCheckRowsCSV: the check pass types every cell and lists every problem with its line and
// column; a header problem is reported alone (the rows cannot be read without it).
func TestCheckRowsCSV(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		keys     []string
		in       string
		rows     int64
		problems []string
	}{
		{
			name: "clean",
			mode: "create",
			in: "lastname,numberofchildren,creditlimit,donotemail,birthdate,preferredcontactmethodcode,preferredcontactmethodcode@formatted,parentcustomerid_account@odata.bind\n" +
				"Ada,2,1000.50,true,1815-12-10,1,Any,accounts(accountnumber='A1')\n" +
				"Bob,,,,,,,\n",
			rows: 2,
		},
		{
			name: "bad cells and a bad line",
			mode: "create",
			in: "lastname,numberofchildren,donotemail,birthdate\n" +
				"Ada,two,true,1815-12-10\n" +
				"Bob,1,maybe\n" +
				"\"Cy\"x,1,true,2020-01-01\n" +
				"Averyveryverylongname,1,false,2020-13-01\n" +
				"D\"an,1,true,2020-01-01\n",
			rows: 5,
			problems: []string{
				`line 2, column numberofchildren: "two" is not a whole number from -2147483648 to 2147483647`,
				`line 3: the row has a different number of cells than the header`,
				`line 4: a quoted cell is not closed, or text follows its closing quote`,
				`line 5, column lastname: is 21 characters long; the column holds at most 10`,
				`line 5, column birthdate: "2020-13-01" is not a date; write YYYY-MM-DD, such as 2024-01-31`,
				`line 6: a quote (") appears inside an unquoted cell; quote the whole cell and double the quote ("")`,
			},
		},
		{
			name: "multi-line cell keeps line numbers",
			mode: "create",
			in:   "lastname,numberofchildren\n\"A\nB\",1\nC,x\n",
			rows: 2,
			problems: []string{
				`line 4, column numberofchildren: "x" is not a whole number from -2147483648 to 2147483647`,
			},
		},
		{
			name: "header problems",
			mode: "create",
			in:   "\ufefflastname,nosuchcolumn,parentcustomerid,createdon,parentcustomerid_lead@odata.bind,,lastname\nAda,1,2,3,4,5,6\nB\"ob,1,2,3,4,5,6\n",
			rows: 2,
			problems: []string{
				`line 1, column nosuchcolumn: contacts has no column "nosuchcolumn" (column names are logical names, such as fullname, contactid)`,
				`line 1, column parentcustomerid: parentcustomerid is a lookup: name the column parentcustomerid_account@odata.bind or parentcustomerid_contact@odata.bind and write references such as accounts(<id>)`,
				`line 1, column createdon: createdon cannot be set when a row is created (the service computes it); drop the column`,
				`line 1, column parentcustomerid_lead@odata.bind: contacts has no lookup navigation property "parentcustomerid_lead"; its lookups include originatingleadid, parentcustomerid_account, parentcustomerid_contact`,
				`line 1, column 6: the header cell is empty; name every column`,
				`line 1, column lastname: writes lastname, as column 1 (lastname) does; keep one`,
				`line 3: a quote (") appears inside an unquoted cell; quote the whole cell and double the quote ("")`,
			},
		},
		{
			name:     "update needs the primary id",
			mode:     "update",
			in:       "lastname\nAda\n",
			rows:     1,
			problems: []string{`line 1: the header has no column contactid; an update finds each row by its primary id (or pass --key)`},
		},
		{
			name: "upsert by key needs a value per row",
			mode: "upsert",
			keys: []string{"emailaddress1"},
			in:   "emailaddress1,lastname\na@example.com,Ada\n,Bob\n",
			rows: 2,
			problems: []string{
				`line 3: no value for key column emailaddress1`,
			},
		},
		{
			name:     "empty file",
			mode:     "create",
			in:       "",
			problems: []string{`line 1: the file is empty; a CSV import starts with a header line naming the columns`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := checkRows(context.Background(), strings.NewReader(tt.in), "csv", testImportTable(tt.mode, tt.keys...))
			if err != nil {
				t.Fatalf("checkRows: %v", err)
			}
			if res.rows != tt.rows {
				t.Errorf("rows = %d, want %d", res.rows, tt.rows)
			}
			if diff := cmp.Diff(tt.problems, res.problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if res.problemCount != len(tt.problems) {
				t.Errorf("problemCount = %d, want %d", res.problemCount, len(tt.problems))
			}
		})
	}
}

// TestRowsOfCSVTypesCells: the write pass yields each row with typed values, an empty cell left
// out, a bind resolved to its entity set, and nothing else.
func TestRowsOfCSVTypesCells(t *testing.T) {
	in := "contactid,lastname,numberofchildren,creditlimit,donotemail,birthdate,lastusedincampaign,preferredcontactmethodcode,parentcustomerid_account@odata.bind,_originatingleadid_value\n" +
		"5E0B7F0C-6D1C-4D1B-9A36-7C3F2A9E1D65,Ada,2,+1000.50,yes,1815-12-10,2024-01-31T09:30:00+02:00,1,accounts(accountnumber='A 1'),7eb682f1-ca75-e511-80d4-00155d2a68d1\n" +
		",Bob,,,,,,,,\n"
	var got []dataverse.Record
	for rec, err := range rowsOf(strings.NewReader(in), "csv", testImportTable("create")) {
		if err != nil {
			t.Fatalf("rowsOf: %v", err)
		}
		got = append(got, rec)
	}
	want := []dataverse.Record{
		{
			"contactid": "5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65", "lastname": "Ada", "numberofchildren": json.Number("2"),
			"creditlimit": json.Number("1000.50"), "donotemail": true, "birthdate": "1815-12-10",
			"lastusedincampaign": "2024-01-31T09:30:00+02:00", "preferredcontactmethodcode": json.Number("1"),
			"parentcustomerid_account@odata.bind": "/accounts(accountnumber='A%201')",
			"originatingleadid@odata.bind":        "/leads(7eb682f1-ca75-e511-80d4-00155d2a68d1)",
		},
		{"lastname": "Bob"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// TestRowsOfJSONLTypesMembers: the write pass yields each line's row with typed values; of a
// repeated member the last counts, as encoding/json decodes it; a null line is a problem.
func TestRowsOfJSONLTypesMembers(t *testing.T) {
	in := `{"lastname":"Ada","numberofchildren":2,"lastname":"Ann","donotemail":false}` + "\n" +
		`{"lastname":"B\u00e9","numberofchildren":1,"lastname":"Bo\"b"}` + "\n" +
		`{"lastname":"Cy","creditlimit":1.5}` + "\n"
	var got []dataverse.Record
	for rec, err := range rowsOf(strings.NewReader(in), "jsonl", testImportTable("create")) {
		if err != nil {
			t.Fatalf("rowsOf: %v", err)
		}
		got = append(got, rec)
	}
	want := []dataverse.Record{
		{"lastname": "Ann", "numberofchildren": json.Number("2"), "donotemail": false},
		{"lastname": `Bo"b`, "numberofchildren": json.Number("1")},
		{"lastname": "Cy", "creditlimit": json.Number("1.5")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	res, err := checkRows(context.Background(), strings.NewReader(`null`+"\n"+`{"lastname":1,"lastname":"Ok"}`+"\n"), "jsonl", testImportTable("create"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"line 1: null is not a row; write a JSON object"}; !cmp.Equal(res.problems, want) {
		t.Errorf("problems = %q, want %q (the repeated lastname's last value is a string)", res.problems, want)
	}
}

// TestCheckRowsJSONL: each line is an object whose members are checked like CSV columns, with
// JSON's own types; blank lines are not rows; export annotations are dropped.
func TestCheckRowsJSONL(t *testing.T) {
	in := `{"lastname":"Ada","numberofchildren":2,"donotemail":false,"@odata.etag":"W/\"1\"","lastname@OData.Community.Display.V1.FormattedValue":"Ada"}` + "\n" +
		"\n" +
		`{"lastname":"Bob","numberofchildren":"2"}` + "\n" +
		`{"lastname":"Cy",}` + "\n" +
		`[1,2]` + "\n" +
		`{"nosuch":1,"creditlimit":1e999,"parentcustomerid_contact@odata.bind":"contacts(x)"}` + "\n" +
		`{"lastname":null} {"x":1}` + "\n" +
		`{"nosuch":2}` + "\n"
	res, err := checkRows(context.Background(), strings.NewReader(in), "jsonl", testImportTable("create"))
	if err != nil {
		t.Fatalf("checkRows: %v", err)
	}
	want := []string{
		`line 3, numberofchildren: is the string "2", not a whole number (a JSON number)`,
		`line 4: not a JSON object: invalid character '}' looking for beginning of object key string at character 18`,
		`line 5: not a JSON object: the line holds a JSON array, not an object`,
		`line 6, creditlimit: "1e999" is not a number; write digits with an optional sign, '.' and exponent, such as -1234.56 (no thousands separators or currency symbols)`,
		`line 6, nosuch: contacts has no column "nosuch" (column names are logical names, such as fullname, contactid) (said once, for every row that has it)`,
		`line 6, parentcustomerid_contact@odata.bind: "contacts(x)": expected <column>=<value> at character 1, such as accountnumber='A1'`,
		`line 7: text follows the JSON object; write one object per line`,
	}
	if diff := cmp.Diff(want, res.problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if res.rows != 7 {
		t.Errorf("rows = %d, want 7 (the blank line is not a row)", res.rows)
	}
	if l := res.lines.line(1); l != 3 {
		t.Errorf("line of position 1 = %d, want 3", l)
	}
	if l := res.lines.line(0); l != 1 {
		t.Errorf("line of position 0 = %d, want 1", l)
	}
}

// TestCheckRowsCapsProblems: a file with more problems than are shown counts them all.
func TestCheckRowsCapsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("lastname,numberofchildren\n")
	for i := range 200 {
		fmt.Fprintf(&b, "n%d,x\n", i)
	}
	res, err := checkRows(context.Background(), strings.NewReader(b.String()), "csv", testImportTable("create"))
	if err != nil {
		t.Fatal(err)
	}
	if res.problemCount != 200 || len(res.problems) != maxProblemsShown || !strings.HasPrefix(res.problems[maxProblemsShown-1], fmt.Sprintf("line %d,", maxProblemsShown+1)) {
		t.Errorf("problemCount=%d shown=%d last=%q", res.problemCount, len(res.problems), res.problems[len(res.problems)-1])
	}
}

func TestCheckKeys(t *testing.T) {
	tests := []struct {
		mode string
		keys []string
		err  string
	}{
		{"upsert", []string{"emailaddress1"}, ""},
		{"update", []string{"EmailAddress1"}, ""},
		{"create", []string{"emailaddress1"}, "only --mode update or upsert"},
		{"upsert", []string{"lastname"}, "--key lastname is not an alternate key of contacts; its keys are contact_email (emailaddress1)"},
		{"upsert", []string{"nosuch"}, `contacts has no column "nosuch"`},
	}
	for _, tt := range tests {
		err := testImportTable(tt.mode, tt.keys...).checkKeys()
		if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("checkKeys(%s, %v) = %v, want %q", tt.mode, tt.keys, err, tt.err)
		}
	}
}

// FuzzReadRows: any input, as CSV or JSON Lines, is read without a panic; rows come with
// increasing line numbers, each problem names a line, and a row without problems holds only
// columns the table has (or bindings).
func FuzzReadRows(f *testing.F) {
	f.Add("lastname,numberofchildren\nAda,1\n\"B\nC\",x\n", true)
	f.Add("lastname\n\"unclosed\n", true)
	f.Add(`{"lastname":"Ada","numberofchildren":1}`+"\n\n"+`{"x":`+"\n"+`[1]`, false)
	f.Add(`{"parentcustomerid_account@odata.bind":"accounts(a='x')","_originatingleadid_value":"7eb682f1-ca75-e511-80d4-00155d2a68d1"}`, false)
	f.Add("contactid,lastname,_parentcustomerid_value\n,Ada,account:7eb682f1-ca75-e511-80d4-00155d2a68d1\n,B,contacts(emailaddress1='x')\n,C,7eb682f1-ca75-e511-80d4-00155d2a68d1\n,D,\n", true)
	f.Add(`{"_parentcustomerid_value":"contact:7eb682f1-ca75-e511-80d4-00155d2a68d1"}`+"\n"+`{"_parentcustomerid_value":null}`, false)
	f.Fuzz(func(t *testing.T, in string, csv bool) {
		format := "jsonl"
		if csv {
			format = "csv"
		}
		tbl := testImportTable("upsert")
		tbl.emptyAsNull = len(in)%2 == 0 // both ways of reading an empty cell
		rr, _, err := newRowReader(format, strings.NewReader(in), tbl, 1)
		if err != nil {
			return
		}
		last := 0
		for range 10000 {
			rec, line, problems, err := rr.next()
			if err != nil {
				return
			}
			if line < last {
				t.Fatalf("line %d after line %d", line, last)
			}
			last = line
			for _, p := range problems {
				if !strings.HasPrefix(p, "line ") {
					t.Fatalf("problem without a line: %q", p)
				}
			}
			if len(problems) > 0 {
				continue
			}
			for name := range rec {
				if _, ok := tbl.md.Column(name); !ok && !strings.HasSuffix(name, "@odata.bind") {
					t.Fatalf("row holds %q, which is not a column", name)
				}
			}
		}
		t.Fatalf("more than 10000 rows from %d bytes", len(in))
	})
}

// TestSkipReadOnlyColumns: with --skip-read-only (the default of "d365 import") a column the
// table has but the mode cannot write is left out of every row and reported once with its
// reason; an unknown column is still refused; a bare id in a polymorphic column is bound by the
// table its companion lookuplogicalname column names, and refused when that cell is empty.
func TestSkipReadOnlyColumns(t *testing.T) {
	table := testImportTable("create")
	table.skipReadOnly = true
	const acct = "11111111-1111-4111-8111-111111111111"
	in := "lastname,createdon,_parentcustomerid_value,_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname\n" +
		"Ada,2024-01-01T00:00:00Z," + acct + ",account\n" +
		"Bob,2024-01-01T00:00:00Z,,\n"
	var rows []dataverse.Record
	for row, err := range rowsOf(strings.NewReader(in), "csv", table) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	want := []dataverse.Record{
		{"lastname": "Ada", "parentcustomerid_account@odata.bind": "/accounts(" + acct + ")"},
		{"lastname": "Bob"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	wantSkipped := []skippedColumn{{name: "createdon", reason: "createdon cannot be set when a row is created (the service computes it)"}}
	if diff := cmp.Diff(wantSkipped, table.skipped, cmp.AllowUnexported(skippedColumn{})); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}

	res, err := checkRows(context.Background(), strings.NewReader("lastname,nosuchcolumn,createdon,_parentcustomerid_value,_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname\nAda,1,2,"+acct+",\n"), "csv", table)
	if err != nil {
		t.Fatal(err)
	}
	wantProblems := []string{
		`line 1, column nosuchcolumn: contacts has no column "nosuchcolumn" (column names are logical names, such as fullname, contactid)`,
		`line 2, column _parentcustomerid_value: "` + acct + `" is an id alone, but parentcustomerid can point to account or contact: write which, such as account:` + acct,
	}
	if diff := cmp.Diff(wantProblems, res.problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
