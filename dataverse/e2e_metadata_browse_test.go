package dataverse_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/d365s2s/d365/dataverse"
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

// TestE2ETableChoices reads the options of contact's choice columns. A service that does not
// serve OptionSet names each attribute type it refused instead of failing.
func TestE2ETableChoices(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	ch, err := env.client.TableChoices(t.Context(), "contacts")
	if err != nil {
		t.Fatalf("TableChoices: %v", err)
	}
	if len(ch.Unavailable) > 0 {
		// The emulator before issue 12's metadata: every enumeration type is refused, by name.
		for _, cast := range []string{"PicklistAttributeMetadata", "StateAttributeMetadata", "StatusAttributeMetadata", "BooleanAttributeMetadata"} {
			if !slices.ContainsFunc(ch.Unavailable, func(s string) bool { return strings.HasPrefix(s, cast+": ") }) {
				t.Errorf("Unavailable = %q, does not name %s", ch.Unavailable, cast)
			}
		}
		if len(ch.Options) != 0 {
			t.Errorf("Options = %+v with every type unavailable", ch.Options)
		}
		return
	}
	opts := ch.Options["preferredcontactmethodcode"]
	if len(opts) == 0 || opts[0].Value != 1 || opts[0].Label != "Any" {
		t.Errorf("preferredcontactmethodcode options = %+v, want 1 Any first", opts)
	}
	state := ch.Options["statecode"]
	if !slices.ContainsFunc(state, func(o dataverse.ChoiceOption) bool { return o.Value == 0 && o.Label == "Active" }) {
		t.Errorf("statecode options = %+v, want 0 Active", state)
	}
	status := ch.Options["statuscode"]
	if !slices.ContainsFunc(status, func(o dataverse.ChoiceOption) bool { return o.State != nil }) {
		t.Errorf("statuscode options = %+v, want each with its State", status)
	}
	if b := ch.Options["donotemail"]; len(b) != 2 || b[0].Value != 0 || b[1].Value != 1 {
		t.Errorf("donotemail options = %+v, want 0 and 1", b)
	}
}

// TestE2ETableRelationships reads contact's relationships; a service that refuses the expansion
// gives an error wrapping ErrMetadataUnsupported, never an empty answer.
func TestE2ETableRelationships(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	rels, err := env.client.TableRelationships(t.Context(), "contacts")
	if errors.Is(err, dataverse.ErrMetadataUnsupported) {
		if !strings.Contains(err.Error(), "OneToManyRelationships") {
			t.Errorf("error %q does not name what the service refused", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("TableRelationships: %v", err)
	}
	if !slices.ContainsFunc(rels.ManyToOne, func(r dataverse.OneToManyRelationship) bool {
		return r.ReferencingAttribute == "parentcustomerid" && r.ReferencedEntity == "account" && r.ReferencingEntity == "contact"
	}) {
		t.Errorf("ManyToOne = %+v, want parentcustomerid -> account", rels.ManyToOne)
	}
	if !slices.ContainsFunc(rels.OneToMany, func(r dataverse.OneToManyRelationship) bool { return r.ReferencedEntity == "contact" }) {
		t.Errorf("OneToMany = %+v, want relationships referencing contact", rels.OneToMany)
	}
}
