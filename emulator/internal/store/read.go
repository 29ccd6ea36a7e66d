package store

import (
	"context"
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

// selectItem is one column of a select list: a column of the query's table
// (alias t0) or of a joined table.
type selectItem struct {
	alias string
	col   *schema.Column
}

// selectPlan is the select list of a read: the requested columns, then
// what the store needs besides them: the EntityName companions of
// polymorphic lookups, and, unless the read is distinct, the version and
// the primary key of the row.
type selectPlan struct {
	items     []selectItem // requested, then extras
	requested int
	typeAt    []int // per requested item: index of its companion, or -1
	versionAt int   // -1 when absent
	idAt      int   // -1 when absent
	// keyAt is, per sort key of a query, the index of its value in a
	// scanned row: an item's index when the key is that item's column, or
	// one of the key columns that follow the items (see Store.planQuery).
	keyAt []int
	// scanWidth is the number of values a scanned row holds: the items,
	// then the sort keys no item provides.
	scanWidth int
}

// planSelect plans the select list of t's columns cols (alias t0), with
// the row's version and id.
func planSelect(t *schema.Table, cols []*schema.Column) *selectPlan {
	items := make([]selectItem, len(cols))
	for i, c := range cols {
		items[i] = selectItem{"t0", c}
	}
	return planItems(t, items, true)
}

// planItems plans a select list; identity adds the version and primary
// key of t (alias t0).
func planItems(t *schema.Table, items []selectItem, identity bool) *selectPlan {
	p := &selectPlan{items: items, requested: len(items), typeAt: make([]int, len(items)), versionAt: -1, idAt: -1}
	for i, it := range items {
		p.typeAt[i] = -1
		if it.col.TypeColumn == "" || it.col.Table == nil {
			continue
		}
		if tc, ok := it.col.Table.Column(it.col.TypeColumn); ok {
			p.typeAt[i] = len(p.items)
			p.items = append(p.items, selectItem{it.alias, tc})
		}
	}
	if identity {
		// A requested column is read once: a $select names the primary
		// key (the Web API always adds it), and reading a text column costs
		// the driver two allocations and three locks per row.
		if v := t.SystemColumn(schema.RoleVersionNumber); v != nil {
			p.versionAt = p.itemIndex("t0", v)
			if p.versionAt < 0 {
				p.versionAt = len(p.items)
				p.items = append(p.items, selectItem{"t0", v})
			}
		}
		p.idAt = p.itemIndex("t0", t.PrimaryID())
		if p.idAt < 0 {
			p.idAt = len(p.items)
			p.items = append(p.items, selectItem{"t0", t.PrimaryID()})
		}
	}
	p.scanWidth = len(p.items)
	return p
}

// itemIndex returns the index of the item reading column c of alias, or
// -1.
func (p *selectPlan) itemIndex(alias string, c *schema.Column) int {
	for i, it := range p.items {
		if it.alias == alias && it.col == c {
			return i
		}
	}
	return -1
}

// sortKeys returns the sort-key values of a scanned row, in key order.
func (p *selectPlan) sortKeys(raw []any) []any {
	keys := make([]any, len(p.keyAt))
	for i, at := range p.keyAt {
		keys[i] = raw[at]
	}
	return keys
}

func (p *selectPlan) sql() string {
	var b strings.Builder
	for i, it := range p.items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(it.alias + "." + quoteIdent(it.col.LogicalName))
	}
	return b.String()
}

func (p *selectPlan) width() int { return len(p.items) }

// row converts scanned values to a Row.
func (p *selectPlan) row(raw []any) (Row, error) {
	return p.rowInto(make([]any, p.requested), raw)
}

// rowInto is row with the values written into values (p.requested long).
func (p *selectPlan) rowInto(values []any, raw []any) (Row, error) {
	r := Row{Values: values}
	for i := 0; i < p.requested; i++ {
		typeName := ""
		if at := p.typeAt[i]; at >= 0 {
			typeName = asStringOrEmpty(raw[at])
		}
		v, err := goValue(p.items[i].col, raw[i], typeName)
		if err != nil {
			return Row{}, err
		}
		r.Values[i] = v
	}
	if p.versionAt >= 0 {
		r.Version, _ = raw[p.versionAt].(int64)
	}
	switch {
	case p.idAt < 0:
	case p.idAt < p.requested:
		r.ID, _ = r.Values[p.idAt].(uuid.UUID) // the requested primary key, parsed above
	default:
		id, err := uuid.Parse(asString(raw[p.idAt]))
		if err != nil {
			return Row{}, fmt.Errorf("store: bad primary key %v: %w", raw[p.idAt], err)
		}
		r.ID = id
	}
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
	b.WriteString("SELECT " + plan.sql())
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

// valueSlab hands out the Values of a page's rows from shared chunks: one
// allocation per valueSlabRows rows instead of one per row. Each row's
// slice is capped at its length, so appending to it cannot reach the next
// row's values.
type valueSlab struct{ free []any }

// valueSlabRows is the number of rows a chunk holds; a query with a
// smaller limit gets a chunk of its size.
const valueSlabRows = 256

// take returns n values for the next row; rowsLeft is how many rows the
// query may still return (0 or less for no limit).
func (s *valueSlab) take(n, rowsLeft int) []any {
	if len(s.free) < n {
		rows := valueSlabRows
		if rowsLeft > 0 && rowsLeft < rows {
			rows = rowsLeft
		}
		s.free = make([]any, n*rows)
	}
	v := s.free[:n:n]
	s.free = s.free[n:]
	return v
}
