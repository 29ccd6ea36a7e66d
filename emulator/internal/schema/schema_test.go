package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBuiltinTables(t *testing.T) {
	t.Parallel()
	s := Builtin()
	tests := []struct {
		logical, set string
		otc          int
		pk, name     string
		own          Ownership
		privilege    string
	}{
		{"account", "accounts", 1, "accountid", "name", OwnershipUser, "Account"},
		{"contact", "contacts", 2, "contactid", "fullname", OwnershipUser, "Contact"},
		{"systemuser", "systemusers", 8, "systemuserid", "fullname", OwnershipBusiness, "User"},
		{"team", "teams", 9, "teamid", "name", OwnershipBusiness, "Team"},
		{"businessunit", "businessunits", 10, "businessunitid", "name", OwnershipBusiness, "BusinessUnit"},
		{"role", "roles", 1036, "roleid", "name", OwnershipBusiness, "Role"},
		{"task", "tasks", 4212, "activityid", "subject", OwnershipUser, "Activity"},
		{"organization", "organizations", 1019, "organizationid", "name", OwnershipNone, "Organization"},
		{"transactioncurrency", "transactioncurrencies", 9105, "transactioncurrencyid", "currencyname", OwnershipOrganization, "TransactionCurrency"},
	}
	for _, tt := range tests {
		tb, ok := s.Table(tt.logical)
		if !ok {
			t.Fatalf("table %q missing", tt.logical)
		}
		bySet, ok := s.TableBySet(tt.set)
		if !ok || bySet != tb {
			t.Errorf("TableBySet(%q) = %v, %v; want %s", tt.set, bySet, ok, tt.logical)
		}
		byCode, ok := s.TableByObjectTypeCode(tt.otc)
		if !ok || byCode != tb {
			t.Errorf("TableByObjectTypeCode(%d) = %v; want %s", tt.otc, byCode, tt.logical)
		}
		got := []any{tb.EntitySetName, tb.ObjectTypeCode, tb.PrimaryID().LogicalName, tb.PrimaryName().LogicalName, tb.Ownership, tb.PrivilegeName}
		want := []any{tt.set, tt.otc, tt.pk, tt.name, tt.own, tt.privilege}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.logical, diff)
		}
	}
}

func TestLookupsAreCaseSensitive(t *testing.T) {
	t.Parallel()
	s := Builtin()
	if _, ok := s.TableBySet("Contacts"); ok {
		t.Error(`TableBySet("Contacts") found a table; entity set names are case-sensitive`)
	}
	if _, ok := s.Table("Contact"); ok {
		t.Error(`Table("Contact") found a table`)
	}
	contact, _ := s.Table("contact")
	if _, ok := contact.Property("FirstName"); ok {
		t.Error(`Property("FirstName") found a column`)
	}
	if _, ok := contact.Property("firstname"); !ok {
		t.Error(`Property("firstname") not found`)
	}
	if _, ok := contact.NavigationProperty("ParentCustomerId_Account"); ok {
		t.Error("navigation property lookup ignored case")
	}
}

func TestLookupPropertiesAndNavigation(t *testing.T) {
	t.Parallel()
	s := Builtin()
	contact, _ := s.Table("contact")
	account, _ := s.Table("account")

	// A lookup is a property only as _x_value.
	if _, ok := contact.Property("parentcustomerid"); ok {
		t.Error("lookup logical name must not be a property")
	}
	col, ok := contact.Property("_parentcustomerid_value")
	if !ok || col.LogicalName != "parentcustomerid" || col.Type != TypeCustomer {
		t.Fatalf("_parentcustomerid_value = %v, %v", col, ok)
	}
	if col.TypeColumn != "parentcustomeridtype" || !col.IsPolymorphic() {
		t.Errorf("parentcustomerid TypeColumn = %q polymorphic=%v", col.TypeColumn, col.IsPolymorphic())
	}
	if tc, ok := contact.Column("parentcustomeridtype"); !ok || !tc.Internal {
		t.Errorf("companion column parentcustomeridtype missing or exposed: %v", tc)
	}
	if _, ok := contact.Property("parentcustomeridtype"); ok {
		t.Error("EntityName companion must not be a property")
	}

	tests := []struct {
		table      *Table
		nav        string
		collection bool
		rel        string
		targets    []string
	}{
		{contact, "parentcustomerid_account", false, "contact_customer_accounts", []string{"account"}},
		{contact, "parentcustomerid_contact", false, "contact_customer_contacts", []string{"contact"}},
		{account, "primarycontactid", false, "account_primary_contact", []string{"contact"}},
		{contact, "account_primary_contact", true, "account_primary_contact", []string{"account"}},
		{account, "contact_customer_accounts", true, "contact_customer_accounts", []string{"contact"}},
		{account, "Account_Tasks", true, "Account_Tasks", []string{"task"}},
		{account, "ownerid", false, "owner_accounts", []string{"systemuser", "team"}},
		{account, "owninguser", false, "user_accounts", []string{"systemuser"}},
		{account, "createdby", false, "lk_accountbase_createdby", []string{"systemuser"}},
	}
	task, _ := s.Table("task")
	systemuser, _ := s.Table("systemuser")
	role, _ := s.Table("role")
	team, _ := s.Table("team")
	tests = append(tests, []struct {
		table      *Table
		nav        string
		collection bool
		rel        string
		targets    []string
	}{
		{task, "regardingobjectid_account_task", false, "Account_Tasks", []string{"account"}},
		{task, "regardingobjectid_contact_task", false, "Contact_Tasks", []string{"contact"}},
		{task, "createdby_task", false, "lk_task_createdby", []string{"systemuser"}},
		{task, "ownerid_task", false, "owner_tasks", []string{"systemuser", "team"}},
		{systemuser, "systemuserroles_association", true, "systemuserroles_association", []string{"role"}},
		{role, "systemuserroles_association", true, "systemuserroles_association", []string{"systemuser"}},
		{team, "teamroles_association", true, "teamroles_association", []string{"role"}},
		{systemuser, "teammembership_association", true, "teammembership_association", []string{"team"}},
		{systemuser, "user_accounts", true, "user_accounts", []string{"account"}},
		{systemuser, "contact_owning_user", true, "contact_owning_user", []string{"contact"}},
	}...)
	for _, tt := range tests {
		n, ok := tt.table.NavigationProperty(tt.nav)
		if !ok {
			t.Errorf("%s.%s missing", tt.table, tt.nav)
			continue
		}
		var targets []string
		for _, x := range n.Targets {
			targets = append(targets, x.LogicalName)
		}
		got := []any{n.Collection, n.Relationship.SchemaName, targets}
		want := []any{tt.collection, tt.rel, tt.targets}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s.%s (-want +got):\n%s", tt.table, tt.nav, diff)
		}
	}
	if _, ok := task.NavigationProperty("createdby"); ok {
		t.Error("task must expose createdby_task, not createdby")
	}
	r, _ := s.Relationship("systemuserroles_association")
	if r.IntersectEntity != "systemuserroles" || r.Entity1IntersectAttribute != "systemuserid" || r.Entity2IntersectAttribute != "roleid" {
		t.Errorf("systemuserroles_association = %+v", r)
	}
}

func TestSystemColumns(t *testing.T) {
	t.Parallel()
	account, _ := Builtin().Table("account")
	for role, name := range map[SystemRole]string{
		RolePrimaryID: "accountid", RoleCreatedOn: "createdon", RoleModifiedOn: "modifiedon",
		RoleCreatedBy: "createdby", RoleModifiedBy: "modifiedby", RoleCreatedOnBehalfBy: "createdonbehalfby",
		RoleModifiedOnBehalfBy: "modifiedonbehalfby", RoleVersionNumber: "versionnumber", RoleOwnerID: "ownerid",
		RoleOwnerIDType: "owneridtype", RoleOwningUser: "owninguser", RoleOwningTeam: "owningteam",
		RoleOwningBusinessUnit: "owningbusinessunit", RoleStateCode: "statecode", RoleStatusCode: "statuscode",
	} {
		c := account.SystemColumn(role)
		if c == nil || c.LogicalName != name {
			t.Errorf("SystemColumn(%d) = %v; want %s", role, c, name)
		}
	}
	su, _ := Builtin().Table("systemuser")
	if su.SystemColumn(RoleOwnerID) != nil || su.SystemColumn(RoleStateCode) != nil {
		t.Error("systemuser has no ownerid and no statecode")
	}
	created, _ := account.Column("createdon")
	if created.ValidForCreate || created.ValidForUpdate || !created.ValidForRead {
		t.Errorf("createdon validity = %v %v %v", created.ValidForCreate, created.ValidForUpdate, created.ValidForRead)
	}
	pk := account.PrimaryID()
	if !pk.ValidForCreate || pk.ValidForUpdate {
		t.Error("primary key must be settable on create only")
	}
}

func TestColumnDetails(t *testing.T) {
	t.Parallel()
	s := Builtin()
	task, _ := s.Table("task")
	subject, _ := task.Column("subject")
	if subject.MaxLength != 200 || subject.Type != TypeString {
		t.Errorf("task.subject = %+v", subject)
	}
	status, _ := task.Column("statuscode")
	if o, ok := status.OptionSet.Option(5); !ok || o.Label != "Completed" || o.State != 1 {
		t.Errorf("task statuscode 5 = %+v", o)
	}
	state, _ := task.Column("statecode")
	if o, _ := state.OptionSet.Option(2); o.DefaultStatus != 6 {
		t.Errorf("task statecode 2 default status = %d", o.DefaultStatus)
	}
	contact, _ := s.Table("contact")
	birth, _ := contact.Column("birthdate")
	if birth.EdmType() != "Edm.Date" {
		t.Errorf("birthdate EdmType = %s", birth.EdmType())
	}
	income, _ := contact.Column("annualincome")
	if income.EdmType() != "Edm.Decimal" || income.Scale() != 4 {
		t.Errorf("annualincome = %s scale %d", income.EdmType(), income.Scale())
	}
	full, _ := contact.Column("fullname")
	if full.Formula == nil || full.ValidForCreate || full.ValidForUpdate {
		t.Errorf("fullname must be computed and read-only: %+v", full)
	}
	donot, _ := contact.Column("donotemail")
	if donot.OptionSet.Label(1) != "Do Not Allow" || donot.Default == nil || *donot.Default != 0 {
		t.Errorf("donotemail labels/default wrong")
	}
}

func TestWithBuiltinAddsUserTables(t *testing.T) {
	t.Parallel()
	def, err := Parse([]byte(`
tables:
  - logicalName: new_project
    displayName: Project
    primaryNameColumn: new_name
    columns:
      - {logicalName: new_name, type: String, maxLength: 100, requiredLevel: ApplicationRequired}
      - {logicalName: new_budget, type: Money}
      - {logicalName: new_code, type: String, maxLength: 10}
      - {logicalName: new_accountid, type: Lookup, targets: [account]}
      - {logicalName: new_kind, type: choice, options: [{value: 100000000, label: Internal}, {value: 100000001, label: External}]}
    keys:
      - {schemaName: new_project_code, columns: [new_code]}
  - logicalName: account
    columns:
      - {logicalName: new_tier, type: Integer, minValue: 1, maxValue: 5}
relationships:
  - {schemaName: new_account_new_project, referencedEntity: account, referencingEntity: new_project, referencingAttribute: new_accountid, cascadeDelete: RemoveLink}
  - {schemaName: new_project_contact, type: ManyToMany, entity1: new_project, entity2: contact}
`), "user.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := WithBuiltin(def)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := s.TableBySet("new_projects")
	if !ok {
		t.Fatal("new_projects not found")
	}
	if p.ObjectTypeCode < 10000 || p.PrimaryID().LogicalName != "new_projectid" || p.PrimaryName().LogicalName != "new_name" {
		t.Errorf("new_project = otc %d pk %s", p.ObjectTypeCode, p.PrimaryID().LogicalName)
	}
	if p.SystemColumn(RoleOwnerID) == nil || p.SystemColumn(RoleStateCode) == nil {
		t.Error("custom user-owned table must get ownerid and statecode")
	}
	if len(p.Keys) != 1 || p.Keys[0].Columns[0].LogicalName != "new_code" {
		t.Errorf("keys = %+v", p.Keys)
	}
	if n, ok := p.NavigationProperty("new_accountid"); !ok || n.Relationship.CascadeDelete != CascadeRemoveLink {
		t.Errorf("new_accountid nav = %+v", n)
	}
	account, _ := s.Table("account")
	if _, ok := account.NavigationProperty("new_account_new_project"); !ok {
		t.Error("account lacks the collection side of new_account_new_project")
	}
	if _, ok := account.Column("new_tier"); !ok {
		t.Error("column added to account is missing")
	}
	if _, ok := Builtin().Table("new_project"); ok {
		t.Error("Builtin() was modified by WithBuiltin")
	}
	if _, ok := p.NavigationProperty("new_project_contact"); !ok {
		t.Error("N:N navigation missing")
	}
}

func TestCompileErrorsNameTheCulprit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"bad type", `tables: [{logicalName: new_x, columns: [{logicalName: new_a, type: Text2}]}]`,
			[]string{`table "new_x": column "new_a": type "Text2" is not a column type`}},
		{"bad logical name", `tables: [{logicalName: New_X}]`,
			[]string{`table "New_X": logicalName must be`}},
		{"string too long", `tables: [{logicalName: new_x, columns: [{logicalName: new_a, type: String, maxLength: 5000}]}]`,
			[]string{`table "new_x": column "new_a": maxLength 5000 must be between 1 and 4000`}},
		{"reserved column", `tables: [{logicalName: new_x, columns: [{logicalName: createdon, type: DateTime}]}]`,
			[]string{`table "new_x": column "createdon" is maintained by the emulator`}},
		{"lookup without target table", `tables: [{logicalName: new_x, columns: [{logicalName: new_a, type: Lookup, targets: [new_nope]}]}]`,
			[]string{`table "new_x": column "new_a": target "new_nope" is not a table`}},
		{"choice without options", `tables: [{logicalName: new_x, columns: [{logicalName: new_a, type: Picklist}]}]`,
			[]string{`table "new_x": column "new_a": a Picklist column needs options`}},
		{"duplicate entity set", `tables: [{logicalName: new_x, entitySetName: accounts}]`,
			[]string{`table "new_x": entitySetName "accounts" is already used by table "account"`}},
		{"key on memo", `tables: [{logicalName: new_x, columns: [{logicalName: new_a, type: Memo}], keys: [{schemaName: k1, columns: [new_a]}]}]`,
			[]string{`table "new_x": key "k1": column "new_a" of type Memo cannot be part of a key`}},
		{"relationship to non-target", `
tables: [{logicalName: new_x, columns: [{logicalName: new_a, type: Lookup, targets: [account]}]}]
relationships: [{schemaName: r1, referencedEntity: contact, referencingEntity: new_x, referencingAttribute: new_a}]`,
			[]string{`relationship "r1": referencedEntity "contact" is not a target of new_x.new_a`}},
		{"redefine builtin", `tables: [{logicalName: account, entitySetName: accts}]`,
			[]string{`table "account" already exists`}},
		{"two errors reported", `tables: [{logicalName: new_x, columns: [{logicalName: new_a, type: Nope}, {logicalName: new_b, type: Integer, minValue: 5, maxValue: 1}]}]`,
			[]string{`column "new_a": type "Nope"`, `column "new_b": minValue 5 is greater than maxValue 1`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			def, err := Parse([]byte(tt.yaml), "user.yaml")
			if err == nil {
				_, err = WithBuiltin(def)
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseJSONAndUnknownFields(t *testing.T) {
	t.Parallel()
	def, err := Parse([]byte(`{"tables":[{"logicalName":"new_x","columns":[{"logicalName":"new_a","type":"Integer"}]}]}`), "s.json")
	if err != nil {
		t.Fatal(err)
	}
	if def.Tables[0].Columns[0].Type != "Integer" {
		t.Errorf("parsed %+v", def)
	}
	if _, err := Parse([]byte(`{"tables":[{"logicalName":"new_x","colums":[]}]}`), "s.json"); err == nil || !strings.Contains(err.Error(), "colums") {
		t.Errorf("unknown JSON field not reported: %v", err)
	}
	if _, err := Parse([]byte("tables:\n  - logicalName: new_x\n    colums: []\n"), "s.yaml"); err == nil || !strings.Contains(err.Error(), "colums") {
		t.Errorf("unknown YAML field not reported: %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "schema.yml")
	if err := os.WriteFile(path, []byte("tables:\n  - logicalName: new_widget\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	def, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := WithBuiltin(def)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.TableBySet("new_widgets"); !ok {
		t.Error("new_widgets missing")
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("missing file gave no error")
	}
}

func TestPlural(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"account": "accounts", "new_category": "new_categories", "new_box": "new_boxes",
		"new_status": "new_statuses", "new_key": "new_keys", "new_batch": "new_batches",
	} {
		if got := plural(in); got != want {
			t.Errorf("plural(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestIntersectTables(t *testing.T) {
	t.Parallel()
	s := Builtin()
	it, ok := s.IntersectTable("systemuserroles")
	if !ok {
		t.Fatal("no intersect table systemuserroles")
	}
	if it.Intersect == nil || it.Intersect.SchemaName != "systemuserroles_association" || it.PrimaryID().LogicalName != "systemuserrolesid" {
		t.Errorf("intersect table = %+v", it)
	}
	for _, name := range []string{"systemuserid", "roleid"} {
		if c, ok := it.Column(name); !ok || c.Type != TypeUniqueidentifier || c.EdmType() != "Edm.Guid" {
			t.Errorf("column %s: %+v", name, c)
		}
	}
	if it.SystemColumn(RoleVersionNumber) == nil {
		t.Error("no versionnumber")
	}
	if _, ok := s.Table("systemuserroles"); ok {
		t.Error("an intersect table is listed as a table")
	}
	if _, ok := s.IntersectTable("contact"); ok {
		t.Error("contact is an intersect table")
	}
}

// The store keeps a row being written in slices indexed by Column.Ordinal:
// every column of every table, intersect tables included, must sit at its
// ordinal and name its own table.
func TestColumnOrdinalsArePositions(t *testing.T) {
	t.Parallel()
	s := Builtin()
	tables := s.Tables()
	for _, r := range s.Relationships() {
		if it, ok := s.IntersectTable(r.IntersectEntity); ok && r.IntersectEntity != "" {
			tables = append(tables, it)
		}
	}
	if len(tables) <= len(s.Tables()) {
		t.Fatal("the builtin schema has no intersect table to check")
	}
	for _, tab := range tables {
		for i, c := range tab.Columns {
			if c.Ordinal != i || c.Table != tab {
				t.Errorf("%s.%s: ordinal %d, table %p; want %d, %p", tab.LogicalName, c.LogicalName, c.Ordinal, c.Table, i, tab)
			}
		}
	}
}
