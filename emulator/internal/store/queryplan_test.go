package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A column a page needs for several reasons (requested, the row's identity,
// a sort key) is selected once: the driver pays two allocations and three
// locks for every text value it reads, on every row of every page.
func TestQuerySelectsEachColumnOnce(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	contact := table(t, s, "contact")
	c := cols(t, contact, "lastname", "contactid", "versionnumber")
	last, id := c[0], c[1]
	tests := []struct {
		name string
		q    Query
		want map[string]int // column -> times it is selected
	}{
		{"default order", Query{Table: contact, Columns: c[:2]}, map[string]int{`t0."contactid"`: 1, `t0."lastname"`: 1, `t0."versionnumber"`: 1}},
		{"by the requested column", Query{Table: contact, Columns: c[:2], Orders: []Order{{Column: last}}}, map[string]int{`t0."contactid"`: 1, `t0."lastname"`: 1}},
		{"by the key, not requested", Query{Table: contact, Columns: c[:1], Orders: []Order{{Column: id, Desc: true}}}, map[string]int{`t0."contactid"`: 1, `t0."lastname"`: 1}},
		{"version requested", Query{Table: contact, Columns: c}, map[string]int{`t0."versionnumber"`: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &sqlBuilder{alias: "t0", named: s.nameColumnReady}
			if _, _, err := s.querySQL(b, p, &tc.q); err != nil {
				t.Fatal(err)
			}
			sql := b.b.String()
			list := sql[len("SELECT "):strings.Index(sql, " FROM ")]
			for col, n := range tc.want {
				if got := strings.Count(list, col); got != n {
					t.Errorf("%s selected %d times, want %d: SELECT %s", col, got, n, list)
				}
			}
		})
	}
}

// Rows share chunks of values; each row's slice is capped, so a caller
// appending to one row cannot write over the next row's values. Pages read
// back in the keyset order they were written with, cursors included.
func TestQueryRowsDoNotShareValues(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	contact := table(t, s, "contact")
	first := cols(t, contact, "firstname")[0]
	err := s.Write(ctx, func(tx *Tx) error {
		for i := range 600 {
			if _, err := tx.Create(ctx, p, contact, fields(t, contact, "firstname", fmt.Sprintf("F%03d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	q := Query{Table: contact, Columns: cols(t, contact, "firstname", "contactid"), Orders: []Order{{Column: first}}, Limit: 500}
	var seen []string
	for {
		page, err := s.Query(ctx, p, q)
		if err != nil {
			t.Fatal(err)
		}
		for i := range page.Rows {
			page.Rows[i].Values = append(page.Rows[i].Values, "appended")
		}
		for _, r := range page.Rows {
			if r.Values[1] != r.ID {
				t.Fatalf("row %v holds id %v", r.ID, r.Values[1])
			}
			seen = append(seen, r.Values[0].(string))
		}
		if !page.More {
			break
		}
		q.After = page.Cursor()
	}
	if len(seen) != 600 {
		t.Fatalf("read %d rows, want 600", len(seen))
	}
	for i, f := range seen {
		if want := fmt.Sprintf("F%03d", i); f != want {
			t.Fatalf("row %d is %q, want %q", i, f, want)
		}
	}
}
