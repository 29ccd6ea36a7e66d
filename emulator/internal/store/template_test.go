package store

import (
	"context"
	"database/sql"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/go-cmp/cmp"
)

// schemaObjects lists a database's tables and indexes with their SQL.
func schemaObjects(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT "type" || ' ' || "name", coalesce("sql", '') FROM sqlite_schema WHERE "name" NOT LIKE 'entra_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, text string
		if err := rows.Scan(&name, &text); err != nil {
			t.Fatal(err)
		}
		out[name] = text
	}
	return out
}

// An in-memory store copied from its schema's template has exactly the
// tables, indexes and privileges a store migrated statement by statement
// has, and its own organization.
func TestTemplateMatchesMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	def, err := schema.Parse([]byte("tables:\n  - {logicalName: new_template, primaryNameColumn: new_name, columns: [{logicalName: new_name, type: String}]}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	wider, err := schema.WithBuiltin(def)
	if err != nil {
		t.Fatal(err)
	}
	if schemaFingerprint(wider) == schemaFingerprint(schema.Builtin()) {
		t.Fatal("a schema with another table has the built-in schema's fingerprint")
	}
	for _, sch := range []*schema.Schema{schema.Builtin(), wider} {
		copied, err := Open(ctx, "", &Options{Schema: sch})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { copied.Close() })
		second, err := Open(ctx, "", &Options{Schema: sch})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { second.Close() })
		migrated, err := Open(ctx, t.TempDir(), &Options{Schema: sch})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { migrated.Close() })

		if diff := cmp.Diff(schemaObjects(t, migrated.db), schemaObjects(t, copied.db)); diff != "" {
			t.Errorf("tables of a store from the template (-migrated +copied):\n%s", diff)
		}
		if diff := cmp.Diff(migrated.PrivilegeNames(), copied.PrivilegeNames()); diff != "" {
			t.Errorf("privileges of a store from the template (-migrated +copied):\n%s", diff)
		}
		if copied.Organization().OrganizationID == second.Organization().OrganizationID ||
			copied.Organization().SystemUserID == second.Organization().SystemUserID {
			t.Errorf("two stores from one template share an organization: %+v", copied.Organization())
		}
		// Both are usable, and neither sees the other's rows.
		for _, s := range []*Store{copied, second} {
			if _, err := s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: testAppID, RoleNames: []string{SystemAdministrator}}); err != nil {
				t.Fatal(err)
			}
			p, err := s.ApplicationUser(ctx, testAppID)
			if err != nil {
				t.Fatal(err)
			}
			createContact(t, s, p, "Only here")
			if got := contactNames(t, s, p); len(got) != 1 {
				t.Errorf("contacts = %v, want the one created in this store", got)
			}
		}
	}
	if _, ok := schemaObjects(t, mustOpen(t, wider).db)["table new_template"]; !ok {
		t.Error("a store of the wider schema lacks its table")
	}
	if _, ok := schemaObjects(t, mustOpen(t, schema.Builtin()).db)["table new_template"]; ok {
		t.Error("a store of the built-in schema has the wider schema's table")
	}
}

func mustOpen(t *testing.T, sch *schema.Schema) *Store {
	t.Helper()
	s, err := Open(context.Background(), "", &Options{Schema: sch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
