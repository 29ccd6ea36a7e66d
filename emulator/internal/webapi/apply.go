package webapi

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

var aggregateFuncs = map[odata.AggregateMethod]store.AggregateFunc{
	odata.AggregateSum: store.AggSum, odata.AggregateAverage: store.AggAverage, odata.AggregateMin: store.AggMin,
	odata.AggregateMax: store.AggMax, odata.AggregateCountDistinct: store.AggCountDistinct, odata.AggregateCountRows: store.AggCount,
}

// applyQuery answers a collection GET with $apply: filter steps, then
// groupby (optionally with aggregate) or aggregate.
func (req *request) applyQuery(t *schema.Table, q *odata.Query, base store.Cond) error {
	if q.Select != nil || q.Expand != nil || q.Top != nil || q.Count {
		return errFilterUnsupported("$apply cannot be combined with $select, $expand, $top or $count.")
	}
	b := &binder{req: req, q: q, table: t}
	agg := store.Aggregation{Table: t, Where: base}
	if q.Filter != nil {
		f, err := b.bindFilter(q.Filter)
		if err != nil {
			return err
		}
		agg.Where = store.And(agg.Where, f)
	}
	var groupNames, aliases []string
	done := false
	for _, step := range q.Apply {
		if done {
			return errFilterUnsupported("Only filter steps may come before groupby or aggregate in $apply, and nothing after them.")
		}
		switch s := step.(type) {
		case *odata.FilterTransformation:
			f, err := b.bindFilter(s.Filter)
			if err != nil {
				return err
			}
			agg.Where = store.And(agg.Where, f)
		case *odata.GroupByTransformation:
			for _, pe := range s.Properties {
				p, err := b.path(pe)
				if err != nil {
					return err
				}
				if p.navs > 0 {
					return errFilterUnsupported("Grouping by a column of a related table ('%s') is not supported by the emulator yet.", joinSegments(pe.Segments))
				}
				if p.col.Type == schema.TypeDateTime {
					return errFilterUnsupported("The datetime column '%s' cannot be used in groupby.", p.col.LogicalName)
				}
				agg.GroupBy = append(agg.GroupBy, p.col)
				groupNames = append(groupNames, p.col.PropertyName())
			}
			if s.Aggregate != nil {
				var err error
				if aliases, err = req.bindMeasures(b, s.Aggregate, &agg); err != nil {
					return err
				}
			}
			done = true
		case *odata.AggregateTransformation:
			var err error
			if aliases, err = req.bindMeasures(b, s, &agg); err != nil {
				return err
			}
			done = true
		}
	}
	if !done {
		return errFilterUnsupported("$apply needs a groupby or aggregate step.")
	}
	var sortBy []int
	var desc []bool
	for _, it := range q.OrderBy {
		pe, ok := it.Expr.(*odata.PathExpr)
		idx := -1
		if ok && len(pe.Segments) == 1 {
			idx = slices.Index(groupNames, pe.Segments[0].Name)
		}
		if idx < 0 {
			return errFilterUnsupported("The query node SingleValueOpenPropertyAccess is not supported")
		}
		sortBy, desc = append(sortBy, idx), append(desc, it.Desc)
	}
	rows, err := req.aggregate(agg)
	if err != nil {
		return err
	}
	if len(sortBy) > 0 {
		slices.SortStableFunc(rows, func(a, b []any) int {
			for i, idx := range sortBy {
				c := compareValues(a[idx], b[idx])
				if desc[i] {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#" + t.EntitySetName)
	jw.raw(`,"value":[`)
	for i, row := range rows {
		if i > 0 {
			jw.byte(',')
		}
		jw.byte('{')
		for j, c := range agg.GroupBy {
			jw.key(groupNames[j], j == 0)
			jw.value(c, row[j])
		}
		for j, m := range agg.Measures {
			jw.key(aliases[j], len(agg.GroupBy) == 0 && j == 0)
			col := m.Column
			if col == nil {
				col = &schema.Column{Type: schema.TypeBigInt}
			}
			jw.value(col, row[len(agg.GroupBy)+j])
		}
		jw.byte('}')
	}
	jw.raw("]}")
	return req.endJSON(jw)
}

func (req *request) aggregate(a store.Aggregation) ([][]any, error) {
	if req.tx != nil {
		return req.tx.Aggregate(req.ctx, req.p, a)
	}
	return req.h.store.Aggregate(req.ctx, req.p, a)
}

func (req *request) bindMeasures(b *binder, a *odata.AggregateTransformation, agg *store.Aggregation) ([]string, error) {
	var aliases []string
	for _, it := range a.Items {
		m := store.Measure{Func: aggregateFuncs[it.Method]}
		if it.Method != odata.AggregateCountRows {
			p, err := b.path(it.Path)
			if err != nil {
				return nil, err
			}
			if p.navs > 0 {
				return nil, errFilterUnsupported("Aggregating a column of a related table is not supported by the emulator yet.")
			}
			if (it.Method == odata.AggregateSum || it.Method == odata.AggregateAverage) && !p.col.Type.IsNumeric() {
				return nil, newError(http.StatusBadRequest, codeIncompatibleTypes,
					"The aggregation method '%s' cannot be applied to the column '%s' of type '%s'.", it.Method, p.col.LogicalName, p.col.EdmType())
			}
			m.Column = p.col
		}
		agg.Measures = append(agg.Measures, m)
		aliases = append(aliases, it.Alias)
	}
	return aliases, nil
}

// compareValues orders two values of the same column for $orderby on
// grouped results (nulls first, strings ignoring case).
func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case string:
		return cmp.Compare(strings.ToLower(x), strings.ToLower(b.(string)))
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		return cmp.Compare(x, b.(float64))
	case bool:
		return cmp.Compare(boolInt(x), boolInt(b.(bool)))
	case store.Decimal:
		return x.Cmp(b.(store.Decimal))
	case time.Time:
		return x.Compare(b.(time.Time))
	case uuid.UUID:
		return strings.Compare(x.String(), b.(uuid.UUID).String())
	case store.Ref:
		return strings.Compare(x.ID.String(), b.(store.Ref).ID.String())
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
