package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

const testRecordID = "00000000-0000-0000-0000-000000000001"

// TestGetCmdFlags parses "d365 get" command lines with a runF that captures the options, and
// checks each refusal's message and exit code (2) without a process or a server.
func TestGetCmdFlags(t *testing.T) {
	type parsed struct {
		EntitySet             string
		ByID                  bool
		ID                    uuid.UUID
		ByKey                 dataverse.AlternateKey
		Select, OrderBy       []string
		Expand                []dataverse.Expand
		Filter                string
		Top, PageSize         int
		All, Count, Formatted bool
	}
	tests := []struct {
		args    string
		want    parsed
		wantErr string
	}{
		{"contacts", parsed{EntitySet: "contacts"}, ""},
		{"contacts --select a,b --filter x --orderby c,d --top 5 --page-size 10 --all --formatted",
			parsed{EntitySet: "contacts", Select: []string{"a", "b"}, Filter: "x", OrderBy: []string{"c", "d"}, Top: 5, PageSize: 10, All: true, Formatted: true}, ""},
		{"accounts " + testRecordID + " --select name", parsed{EntitySet: "accounts", ByID: true, ID: uuid.MustParse(testRecordID), Select: []string{"name"}}, ""},
		// The nil GUID is an id like any other: it retrieves, it does not query.
		{"accounts {00000000-0000-0000-0000-000000000000}", parsed{EntitySet: "accounts", ByID: true}, ""},
		{"contacts emailaddress1='a@b.c'", parsed{EntitySet: "contacts", ByKey: dataverse.AlternateKey{"emailaddress1": "a@b.c"}}, ""},
		{"accounts accountnumber='A''1',rank=3,ok=true", parsed{EntitySet: "accounts", ByKey: dataverse.AlternateKey{"accountnumber": "A'1", "rank": int64(3), "ok": true}}, ""},
		{"contacts --key emailaddress1=a@b.c --key lastname=O'Brien", parsed{EntitySet: "contacts", ByKey: dataverse.AlternateKey{"emailaddress1": "a@b.c", "lastname": "O'Brien"}}, ""},
		{"accounts --expand primarycontactid($select=fullname,emailaddress1) --expand contact_customer_accounts($top=2;$orderby=fullname)",
			parsed{EntitySet: "accounts", Expand: []dataverse.Expand{
				{Property: "primarycontactid", Select: []string{"fullname", "emailaddress1"}},
				{Property: "contact_customer_accounts", Top: 2, OrderBy: []string{"fullname"}},
			}}, ""},
		{"contacts --filter x --count", parsed{EntitySet: "contacts", Filter: "x", Count: true}, ""},
		{"", parsed{}, "d365 get takes an entity set and an optional id or alternate key (got 0 argument(s))"},
		{"contacts emailaddress1=a@b.c", parsed{}, `"a@b.c" is neither a number, a GUID, true nor false: quote a string value, 'a@b.c'`},
		{"contacts emailaddress1='a@b.c", parsed{}, "the quoted value has no closing quote"},
		{"contacts x='1' --key y=2", parsed{}, "give the record as an argument or with --key, not both"},
		{"contacts --key y", parsed{}, `--key "y" is not column=value`},
		{"contacts --key y=1 --top 2", parsed{}, "drop them or the id/key"},
		{"contacts --count --top 2", parsed{}, "--count prints only the number of rows matching --filter"},
		{"accounts --expand primarycontactid($select=a", parsed{}, `a "(" is not closed`},
		{"accounts --expand primarycontactid($skip=2)", parsed{}, "$skip is not an option of $expand"},
		{"a b c", parsed{}, "(got 3 argument(s))"},
		{"accounts " + testRecordID + " --top 1", parsed{}, "--filter, --orderby, --top, --page-size, --all and --count query a table; drop them or the id/key"},
		{"accounts 42", parsed{}, `"42" is not a record id (a GUID like 00000000-0000-0000-0000-000000000000) or an alternate key (column='value')`},
		{"contacts --top -1", parsed{}, "--top -1 is negative"},
		{"contacts --page-size 5001", parsed{}, "--page-size 5001 is out of range"},
		{"contacts --top x", parsed{}, `invalid argument "x" for "--top"`},
		{"$metadata", parsed{}, `"$metadata" is a Web API path, not an entity set`},
		{"contacts?$top=1", parsed{}, `send any request with "d365 api 'contacts?$top=1'"`},
		{"EntityDefinitions(LogicalName='account')", parsed{}, `"EntityDefinitions(LogicalName='account')" is a Web API path`},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			f, _ := testFactory(outputTable)
			var got *getOptions
			err := executeCmd(newCmdGet(f, func(o *getOptions) error { got = o; return nil }), "", strings.Fields(tt.args)...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Output != outputTable || got.IO != f.IOStreams {
				t.Errorf("Output %q, IO %p: not the factory's", got.Output, got.IO)
			}
			p := parsed{got.EntitySet, got.ByID, got.ID, got.ByKey, got.Select, got.OrderBy, got.Expand, got.Filter, got.Top, got.PageSize, got.All, got.Count, got.Formatted}
			if diff := cmp.Diff(tt.want, p); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestWriteCmdFlags does the same for "d365 create", "update" and "delete".
func TestWriteCmdFlags(t *testing.T) {
	type parsed struct {
		EntitySet, Data string
		ID              uuid.UUID
	}
	tests := []struct {
		cmd, args string
		want      parsed
		wantErr   string
	}{
		{"create", `contacts --data {"a":1}`, parsed{EntitySet: "contacts", Data: `{"a":1}`}, ""},
		{"create", "contacts --data @rec.json", parsed{EntitySet: "contacts", Data: "@rec.json"}, ""},
		{"create", "contacts", parsed{EntitySet: "contacts"}, ""}, // --data is checked when it is read
		{"create", "", parsed{}, "d365 create needs an entity set (got 0 argument(s))"},
		{"update", "contacts " + testRecordID + " --data -", parsed{EntitySet: "contacts", ID: uuid.MustParse(testRecordID), Data: "-"}, ""},
		{"update", "contacts nope --data {}", parsed{}, `"nope" is not a record id`},
		{"update", "contacts", parsed{}, "d365 update needs an entity set and an id (got 1 argument(s))"},
		{"delete", "contacts " + testRecordID, parsed{EntitySet: "contacts", ID: uuid.MustParse(testRecordID)}, ""},
		{"delete", "contacts " + testRecordID + "0", parsed{}, "is not a record id"},
		{"delete", "contacts " + testRecordID + " --data {}", parsed{}, "unknown flag: --data"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+tt.args, func(t *testing.T) {
			f, _ := testFactory(outputJSON)
			var got *parsed
			var err error
			args := strings.Fields(tt.args)
			switch tt.cmd {
			case "create", "update":
				capture := func(o *writeOptions) error {
					if o.IO != f.IOStreams {
						t.Error("IO is not the factory's")
					}
					got = &parsed{o.EntitySet, o.Data, o.ID}
					return nil
				}
				newCmd := newCmdCreate
				if tt.cmd == "update" {
					newCmd = newCmdUpdate
				}
				err = executeCmd(newCmd(f, capture), "", args...)
			case "delete":
				err = executeCmd(newCmdDelete(f, func(o *deleteOptions) error { got = &parsed{EntitySet: o.EntitySet, ID: o.ID}; return nil }), "", args...)
			}
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestCreateRunRefusesBadData runs createRun itself with bad --data: the refusal comes before
// any connection is made (the factory's Session fails if called).
func TestCreateRunRefusesBadData(t *testing.T) {
	for _, tt := range []struct{ data, want string }{
		{"", "--data is required"},
		{"[1]", "--data must be a JSON object"},
		{`{"a":`, "--data is not valid JSON at byte"},
		{"@/nonexistent/rec.json", "read --data @/nonexistent/rec.json"},
	} {
		t.Run(tt.data, func(t *testing.T) {
			f, _ := testFactory(outputJSON)
			err := createRun(&writeOptions{IO: f.IOStreams, Session: f.Session, EntitySet: "contacts", Data: tt.data})
			checkRefusal(t, err, tt.want, false)
		})
	}
}
