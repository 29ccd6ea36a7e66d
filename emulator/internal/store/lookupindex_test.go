package store

import (
	"context"
	"strings"
	"testing"
)

// TestLookupIndexesArePartialAndStillUsed: a lookup column's index holds only non-empty values
// (a bulk insert writes no index entry for an empty lookup), and the reads that need it (a filter
// on the lookup, a join from the referenced row, the cascade's search for referencing rows) still
// use it, since comparing with a value implies IS NOT NULL.
func TestLookupIndexesArePartialAndStillUsed(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ddl string
	if err := st.db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE name = 'ix_contact_parentcustomerid'`).Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(ddl, `WHERE "parentcustomerid" IS NOT NULL`) {
		t.Errorf("index DDL %q, want a partial index over non-empty values", ddl)
	}
	for _, q := range []string{
		`SELECT "contactid" FROM "contact" WHERE "parentcustomerid" = ?`,
		`SELECT c."contactid" FROM "account" a JOIN "contact" c ON c."parentcustomerid" = a."accountid" WHERE a."accountid" = ?`,
		`SELECT count(*) FROM "contact" WHERE "parentcustomerid" IN (?)`,
	} {
		rows, err := st.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, "5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65")
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if !strings.Contains(strings.Join(plan, "; "), "INDEX ix_contact_parentcustomerid") {
			t.Errorf("plan of %s = %q, want ix_contact_parentcustomerid", q, plan)
		}
	}
}
