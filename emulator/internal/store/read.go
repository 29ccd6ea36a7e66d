package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Row is one row of a read: the values of the requested columns, in
// order, plus the row's id and version (its ETag).
type Row struct {
	ID      uuid.UUID
	Version int64
	Values  []any
}

// Order is one sort key of a query.
type Order struct {
	Column *schema.Column
	Desc   bool
}

// Query describes a read of one table: which columns, which rows, in
// which order, and where to resume.
type Query struct {
	Table *schema.Table
	// Columns are returned in this order; nil means every readable,
	// non-internal column.
	Columns []*schema.Column
	// Where restricts the rows; nil for all.
	Where Cond
	// Orders are the sort keys. The primary key is always added as the
	// last key, so the order is total and pages are stable.
	Orders []Order
	// After resumes after the row with these key values (a previous
	// page's [Page.Cursor]); nil starts at the beginning.
	After *Cursor
	// Limit is the maximum number of rows; 0 means no limit.
	Limit int
}

// Page is the result of a query.
type Page struct {
	// Columns are the returned columns, matching each Row's Values.
	Columns []*schema.Column
	Rows    []Row
	// More is true when rows follow the last one returned.
	More bool
	last []any // sort-key values of the last row, as stored
}

// Cursor is a position in a query's order: the stored sort-key values of
// a row, primary key last. It is opaque to callers, who pass it back in
// Query.After or carry it as text (MarshalText/UnmarshalText).
type Cursor struct {
	keys []any
}

// Cursor returns the position after the page's last row, or nil for an
// empty page.
func (p *Page) Cursor() *Cursor {
	if p.last == nil {
		return nil
	}
	return &Cursor{keys: p.last}
}

// MarshalText encodes the cursor as JSON text.
func (c *Cursor) MarshalText() ([]byte, error) { return json.Marshal(c.keys) }

// UnmarshalText decodes a cursor from MarshalText's output. The values are
// checked against the query when it runs.
func (c *Cursor) UnmarshalText(text []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(text)))
	dec.UseNumber()
	var keys []any
	if err := dec.Decode(&keys); err != nil {
		return fmt.Errorf("store: malformed cursor: %w", err)
	}
	if dec.More() {
		return errors.New("store: malformed cursor: trailing data")
	}
	c.keys = keys
	return nil
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

// selectList appends to cols what the store needs besides the requested
// columns: the EntityName companions of polymorphic lookups, the version
// and the primary key. It returns the SQL select list and the index of
// each extra.
type selectPlan struct {
	cols      []*schema.Column // requested
	extra     []*schema.Column // companions, version, pk
	typeIndex map[*schema.Column]int
	versionAt int
	idAt      int
}

func planSelect(t *schema.Table, cols []*schema.Column) *selectPlan {
	p := &selectPlan{cols: cols, typeIndex: map[*schema.Column]int{}, versionAt: -1}
	n := len(cols)
	for _, c := range cols {
		if c.TypeColumn != "" {
			tc, _ := t.Column(c.TypeColumn)
			p.typeIndex[c] = n + len(p.extra)
			p.extra = append(p.extra, tc)
		}
	}
	if v := t.SystemColumn(schema.RoleVersionNumber); v != nil {
		p.versionAt = n + len(p.extra)
		p.extra = append(p.extra, v)
	}
	p.idAt = n + len(p.extra)
	p.extra = append(p.extra, t.PrimaryID())
	return p
}

func (p *selectPlan) sql(alias string) string {
	var b strings.Builder
	for i, c := range append(append([]*schema.Column{}, p.cols...), p.extra...) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(alias + "." + quoteIdent(c.LogicalName))
	}
	return b.String()
}

func (p *selectPlan) width() int { return len(p.cols) + len(p.extra) }

// row converts scanned values to a Row.
func (p *selectPlan) row(raw []any) (Row, error) {
	var r Row
	r.Values = make([]any, len(p.cols))
	for i, c := range p.cols {
		typeName := ""
		if at, ok := p.typeIndex[c]; ok {
			typeName = asStringOrEmpty(raw[at])
		}
		v, err := goValue(c, raw[i], typeName)
		if err != nil {
			return Row{}, err
		}
		r.Values[i] = v
	}
	if p.versionAt >= 0 {
		r.Version, _ = raw[p.versionAt].(int64)
	}
	id, err := uuid.Parse(asString(raw[p.idAt]))
	if err != nil {
		return Row{}, fmt.Errorf("store: bad primary key %v: %w", raw[p.idAt], err)
	}
	r.ID = id
	return r, nil
}

// Retrieve reads one row's columns (nil: all readable columns). p needs
// the Read privilege at a depth that reaches the row.
func (s *Store) Retrieve(ctx context.Context, p *Principal, t *schema.Table, id uuid.UUID, cols []*schema.Column) (*Row, error) {
	return s.retrieve(ctx, s.db, p, t, id, cols)
}

// Retrieve is [Store.Retrieve] inside the transaction: it sees the
// transaction's own writes.
func (tx *Tx) Retrieve(ctx context.Context, p *Principal, t *schema.Table, id uuid.UUID, cols []*schema.Column) (*Row, error) {
	return tx.s.retrieve(ctx, tx.tx, p, t, id, cols)
}

func (s *Store) retrieve(ctx context.Context, q querier, p *Principal, t *schema.Table, id uuid.UUID, cols []*schema.Column) (*Row, error) {
	depth, err := s.Require(p, VerbRead, t)
	if err != nil {
		return nil, err
	}
	if cols == nil {
		cols = defaultColumns(t)
	}
	plan := planSelect(t, cols)
	own := []*schema.Column{}
	for _, r := range []schema.SystemRole{schema.RoleOwningUser, schema.RoleOwningTeam} {
		if c := t.SystemColumn(r); c != nil {
			own = append(own, c)
		}
	}
	if c := businessUnitColumn(t); c != nil {
		own = append(own, c)
	}
	var b strings.Builder
	b.WriteString("SELECT " + plan.sql("t0"))
	for _, c := range own {
		b.WriteString(", t0." + quoteIdent(c.LogicalName))
	}
	b.WriteString(" FROM " + quoteIdent(t.LogicalName) + " t0 WHERE t0." + quoteIdent(t.PrimaryID().LogicalName) + " = ?")
	raw := make([]any, plan.width()+len(own))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	rows, err := q.QueryContext(ctx, b.String(), id.String())
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", t.LogicalName, err)
	}
	found := rows.Next()
	if found {
		err = rows.Scan(ptrs...)
	}
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", t.LogicalName, err)
	}
	if !found {
		return nil, notFound(t.LogicalName, id.String())
	}
	ownRaw := map[string]any{}
	for i, c := range own {
		ownRaw[c.LogicalName] = raw[plan.width()+i]
	}
	ownRaw[t.PrimaryID().LogicalName] = id.String()
	if ok, err := s.reaches(ctx, q, p, depth, rowOwnership(t, ownRaw)); err != nil {
		return nil, err
	} else if !ok {
		return nil, recordAccessError(p, VerbRead, t, id.String())
	}
	row, err := plan.row(raw[:plan.width()])
	if err != nil {
		return nil, err
	}
	return &row, nil
}

// Query reads a page of rows. p needs the Read privilege; rows its depth
// does not reach are left out, as Dataverse leaves them out. The page is
// read completely before Query returns, so no read lock outlives the
// call.
func (s *Store) Query(ctx context.Context, p *Principal, q Query) (*Page, error) {
	return s.query(ctx, s.db, p, q)
}

// Query is [Store.Query] inside the transaction.
func (tx *Tx) Query(ctx context.Context, p *Principal, q Query) (*Page, error) {
	return tx.s.query(ctx, tx.tx, p, q)
}

func (s *Store) query(ctx context.Context, db querier, p *Principal, q Query) (*Page, error) {
	t := q.Table
	depth, err := s.Require(p, VerbRead, t)
	if err != nil {
		return nil, err
	}
	cols := q.Columns
	if cols == nil {
		cols = defaultColumns(t)
	}
	plan := planSelect(t, cols)
	orders := append(append([]Order{}, q.Orders...), Order{Column: t.PrimaryID()})
	b := &sqlBuilder{alias: "t0"}
	b.b.WriteString("SELECT " + plan.sql("t0"))
	for _, o := range orders {
		b.b.WriteString(", t0." + quoteIdent(o.Column.LogicalName))
	}
	b.b.WriteString(" FROM " + quoteIdent(t.LogicalName) + " t0 WHERE ")
	conds := []Cond{q.Where, accessScope(p, depth, t)}
	if q.After != nil {
		after, err := keysetAfter(orders, q.After)
		if err != nil {
			return nil, err
		}
		conds = append(conds, after)
	}
	if err := And(conds...).render(b); err != nil {
		return nil, err
	}
	b.b.WriteString(" ORDER BY ")
	for i, o := range orders {
		if i > 0 {
			b.b.WriteString(", ")
		}
		b.b.WriteString("t0." + quoteIdent(o.Column.LogicalName))
		if o.Desc {
			b.b.WriteString(" DESC")
		}
	}
	if q.Limit > 0 {
		b.b.WriteString(" LIMIT ?")
		b.args = append(b.args, q.Limit+1)
	}
	rows, err := db.QueryContext(ctx, b.b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("store: query %s: %w", t.LogicalName, err)
	}
	defer rows.Close()
	page := &Page{Columns: cols}
	width := plan.width() + len(orders)
	raw := make([]any, width)
	ptrs := make([]any, width)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if q.Limit > 0 && len(page.Rows) == q.Limit {
			page.More = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("store: query %s: %w", t.LogicalName, err)
		}
		row, err := plan.row(raw[:plan.width()])
		if err != nil {
			return nil, err
		}
		page.Rows = append(page.Rows, row)
		page.last = append(page.last[:0:0], raw[plan.width():]...)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: query %s: %w", t.LogicalName, err)
	}
	return page, nil
}

// keysetAfter builds the condition selecting the rows after a cursor in
// the given order. SQLite, like SQL Server, sorts NULL first ascending
// and last descending:
//
//	(k1 after v1) OR (k1 IS v1 AND k2 after v2) OR …
func keysetAfter(orders []Order, c *Cursor) (Cond, error) {
	if len(c.keys) != len(orders) {
		return nil, errors.New("store: the cursor does not belong to this query")
	}
	keys := make([]any, len(c.keys))
	for i, k := range c.keys {
		v, err := cursorValue(orders[i].Column, k)
		if err != nil {
			return nil, err
		}
		keys[i] = v
	}
	var alts []Cond
	for i, o := range orders {
		var parts []Cond
		for j := 0; j < i; j++ {
			parts = append(parts, rawCond{sql: "{t}." + quoteIdent(orders[j].Column.LogicalName) + " IS ?", args: []any{keys[j]}})
		}
		col := "{t}." + quoteIdent(o.Column.LogicalName)
		switch {
		case keys[i] == nil && !o.Desc:
			parts = append(parts, rawCond{sql: col + " IS NOT NULL"})
		case keys[i] == nil && o.Desc:
			continue // nothing sorts after NULL descending
		case !o.Desc:
			parts = append(parts, rawCond{sql: col + " > ?", args: []any{keys[i]}})
		default:
			parts = append(parts, rawCond{sql: "(" + col + " < ? OR " + col + " IS NULL)", args: []any{keys[i]}})
		}
		alts = append(alts, And(parts...))
	}
	return Or(alts...), nil
}

// cursorValue converts a decoded cursor key back to the stored SQL type
// of its column, refusing anything else.
func cursorValue(col *schema.Column, k any) (any, error) {
	bad := fmt.Errorf("store: the cursor does not belong to this query")
	if k == nil {
		return nil, nil
	}
	typ, _ := sqlColumnType(col)
	switch x := k.(type) {
	case json.Number:
		switch typ {
		case "INTEGER":
			n, err := x.Int64()
			if err != nil {
				return nil, bad
			}
			return n, nil
		case "REAL":
			f, err := x.Float64()
			if err != nil {
				return nil, bad
			}
			return f, nil
		}
	case string:
		if typ == "TEXT" {
			return x, nil
		}
	case int64:
		if typ == "INTEGER" {
			return x, nil
		}
	case float64:
		if typ == "REAL" {
			return x, nil
		}
	}
	return nil, bad
}

// CountLimit is the most @odata.count and $count report, as Dataverse
// caps them at 5,000.
const CountLimit = 5000

// Count counts the rows matching where that p may read, up to limit (0:
// no limit).
func (s *Store) Count(ctx context.Context, p *Principal, t *schema.Table, where Cond, limit int) (int, error) {
	return s.count(ctx, s.db, p, t, where, limit)
}

// Count is [Store.Count] inside the transaction.
func (tx *Tx) Count(ctx context.Context, p *Principal, t *schema.Table, where Cond, limit int) (int, error) {
	return tx.s.count(ctx, tx.tx, p, t, where, limit)
}

func (s *Store) count(ctx context.Context, db querier, p *Principal, t *schema.Table, where Cond, limit int) (int, error) {
	depth, err := s.Require(p, VerbRead, t)
	if err != nil {
		return 0, err
	}
	b := &sqlBuilder{alias: "t0"}
	b.b.WriteString("SELECT count(*) FROM (SELECT 1 FROM " + quoteIdent(t.LogicalName) + " t0 WHERE ")
	if err := And(where, accessScope(p, depth, t)).render(b); err != nil {
		return 0, err
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
