package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/emulator"
)

// fakeMetadata answers the pull's GETs from canned JSON by path prefix (the longest wins).
func fakeMetadata(answers map[string]string) metadataGetter {
	return func(_ context.Context, path string, out any) error {
		best := ""
		for p := range answers {
			if strings.HasPrefix(path, p) && len(p) > len(best) {
				best = p
			}
		}
		if best == "" {
			return json.Unmarshal([]byte(`{"value":[]}`), out)
		}
		return json.Unmarshal([]byte(answers[best]), out)
	}
}

// A table as a real environment describes it, in the shapes of Microsoft's metadata samples:
// labels with LocalizedLabels and UserLocalizedLabel, a multi-select choice that reports
// AttributeType Virtual, a choice on a global option set, derived columns (AttributeOf), a
// polymorphic lookup to a table that is not pulled, a file column and its name column, a party
// list, a key still being built.
func TestPullReadsDocumentedShapes(t *testing.T) {
	const base = "EntityDefinitions(LogicalName='sample_bankaccount')"
	label := func(s string) string {
		return `{"LocalizedLabels":[{"Label":"` + s + `","LanguageCode":1033,"IsManaged":false,"MetadataId":"bc8d1815-75b7-4c13-b618-7959aaf4abb6","HasChanged":null}],` +
			`"UserLocalizedLabel":{"Label":"` + s + `","LanguageCode":1033,"IsManaged":false,"MetadataId":"bc8d1815-75b7-4c13-b618-7959aaf4abb6","HasChanged":null}}`
	}
	answers := map[string]string{
		base + "?": `{"@odata.context":"x","MetadataId":"4a154e49-112a-ed11-9db1-00224804f8e2","LogicalName":"sample_bankaccount","SchemaName":"sample_BankAccount",
			"EntitySetName":"sample_bankaccounts","ObjectTypeCode":10561,"PrimaryIdAttribute":"sample_bankaccountid","PrimaryNameAttribute":"sample_name",
			"OwnershipType":"UserOwned","IsActivity":false,"ChangeTrackingEnabled":true,"DisplayName":` + label("Bank Account") + `,"DisplayCollectionName":` + label("Bank Accounts") + `,
			"Description":{"LocalizedLabels":[],"UserLocalizedLabel":null}}`,
		base + "/Attributes": `{"value":[
			{"@odata.type":"#Microsoft.Dynamics.CRM.UniqueIdentifierAttributeMetadata","LogicalName":"sample_bankaccountid","AttributeType":"Uniqueidentifier","IsPrimaryId":true},
			{"@odata.type":"#Microsoft.Dynamics.CRM.StringAttributeMetadata","LogicalName":"sample_name","SchemaName":"sample_Name","AttributeType":"String",
			 "AttributeTypeName":{"Value":"StringType"},"MaxLength":100,"RequiredLevel":{"Value":"ApplicationRequired","CanBeChanged":true,"ManagedPropertyLogicalName":"canmodifyrequirementlevelsettings"},
			 "DisplayName":` + label("Name") + `,"IsPrimaryName":true,"AttributeOf":null},
			{"@odata.type":"#Microsoft.Dynamics.CRM.PicklistAttributeMetadata","LogicalName":"sample_choice","SchemaName":"sample_Choice","AttributeType":"Picklist","DefaultFormValue":-1},
			{"@odata.type":"#Microsoft.Dynamics.CRM.PicklistAttributeMetadata","LogicalName":"sample_region","SchemaName":"sample_Region","AttributeType":"Picklist","DefaultFormValue":727000001},
			{"@odata.type":"#Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata","LogicalName":"sample_tags","AttributeType":"Virtual","AttributeTypeName":{"Value":"MultiSelectPicklistType"}},
			{"@odata.type":"#Microsoft.Dynamics.CRM.VirtualAttributeMetadata","LogicalName":"sample_choicename","AttributeType":"Virtual","AttributeOf":"sample_choice"},
			{"@odata.type":"#Microsoft.Dynamics.CRM.LookupAttributeMetadata","LogicalName":"sample_customerid","AttributeType":"Customer","Targets":["account","contact"]},
			{"@odata.type":"#Microsoft.Dynamics.CRM.LookupAttributeMetadata","LogicalName":"sample_partnerid","AttributeType":"Lookup","Targets":["sample_partner"]},
			{"@odata.type":"#Microsoft.Dynamics.CRM.EntityNameAttributeMetadata","LogicalName":"sample_customeridtype","AttributeType":"EntityName"},
			{"@odata.type":"#Microsoft.Dynamics.CRM.FileAttributeMetadata","LogicalName":"sample_statement","AttributeType":"Virtual","AttributeTypeName":{"Value":"FileType"},"MaxSizeInKB":32768},
			{"@odata.type":"#Microsoft.Dynamics.CRM.StringAttributeMetadata","LogicalName":"sample_statement_name","AttributeType":"String","AttributeOf":"sample_statement"},
			{"@odata.type":"#Microsoft.Dynamics.CRM.AttributeMetadata","LogicalName":"sample_parties","AttributeType":"PartyList","AttributeTypeName":{"Value":"PartyListType"}},
			{"@odata.type":"#Microsoft.Dynamics.CRM.MoneyAttributeMetadata","LogicalName":"sample_balance","AttributeType":"Money","MinValue":-922337203685477.0,"MaxValue":922337203685477.0,"Precision":2,"PrecisionSource":2},
			{"@odata.type":"#Microsoft.Dynamics.CRM.MoneyAttributeMetadata","LogicalName":"sample_balance_base","AttributeType":"Money","IsBaseCurrency":true,"AttributeOf":null},
			{"@odata.type":"#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata","LogicalName":"sample_opened","AttributeType":"DateTime","Format":"DateOnly","DateTimeBehavior":{"Value":"DateOnly"}},
			{"@odata.type":"#Microsoft.Dynamics.CRM.BooleanAttributeMetadata","LogicalName":"sample_active","AttributeType":"Boolean","DefaultValue":true},
			{"@odata.type":"#Microsoft.Dynamics.CRM.LookupAttributeMetadata","LogicalName":"ownerid","AttributeType":"Owner","Targets":["systemuser","team"]},
			{"@odata.type":"#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata","LogicalName":"createdon","AttributeType":"DateTime"}]}`,
		base + "/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata": `{"value":[
			{"LogicalName":"sample_choice","OptionSet":{"Name":"sample_bankaccount_sample_choice","IsGlobal":false,"OptionSetType":"Picklist","Options":[
				{"Value":727000000,"Color":null,"Label":` + label("Bravo") + `,"Description":{"LocalizedLabels":[],"UserLocalizedLabel":null}},
				{"Value":727000001,"Color":"#0000ff","Label":` + label("Delta") + `}]},"GlobalOptionSet":null},
			{"LogicalName":"sample_region","OptionSet":null,"GlobalOptionSet":{"Name":"sample_region","IsGlobal":true,"DisplayName":` + label("Region") + `,"Options":[
				{"Value":727000000,"Label":` + label("North") + `},{"Value":727000001,"Label":` + label("South") + `}]}}]}`,
		base + "/Attributes/Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata": `{"value":[
			{"LogicalName":"sample_tags","OptionSet":{"Name":"sample_bankaccount_sample_tags","IsGlobal":false,"Options":[{"Value":1,"Label":` + label("Red") + `}]}}]}`,
		base + "/Attributes/Microsoft.Dynamics.CRM.BooleanAttributeMetadata": `{"value":[
			{"LogicalName":"sample_active","OptionSet":{"TrueOption":{"Value":1,"Label":` + label("Open") + `},"FalseOption":{"Value":0,"Label":` + label("Closed") + `}}}]}`,
		base + "/Keys": `{"value":[{"SchemaName":"sample_name_key","KeyAttributes":["sample_name"],"EntityKeyIndexStatus":"Active"},
			{"SchemaName":"sample_pending_key","KeyAttributes":["sample_name","sample_opened"],"EntityKeyIndexStatus":"Pending"}]}`,
		base + "/ManyToOneRelationships": `{"value":[
			{"SchemaName":"sample_account_bankaccount","ReferencedEntity":"account","ReferencedAttribute":"accountid","ReferencingEntity":"sample_bankaccount",
			 "ReferencingAttribute":"sample_customerid","ReferencedEntityNavigationPropertyName":"sample_account_bankaccount",
			 "ReferencingEntityNavigationPropertyName":"sample_CustomerId_account","CascadeConfiguration":{"Assign":"NoCascade","Delete":"RemoveLink"}},
			{"SchemaName":"sample_partner_bankaccount","ReferencedEntity":"sample_partner","ReferencingEntity":"sample_bankaccount","ReferencingAttribute":"sample_partnerid"},
			{"SchemaName":"lk_sample_bankaccount_createdby","ReferencedEntity":"systemuser","ReferencingEntity":"sample_bankaccount","ReferencingAttribute":"createdby"}]}`,
	}
	p, err := pullTable(context.Background(), fakeMetadata(answers), "sample_bankaccount")
	if err != nil {
		t.Fatal(err)
	}
	def, report := toSchemaDefinition([]*pulledTable{p}, emulator.BuiltinSchema())
	one := int64(1)
	region := int64(727000001)
	minMoney, maxMoney := -922337203685477.0, 922337203685477.0
	two := 2
	want := &emulator.SchemaDefinition{
		Tables: []emulator.TableDefinition{{
			LogicalName: "sample_bankaccount", SchemaName: "sample_BankAccount", EntitySetName: "sample_bankaccounts",
			DisplayName: "Bank Account", DisplayCollectionName: "Bank Accounts", ObjectTypeCode: 10561,
			PrimaryNameColumn: "sample_name", Ownership: "UserOwned", ChangeTracking: true,
			Columns: []emulator.ColumnDefinition{
				{LogicalName: "sample_name", SchemaName: "sample_Name", DisplayName: "Name", Type: "String", MaxLength: 100, RequiredLevel: "ApplicationRequired"},
				{LogicalName: "sample_choice", SchemaName: "sample_Choice", Type: "Picklist", Options: []emulator.OptionDefinition{
					{Value: 727000000, Label: "Bravo"}, {Value: 727000001, Label: "Delta", Color: "#0000ff"}}},
				{LogicalName: "sample_region", SchemaName: "sample_Region", Type: "Picklist", OptionSetName: "sample_region", DefaultValue: &region},
				{LogicalName: "sample_tags", Type: "MultiSelectPicklist", Options: []emulator.OptionDefinition{{Value: 1, Label: "Red"}}},
				{LogicalName: "sample_customerid", Type: "Customer", Targets: []string{"account", "contact"}},
				{LogicalName: "sample_statement", Type: "File", MaxSizeInKB: 32768},
				{LogicalName: "sample_balance", Type: "Money", MinValue: &minMoney, MaxValue: &maxMoney, Precision: &two},
				{LogicalName: "sample_opened", Type: "DateTime", DateTimeBehavior: "DateOnly", Format: "DateOnly"},
				{LogicalName: "sample_active", Type: "Boolean", TrueLabel: "Open", FalseLabel: "Closed", DefaultValue: &one},
			},
			Keys: []emulator.KeyDefinition{{SchemaName: "sample_name_key", Columns: []string{"sample_name"}}},
		}},
		Relationships: []emulator.RelationshipDefinition{{
			SchemaName: "sample_account_bankaccount", ReferencedEntity: "account", ReferencingEntity: "sample_bankaccount",
			ReferencingAttribute: "sample_customerid", ReferencingNavigation: "sample_CustomerId_account",
			ReferencedNavigation: "sample_account_bankaccount", CascadeDelete: "RemoveLink",
		}},
		OptionSets: []emulator.OptionSetDefinition{{Name: "sample_region", DisplayName: "Region", Options: []emulator.OptionDefinition{
			{Value: 727000000, Label: "North"}, {Value: 727000001, Label: "South"}}}},
	}
	if diff := cmp.Diff(want, def); diff != "" {
		t.Errorf("schema definition (-want +got):\n%s", diff)
	}
	wantSkipped := []string{
		"column sample_bankaccount.sample_partnerid: target sample_partner is neither pulled nor built into the emulator; pull it to keep it",
		"column sample_bankaccount.sample_parties: type PartyListType has no equivalent in the emulator's schema files",
		"key sample_bankaccount.sample_pending_key: its index is Pending, not Active",
		"relationship sample_partner_bankaccount: it joins sample_partner and sample_bankaccount; pull both (or use a built-in table) to keep it",
	}
	if diff := cmp.Diff(wantSkipped, report.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	// What was written is a schema the emulator starts with.
	data, err := encodeSchemaFile(def, "pulled.yaml", "https://contoso.crm.dynamics.com", []string{"sample_bankaccount"})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := emulator.ParseSchema(data, "pulled.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if diff := cmp.Diff(def, loaded); diff != "" {
		t.Errorf("the YAML file does not read back as written (-written +read):\n%s", diff)
	}
	emu, err := emulator.New(&emulator.Options{Schema: loaded})
	if err != nil {
		t.Fatalf("an emulator does not start with the pulled file: %v\n%s", err, data)
	}
	emu.Close()
}

// FuzzPullConversion: whatever JSON an environment answers, the pull fails with an error or
// writes a file that reads back as the same definition; it never panics.
func FuzzPullConversion(f *testing.F) {
	f.Add(`{"LogicalName":"new_x","SchemaName":"new_X","EntitySetName":"new_xs","PrimaryIdAttribute":"new_xid","PrimaryNameAttribute":"new_name"}`,
		`{"value":[{"LogicalName":"new_name","AttributeType":"String","MaxLength":50},{"LogicalName":"new_c","AttributeType":"Picklist"}]}`,
		`{"value":[{"LogicalName":"new_c","OptionSet":{"Name":"g","IsGlobal":true,"Options":[{"Value":1,"Label":{"LocalizedLabels":[{"Label":"A","LanguageCode":1033}]}}]}}]}`,
		`{"value":[{"SchemaName":"k","KeyAttributes":["new_name"]}]}`,
		`{"value":[{"SchemaName":"r","ReferencedEntity":"account","ReferencingEntity":"new_x","ReferencingAttribute":"new_a","CascadeConfiguration":{"Delete":"Cascade"}}]}`)
	f.Add(`{}`, `{"value":null}`, `[]`, `{"value":[{}]}`, `null`)
	builtin := emulator.BuiltinSchema()
	f.Fuzz(func(t *testing.T, entity, attrs, choices, keys, rels string) {
		get := func(_ context.Context, path string, out any) error {
			var raw string
			switch {
			case strings.Contains(path, "/Attributes/"):
				raw = choices
			case strings.Contains(path, "/Attributes"):
				raw = attrs
			case strings.Contains(path, "/Keys"):
				raw = keys
			case strings.Contains(path, "Relationships"):
				raw = rels
			default:
				raw = entity
			}
			if err := json.Unmarshal([]byte(raw), out); err != nil {
				return fmt.Errorf("GET %s: %w", path, err)
			}
			return nil
		}
		p, err := pullTable(context.Background(), get, "new_x")
		if err != nil {
			return
		}
		def, _ := toSchemaDefinition([]*pulledTable{p}, builtin)
		data, err := encodeSchemaFile(def, "f.json", "https://x", []string{"new_x"})
		if err != nil {
			t.Fatal(err)
		}
		var back emulator.SchemaDefinition
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("the file does not read back: %v\n%s", err, data)
		}
	})
}

// TestMetadataPullCmdFlags: --tables is parsed into logical names; a missing, malformed or
// repeated name is a usage error before anything connects.
func TestMetadataPullCmdFlags(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		want    []string
		wantOut string
		wantErr string
	}{
		{args: []string{"--tables", "new_project, new_milestone", "--out", "t.yaml"}, want: []string{"new_project", "new_milestone"}, wantOut: "t.yaml"},
		{args: []string{"--tables", "account"}, want: []string{"account"}},
		{args: nil, wantErr: "--tables is required"},
		{args: []string{"--tables", "new_project,"}, wantErr: `--tables: item 2 "" is not a table logical name`},
		{args: []string{"--tables", "New_Project"}, wantErr: `--tables: item 1 "New_Project" is not a table logical name`},
		{args: []string{"--tables", "a,b,a"}, wantErr: "--tables: a is named twice"},
		{args: []string{"--tables", "a", "extra"}, wantErr: "needs no arguments"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _ := testFactory(outputJSON)
			var got *metadataPullOptions
			err := executeCmd(newCmdMetadataPull(f, func(o *metadataPullOptions) error { got = o; return nil }), "metadata", tt.args...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Tables); diff != "" || got.Out != tt.wantOut {
				t.Errorf("tables (-want +got):\n%s\nout %q, want %q", diff, got.Out, tt.wantOut)
			}
		})
	}
}
