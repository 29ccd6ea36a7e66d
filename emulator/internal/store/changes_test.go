package store

import (
	"context"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// TestChangedRowsReadTheVersionIndex checks the plan of a delta read: a range of the
// versionnumber index, no sort index built for it and no scan of the table, so its cost follows
// the number of changes.
func TestChangedRowsReadTheVersionIndex(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: "10000000-0000-0000-0000-000000000001", RoleNames: []string{SystemAdministrator}}); err != nil {
		t.Fatal(err)
	}
	p, err := st.ApplicationUser(ctx, "10000000-0000-0000-0000-000000000001")
	if err != nil {
		t.Fatal(err)
	}
	contact, _ := st.Schema().Table("contact")
	first, _ := contact.Column("firstname")
	q := Query{Table: contact, Columns: []*schema.Column{first}, Where: ChangedRows(contact, 5, 10), Orders: ChangeOrder(contact), Limit: 10}
	if name, _ := sortIndexFor(&q); name != "" {
		t.Errorf("a delta read would build sort index %s", name)
	}
	page, err := st.Query(ctx, p, q)
	if err != nil {
		t.Fatal(err)
	}
	if cur := page.Cursor(); cur != nil {
		t.Fatalf("empty table gave a cursor %v", cur.Keys())
	}
	b := &sqlBuilder{alias: "t0", named: st.nameColumnReady}
	if _, _, err := st.querySQL(b, p, &q); err != nil {
		t.Fatal(err)
	}
	rows, err := st.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+b.b.String(), b.args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notUsed int
		var detail string
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "; ")
	if !strings.Contains(text, "USING INDEX ix_contact_versionnumber (versionnumber>? AND versionnumber<?)") || strings.Contains(text, "SCAN t0") {
		t.Errorf("delta read plan: %s; want a range of ix_contact_versionnumber", text)
	}
}
