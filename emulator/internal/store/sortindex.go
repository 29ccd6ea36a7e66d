package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// Sort indexes. A keyset page ordered by a column without an index makes
// SQLite sort every row after the cursor again on each page, calling the
// store's Go collation for each comparison of text: a full scan then costs
// time and garbage per page that grow with the table. The first query that
// orders a table by its own columns creates an index on those columns, in
// the query's directions, followed by the primary key (the order's
// tie-break), so that later pages seek to the cursor and read the index in
// order. The index carries the columns' own collations (a text column's
// dv_ci), so it serves their ORDER BY and comparisons.
//
// Indexes are created lazily rather than for every column because each
// index costs every insert and update of the table: only the orders
// clients actually use pay for themselves, up to maxSortIndexesPerTable
// per table.

// maxSortIndexesPerTable bounds the sort indexes the store creates on one
// table; orders beyond it are sorted per page.
const maxSortIndexesPerTable = 6

// maxSortIndexColumns bounds the ordered columns one sort index covers.
const maxSortIndexColumns = 4

// sortIndexFor returns the name and CREATE INDEX statement of the sort
// index serving q's order, or "" when q needs none: no order on the
// table's own columns, an order by the primary key or by versionnumber
// (which has its own index, see indexSQL), a distinct query, or
// an order beginning with a column of a joined table or with a choice's
// label, which no index on the column serves. A lookup that sorts by name
// is indexed as its keys are: its name column, then its value.
func sortIndexFor(q *Query) (name, stmt string) {
	if q.Distinct || len(q.Orders) == 0 || q.Orders[0].Join != nil || !q.Orders[0].indexable() {
		return "", ""
	}
	if c := q.Orders[0].Column; c.Role == schema.RoleVersionNumber && c.Table == q.Table {
		// Change tracking's order: ix_<table>_versionnumber serves it.
		return "", ""
	}
	t := q.Table
	pk := t.PrimaryID()
	var cols []string
	var parts []string
	ordered := 0
	for _, o := range q.Orders {
		if o.Join != nil || o.Column == pk || ordered == maxSortIndexColumns || o.Column.Table != t || !o.indexable() {
			break
		}
		ordered++
		dir, suffix := "", ""
		if o.Desc {
			dir, suffix = " DESC", " desc"
		}
		if o.key == keyName || o.key == keyAsOrdered && sortsByName(o.Column) {
			parts = append(parts, nameColumnPrefix+o.Column.LogicalName+suffix)
			cols = append(cols, nameColumn(o.Column)+dir)
			if o.key == keyName {
				continue // the value is the next key
			}
		}
		parts = append(parts, o.Column.LogicalName+suffix)
		cols = append(cols, quoteIdent(o.Column.LogicalName)+dir)
	}
	if len(cols) == 0 {
		return "", ""
	}
	// Logical names hold only [a-z0-9_], so a comma between the columns and a
	// space before "desc" keep two different orders from sharing a name (and
	// the second from silently getting no index): (a, b) is not (a_b), and
	// (x desc) is not (x_desc).
	name = "ix_sort_" + t.LogicalName + "(" + strings.Join(parts, ",") + ")"
	stmt = fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s, %s)",
		quoteIdent(name), quoteIdent(t.LogicalName), strings.Join(cols, ", "), quoteIdent(pk.LogicalName))
	return name, stmt
}

// indexable reports whether an index on columns of o's table serves o:
// it sorts by its column's stored value or by the name column of a lookup
// (not by a choice's label).
func (o Order) indexable() bool {
	return o.plain() || o.key == keyName || o.key == keyAsOrdered && sortsByName(o.Column)
}

// sortIndexKey names a sort index created in a generation of the
// database (a restore starts a new one).
type sortIndexKey struct {
	gen  uint64
	name string
}

// ensureSortIndex creates the sort index q's order needs, once per store
// (and again after a restore, which may bring a database without it).
// Creating it holds the write lock for as long as SQLite needs to index
// the table; when the lock is taken, or the creation fails (logged), the
// query runs unindexed.
//
// A lookup q sorts by name needs its name column ready first (see
// namecolumn.go), whether or not q gets an index; without it, no index.
func (s *Store) ensureSortIndex(ctx context.Context, q *Query) {
	name, stmt := sortIndexFor(q)
	var lookups []*schema.Column
	for _, o := range q.Orders {
		if (o.key == keyName || o.key == keyAsOrdered && sortsByName(o.Column)) && !s.nameColumnReady(o.Column) {
			lookups = append(lookups, o.Column)
		}
	}
	if name == "" && len(lookups) == 0 {
		return
	}
	key := sortIndexKey{gen: s.sortIndexGen.Load(), name: name}
	if _, done := s.sortIndexes.Load(key); done && len(lookups) == 0 {
		return
	}
	s.sortIndexMu.Lock()
	defer s.sortIndexMu.Unlock()
	for _, c := range lookups {
		if !s.ensureNameColumn(ctx, c) {
			return
		}
	}
	if name == "" {
		return
	}
	if _, done := s.sortIndexes.Load(key); done {
		return
	}
	if s.sortIndexCount == nil || s.sortIndexCountGen != key.gen {
		s.sortIndexCount, s.sortIndexCountGen = map[string]int{}, key.gen
	}
	table := q.Table.LogicalName
	if s.sortIndexCount[table] >= maxSortIndexesPerTable {
		return
	}
	// Never wait for the write lock: the caller may be a read made while
	// its own request holds it, and a busy writer is no reason to delay a
	// read. The next query in this order tries again.
	if !s.writeMu.TryLock() {
		return
	}
	err := s.writeTxLocked(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, stmt)
		return err
	})
	s.writeMu.Unlock()
	if err != nil {
		s.log.Warn("store: create sort index", "index", name, "err", err)
		return
	}
	s.sortIndexCount[table]++
	s.sortIndexes.Store(key, struct{}{})
}

// nullPart selects the rows of one part of a descending keyset page.
type nullPart uint8

const (
	allRows     nullPart = iota
	nonNullOnly          // rows whose first sort key is not null
	nullsOnly            // rows whose first sort key is null
)

// splitsOnNulls reports whether q is a page that queryDescending reads in
// two parts: descending by the stored value of a column of the table, or
// by a lookup's name (a choice's label has no index to seek), after a
// cursor whose first key is not null. The rows after such a cursor are the
// column's smaller values and then its nulls (last in a descending
// order); SQLite cannot seek an index to "at or below v, or null", so one
// query would read every row before the cursor on every page.
func splitsOnNulls(q *Query) bool {
	if q.nulls != allRows || q.After == nil || q.Offset > 0 || q.Distinct || len(q.Orders) == 0 {
		return false
	}
	first := q.Orders[0]
	return first.Desc && first.Join == nil && first.indexable() && len(q.After.keys) > 0 && q.After.keys[0] != nil &&
		first.Column != q.Table.PrimaryID()
}

// queryDescending reads a page of splitsOnNulls's kind: the non-null rows
// after the cursor (an index seek), then, if the page has room, the null
// rows from the start.
func (s *Store) queryDescending(ctx context.Context, db querier, p *Principal, q Query) (*Page, error) {
	head := q
	head.nulls = nonNullOnly
	page, err := s.query(ctx, db, p, head)
	if err != nil {
		return nil, err
	}
	if page.More {
		return page, nil
	}
	if q.Limit > 0 && len(page.Rows) == q.Limit {
		// The page is full of non-null rows: more follow if a null does.
		if page.More, err = s.anyNull(ctx, db, p, q); err != nil {
			return nil, err
		}
		return page, nil
	}
	tail := q
	tail.nulls, tail.After = nullsOnly, nil
	if q.Limit > 0 {
		tail.Limit = q.Limit - len(page.Rows)
	}
	rest, err := s.query(ctx, db, p, tail)
	if err != nil {
		return nil, err
	}
	page.Rows = append(page.Rows, rest.Rows...)
	page.More = rest.More
	if rest.last != nil {
		page.last = rest.last
		if page.first == nil {
			page.first = rest.first
		}
	}
	return page, nil
}

// anyNull reports whether a row of q has a null first sort key.
func (s *Store) anyNull(ctx context.Context, db querier, p *Principal, q Query) (bool, error) {
	q.nulls, q.After, q.Limit = nullsOnly, nil, 1
	q.Columns = []*schema.Column{}
	page, err := s.query(ctx, db, p, q)
	if err != nil {
		return false, err
	}
	return len(page.Rows) > 0, nil
}
