package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// TestUpsertCmdFlags parses "d365 upsert" command lines with a runF that captures the options.
func TestUpsertCmdFlags(t *testing.T) {
	type parsed struct {
		EntitySet, Data string
		ID              uuid.UUID
		Key             dataverse.AlternateKey
		Mode            dataverse.UpsertMode
	}
	tests := []struct {
		args    []string
		want    parsed
		wantErr string
	}{
		{[]string{"contacts", testRecordID, "{}"}, parsed{EntitySet: "contacts", Data: "{}", ID: uuid.MustParse(testRecordID)}, ""},
		{[]string{"accounts", "accountnumber='A1'", "@a.json", "--create-only"},
			parsed{EntitySet: "accounts", Data: "@a.json", Key: dataverse.AlternateKey{"accountnumber": "A1"}, Mode: dataverse.UpsertCreateOnly}, ""},
		{[]string{"accounts", "accountnumber='A1'", "-", "--update-only"},
			parsed{EntitySet: "accounts", Data: "-", Key: dataverse.AlternateKey{"accountnumber": "A1"}, Mode: dataverse.UpsertUpdateOnly}, ""},
		{[]string{"accounts", "x='1'", "{}", "--create-only", "--update-only"}, parsed{}, "--create-only and --update-only exclude each other"},
		{[]string{"accounts", "A1", "{}"}, parsed{}, `"A1" is not a record id (a GUID) or an alternate key`},
		{[]string{"accounts", "a=b", "{}"}, parsed{}, "quote a string value, 'b'"},
		{[]string{"accounts", "a='1'"}, parsed{}, "d365 upsert needs an entity set, an id or alternate key, and the record as JSON (got 2 argument(s))"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _ := testFactory(outputJSON)
			var got *upsertOptions
			err := executeCmd(newCmdUpsert(f, func(o *upsertOptions) error { got = o; return nil }), "", tt.args...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.IO != f.IOStreams || got.Context == nil {
				t.Error("IO or Context not the factory's")
			}
			if diff := cmp.Diff(tt.want, parsed{got.EntitySet, got.Data, got.ID, got.Key, got.Mode}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestFetchCmdFlags parses "d365 fetch" command lines with a runF that captures the options.
func TestFetchCmdFlags(t *testing.T) {
	type parsed struct {
		Source, EntitySet string
		PageSize          int
		All, Formatted    bool
	}
	tests := []struct {
		args    []string
		want    parsed
		wantErr string
	}{
		{[]string{"q.xml"}, parsed{Source: "q.xml"}, ""},
		{[]string{"-", "--all", "--page-size", "50", "--formatted", "--entity-set", "contacts"}, parsed{"-", "contacts", 50, true, true}, ""},
		{[]string{}, parsed{}, "d365 fetch needs a FetchXML file, or - for stdin (got 0 argument(s))"},
		{[]string{"q.xml", "--page-size", "5001"}, parsed{}, "--page-size 5001 is out of range"},
		{[]string{"q.xml", "--page-size", "-1"}, parsed{}, "--page-size -1 is out of range"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _ := testFactory(outputCSV)
			var got *fetchOptions
			err := executeCmd(newCmdFetch(f, func(o *fetchOptions) error { got = o; return nil }), "", tt.args...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Output != outputCSV || got.IO != f.IOStreams {
				t.Error("Output or IO not the factory's")
			}
			if diff := cmp.Diff(tt.want, parsed{got.Source, got.EntitySet, got.PageSize, got.All, got.Formatted}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestBatchCmdFlags parses "d365 batch" command lines with a runF that captures the options.
func TestBatchCmdFlags(t *testing.T) {
	tests := []struct {
		args            []string
		source          string
		continueOnError bool
		wantErr         string
	}{
		{[]string{"ops.json"}, "ops.json", false, ""},
		{[]string{"-", "--continue-on-error"}, "-", true, ""},
		{[]string{}, "", false, "d365 batch needs a file of operations, or - for stdin (got 0 argument(s))"},
		{[]string{"a", "b"}, "", false, "(got 2 argument(s))"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _ := testFactory(outputTable)
			var got *batchOptions
			err := executeCmd(newCmdBatch(f, func(o *batchOptions) error { got = o; return nil }), "", tt.args...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Source != tt.source || got.ContinueOnError != tt.continueOnError || got.Output != outputTable {
				t.Errorf("got %+v", got)
			}
		})
	}
}

// TestFetchEntityName reads the table of FetchXML queries and refuses what is not one.
func TestFetchEntityName(t *testing.T) {
	for _, tt := range []struct{ query, want, wantErr string }{
		{`<fetch><entity name="contact"><attribute name="fullname"/></entity></fetch>`, "contact", ""},
		{`<?xml version="1.0"?><!-- c --><fetch top="1"><entity name="account"><link-entity name="contact"/></entity></fetch>`, "account", ""},
		{`<fetch><entity name="contact">`, "", "not well-formed XML"},
		{`<query/>`, "", "the root element is <query>, not <fetch>"},
		{`<fetch/>`, "", `no <entity name="…"> inside <fetch>`},
		{`<fetch><entity/></fetch>`, "", "<entity> has no name attribute"},
		{``, "", "no <fetch> element"},
	} {
		got, err := fetchEntityName(tt.query)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("fetchEntityName(%q) = %q, %v; want error %q", tt.query, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("fetchEntityName(%q) = %q, %v; want %q", tt.query, got, err, tt.want)
		}
	}
}

// FuzzFetchEntityName: any input gives a name or an error, never a panic, and a name only for a
// document rooted at <fetch>.
func FuzzFetchEntityName(f *testing.F) {
	f.Add(`<fetch><entity name="contact"/></fetch>`)
	f.Add(`<fetch><entity name="a"><entity name="b"/></entity></fetch>`)
	f.Add(`<fetch><entity`)
	f.Fuzz(func(t *testing.T, query string) {
		name, err := fetchEntityName(query)
		if err == nil && (name == "" || !strings.Contains(query, "fetch")) {
			t.Fatalf("fetchEntityName(%q) = %q without an error", query, name)
		}
	})
}
