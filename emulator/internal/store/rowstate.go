package store

import "github.com/d365s2s/d365/emulator/internal/schema"

// rowState is a row being written. For each column of t, at the column's
// ordinal, it holds the value the row will have, whether it has one at all
// (a value may be nil: null), and whether this write sets it. Slices, not
// maps: a bulk create builds one per row inside the write transaction,
// where every microsecond holds up the writers queued behind it.
//
// A nil column reads as absent and is not set, so that optional system
// columns (a table without owningteam, say) need no test at each use.
type rowState struct {
	t       *schema.Table
	values  []any
	has     []bool
	changed []bool
}

// newRowState is a row of t with no values.
func newRowState(t *schema.Table) *rowState {
	r := &rowState{}
	r.reset(t)
	return r
}

// loadedRowState is a row of t whose every column has the value in values
// (by ordinal; the slice is the row's, not copied), none of them changed.
func loadedRowState(t *schema.Table, values []any) *rowState {
	n := len(t.Columns)
	flags := make([]bool, 2*n)
	for i := range n {
		flags[i] = true
	}
	return &rowState{t: t, values: values, has: flags[:n:n], changed: flags[n:]}
}

// reset empties r and makes it a row of t, keeping its slices when they
// are long enough.
func (r *rowState) reset(t *schema.Table) {
	n := len(t.Columns)
	r.t = t
	if cap(r.values) < n {
		r.values = make([]any, n)
		flags := make([]bool, 2*n)
		r.has, r.changed = flags[:n:n], flags[n:]
		return
	}
	r.values, r.has, r.changed = r.values[:n], r.has[:n], r.changed[:n]
	clear(r.values)
	clear(r.has)
	clear(r.changed)
}

// value is c's value; nil when it has none.
func (r *rowState) value(c *schema.Column) any {
	if c == nil {
		return nil
	}
	return r.values[c.Ordinal]
}

// given reports whether c has a value, null included.
func (r *rowState) given(c *schema.Column) bool {
	return c != nil && r.has[c.Ordinal]
}

// isChanged reports whether this write sets c.
func (r *rowState) isChanged(c *schema.Column) bool {
	return c != nil && r.changed[c.Ordinal]
}

// set gives c the value v, as a change.
func (r *rowState) set(c *schema.Column, v any) {
	if c == nil {
		return
	}
	r.values[c.Ordinal], r.has[c.Ordinal], r.changed[c.Ordinal] = v, true, true
}

// unchange keeps c's value but no longer counts it as a change.
func (r *rowState) unchange(c *schema.Column) {
	r.changed[c.Ordinal] = false
}

// get is the value of the column named name; nil when t has no such column.
func (r *rowState) get(name string) any {
	c, _ := r.t.Column(name)
	return r.value(c)
}
