package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// TestBrowseCmdFlags parses "d365 tables", "columns", "keys" and "relationships" command lines
// with run functions that capture the options, and checks each refusal (exit code 2, nothing run).
func TestBrowseCmdFlags(t *testing.T) {
	type parsed struct {
		Command, Table, Filter string
		Custom, All            bool
	}
	build := func(f *Factory, name string, got *parsed, ran *bool) *cobra.Command {
		capture := func(o *tableArgOptions) { *ran = true; got.Table = o.Table }
		switch name {
		case "tables":
			return newCmdTables(f, func(o *tablesOptions) error { *ran = true; got.Custom, got.Filter = o.Custom, o.Filter; return nil })
		case "columns":
			return newCmdColumns(f, func(o *columnsOptions) error { capture(&o.tableArgOptions); got.All = o.All; return nil })
		case "keys":
			return newCmdKeys(f, func(o *tableArgOptions) error { capture(o); return nil })
		default:
			return newCmdRelationships(f, func(o *tableArgOptions) error { capture(o); return nil })
		}
	}
	tests := []struct {
		args    string
		want    parsed
		wantErr string
	}{
		{"tables", parsed{}, ""},
		{"tables --custom --filter  IsActivity_eq_true", parsed{Custom: true, Filter: "IsActivity_eq_true"}, ""},
		{"tables contacts", parsed{}, "d365 tables needs no arguments (got 1 argument(s))"},
		{"tables --custom=maybe", parsed{}, `invalid argument "maybe" for "--custom"`},
		{"columns contacts", parsed{Table: "contacts"}, ""},
		{"columns contact --all", parsed{Table: "contact", All: true}, ""},
		{"columns", parsed{}, "d365 columns needs a table (entity set or logical name) (got 0 argument(s))"},
		{"columns a b", parsed{}, "(got 2 argument(s))"},
		{"columns --select x contacts", parsed{}, "unknown flag: --select"},
		{"keys accounts", parsed{Table: "accounts"}, ""},
		{"keys", parsed{}, "d365 keys needs a table"},
		{"relationships contacts", parsed{Table: "contacts"}, ""},
		{"relationships", parsed{}, "d365 relationships needs a table"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			f, _ := testFactory(outputJSON)
			args := strings.Fields(tt.args)
			var got parsed
			ran := false
			err := executeCmd(build(f, args[0], &got, &ran), "", args[1:]...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, ran)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmptyTableArgIsRefused: a blank table name is a usage error, not a request.
func TestEmptyTableArgIsRefused(t *testing.T) {
	f, _ := testFactory(outputJSON)
	ran := false
	err := executeCmd(newCmdKeys(f, func(*tableArgOptions) error { ran = true; return nil }), "", " ")
	checkRefusal(t, err, "d365 keys: the table name is empty", ran)
}

// TestRelationshipRows: each kind seen from the table, including a many-to-many in which the
// table is the second entity.
func TestRelationshipRows(t *testing.T) {
	rels := &dataverse.TableRelationships{
		LogicalName: "contact",
		OneToMany: []dataverse.OneToManyRelationship{{SchemaName: "contact_tasks", ReferencedEntity: "contact", ReferencingEntity: "task",
			ReferencingAttribute: "regardingobjectid", ReferencedEntityNavigationPropertyName: "Contact_Tasks"}},
		ManyToOne: []dataverse.OneToManyRelationship{{SchemaName: "contact_customer_accounts", ReferencedEntity: "account", ReferencingEntity: "contact",
			ReferencingAttribute: "parentcustomerid", ReferencingEntityNavigationPropertyName: "parentcustomerid_account"}},
		ManyToMany: []dataverse.ManyToManyRelationship{{SchemaName: "listcontact_association", Entity1LogicalName: "list", Entity2LogicalName: "contact",
			IntersectEntityName: "listmember", Entity1NavigationPropertyName: "listcontact_association", Entity2NavigationPropertyName: "contactlists"}},
	}
	var b strings.Builder
	out := browseOutput{IO: &IOStreams{Out: &b}, Output: outputTable}
	if err := out.printRows(t.Context(), relationshipRows(rels), relationshipsTableColumns); err != nil {
		t.Fatal(err)
	}
	want := `KIND          SCHEMANAME                 RELATEDTABLE  LOOKUP                  INTERSECTTABLE  NAVIGATIONPROPERTY
one-to-many   contact_tasks              task          task.regardingobjectid                  Contact_Tasks
many-to-one   contact_customer_accounts  account       parentcustomerid                        parentcustomerid_account
many-to-many  listcontact_association    list                                  listmember      contactlists
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}

// TestColumnRowJSON: a column's JSON carries only what applies to it; a choice keeps each option's
// value, label and state.
func TestColumnRowJSON(t *testing.T) {
	state := 1
	c := &dataverse.ColumnMetadata{LogicalName: "statuscode", AttributeType: "Status", RequiredLevel: "None", IsValidForRead: true, IsValidForUpdate: true}
	var b strings.Builder
	rows := []orderedObject{columnRow(c, []dataverse.ChoiceOption{{Value: 2, Label: "Inactive", State: &state}}, false)}
	out := browseOutput{IO: &IOStreams{Out: &b}, Output: outputJSON}
	if err := out.printRows(t.Context(), rows, nil); err != nil {
		t.Fatal(err)
	}
	want := `[
  {
    "logicalName": "statuscode",
    "type": "Status",
    "requiredLevel": "None",
    "isPrimaryId": false,
    "isPrimaryName": false,
    "validFor": [
      "update",
      "read"
    ],
    "options": [
      {
        "value": 2,
        "label": "Inactive",
        "state": 1
      }
    ]
  }
]
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}
