package dataverse_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// TestE2EListTables lists the emulator's tables, then only the custom ones, then those an OData
// filter keeps: the names a "d365 tables" user browses by.
func TestE2EListTables(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	ctx := t.Context()

	all, err := env.client.ListTables(ctx, nil)
	if err != nil {
		t.Fatalf("ListTables: %v", err)
	}
	i := slices.IndexFunc(all, func(s dataverse.TableSummary) bool { return s.LogicalName == "contact" })
	if i < 0 {
		t.Fatalf("ListTables has no contact: %+v", all)
	}
	if c := all[i]; c.EntitySetName != "contacts" || c.DisplayName != "Contact" || c.PrimaryIDAttribute != "contactid" || c.PrimaryNameAttribute != "fullname" || c.IsCustomEntity {
		t.Errorf("contact = %+v", c)
	}
	if !slices.IsSortedFunc(all, func(a, b dataverse.TableSummary) int { return strings.Compare(a.LogicalName, b.LogicalName) }) {
		t.Errorf("ListTables is not sorted by logical name")
	}

	custom, err := env.client.ListTables(ctx, &dataverse.ListTablesOptions{CustomOnly: true})
	if err != nil {
		t.Fatalf("ListTables(custom): %v", err)
	}
	if len(custom) != 1 || custom[0].LogicalName != "new_reading" || !custom[0].IsCustomEntity || custom[0].EntitySetName != "new_readings" {
		t.Errorf("custom tables = %+v, want new_reading only", custom)
	}

	filtered, err := env.client.ListTables(ctx, &dataverse.ListTablesOptions{Filter: "LogicalName eq 'account' or LogicalName eq 'new_reading'", CustomOnly: true})
	if err != nil {
		t.Fatalf("ListTables(filter): %v", err)
	}
	if len(filtered) != 1 || filtered[0].LogicalName != "new_reading" {
		t.Errorf("custom and filtered = %+v, want new_reading only (the filter is and-ed with --custom)", filtered)
	}
}

// TestE2EColumnRequiredLevel: the required level and display name of columns, read with the rest
// of TableMetadata.
func TestE2EColumnRequiredLevel(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	md, err := env.client.TableMetadata(t.Context(), "contacts")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]string{
		"lastname":  {"ApplicationRequired", "Last Name"},
		"firstname": {"Recommended", "First Name"},
		"contactid": {"SystemRequired", ""},
		"jobtitle":  {"None", "Job Title"},
	} {
		c, ok := md.Column(name)
		if !ok {
			t.Errorf("no column %s", name)
			continue
		}
		if c.RequiredLevel != want[0] || (want[1] != "" && c.DisplayName != want[1]) {
			t.Errorf("%s: RequiredLevel %q DisplayName %q, want %q %q", name, c.RequiredLevel, c.DisplayName, want[0], want[1])
		}
	}
}

// TestE2ETableChoices reads the options of contact's choice columns, of each enumeration type,
// with their labels (and each status reason's state).
func TestE2ETableChoices(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	ch, err := env.client.TableChoices(t.Context(), "contacts")
	if err != nil {
		t.Fatalf("TableChoices: %v", err)
	}
	if len(ch.Unavailable) > 0 {
		t.Errorf("Unavailable = %q, want every type served", ch.Unavailable)
	}
	labels := func(opts []dataverse.ChoiceOption) []string {
		var out []string
		for _, o := range opts {
			out = append(out, strconv.Itoa(o.Value)+" "+o.Label)
		}
		return out
	}
	for column, want := range map[string][]string{
		"preferredcontactmethodcode": {"1 Any", "2 Email", "3 Phone", "4 Fax", "5 Mail"}, // Picklist
		"statecode":                  {"0 Active", "1 Inactive"},                         // State
		"statuscode":                 {"1 Active", "2 Inactive"},                         // Status
		"donotemail":                 {"0 Allow", "1 Do Not Allow"},                      // Boolean: false, then true
	} {
		if got := labels(ch.Options[column]); !slices.Equal(got, want) {
			t.Errorf("%s options = %q, want %q", column, got, want)
		}
	}
	for _, o := range ch.Options["statuscode"] {
		if o.State == nil || *o.State != o.Value-1 {
			t.Errorf("statuscode %d: State = %v, want %d", o.Value, o.State, o.Value-1)
		}
	}
	if _, ok := ch.Options["lastname"]; ok {
		t.Error("a text column has options")
	}
}

// TestE2ETableChoicesDegrade: a service that refuses one type's OptionSet expansion (a 400, as an
// emulator without option sets answered) gets that type named in Unavailable with its message,
// and the other types' options still come back; a 403 is an error, not a degradation.
func TestE2ETableChoicesDegrade(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	const cast = "/api/data/v9.2/EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM."
	id := addFault(t, env, emulator.FaultRule{
		Match:  emulator.FaultMatch{PathPrefix: cast + "PicklistAttributeMetadata"},
		Action: emulator.FaultAction{Kind: emulator.ActionError, Status: 400, Message: "Could not find a property named 'OptionSet'."},
	})
	ch, err := env.client.TableChoices(t.Context(), "contacts")
	if err != nil {
		t.Fatalf("TableChoices: %v", err)
	}
	if want := []string{"PicklistAttributeMetadata: Could not find a property named 'OptionSet'."}; !slices.Equal(ch.Unavailable, want) {
		t.Errorf("Unavailable = %q, want %q", ch.Unavailable, want)
	}
	if _, ok := ch.Options["preferredcontactmethodcode"]; ok {
		t.Error("a refused type's column has options")
	}
	if len(ch.Options["statecode"]) != 2 {
		t.Errorf("statecode options = %+v, want the State type still served", ch.Options["statecode"])
	}
	if fired(t, env, id) != 1 {
		t.Errorf("the fault fired %d times, want 1", fired(t, env, id))
	}

	addFault(t, env, emulator.FaultRule{
		Match:  emulator.FaultMatch{PathPrefix: cast + "StateAttributeMetadata"},
		Action: emulator.FaultAction{Kind: emulator.ActionError, Status: 403, Code: "0x80040220", Message: "missing prvReadEntity"},
	})
	if _, err := env.client.TableChoices(t.Context(), "contacts"); !dataverse.IsForbidden(err) {
		t.Errorf("TableChoices with a 403: err = %v, want it returned", err)
	}
}

// TestE2ETableRelationships reads contact's relationships of the three kinds.
func TestE2ETableRelationships(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	rels, err := env.client.TableRelationships(t.Context(), "contacts")
	if err != nil {
		t.Fatalf("TableRelationships: %v", err)
	}
	if rels.LogicalName != "contact" {
		t.Errorf("LogicalName = %q", rels.LogicalName)
	}
	if !slices.ContainsFunc(rels.ManyToOne, func(r dataverse.OneToManyRelationship) bool {
		return r.SchemaName == "contact_customer_accounts" && r.ReferencingAttribute == "parentcustomerid" && r.ReferencedEntity == "account" &&
			r.ReferencingEntity == "contact" && r.ReferencingEntityNavigationPropertyName == "parentcustomerid_account"
	}) {
		t.Errorf("ManyToOne = %+v, want contact_customer_accounts", rels.ManyToOne)
	}
	if !slices.ContainsFunc(rels.OneToMany, func(r dataverse.OneToManyRelationship) bool {
		return r.ReferencedEntity == "contact" && r.ReferencingEntity == "task" && r.ReferencingAttribute == "regardingobjectid"
	}) {
		t.Errorf("OneToMany = %+v, want task.regardingobjectid", rels.OneToMany)
	}
	users, err := env.client.TableRelationships(t.Context(), "systemuser")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(users.ManyToMany, func(r dataverse.ManyToManyRelationship) bool {
		return r.SchemaName == "systemuserroles_association" && r.IntersectEntityName != ""
	}) {
		t.Errorf("systemuser ManyToMany = %+v, want systemuserroles_association", users.ManyToMany)
	}
}

// TestE2ETableRelationshipsUnsupported: a service that refuses the relationship expansions gives
// an error wrapping ErrMetadataUnsupported and the service's *ResponseError, never an empty answer.
func TestE2ETableRelationshipsUnsupported(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	addFault(t, env, emulator.FaultRule{
		Match:  emulator.FaultMatch{PathPrefix: "/api/data/v9.2/EntityDefinitions(LogicalName='contact')"},
		Action: emulator.FaultAction{Kind: emulator.ActionError, Status: 400, Message: "Could not find a property named 'OneToManyRelationships'."},
	})
	rels, err := env.client.TableRelationships(t.Context(), "contacts")
	var re *dataverse.ResponseError
	if !errors.Is(err, dataverse.ErrMetadataUnsupported) || !errors.As(err, &re) || re.StatusCode != 400 || rels != nil {
		t.Fatalf("TableRelationships = %+v, %v; want ErrMetadataUnsupported wrapping the 400", rels, err)
	}
	if !strings.Contains(err.Error(), "relationships of contact") || !strings.Contains(err.Error(), "OneToManyRelationships") {
		t.Errorf("error %q does not name the table and what was refused", err)
	}
}
