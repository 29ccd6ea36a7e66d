package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// Order is one sort key of a query. A lookup column sorts by the primary
// name of the row it references, then by its value (see sortkey.go).
type Order struct {
	Column *schema.Column
	Desc   bool
	// Join, when set, says Column belongs to that joined table rather
	// than to the query's table.
	Join *Join
	// Label sorts a choice (Picklist, State or Status) by the labels of
	// its options, then by value, as FetchXML sorts choices unless
	// useraworderby is set; without it a choice sorts by value, as
	// $orderby sorts it. Other columns ignore Label.
	Label bool

	// key is what the sort key compares: keyAsOrdered for an Order as a
	// caller writes it, set by [Query.SortKeys].
	key sortKeyKind
}

// Query describes a read of one table: which columns, which rows, in
// which order, and where to resume.
type Query struct {
	Table *schema.Table
	// Columns are returned in this order; nil means every readable,
	// non-internal column.
	Columns []*schema.Column
	// Where restricts the rows; nil for all. Conditions on joined tables
	// are written with [InJoin].
	Where Cond
	// Joins link rows of other tables (FetchXML link-entity). The columns
	// of each join follow the table's own columns in every Row's Values,
	// joins taken depth-first in order. A one-to-many join repeats the
	// table's row once per joined row.
	Joins []*Join
	// Distinct drops duplicate rows. A distinct read returns only the
	// requested columns: its rows have no ID and no Version.
	Distinct bool
	// Orders are the sort keys. The store completes them so the order is
	// total and pages are stable (see [Query.SortKeys]).
	Orders []Order
	// After resumes after the row with these key values (a previous
	// page's [Page.Cursor]); nil starts at the beginning.
	After *Cursor
	// Offset skips that many rows first (FetchXML's page numbers without
	// a paging cookie). Prefer After, which stays correct while rows are
	// inserted.
	Offset int
	// Limit is the maximum number of rows; 0 means no limit.
	Limit int

	// nulls selects one part of a descending keyset page (see
	// queryDescending): the non-null rows after the cursor, or the null
	// rows that follow them.
	nulls nullPart
}

// SortKeys returns the query's complete sort order: Orders, a lookup (or
// a choice by label) as two keys, the name (label) then the value (see
// [Order.Derived]); then what makes the order total: the primary key of
// the table and of each joined table, depth-first; for a Distinct query,
// every returned column instead, as a distinct row has no identity of its
// own. A [Cursor] holds one value per sort key.
func (q *Query) SortKeys() []Order {
	var keys []Order
	for _, o := range q.Orders {
		keys = o.appendSortKeys(keys)
	}
	if q.Distinct {
		for _, c := range q.columns() {
			keys = append(keys, Order{Column: c, key: keyValue})
		}
		walkJoins(q.Joins, func(j *Join) {
			for _, c := range j.Columns {
				keys = append(keys, Order{Column: c, Join: j, key: keyValue})
			}
		})
		return keys
	}
	keys = append(keys, Order{Column: q.Table.PrimaryID(), key: keyValue})
	walkJoins(q.Joins, func(j *Join) {
		keys = append(keys, Order{Column: j.Table.PrimaryID(), Join: j, key: keyValue})
	})
	return keys
}

func (q *Query) columns() []*schema.Column {
	if q.Columns == nil {
		return defaultColumns(q.Table)
	}
	return q.Columns
}

// Page is the result of a query.
type Page struct {
	// Columns are the returned columns of the query's table; each Row's
	// Values holds them, then the columns of the joins.
	Columns []*schema.Column
	Rows    []Row
	// More is true when rows follow the last one returned.
	More bool
	// first and last are the sort-key values of the first and last rows,
	// as stored.
	first, last []any
}

// Cursor returns the position after the page's last row, or nil for an
// empty page.
func (p *Page) Cursor() *Cursor {
	if p.last == nil {
		return nil
	}
	return &Cursor{keys: p.last}
}

// First returns the position of the page's first row, or nil for an
// empty page (FetchXML paging cookies carry it).
func (p *Page) First() *Cursor {
	if p.first == nil {
		return nil
	}
	return &Cursor{keys: p.first}
}

// defaultColumns are the columns a read without $select returns.
func defaultColumns(t *schema.Table) []*schema.Column {
	cols := make([]*schema.Column, 0, len(t.Columns))
	for _, c := range t.Columns {
		if !c.Internal && c.ValidForRead {
			cols = append(cols, c)
		}
	}
	return cols
}

// Query reads a page of rows. p needs the Read privilege on the table and
// on every joined table; rows its depth does not reach are left out, as
// Dataverse leaves them out. The page is read completely before Query
// returns, so no read lock outlives the call, and memory is bounded by
// the page, not by the table.
func (s *Store) Query(ctx context.Context, p *Principal, q Query) (*Page, error) {
	// A transaction's queries skip this: the index would be rolled back
	// with it, and the write lock is the transaction's.
	s.ensureSortIndex(ctx, &q)
	// A Restore or Reset between building the SQL (which reads the name
	// columns only when they are filled) and running it replaces the
	// database underneath: the page may come from name columns the restored
	// copy has not filled yet. Such a page is read again; restores bump the
	// generation, so a query that saw none is current.
	for attempt := 1; ; attempt++ {
		gen := s.sortIndexGen.Load()
		page, err := s.query(ctx, s.db, p, q)
		if s.sortIndexGen.Load() == gen || attempt == maxQueryAttempts {
			return page, err
		}
	}
}

// maxQueryAttempts bounds how often Store.Query reads a page again because
// a restore ran meanwhile, so a caller restoring in a loop cannot starve it.
const maxQueryAttempts = 8

// Query is [Store.Query] inside the transaction.
func (tx *Tx) Query(ctx context.Context, p *Principal, q Query) (*Page, error) {
	return tx.s.query(ctx, tx.tx, p, q)
}

// planQuery checks privileges and writes the SELECT of q, up to and
// including WHERE; it returns the select plan and the sort keys, which
// follow the plan's items in the select list.
func (s *Store) planQuery(b *sqlBuilder, p *Principal, q *Query, withAfter bool) (*selectPlan, []Order, error) {
	t := q.Table
	depth, err := s.Require(p, VerbRead, t)
	if err != nil {
		return nil, nil, err
	}
	depths, err := s.requireJoins(p, q.Joins)
	if err != nil {
		return nil, nil, err
	}
	if err := b.assignJoins(q.Joins); err != nil {
		return nil, nil, err
	}
	var items []selectItem
	for _, c := range q.columns() {
		items = append(items, selectItem{"t0", c})
	}
	walkJoins(q.Joins, func(j *Join) {
		for _, c := range j.Columns {
			items = append(items, selectItem{b.joins[j], c})
		}
	})
	plan := planItems(t, items, !q.Distinct)
	keys := q.SortKeys()
	b.b.WriteString("SELECT ")
	if q.Distinct {
		b.b.WriteString("DISTINCT ")
	}
	b.b.WriteString(plan.sql())
	plan.keyAt = make([]int, len(keys))
	for i, o := range keys {
		// A key that is a column the row already reads (the primary key,
		// always) takes its value from there.
		if o.key == keyValue {
			alias := "t0"
			if o.Join != nil {
				alias = b.joins[o.Join]
			}
			if at := plan.itemIndex(alias, o.Column); at >= 0 {
				plan.keyAt[i] = at
				continue
			}
		}
		b.b.WriteString(", ")
		if err := b.writeSortKey(o); err != nil {
			return nil, nil, err
		}
		plan.keyAt[i] = plan.scanWidth
		plan.scanWidth++
	}
	conds := []Cond{q.Where}
	switch {
	case q.nulls == nullsOnly:
		// Every null row follows the cursor's non-null value.
		conds = append(conds, sortKeyCond(keys[0], " IS NULL"))
	case withAfter && q.After != nil:
		after, err := keysetAfter(keys, q.After, q.nulls == nonNullOnly)
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, after)
	}
	if err := b.fromWhere(p, t, depth, q.Joins, depths, conds...); err != nil {
		return nil, nil, err
	}
	return plan, keys, nil
}

func (s *Store) query(ctx context.Context, db querier, p *Principal, q Query) (*Page, error) {
	if splitsOnNulls(&q) {
		return s.queryDescending(ctx, db, p, q)
	}
	t := q.Table
	b := &sqlBuilder{alias: "t0", named: s.nameColumnReady}
	plan, _, err := s.querySQL(b, p, &q)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, b.b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("store: query %s: %w", t.LogicalName, err)
	}
	defer rows.Close()
	page := &Page{Columns: q.columns()}
	width := plan.scanWidth
	raw := make([]any, width)
	ptrs := make([]any, width)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	var values valueSlab
	for rows.Next() {
		if q.Limit > 0 && len(page.Rows) == q.Limit {
			page.More = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("store: query %s: %w", t.LogicalName, err)
		}
		row, err := plan.rowInto(values.take(plan.requested, q.Limit-len(page.Rows)), raw[:plan.width()])
		if err != nil {
			return nil, err
		}
		page.Rows = append(page.Rows, row)
		if page.first == nil {
			page.first = plan.sortKeys(raw)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query %s: %w", t.LogicalName, err)
	}
	// raw holds the last row scanned: the loop leaves it on a row it does
	// not scan only when the page is full, and that row is the one after.
	if len(page.Rows) > 0 {
		page.last = plan.sortKeys(raw)
	}
	return page, nil
}

// querySQL writes the whole SELECT of q into b: columns and sort keys,
// FROM, WHERE (with the keyset condition of q.After), ORDER BY, LIMIT and
// OFFSET.
func (s *Store) querySQL(b *sqlBuilder, p *Principal, q *Query) (*selectPlan, []Order, error) {
	plan, keys, err := s.planQuery(b, p, q, true)
	if err != nil {
		return nil, nil, err
	}
	b.b.WriteString(" ORDER BY ")
	for i, o := range keys {
		if i > 0 {
			b.b.WriteString(", ")
		}
		if err := b.writeSortKey(o); err != nil {
			return nil, nil, err
		}
		if o.Desc {
			b.b.WriteString(" DESC")
		}
	}
	switch {
	case q.Limit > 0:
		b.b.WriteString(" LIMIT ?")
		b.args = append(b.args, q.Limit+1)
	case q.Offset > 0:
		b.b.WriteString(" LIMIT -1")
	}
	if q.Offset > 0 {
		b.b.WriteString(" OFFSET ?")
		b.args = append(b.args, q.Offset)
	}
	return plan, keys, nil
}

// keysetAfter builds the condition selecting the rows after a cursor in
// the given order. SQLite, like SQL Server, sorts NULL first ascending
// and last descending:
//
//	(k1 after v1) OR (k1 IS v1 AND k2 after v2) OR …
//
// nonNull leaves out the rows whose first key is null (the null part of a
// descending page is read on its own).
func keysetAfter(orders []Order, c *Cursor, nonNull bool) (Cond, error) {
	if len(c.keys) != len(orders) {
		return nil, ErrCursorMismatch
	}
	keys := make([]any, len(c.keys))
	for i, k := range c.keys {
		v, err := cursorValue(orders[i], k)
		if err != nil {
			return nil, err
		}
		keys[i] = v
	}
	var alts []Cond
	// A redundant bound lets SQLite seek a sort index to the cursor
	// instead of reading every row before it: ascending, the rows after
	// non-null values are those at or above them. The bound covers the
	// leading ascending keys whose cursor values are not null, as one row
	// value, so that rows tied on the first key (one owner's) are sought
	// too, not read from the first of them on every page. A row with a
	// null in that prefix fails the comparison, rightly: a null sorts
	// before the cursor's value. When the prefix is every key, the row
	// value is exactly "after the cursor".
	var bound Cond
	switch first := orders[0]; {
	case keys[0] != nil && !first.Desc:
		n := 1
		for n < len(orders) && !orders[n].Desc && keys[n] != nil {
			n++
		}
		if n == len(orders) && n > 1 {
			// The row value of every key is the whole condition.
			return rowValueCond(orders, " > ", keys), nil
		}
		bound = rowValueCond(orders[:n], " >= ", keys[:n])
	case keys[0] != nil && nonNull:
		// Descending, the non-null rows after v1 are those at or below it.
		bound = sortKeyCond(first, " <= ?", keys[0])
	}
	for i, o := range orders {
		var parts []Cond
		for j := 0; j < i; j++ {
			parts = append(parts, sortKeyCond(orders[j], " IS ?", keys[j]))
		}
		switch {
		case keys[i] == nil && !o.Desc:
			parts = append(parts, sortKeyCond(o, " IS NOT NULL"))
		case keys[i] == nil && o.Desc:
			continue // nothing sorts after NULL descending
		case !o.Desc:
			parts = append(parts, sortKeyCond(o, " > ?", keys[i]))
		default:
			parts = append(parts, Or(sortKeyCond(o, " < ?", keys[i]), sortKeyCond(o, " IS NULL")))
		}
		alts = append(alts, And(parts...))
	}
	if bound != nil {
		return And(bound, Or(alts...)), nil
	}
	return Or(alts...), nil
}

// sortKeyCond is `<sort key><tail>`, binding args to tail's
// placeholders.
func sortKeyCond(o Order, tail string, args ...any) Cond {
	return condFunc(func(b *sqlBuilder) error {
		if err := b.writeSortKey(o); err != nil {
			return err
		}
		b.b.WriteString(tail)
		b.args = append(b.args, args...)
		return nil
	})
}

// rowValueCond is `(<key 1>, <key 2>, …) <op> (?, ?, …)`, or
// `<key> <op> ?` for one key, binding args.
func rowValueCond(orders []Order, op string, args []any) Cond {
	if len(orders) == 1 {
		return sortKeyCond(orders[0], op+"?", args[0])
	}
	return condFunc(func(b *sqlBuilder) error {
		b.b.WriteString("(")
		for i, o := range orders {
			if i > 0 {
				b.b.WriteString(", ")
			}
			if err := b.writeSortKey(o); err != nil {
				return err
			}
		}
		b.b.WriteString(")" + op + "(?" + strings.Repeat(", ?", len(orders)-1) + ")")
		b.args = append(b.args, args...)
		return nil
	})
}

// condFunc is a condition written by the store itself.
type condFunc func(b *sqlBuilder) error

func (f condFunc) render(b *sqlBuilder) error { return f(b) }

// CountLimit is the most @odata.count and $count report, as Dataverse
// caps them at 5,000.
const CountLimit = 5000

// Count counts the rows matching where that p may read, up to limit (0:
// no limit).
func (s *Store) Count(ctx context.Context, p *Principal, t *schema.Table, where Cond, limit int) (int, error) {
	return s.CountRows(ctx, p, Query{Table: t, Where: where}, limit)
}

// Count is [Store.Count] inside the transaction.
func (tx *Tx) Count(ctx context.Context, p *Principal, t *schema.Table, where Cond, limit int) (int, error) {
	return tx.CountRows(ctx, p, Query{Table: t, Where: where}, limit)
}

// CountRows counts the rows a query returns over all its pages (its
// Where, Joins and Distinct; Orders, After, Offset and Limit are
// ignored), up to limit (0: no limit).
func (s *Store) CountRows(ctx context.Context, p *Principal, q Query, limit int) (int, error) {
	return s.countRows(ctx, s.db, p, q, limit)
}

// CountRows is [Store.CountRows] inside the transaction.
func (tx *Tx) CountRows(ctx context.Context, p *Principal, q Query, limit int) (int, error) {
	return tx.s.countRows(ctx, tx.tx, p, q, limit)
}

func (s *Store) countRows(ctx context.Context, db querier, p *Principal, q Query, limit int) (int, error) {
	t := q.Table
	b := &sqlBuilder{alias: "t0"}
	b.b.WriteString("SELECT count(*) FROM (")
	if q.Distinct {
		q.Orders, q.After = nil, nil
		if _, _, err := s.planQuery(b, p, &q, false); err != nil {
			return 0, err
		}
	} else {
		depth, err := s.Require(p, VerbRead, t)
		if err != nil {
			return 0, err
		}
		depths, err := s.requireJoins(p, q.Joins)
		if err != nil {
			return 0, err
		}
		if err := b.assignJoins(q.Joins); err != nil {
			return 0, err
		}
		b.b.WriteString("SELECT 1")
		if err := b.fromWhere(p, t, depth, q.Joins, depths, q.Where); err != nil {
			return 0, err
		}
	}
	if limit > 0 {
		b.b.WriteString(" LIMIT ?")
		b.args = append(b.args, limit)
	}
	b.b.WriteString(")")
	var n int
	if err := db.QueryRowContext(ctx, b.b.String(), b.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", t.LogicalName, err)
	}
	return n, nil
}
