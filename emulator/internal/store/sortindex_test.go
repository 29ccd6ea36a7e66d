package store

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/go-cmp/cmp"
)

// queryPlan returns SQLite's plan for a page of q.
func queryPlan(t *testing.T, s *Store, p *Principal, q Query) string {
	t.Helper()
	b := &sqlBuilder{alias: "t0", named: s.nameColumnReady}
	if _, _, err := s.querySQL(b, p, &q); err != nil {
		t.Fatal(err)
	}
	rows, err := s.db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+b.b.String(), b.args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}

// A page ordered by a column of the table reads a sort index created on
// first use (the column, then the primary key) and seeks to the cursor:
// no temporary B-tree sorts the rest of the table on every page.
func TestSortIndexServesKeysetPages(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	contact := table(t, s, "contact")
	last, first := cols(t, contact, "lastname", "firstname")[0], cols(t, contact, "firstname")[0]
	err := s.Write(ctx, func(tx *Tx) error {
		for i := range 40 {
			fs := fields(t, contact, "firstname", fmt.Sprintf("F%02d", i%7), "lastname", fmt.Sprintf("l%02d", i%13))
			if i%10 == 0 {
				fs = fields(t, contact, "firstname", "N") // lastname null
			}
			if _, err := tx.Create(ctx, p, contact, fs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	orders := map[string][]Order{
		"lastname":            {{Column: last}},
		"lastname desc":       {{Column: last, Desc: true}},
		"lastname, firstname": {{Column: last}, {Column: first, Desc: true}},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			// Page through 6 rows at a time; every row once, in order.
			q := Query{Table: contact, Columns: []*schema.Column{last, first}, Orders: order, Limit: 6}
			var got []string
			for {
				page, err := s.Query(ctx, p, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range page.Rows {
					got = append(got, fmt.Sprint(r.Values[0], "/", r.Values[1], "/", r.ID))
				}
				if !page.More {
					break
				}
				q.After = page.Cursor()
			}
			q.After, q.Limit = nil, 0
			all, err := s.Query(ctx, p, q)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, r := range all.Rows {
				want = append(want, fmt.Sprint(r.Values[0], "/", r.Values[1], "/", r.ID))
			}
			if len(want) != 40 {
				t.Fatalf("one page holds %d rows", len(want))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("paged scan differs from one page (-want +got):\n%s", diff)
			}

			// A later page seeks the index to the cursor, ascending or
			// descending, and sorts nothing. Descending, the page is read
			// as the non-null rows after the cursor, then the nulls.
			q.Limit, q.After = 6, &Cursor{keys: cursorKeysAt(t, s, p, q)}
			index, _ := sortIndexFor(&q)
			parts := []Query{q}
			if splitsOnNulls(&q) {
				head, tail := q, q
				head.nulls, tail.nulls, tail.After = nonNullOnly, nullsOnly, nil
				parts = []Query{head, tail}
			}
			for _, part := range parts {
				plan := queryPlan(t, s, p, part)
				// "(lastname>?)", or the row value of the ascending keys,
				// "((lastname,contactid)>(?,?))".
				seek := "SEARCH t0 USING INDEX " + index + " ("
				if !strings.Contains(plan, seek+"lastname") && !strings.Contains(plan, seek+"(lastname") || strings.Contains(plan, "TEMP B-TREE") {
					t.Errorf("plan of a page ordered by %s does not seek %s without sorting:\n%s", name, index, plan)
				}
			}
		})
	}
	// An order by the primary key or a joined column needs no sort index.
	for _, q := range []Query{
		{Table: contact},
		{Table: contact, Orders: []Order{{Column: contact.PrimaryID()}}},
		{Table: contact, Orders: []Order{{Column: last}}, Distinct: true},
	} {
		if name, _ := sortIndexFor(&q); name != "" {
			t.Errorf("%+v gets sort index %s", q.Orders, name)
		}
	}
}

// cursorKeysAt returns the sort keys of the 20th row of q's order (past
// the null lastnames, which sort first ascending).
func cursorKeysAt(t *testing.T, s *Store, p *Principal, q Query) []any {
	t.Helper()
	q.Limit, q.After = 20, nil
	page, err := s.Query(context.Background(), p, q)
	if err != nil {
		t.Fatal(err)
	}
	return page.Cursor().keys
}

// Writers keep their speed unless an order asked for an index, and the
// number of sort indexes on a table is bounded.
func TestSortIndexesAreBoundedPerTable(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	contact := table(t, s, "contact")
	var text []*schema.Column
	for _, c := range contact.Columns {
		if c.Type == schema.TypeString && !c.Internal && c.Formula == nil {
			text = append(text, c)
		}
	}
	if len(text) <= maxSortIndexesPerTable {
		t.Fatalf("contact has only %d text columns", len(text))
	}
	for _, c := range text {
		if _, err := s.Query(ctx, p, Query{Table: contact, Orders: []Order{{Column: c}}, Limit: 1}); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contact' AND name LIKE 'ix_sort_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != maxSortIndexesPerTable {
		t.Errorf("%d sort indexes on contact; want the cap of %d", n, maxSortIndexesPerTable)
	}
}

// Creating a sort index never waits for the write lock: while another
// writer holds it, the read runs unindexed, and a later read creates it.
func TestSortIndexNeverWaitsForTheWriteLock(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	ctx := context.Background()
	contact := table(t, s, "contact")
	q := Query{Table: contact, Orders: []Order{{Column: cols(t, contact, "lastname")[0]}}, Limit: 1}
	name, _ := sortIndexFor(&q)
	indexed := func() bool {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	s.writeMu.Lock() // another writer
	s.ensureSortIndex(ctx, &q)
	s.writeMu.Unlock()
	if indexed() {
		t.Fatalf("%s was created under another writer's lock", name)
	}
	s.ensureSortIndex(ctx, &q)
	if !indexed() {
		t.Errorf("%s was not created once the lock was free", name)
	}
}

// A restore brings back a database without the sort indexes created
// since the snapshot; the next read in their order creates them again.
func TestSortIndexAfterRestore(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	contact := table(t, s, "contact")
	q := Query{Table: contact, Orders: []Order{{Column: cols(t, contact, "lastname")[0]}}, Limit: 1}
	name, _ := sortIndexFor(&q)
	indexed := func() bool {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	sn, err := s.SnapshotInMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sn.Close() })
	if _, err := s.Query(ctx, p, q); err != nil || !indexed() {
		t.Fatalf("first read: %v, indexed %v", err, indexed())
	}
	if err := s.Restore(ctx, sn); err != nil {
		t.Fatal(err)
	}
	if indexed() {
		t.Fatalf("%s survived the restore of an older snapshot", name)
	}
	if _, err := s.Query(ctx, p, q); err != nil || !indexed() {
		t.Errorf("read after the restore: %v, indexed %v", err, indexed())
	}
}
