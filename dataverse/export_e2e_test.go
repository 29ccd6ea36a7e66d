package dataverse_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// exportEnv is an emulator without limits holding n contacts, every third one under an account
// and with a gender, and a client for it.
func exportEnv(t *testing.T, n int) (*e2eEnv, string) {
	t.Helper()
	off := emulator.LimitsOff()
	env := newE2E(t, &e2eSetup{emulator: &emulator.Options{Limits: &off}})
	ctx := t.Context()
	acct, err := env.client.Create(ctx, "accounts", map[string]any{"name": `Contoso, "Ltd"`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]map[string]any, n)
	for i := range rows {
		r := map[string]any{"firstname": fmt.Sprintf("F%05d", i), "lastname": "Export", "numberofchildren": i % 7}
		if i%3 == 0 {
			r["parentcustomerid_account@odata.bind"] = "/accounts(" + acct.ID.String() + ")"
			r["gendercode"] = 2
			r["description"] = "line one\nline \"two\", with a comma"
		}
		rows[i] = r
	}
	if _, err := dataverse.CreateMultiple(ctx, env.client, "contacts", "contact", rows, nil); err != nil {
		t.Fatal(err)
	}
	return env, acct.ID.String()
}

// pagerRows reads every row of the query with the library's pager, as raw JSON.
func pagerRows(t *testing.T, c *dataverse.Client, q dataverse.Query) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for row, err := range dataverse.NewPager[json.RawMessage](c, "contacts", &dataverse.ListOptions{Query: q}).All(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, row)
	}
	return out
}

func TestExportJSONLinesEqualsPagerRows(t *testing.T) {
	t.Parallel()
	env, _ := exportEnv(t, 120)
	q := dataverse.Query{Select: []string{"firstname", "numberofchildren", "_parentcustomerid_value"}, MaxPageSize: 50, Filter: "lastname eq 'Export'"}
	want := pagerRows(t, env.client, q)
	var buf bytes.Buffer
	var progress []int64
	res, err := env.client.Export(t.Context(), &buf, "contacts", &dataverse.ExportOptions{
		Query: q, Progress: func(p dataverse.ExportProgress) { progress = append(progress, p.Rows) },
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(want) || res.Rows != int64(len(want)) || res.Pages != 3 || res.Bytes != int64(buf.Len()) {
		t.Fatalf("%d lines, result %+v; want %d rows in 3 pages and %d bytes", len(lines), res, len(want), buf.Len())
	}
	for i, line := range lines {
		if !jsonEqual(t, []byte(line), want[i]) {
			t.Fatalf("line %d = %s, want %s", i+1, line, want[i])
		}
	}
	if !slices.Equal(progress, []int64{50, 100, 120}) {
		t.Errorf("progress rows = %v, want [50 100 120]", progress)
	}
	// Numbers stay numbers.
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &first); err != nil {
		t.Fatal(err)
	}
	if _, ok := first["numberofchildren"].(float64); !ok {
		t.Errorf("numberofchildren = %#v, want a JSON number", first["numberofchildren"])
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return cmp.Equal(x, y)
}

func TestExportCSVHeaderLookupsAndFormattedValues(t *testing.T) {
	t.Parallel()
	env, acctID := exportEnv(t, 9)
	var buf bytes.Buffer
	res, err := env.client.Export(t.Context(), &buf, "contacts", &dataverse.ExportOptions{
		Format: dataverse.FormatCSV, FormattedValues: true,
		Query: dataverse.Query{Select: []string{"firstname", "numberofchildren", "gendercode", "_parentcustomerid_value", "description"},
			OrderBy: []string{"firstname"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"firstname", "firstname@formatted", "numberofchildren", "numberofchildren@formatted",
		"gendercode", "gendercode@formatted", "_parentcustomerid_value", "_parentcustomerid_value@formatted",
		"description", "description@formatted"}
	if diff := cmp.Diff(wantHeader, recs[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	if !slices.Equal(res.Columns, wantHeader) || res.Rows != 9 || len(recs) != 10 {
		t.Fatalf("result %+v, %d records", res, len(recs))
	}
	// Row 1 (F00000) has the account, a gender and a description with a line break, quotes and a comma.
	want1 := []string{"F00000", "", "0", "0", "2", "Female", acctID, `Contoso, "Ltd"`, "line one\nline \"two\", with a comma", ""}
	if diff := cmp.Diff(want1, recs[1]); diff != "" {
		t.Errorf("row F00000 (-want +got):\n%s", diff)
	}
	want2 := []string{"F00001", "", "1", "1", "", "", "", "", "", ""}
	if diff := cmp.Diff(want2, recs[2]); diff != "" {
		t.Errorf("row F00001 (-want +got):\n%s", diff)
	}
}

func TestExportCSVHeaderFromMetadataWithoutSelect(t *testing.T) {
	t.Parallel()
	env, _ := exportEnv(t, 4)
	var buf bytes.Buffer
	res, err := env.client.Export(t.Context(), &buf, "contacts", &dataverse.ExportOptions{Format: dataverse.FormatCSV})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// The header is every column the metadata says a record carries, in the metadata's order.
	md, err := env.client.TableMetadata(t.Context(), "contacts")
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range md.Columns {
		if p := md.Columns[i].Property(); p != "" {
			want = append(want, p)
		}
	}
	if diff := cmp.Diff(want, recs[0]); diff != "" {
		t.Fatalf("header (-metadata +got):\n%s", diff)
	}
	// Every member the service sends for a row has its column: nothing is dropped.
	first := pagerRows(t, env.client, dataverse.Query{Top: 1})[0]
	dec := json.NewDecoder(bytes.NewReader(first))
	dec.Token()
	for dec.More() {
		tok, _ := dec.Token()
		var skip json.RawMessage
		dec.Decode(&skip)
		if k := tok.(string); !strings.Contains(k, "@") && !slices.Contains(recs[0], k) {
			t.Errorf("the service sends %q but the header has no such column", k)
		}
	}
	if !slices.Contains(recs[0], "contactid") || !slices.Contains(recs[0], "_parentcustomerid_value") || slices.Contains(recs[0], "parentcustomerid") {
		t.Errorf("header %v: want contactid and _parentcustomerid_value, and the lookup only as its _value column", recs[0])
	}
	if len(recs) != 5 || res.Rows != 4 || len(res.Dropped) != 0 {
		t.Errorf("%d records, result %+v", len(recs), res)
	}
}

func TestExportJSONArrayIsValidJSON(t *testing.T) {
	t.Parallel()
	env, _ := exportEnv(t, 30)
	q := dataverse.Query{Select: []string{"firstname", "description"}, MaxPageSize: 7}
	want := pagerRows(t, env.client, q)
	for _, indent := range []string{"", "  "} {
		var buf bytes.Buffer
		if _, err := env.client.Export(t.Context(), &buf, "contacts", &dataverse.ExportOptions{Format: dataverse.FormatJSON, Query: q, Indent: indent}); err != nil {
			t.Fatal(err)
		}
		var got []json.RawMessage
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("indent %q: not a JSON array: %v\n%s", indent, err, buf.String())
		}
		if len(got) != len(want) {
			t.Fatalf("indent %q: %d rows, want %d", indent, len(got), len(want))
		}
		for i := range got {
			if !jsonEqual(t, got[i], want[i]) {
				t.Fatalf("indent %q: row %d = %s, want %s", indent, i, got[i], want[i])
			}
		}
	}
	// No rows: an empty array.
	var buf bytes.Buffer
	if _, err := env.client.Export(t.Context(), &buf, "contacts", &dataverse.ExportOptions{Format: dataverse.FormatJSON,
		Query: dataverse.Query{Filter: "lastname eq 'Nobody'"}}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "[]\n" {
		t.Errorf("empty export = %q, want []", buf.String())
	}
}

func TestExportPartitionedWritesEachRowOnce(t *testing.T) {
	t.Parallel()
	env, _ := exportEnv(t, 600)
	for _, parallel := range []int{2, 5, 16} {
		var buf bytes.Buffer
		res, err := env.client.Export(t.Context(), &buf, "contacts", &dataverse.ExportOptions{
			Parallel: parallel, Query: dataverse.Query{Select: []string{"contactid", "firstname"}, MaxPageSize: 40, Filter: "lastname eq 'Export'"},
		})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		sc := bufio.NewScanner(&buf)
		for sc.Scan() {
			var row struct{ Contactid, Firstname string }
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatal(err)
			}
			seen[row.Firstname]++
		}
		if len(seen) != 600 || res.Rows != 600 || res.Partitions != parallel {
			t.Fatalf("parallel %d: %d distinct rows, result %+v; want 600 in %d ranges", parallel, len(seen), res, parallel)
		}
		for name, n := range seen {
			if n != 1 {
				t.Errorf("parallel %d: %s written %d times", parallel, name, n)
			}
		}
	}
}

func TestExportPartitionedOrderIsStable(t *testing.T) {
	t.Parallel()
	env, _ := exportEnv(t, 200)
	opts := &dataverse.ExportOptions{Parallel: 4, PartitionKey: "contactid", Query: dataverse.Query{Select: []string{"firstname"}, MaxPageSize: 15}}
	var a, b bytes.Buffer
	if _, err := env.client.Export(t.Context(), &a, "contacts", opts); err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.Export(t.Context(), &b, "contacts", opts); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("two partitioned exports of the same rows wrote them in different orders")
	}
}

func TestExportResumesFromCheckpoint(t *testing.T) {
	t.Parallel()
	env, _ := exportEnv(t, 100)
	for _, parallel := range []int{0, 3} {
		q := dataverse.Query{Select: []string{"firstname"}, MaxPageSize: 9, OrderBy: []string{"firstname"}}
		var full bytes.Buffer
		if _, err := env.client.Export(t.Context(), &full, "contacts", &dataverse.ExportOptions{Format: dataverse.FormatCSV, Query: q, Parallel: parallel}); err != nil {
			t.Fatal(err)
		}
		// Stop after the fourth page, as a crash would, then resume from the state saved then.
		var out bytes.Buffer
		var saved []byte
		stop := fmt.Errorf("stop")
		_, err := env.client.Export(t.Context(), &out, "contacts", &dataverse.ExportOptions{
			Format: dataverse.FormatCSV, Query: q, Parallel: parallel,
			Checkpoint: func(s dataverse.ExportState) error {
				var err error
				if saved, err = json.Marshal(s); err != nil {
					return err
				}
				if s.Pages == 4 {
					return stop
				}
				return nil
			},
		})
		if err != stop {
			t.Fatalf("parallel %d: err = %v, want the checkpoint's", parallel, err)
		}
		var st dataverse.ExportState
		if err := json.Unmarshal(saved, &st); err != nil {
			t.Fatal(err)
		}
		out.Truncate(int(st.Bytes))
		res, err := env.client.Export(t.Context(), &out, "contacts", &dataverse.ExportOptions{Format: dataverse.FormatCSV, Query: q, Parallel: parallel, Resume: &st})
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != full.String() || res.Rows != 100 {
			t.Errorf("parallel %d: resumed output differs from one run (%d rows)\n--- resumed\n%s\n--- one run\n%s", parallel, res.Rows, out.String(), full.String())
		}
	}
}

func TestExportFetchXML(t *testing.T) {
	t.Parallel()
	env, _ := exportEnv(t, 25)
	fx := `<fetch count="10"><entity name="contact"><attribute name="firstname"/><attribute name="gendercode"/><order attribute="firstname"/></entity></fetch>`
	var buf bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := env.client.Export(ctx, &buf, "contacts", &dataverse.ExportOptions{FetchXML: fx, Format: dataverse.FormatCSV, Columns: []string{"firstname", "gendercode"}})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 25 || res.Pages != 3 || len(recs) != 26 || recs[1][0] != "F00000" || recs[1][1] != "2" || recs[2][1] != "" {
		t.Errorf("result %+v, records %q", res, recs[:3])
	}
}

// TestExportCSVLookupTables: with LookupTables each polymorphic lookup column (contact's
// parentcustomerid: account or contact; ownerid: systemuser or team) is followed by the table of
// its id, from the annotation the export asks for; single-table lookups get no such column.
func TestExportCSVLookupTables(t *testing.T) {
	t.Parallel()
	env, acctID := exportEnv(t, 2)
	var buf bytes.Buffer
	_, err := env.client.Export(t.Context(), &buf, "contacts", &dataverse.ExportOptions{
		Format: dataverse.FormatCSV, LookupTables: true,
		Query: dataverse.Query{Select: []string{"firstname", "_parentcustomerid_value", "_ownerid_value", "_transactioncurrencyid_value"},
			OrderBy: []string{"firstname"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"firstname", "_parentcustomerid_value", "_parentcustomerid_value" + dataverse.LookupTableSuffix,
		"_ownerid_value", "_ownerid_value" + dataverse.LookupTableSuffix, "_transactioncurrencyid_value"}
	if diff := cmp.Diff(wantHeader, recs[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	// F00000 has the account as parent; F00001 has none, so its table cell is empty too.
	if got := recs[1][1:3]; !slices.Equal(got, []string{acctID, "account"}) {
		t.Errorf("F00000 parent and table = %q, want [%s account]", got, acctID)
	}
	if got := recs[2][1:3]; !slices.Equal(got, []string{"", ""}) {
		t.Errorf("F00001 parent and table = %q, want empty", got)
	}
	for _, r := range recs[1:] {
		if r[4] != "systemuser" {
			t.Errorf("row %s: owner table %q, want systemuser", r[0], r[4])
		}
	}
}
