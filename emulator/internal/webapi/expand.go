package webapi

import (
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// maxExpands is the most $expand options a query may have, nested ones
// included [the reference says 15; older docs say 10].
const maxExpands = 15

// readPlan is what a read returns: the columns to read (output columns
// first, then lookups only needed to expand), the expansions, and the
// select list of @odata.context.
type readPlan struct {
	t       *schema.Table
	fetch   []*schema.Column
	out     int
	exps    []*expansion
	context string // "(name,primarycontactid(fullname))" or ""
}

// expansion is one $expand item.
type expansion struct {
	nav      *schema.NavigationProperty
	ref      bool // nav/$ref
	colIndex int  // single-valued: where the lookup is in the parent's fetch columns
	targets  []*expandTarget
}

// expandTarget is the part of an expansion for one target table (ownerid
// has two), with the rows read for it.
type expandTarget struct {
	plan   *readPlan
	where  store.Cond
	orders []store.Order
	top    int
	// single-valued: the rows by id; collection: the rows by parent id.
	byID   map[uuid.UUID]store.Row
	lists  map[uuid.UUID][]store.Row
	more   map[uuid.UUID]bool
	writer *entityWriter
	link   string // nested query options for a collection's nextLink
}

// planRead binds $select and $expand of a read of t.
func (req *request) planRead(t *schema.Table, q *odata.Query) (*readPlan, error) {
	if q != nil && q.Expand != nil && odata.CountExpands(q.Expand) > maxExpands {
		return nil, newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "The query has more than %d $expand options; split it into several queries.", maxExpands)
	}
	var sel []odata.SelectItem
	var exp []odata.ExpandItem
	if q != nil {
		sel, exp = q.Select, q.Expand
	}
	return req.planLevel(t, q, sel, exp, 0)
}

func (req *request) planLevel(t *schema.Table, q *odata.Query, selItems []odata.SelectItem, expItems []odata.ExpandItem, depth int) (*readPlan, error) {
	sel, err := bindSelect(t, selItems)
	if err != nil {
		return nil, err
	}
	plan := &readPlan{t: t, fetch: sel.cols}
	if plan.fetch == nil {
		plan.fetch = readableColumns(t)
	}
	plan.fetch = append([]*schema.Column(nil), plan.fetch...)
	plan.out = len(plan.fetch)
	names := strings.TrimSuffix(strings.TrimPrefix(sel.context, "("), ")")
	var parts []string
	if names != "" {
		parts = append(parts, names)
	}
	for _, it := range expItems {
		x, ctx, err := req.planExpansion(plan, q, it, depth)
		if err != nil {
			return nil, err
		}
		plan.exps = append(plan.exps, x)
		parts = append(parts, ctx)
	}
	if len(parts) > 0 {
		plan.context = "(" + strings.Join(parts, ",") + ")"
	}
	return plan, nil
}

func (req *request) planExpansion(parent *readPlan, q *odata.Query, it odata.ExpandItem, depth int) (*expansion, string, error) {
	t := parent.t
	if len(it.Path) != 1 {
		return nil, "", errPropertyNotFound(joinSegments(it.Path), t)
	}
	name := it.Path[0].Name
	nav, ok := t.NavigationProperty(name)
	if !ok {
		return nil, "", errPropertyNotFound(name, t)
	}
	x := &expansion{nav: nav, ref: it.Ref, colIndex: -1}
	opts := it.Options
	if it.Ref {
		if nav.Collection {
			return nil, "", newError(http.StatusBadRequest, dverr.CodeExpandRefNotLookup, "Expand with $ref is only supported on lookup type navigation property.")
		}
	}
	if opts != nil && !nav.Collection && (opts.Filter != nil || opts.OrderBy != nil || opts.Top != nil) {
		return nil, "", errFilterUnsupported("$filter, $orderby and $top in $expand apply only to collection-valued navigation properties; '%s' is single-valued.", name)
	}
	if opts != nil && nav.Collection && opts.Expand != nil {
		if nav.IsManyToMany() {
			return nil, "", errFilterUnsupported("A many-to-many navigation property ('%s') cannot have a nested $expand.", name)
		}
		if opts.OrderBy != nil || opts.Top != nil {
			return nil, "", errFilterUnsupported("$orderby and $top are not supported together with a nested $expand on the collection '%s'.", name)
		}
	}
	if !nav.Collection {
		for i, c := range parent.fetch {
			if c == nav.Column {
				x.colIndex = i
			}
		}
		if x.colIndex < 0 {
			x.colIndex = len(parent.fetch)
			parent.fetch = append(parent.fetch, nav.Column)
		}
	}
	var sel []odata.SelectItem
	var nested []odata.ExpandItem
	if opts != nil {
		sel, nested = opts.Select, opts.Expand
	}
	ctx := name
	if len(nav.Targets) > 1 {
		// ownerid: each $select item must exist on some target; each
		// target reads the items it has.
		for _, it := range sel {
			found := it.Star
			for _, target := range nav.Targets {
				if len(it.Path) == 1 {
					_, ok := target.Property(it.Path[0].Name)
					found = found || ok
				}
			}
			if !found {
				return nil, "", errPropertyNotFound(joinSegments(it.Path), nav.Target())
			}
		}
	}
	for _, target := range nav.Targets {
		targetSel := sel
		if len(nav.Targets) > 1 && sel != nil {
			targetSel = []odata.SelectItem{}
			for _, it := range sel {
				if it.Star {
					targetSel = append(targetSel, it)
				} else if _, ok := target.Property(it.Path[0].Name); ok {
					targetSel = append(targetSel, it)
				}
			}
		}
		plan, err := req.planLevel(target, q, targetSel, nested, depth+1)
		if err != nil {
			return nil, "", err
		}
		et := &expandTarget{plan: plan}
		if opts != nil {
			b := &binder{req: req, q: q, table: target}
			if opts.Filter != nil {
				if et.where, err = b.bindFilter(opts.Filter); err != nil {
					return nil, "", err
				}
			}
			if et.orders, err = b.bindOrderBy(opts.OrderBy); err != nil {
				return nil, "", err
			}
			if opts.Top != nil {
				et.top = int(min(*opts.Top, maxPageSize))
			}
			et.link = nestedLinkQuery(opts)
		}
		x.targets = append(x.targets, et)
		if len(x.targets) == 1 {
			ctx = name + plan.context
			if plan.context == "" {
				ctx = name + "()"
			}
		}
	}
	if it.Ref {
		ctx = name
	}
	return x, ctx, nil
}

// nestedLinkQuery turns the options of a collection expansion into the
// query of its nextLink.
func nestedLinkQuery(o *odata.ExpandOptions) string {
	var parts []string
	if o.Select != nil {
		parts = append(parts, "$select="+odata.FormatSelect(o.Select))
	}
	if o.Filter != nil {
		parts = append(parts, "$filter="+odata.FormatExpr(o.Filter))
	}
	if o.OrderBy != nil {
		parts = append(parts, "$orderby="+odata.FormatOrderBy(o.OrderBy))
	}
	for i, p := range parts {
		name, value, _ := strings.Cut(p, "=")
		parts[i] = name + "=" + escapeQueryValue(value)
	}
	return strings.Join(parts, "&")
}

func escapeQueryValue(v string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "#", "%23", "+", "%2B", " ", "%20")
	return r.Replace(v)
}

// loadExpansions reads the related rows of every expansion for rows of
// the plan's table, recursively.
func (req *request) loadExpansions(plan *readPlan, rows []store.Row) error {
	for _, x := range plan.exps {
		for _, et := range x.targets {
			target := et.plan.t
			var loaded []store.Row
			if !x.nav.Collection {
				seen := map[uuid.UUID]bool{}
				var ids []any
				for _, row := range rows {
					if ref, ok := row.Values[x.colIndex].(store.Ref); ok && ref.Table == target.LogicalName && !seen[ref.ID] {
						seen[ref.ID] = true
						ids = append(ids, ref.ID)
					}
				}
				et.byID = map[uuid.UUID]store.Row{}
				for start := 0; start < len(ids); start += 500 {
					page, err := req.data().Query(req.ctx, req.p, store.Query{Table: target, Columns: et.plan.fetch,
						Where: store.In(target.PrimaryID(), ids[start:min(start+500, len(ids))])})
					if err != nil {
						return err
					}
					for _, r := range page.Rows {
						et.byID[r.ID] = r
						loaded = append(loaded, r)
					}
				}
			} else {
				et.lists = map[uuid.UUID][]store.Row{}
				et.more = map[uuid.UUID]bool{}
				limit := maxPageSize
				if et.top > 0 {
					limit = et.top
				}
				for _, row := range rows {
					page, err := req.data().Query(req.ctx, req.p, store.Query{Table: target, Columns: et.plan.fetch,
						Where: store.And(navScope(x.nav, plan.t, row.ID), et.where), Orders: et.orders, Limit: limit})
					if err != nil {
						return err
					}
					et.lists[row.ID] = page.Rows
					et.more[row.ID] = page.More && et.top == 0
					loaded = append(loaded, page.Rows...)
				}
			}
			if err := req.loadExpansions(et.plan, loaded); err != nil {
				return err
			}
			w, err := req.newEntityWriter(target, et.plan.fetch[:et.plan.out], loaded)
			if err != nil {
				return err
			}
			w.plan = et.plan
			et.writer = w
		}
	}
	return nil
}

// writeExpansions writes the expanded navigation properties of a row.
func (ew *entityWriter) writeExpansions(jw *jsonWriter, row store.Row) {
	if ew.plan == nil {
		return
	}
	for _, x := range ew.plan.exps {
		jw.key(x.nav.Name, false)
		if x.nav.Collection {
			et := x.targets[0]
			jw.byte('[')
			for i, child := range et.lists[row.ID] {
				if i > 0 {
					jw.byte(',')
				}
				et.writer.write(jw, child, "")
			}
			jw.byte(']')
			if et.more[row.ID] {
				link := ew.req.base + "/" + ew.t.EntitySetName + "(" + row.ID.String() + ")/" + x.nav.Name
				if et.link != "" {
					link += "?" + et.link
				}
				jw.key(x.nav.Name+"@odata.nextLink", false)
				jw.str(link)
			}
			continue
		}
		ref, ok := row.Values[x.colIndex].(store.Ref)
		var et *expandTarget
		for _, candidate := range x.targets {
			if ok && candidate.plan.t.LogicalName == ref.Table {
				et = candidate
			}
		}
		if et == nil {
			jw.raw("null")
			continue
		}
		child, found := et.byID[ref.ID]
		if !found {
			jw.raw("null")
			continue
		}
		if x.ref {
			jw.raw(`{"@odata.id":`)
			jw.str(ew.req.entityURL(et.plan.t, ref.ID))
			jw.byte('}')
			continue
		}
		et.writer.typed = len(x.targets) > 1
		et.writer.write(jw, child, "")
	}
}
