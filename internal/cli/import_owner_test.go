package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
)

// TestResolveOwnerLookup: ownerid's relationship references the abstract "owner" table, which
// has no entity set. An ownerid@odata.bind column takes systemusers(…) or teams(…) (the column's
// targets); a _ownerid_value column takes systemuser:<id> or team:<id>, and a bare id there is
// refused with what to write instead, never with a metadata error about "owner".
func TestResolveOwnerLookup(t *testing.T) {
	md := &dataverse.TableMetadata{
		LogicalName: "account", EntitySetName: "accounts", PrimaryIDAttribute: "accountid", PrimaryNameAttribute: "name",
		Columns: []dataverse.ColumnMetadata{
			{LogicalName: "accountid", AttributeType: "Uniqueidentifier", IsPrimaryID: true, IsValidForCreate: true, IsValidForRead: true},
			{LogicalName: "ownerid", AttributeType: "Owner", Targets: []string{"systemuser", "team"}, IsValidForCreate: true, IsValidForUpdate: true, IsValidForRead: true},
		},
		Lookups: []dataverse.LookupMetadata{{NavigationProperty: "ownerid", Attribute: "ownerid", Targets: []string{"owner"}}},
	}
	sets := func(logical string) (string, error) {
		switch logical {
		case "systemuser", "team":
			return logical + "s", nil
		}
		return "", fmt.Errorf("no table has the entity set name or logical name '%s'", logical)
	}
	table := newImportTable(md, "create", nil, sets)

	bind := table.resolve("ownerid@odata.bind")
	if bind.err != nil {
		t.Fatalf("ownerid@odata.bind: %v", bind.err)
	}
	if diff := cmp.Diff([]string{"systemusers", "teams"}, bind.cell.bindSets); diff != "" {
		t.Errorf("ownerid@odata.bind entity sets (-want +got):\n%s", diff)
	}

	ids := table.resolve("_ownerid_value")
	if ids.err != nil {
		t.Fatalf("_ownerid_value: %v", ids.err)
	}
	const id = "5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65"
	got, err := ids.cell.parse("team:" + id)
	if err != nil {
		t.Fatalf("team:<id>: %v", err)
	}
	if diff := cmp.Diff(polyRef{property: "ownerid@odata.bind", ref: "/teams(" + id + ")"}, got, cmp.AllowUnexported(polyRef{})); diff != "" {
		t.Errorf("team:<id> (-want +got):\n%s", diff)
	}
	_, err = ids.cell.parse(id)
	if err == nil {
		t.Fatal("a bare id in _ownerid_value was accepted; an id alone cannot say whether it is a user or a team")
	}
	for _, want := range []string{"can point to systemuser or team", "systemuser:" + id} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("bare id error %q does not say %q", err, want)
		}
	}
}
