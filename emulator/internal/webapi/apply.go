package webapi

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

var aggregateFuncs = map[odata.AggregateMethod]store.AggregateFunc{
	odata.AggregateSum: store.AggSum, odata.AggregateAverage: store.AggAverage, odata.AggregateMin: store.AggMin,
	odata.AggregateMax: store.AggMax, odata.AggregateCountDistinct: store.AggCountDistinct, odata.AggregateCountRows: store.AggCount,
}

// applyRelatedOuter decides how $apply reaches the columns of related
// rows (groupby((primarycontactid/fullname))): true keeps rows whose
// lookup is empty (in a group without that key), false drops them
// [unverified: Dataverse translates $apply to FetchXML and does not
// document the link type].
const applyRelatedOuter = true

// applyItem is one value of a $apply result row.
type applyItem struct {
	key   string         // the property name written
	path  string         // the path as written, for $orderby
	col   *schema.Column // the grouped or aggregated column; nil for $count
	nav   string         // associatednavigationproperty of a direct lookup key
	group bool
	fn    store.AggregateFunc
	index int // position in the store's row
}

// applyPlan is a bound $apply.
type applyPlan struct {
	b     *binder
	agg   store.Aggregation
	joins map[string]*store.Join // by navigation path ("primarycontactid")
	items []applyItem
}

// join returns the join reaching the table at the end of a path's
// navigation properties, creating the joins it needs; nil for none.
func (ap *applyPlan) join(p boundPath, pe *odata.PathExpr) (*store.Join, error) {
	var parent *store.Join
	var prefix []string
	for _, nav := range p.navProps {
		prefix = append(prefix, nav.Name)
		key := strings.Join(prefix, "/")
		j, ok := ap.joins[key]
		if !ok {
			if len(nav.Targets) != 1 {
				return nil, errFilterUnsupported("Grouping or aggregating through the navigation property '%s', which may reference several tables, is not supported; use a navigation property of one table ('%s').", nav.Name, joinSegments(pe.Segments))
			}
			target := nav.Target()
			j = &store.Join{Table: target, From: target.PrimaryID(), To: nav.Column, Outer: applyRelatedOuter}
			if parent == nil {
				ap.agg.Joins = append(ap.agg.Joins, j)
			} else {
				parent.Joins = append(parent.Joins, j)
			}
			ap.joins[key] = j
		}
		parent = j
	}
	return parent, nil
}

// applyQuery answers a collection GET with $apply: filter steps, then
// groupby (optionally with aggregate) or aggregate. Group keys and
// aggregated values may be columns of related rows reached through
// single-valued navigation properties; a related group key is returned as
// <table>_<column> ("contact_fullname"), as Dataverse returns it.
func (req *request) applyQuery(t *schema.Table, q *odata.Query, base store.Cond) error {
	if q.Select != nil || q.Expand != nil || q.Top != nil || q.Count {
		return errFilterUnsupported("$apply cannot be combined with $select, $expand, $top or $count.")
	}
	b := &binder{req: req, q: q, table: t}
	ap := &applyPlan{b: b, agg: store.Aggregation{Table: t, Where: base}, joins: map[string]*store.Join{}}
	if q.Filter != nil {
		f, err := b.bindFilter(q.Filter)
		if err != nil {
			return err
		}
		ap.agg.Where = store.And(ap.agg.Where, f)
	}
	done := false
	for _, step := range q.Apply {
		if done {
			return errFilterUnsupported("Only filter steps may come before groupby or aggregate in $apply, and nothing after them.")
		}
		switch s := step.(type) {
		case *odata.FilterTransformation:
			if odata.CountConditions(s.Filter) > maxConditions {
				return errTooManyConditions()
			}
			f, err := b.bindFilter(s.Filter)
			if err != nil {
				return err
			}
			ap.agg.Where = store.And(ap.agg.Where, f)
		case *odata.GroupByTransformation:
			for _, pe := range s.Properties {
				if err := ap.groupBy(pe); err != nil {
					return err
				}
			}
			if s.Aggregate != nil {
				if err := ap.measures(s.Aggregate); err != nil {
					return err
				}
			}
			done = true
		case *odata.AggregateTransformation:
			if err := ap.measures(s); err != nil {
				return err
			}
			done = true
		}
	}
	if !done {
		return errFilterUnsupported("$apply needs a groupby or aggregate step.")
	}
	groups := len(ap.agg.Groups)
	m := groups
	for i := range ap.items {
		if !ap.items[i].group {
			ap.items[i].index = m
			m++
		}
	}
	// $orderby may name group keys (by their path); aggregated values
	// cannot be ordered, as in Dataverse.
	var sorts []fetchSort
	for _, it := range q.OrderBy {
		pe, ok := it.Expr.(*odata.PathExpr)
		idx := -1
		if ok {
			path := joinSegments(pe.Segments)
			idx = slices.IndexFunc(ap.items, func(x applyItem) bool { return x.group && x.path == path })
		}
		if idx < 0 {
			return errFilterUnsupported("The query node SingleValueOpenPropertyAccess is not supported")
		}
		sorts = append(sorts, fetchSort{index: ap.items[idx].index, desc: it.Desc})
	}
	rows, err := req.aggregate(ap.agg)
	if err != nil {
		return err
	}
	if len(sorts) > 0 {
		slices.SortStableFunc(rows, func(a, b []any) int {
			for _, s := range sorts {
				c := compareValues(a[s.index], b[s.index])
				if s.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	ann := req.newAnnotator()
	for _, row := range rows {
		for _, it := range ap.items {
			ann.collect(row[it.index])
		}
	}
	if err := ann.load(); err != nil {
		return err
	}
	req.preferenceApplied()
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#" + t.EntitySetName)
	jw.raw(`,"value":[`)
	for i, row := range rows {
		if i > 0 {
			jw.byte(',')
		}
		jw.byte('{')
		first := true
		for _, it := range ap.items {
			v := row[it.index]
			if v == nil {
				continue // aggregate results omit null values
			}
			col := it.col
			var o annotateOptions
			switch {
			case col == nil || it.fn == store.AggCount || it.fn == store.AggCountDistinct:
				if col != nil {
					o.attributeName = col.LogicalName
				}
				col = &schema.Column{Type: schema.TypeBigInt}
			case !it.group:
				o.attributeName = col.LogicalName
			case it.nav != "":
				o.navigation = it.nav
			case it.key != col.PropertyName():
				o.attributeName = col.LogicalName
			}
			ann.write(jw, it.key, first, col, v, o)
			first = false
		}
		jw.byte('}')
	}
	jw.raw("]}")
	return req.endJSON(jw)
}

// groupBy binds one groupby property.
func (ap *applyPlan) groupBy(pe *odata.PathExpr) error {
	p, err := ap.b.path(pe)
	if err != nil {
		return err
	}
	if p.col.Type == schema.TypeDateTime {
		return errFilterUnsupported("The datetime column '%s' cannot be used in groupby.", p.col.LogicalName)
	}
	j, err := ap.join(p, pe)
	if err != nil {
		return err
	}
	it := applyItem{key: p.col.PropertyName(), path: joinSegments(pe.Segments), col: p.col, group: true, index: len(ap.agg.Groups)}
	if j != nil {
		it.key = j.Table.LogicalName + "_" + p.col.LogicalName
	} else if p.col.IsLookup() && len(p.col.Targets) == 1 {
		it.nav = lookupNavigation(p.table, p.col, p.col.Targets[0])
	}
	ap.agg.Groups = append(ap.agg.Groups, store.GroupKey{Column: p.col, Join: j})
	ap.items = append(ap.items, it)
	return nil
}

// measures binds the items of an aggregate transformation.
func (ap *applyPlan) measures(a *odata.AggregateTransformation) error {
	for _, it := range a.Items {
		m := store.Measure{Func: aggregateFuncs[it.Method]}
		item := applyItem{key: it.Alias, fn: m.Func}
		if it.Method != odata.AggregateCountRows {
			p, err := ap.b.path(it.Path)
			if err != nil {
				return err
			}
			if (it.Method == odata.AggregateSum || it.Method == odata.AggregateAverage) && !p.col.Type.IsNumeric() {
				return newError(http.StatusBadRequest, dverr.CodeIncompatibleTypes,
					"The aggregation method '%s' cannot be applied to the column '%s' of type '%s'.", it.Method, p.col.LogicalName, p.col.EdmType())
			}
			j, err := ap.join(p, it.Path)
			if err != nil {
				return err
			}
			m.Column, m.Join = p.col, j
			item.col = p.col
		}
		ap.agg.Measures = append(ap.agg.Measures, m)
		ap.items = append(ap.items, item)
	}
	return nil
}

func (req *request) aggregate(a store.Aggregation) ([][]any, error) {
	return req.data().Aggregate(req.ctx, req.p, a)
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
		y, _ := b.(string)
		return cmp.Compare(strings.ToLower(x), strings.ToLower(y))
	case int64:
		y, _ := b.(int64)
		return cmp.Compare(x, y)
	case float64:
		y, _ := b.(float64)
		return cmp.Compare(x, y)
	case bool:
		y, _ := b.(bool)
		return cmp.Compare(boolInt(x), boolInt(y))
	case store.Decimal:
		y, _ := b.(store.Decimal)
		return x.Cmp(y)
	case time.Time:
		y, _ := b.(time.Time)
		return x.Compare(y)
	case uuid.UUID:
		y, _ := b.(uuid.UUID)
		return strings.Compare(x.String(), y.String())
	case store.Ref:
		y, _ := b.(store.Ref)
		return strings.Compare(x.ID.String(), y.ID.String())
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
