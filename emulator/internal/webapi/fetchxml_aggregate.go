package webapi

import (
	"net/http"
	"slices"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/fetchxml"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// FetchXML aggregate queries (aggregate='true'): every attribute is a
// group (groupby='true', optionally by a date part) or an aggregate
// (count, countcolumn, sum, avg, min, max) with an alias.

var fetchAggregateFuncs = map[string]store.AggregateFunc{
	"count": store.AggCount, "countcolumn": store.AggCountColumn, "sum": store.AggSum,
	"avg": store.AggAverage, "min": store.AggMin, "max": store.AggMax,
}

var fetchDateGroupings = map[string]store.DatePart{
	"day": store.DateDay, "week": store.DateWeek, "month": store.DateMonth, "quarter": store.DateQuarter, "year": store.DateYear,
}

// bindAggregate plans an aggregate query.
func (fb *fetchBinder) bindAggregate() error {
	plan := fb.plan
	agg := &store.Aggregation{Table: plan.table, Where: plan.query.Where, Joins: plan.query.Joins, Limit: plan.fq.AggregateLimit}
	type pending struct {
		item    fetchAggItem
		col     *schema.Column
		join    *store.Join
		measure store.Measure
	}
	var items []pending
	bindAttrs := func(scope *fetchScope, e *fetchxml.Entity) error {
		if e.AllAttributes {
			return fetchError(dverr.CodeFetchAttrWithAggregate, "Attributes can not be returned when aggregate operation is specified. Remove <all-attributes> from '%s'.", scope.table.LogicalName)
		}
		for _, a := range e.Attributes {
			c, ok := scope.table.Column(a.Name)
			if !ok || !c.ValidForRead {
				return errFetchNoAttribute(scope.table, a.Name)
			}
			switch {
			case a.GroupBy && a.Aggregate != "":
				return fetchError(dverr.CodeFetchGroupByAndAggregate, "An attribute can either be an aggregate or a Group By but not both. The attribute '%s' has both.", a.Name)
			case !a.GroupBy && a.Aggregate == "":
				return fetchError(dverr.CodeFetchAttrWithAggregate, "Attributes can not be returned when aggregate operation is specified. The attribute '%s' needs groupby='true' or an aggregate.", a.Name)
			}
			key := a.Alias
			if key == "" {
				if !a.GroupBy {
					return fetchError(dverr.CodeFetchInvalidAlias, "Invalid alias for aggregate operation. The aggregate of '%s' needs an alias.", a.Name)
				}
				key = a.Name
				if scope.join != nil {
					key = scope.alias + "." + a.Name
				}
			}
			if err := fb.claimAlias(key); err != nil {
				return err
			}
			p := pending{item: fetchAggItem{key: key, attr: c, group: a.GroupBy}, col: c, join: scope.join}
			if a.GroupBy {
				if a.DateGrouping != "" {
					part, known := fetchDateGroupings[a.DateGrouping]
					switch {
					case a.DateGrouping == "fiscal-period" || a.DateGrouping == "fiscal-year":
						return errNotImplemented("dategrouping='" + a.DateGrouping + "'")
					case !known:
						return fetchError(dverr.CodeFetchInvalidDateGrouping, "An invalid value was specified for dategrouping. '%s' is not one of day, week, month, quarter, year, fiscal-period, fiscal-year.", a.DateGrouping)
					case c.Type != schema.TypeDateTime:
						return fetchError(dverr.CodeFetchInvalidDateGrouping, "An invalid value was specified for dategrouping. '%s' is not a date and time column.", a.Name)
					}
					p.item.date = part
				}
				items = append(items, p)
				continue
			}
			if a.DateGrouping != "" {
				return fetchError(dverr.CodeFetchInvalidDateGrouping, "An invalid value was specified for dategrouping. dategrouping applies only to groupby attributes, not to the aggregate '%s'.", key)
			}
			fn, known := fetchAggregateFuncs[a.Aggregate]
			if !known {
				return fetchError(dverr.CodeFetchInvalidAggregate, "An error occurred while processing Aggregates in Query. '%s' is not an aggregate function; use count, countcolumn, sum, avg, min or max.", a.Aggregate)
			}
			switch fn {
			case store.AggSum, store.AggAverage:
				if !c.Type.IsNumeric() {
					return fetchError(dverr.CodeFetchAggregateType, "Aggregate %s is not supported for attribute of type %s.", a.Aggregate, c.Type)
				}
			case store.AggMin, store.AggMax:
				if !c.Type.IsNumeric() && c.Type != schema.TypeDateTime {
					return fetchError(dverr.CodeFetchAggregateType, "Aggregate %s is not supported for attribute of type %s.", a.Aggregate, c.Type)
				}
			case store.AggCountColumn:
				if a.Distinct {
					fn = store.AggCountDistinct
				}
			}
			p.item.fn = fn
			p.measure = store.Measure{Column: c, Join: scope.join, Func: fn}
			if fn == store.AggCount {
				p.measure.Column, p.measure.Join = nil, nil
			}
			items = append(items, p)
		}
		return nil
	}
	if err := bindAttrs(plan.root, plan.fq.Entity); err != nil {
		return err
	}
	var walk func(links []*fetchxml.Link) error
	walk = func(links []*fetchxml.Link) error {
		for _, l := range links {
			if err := bindAttrs(fb.scopeOfLink(l), &l.Entity); err != nil {
				return err
			}
			if err := walk(l.Links); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(plan.fq.Entity.Links); err != nil {
		return err
	}
	if len(items) == 0 {
		return fetchError(dverr.CodeFetchInvalidAggregate, "An error occurred while processing Aggregates in Query. An aggregate query needs at least one attribute with groupby='true' or an aggregate.")
	}
	// The store returns groups first, then measures.
	groups := 0
	for _, p := range items {
		if p.item.group {
			groups++
		}
	}
	g, m := 0, groups
	for _, p := range items {
		if p.item.group {
			p.item.index = g
			g++
			agg.Groups = append(agg.Groups, store.GroupKey{Column: p.col, Join: p.join, Date: p.item.date})
		} else {
			p.item.index = m
			m++
			agg.Measures = append(agg.Measures, p.measure)
		}
		plan.aggItems = append(plan.aggItems, p.item)
	}
	plan.agg = agg
	// Orders name aliases.
	var orders []*fetchxml.Order
	orders = append(orders, plan.fq.Entity.Orders...)
	var collect func(links []*fetchxml.Link)
	collect = func(links []*fetchxml.Link) {
		for _, l := range links {
			orders = append(orders, l.Orders...)
			collect(l.Links)
		}
	}
	collect(plan.fq.Entity.Links)
	for _, o := range orders {
		if o.Attribute != "" && o.Alias == "" {
			return fetchError(dverr.CodeFetchOrderAttrAggregate, "An attribute cannot be specified for an order clause for an aggregate Query. Use an alias. The order has attribute='%s'.", o.Attribute)
		}
		if o.Alias == "" {
			return fetchError(dverr.CodeFetchOrderAliasRequired, "An alias is required for an order clause for an aggregate Query.")
		}
		i := slices.IndexFunc(plan.aggItems, func(it fetchAggItem) bool { return it.key == o.Alias })
		if i < 0 {
			return fetchError(dverr.CodeFetchInvalidAlias, "Invalid alias for aggregate operation. The order refers to the alias '%s', which no attribute has.", o.Alias)
		}
		plan.aggSorts = append(plan.aggSorts, fetchSort{index: plan.aggItems[i].index, desc: o.Descending})
	}
	return nil
}

// runFetchAggregate answers an aggregate FetchXML query.
func (req *request) runFetchAggregate(plan *fetchPlan) error {
	rows, err := req.aggregate(*plan.agg)
	if err != nil {
		return err
	}
	if len(plan.aggSorts) > 0 {
		slices.SortStableFunc(rows, func(a, b []any) int {
			for _, s := range plan.aggSorts {
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
	// Paging over groups: top, or count and page (no paging cookie).
	fq := plan.fq
	more := false
	switch {
	case fq.Top > 0:
		rows = rows[:min(len(rows), fq.Top)]
	default:
		size := fq.Count
		if size == 0 {
			size = maxPageSize
		}
		page := max(fq.Page, 1)
		start := min((page-1)*size, len(rows))
		end := min(start+size, len(rows))
		more = end < len(rows)
		rows = rows[start:end]
	}
	ann := req.newAnnotator()
	for _, row := range rows {
		for _, it := range plan.aggItems {
			ann.collect(row[it.index])
		}
	}
	if err := ann.load(); err != nil {
		return err
	}
	req.preferenceApplied()
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#" + plan.table.EntitySetName)
	if more && req.prefer.wantsAnnotation(annotationMoreRecords) {
		jw.raw(`,"@` + annotationMoreRecords + `":true`)
	}
	jw.raw(`,"value":[`)
	for i, row := range rows {
		if i > 0 {
			jw.byte(',')
		}
		jw.byte('{')
		first := true
		for _, it := range plan.aggItems {
			v := row[it.index]
			if v == nil {
				continue // null values are omitted, as in every FetchXML result
			}
			col := it.attr
			if it.date != 0 || it.fn == store.AggCount || it.fn == store.AggCountColumn || it.fn == store.AggCountDistinct {
				col = &schema.Column{Table: it.attr.Table, LogicalName: it.attr.LogicalName, Type: schema.TypeBigInt}
			}
			ann.write(jw, it.key, first, col, v, annotateOptions{attributeName: it.attr.LogicalName})
			first = false
		}
		jw.byte('}')
	}
	jw.raw("]}")
	return req.endJSON(jw)
}
