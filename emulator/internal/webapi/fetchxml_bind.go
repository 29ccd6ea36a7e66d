package webapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/fetchxml"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// fetchScope is the entity or a link-entity of a bound FetchXML query.
type fetchScope struct {
	table *schema.Table
	join  *store.Join // nil for the entity
	alias string      // the link-entity's alias, given or generated; "" for the entity
	name  string      // the element's name attribute
}

// fetchColumn is one property a non-aggregate FetchXML query writes.
type fetchColumn struct {
	key   string // the JSON property name
	col   *schema.Column
	scope *fetchScope
	// aliased columns (an attribute alias, or any link-entity column) are
	// written under their key with the AttributeName annotation, lookups
	// as a bare GUID rather than `_x_value`.
	aliased bool
	index   int // position in store.Row.Values
}

// fetchAggItem is one value of an aggregate FetchXML query's rows.
type fetchAggItem struct {
	key   string
	attr  *schema.Column // the attribute named (for AttributeName and formatting)
	group bool
	date  store.DatePart
	fn    store.AggregateFunc
	index int // position in the aggregate row
}

// fetchSort orders aggregate rows by the item at index.
type fetchSort struct {
	index int
	desc  bool
}

// fetchPlan is a FetchXML query bound to the schema: a store query (or an
// aggregation) and what to write.
type fetchPlan struct {
	fq    *fetchxml.Query
	table *schema.Table
	root  *fetchScope
	query store.Query
	cols  []fetchColumn
	// context is the select list of @odata.context.
	context string
	// joinAlias names each join by its link-entity's alias.
	joinAlias map[*store.Join]string

	agg      *store.Aggregation
	aggItems []fetchAggItem
	aggSorts []fetchSort
}

// fetchBinder binds a parsed query.
type fetchBinder struct {
	sch    *schema.Schema
	p      *store.Principal
	now    time.Time
	plan   *fetchPlan
	scopes map[string]*fetchScope // link-entities by alias
	// linkScopes maps link-entity elements to their scopes.
	linkScopes map[*fetchxml.Link]*fetchScope
	links      int             // link-entities seen, for generated aliases
	conds      int             // conditions seen
	aliases    map[string]bool // attribute aliases seen
}

// fetchEntityName is how QueryBuilder names a table in its messages: the
// SchemaName ("'Contact' entity doesn't contain attribute with Name =
// 'x'…"), as captures of the real service show [unverified: a single
// capture of an entity whose two names differ].
func fetchEntityName(t *schema.Table) string { return t.SchemaName }

// errFetchNoAttribute is QueryBuilderNoAttribute with the service's text.
func errFetchNoAttribute(t *schema.Table, name string) *apiError {
	return fetchError(dverr.CodeFetchNoAttribute, "'%s' entity doesn't contain attribute with Name = '%s' and NameMapping = 'Logical' (look up attribute by name is case-sensitive).",
		fetchEntityName(t), name)
}

// generatedLinkAlias names a link-entity that has no alias:
// "<name><n>", n counting link-entities in document order from 1
// ("account1.name") [unverified: Dataverse's own numbering is not
// documented; clients that read linked columns should set an alias].
func generatedLinkAlias(name string, n int) string { return name + strconv.Itoa(n) }

// bindFetch binds a parsed FetchXML query sent to the entity set of t.
func bindFetch(sch *schema.Schema, t *schema.Table, p *store.Principal, now time.Time, fq *fetchxml.Query) (*fetchPlan, error) {
	if fq.Entity.Name != t.LogicalName {
		if _, known := sch.Table(fq.Entity.Name); !known {
			return nil, fetchError(dverr.CodeFetchNoEntity, "The specified entity was not found. There is no table with the logical name '%s'.", fq.Entity.Name)
		}
		return nil, fetchError(dverr.CodeFetchEntitiesDontMatch, "The entity name specified in fetchxml does not match the entity name specified in the Entity or Query Expression.")
	}
	if fq.Top > maxPageSize || fq.Count > maxPageSize {
		return nil, fetchError(dverr.CodeFetchInvalidValue, "Invalid value specified for type. The top and count attributes of <fetch> cannot exceed %d.", maxPageSize)
	}
	if fq.Top > 0 && (fq.Count > 0 || fq.Page > 0) {
		return nil, fetchError(dverr.CodeFetchInvalidValue, "Invalid value specified for type. The top attribute cannot be combined with page or count; use count and page to page results.")
	}
	if fq.Top > 0 && fq.TotalCount {
		return nil, fetchError(dverr.CodeFetchInvalidValue, "Invalid value specified for type. The top attribute cannot be combined with returntotalrecordcount.")
	}
	fb := &fetchBinder{sch: sch, p: p, now: now, scopes: map[string]*fetchScope{}, linkScopes: map[*fetchxml.Link]*fetchScope{}, aliases: map[string]bool{}}
	root := &fetchScope{table: t, name: fq.Entity.Name}
	fb.plan = &fetchPlan{fq: fq, table: t, root: root, query: store.Query{Table: t, Distinct: fq.Distinct && !fq.Aggregate}, joinAlias: map[*store.Join]string{}}
	joins, err := fb.bindLinks(root, fq.Entity.Links)
	if err != nil {
		return nil, err
	}
	fb.plan.query.Joins = joins
	where, err := fb.bindFilters(fq.Entity.Filters, root, true)
	if err != nil {
		return nil, err
	}
	fb.plan.query.Where = where
	if err := fb.bindLinkFilters(fq.Entity.Links); err != nil {
		return nil, err
	}
	if fb.conds > maxConditions {
		return nil, errTooManyConditions()
	}
	if fq.Aggregate {
		err = fb.bindAggregate()
	} else {
		err = fb.bindColumns()
	}
	if err != nil {
		return nil, err
	}
	return fb.plan, nil
}

// bindLinks resolves the link-entities under parent into joins.
func (fb *fetchBinder) bindLinks(parent *fetchScope, links []*fetchxml.Link) ([]*store.Join, error) {
	var joins []*store.Join
	for _, l := range links {
		fb.links++
		t, ok := fb.sch.Table(l.Name)
		if !ok {
			// The intersect table of an N:N relationship
			// (intersect='true' in the documented queries).
			t, ok = fb.sch.IntersectTable(l.Name)
		}
		if !ok {
			return nil, fetchError(dverr.CodeFetchNoEntity, "The specified entity was not found. There is no table with the logical name '%s' (link-entity).", l.Name)
		}
		from, ok := t.Column(l.From)
		if !ok {
			return nil, errFetchNoAttribute(t, l.From)
		}
		to, ok := parent.table.Column(l.To)
		if !ok {
			return nil, errFetchNoAttribute(parent.table, l.To)
		}
		if from.EdmType() != to.EdmType() {
			return nil, fetchError(dverr.CodeJoinTypeMismatch, "Data Types don't match for the link-entity join attributes '%s', '%s'.", l.From, l.To)
		}
		j := &store.Join{Table: t, From: from, To: to}
		switch l.LinkType {
		case "", "inner":
		case "outer":
			j.Outer = true
		case "natural", "in", "exists", "matchfirstrowusingcrossapply", "any", "not any", "all", "not all":
			return nil, errNotImplemented("the FetchXML link-type '" + l.LinkType + "'")
		default:
			return nil, fetchError(dverr.CodeFetchInvalidLinkType, "The only valid values for link-type attribute are 'natural', 'inner','in','exists','matchfirstrowusingcrossapply' and 'outer'. The link-entity '%s' has link-type='%s'.", l.Name, l.LinkType)
		}
		alias := l.Alias
		if alias == "" {
			alias = generatedLinkAlias(l.Name, fb.links)
		}
		if _, dup := fb.scopes[alias]; dup || alias == fb.plan.root.name {
			return nil, fetchError(dverr.CodeFetchDuplicateAlias, "FetchXML should have unique aliases. The alias '%s' is used twice.", alias)
		}
		scope := &fetchScope{table: t, join: j, alias: alias, name: l.Name}
		fb.scopes[alias] = scope
		fb.linkScopes[l] = scope
		fb.plan.joinAlias[j] = alias
		nested, err := fb.bindLinks(scope, l.Links)
		if err != nil {
			return nil, err
		}
		j.Joins = nested
		joins = append(joins, j)
	}
	return joins, nil
}

// bindLinkFilters binds each link-entity's filters into its join
// condition (rows of the linked table that fail them are not joined).
func (fb *fetchBinder) bindLinkFilters(links []*fetchxml.Link) error {
	for _, l := range links {
		scope := fb.scopeOfLink(l)
		on, err := fb.bindFilters(l.Filters, scope, false)
		if err != nil {
			return err
		}
		scope.join.On = on
		if err := fb.bindLinkFilters(l.Links); err != nil {
			return err
		}
	}
	return nil
}

// scopeOfLink returns the scope bound for a link-entity element.
func (fb *fetchBinder) scopeOfLink(l *fetchxml.Link) *fetchScope { return fb.linkScopes[l] }

// bindFilters binds the filter elements of an entity (ANDed together).
func (fb *fetchBinder) bindFilters(filters []*fetchxml.Filter, scope *fetchScope, atRoot bool) (store.Cond, error) {
	var conds []store.Cond
	for _, f := range filters {
		c, err := fb.bindFilter(f, scope, atRoot)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	if len(conds) == 0 {
		return nil, nil
	}
	return store.And(conds...), nil
}

func (fb *fetchBinder) bindFilter(f *fetchxml.Filter, scope *fetchScope, atRoot bool) (store.Cond, error) {
	var conds []store.Cond
	for _, c := range f.Conditions {
		fb.conds++
		if fb.conds > maxConditions {
			return nil, errTooManyConditions()
		}
		bc, err := fb.bindCondition(c, scope, atRoot)
		if err != nil {
			return nil, err
		}
		conds = append(conds, bc)
	}
	for _, sub := range f.Filters {
		c, err := fb.bindFilter(sub, scope, atRoot)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	if f.Or {
		if len(conds) == 0 {
			return store.True, nil // an empty filter restricts nothing
		}
		return store.Or(conds...), nil
	}
	return store.And(conds...), nil
}

// conditionScope resolves a condition's entityname: in the entity's
// filters it names a link-entity by alias (or the entity itself); in a
// link-entity's filters it may only name that link-entity.
func (fb *fetchBinder) conditionScope(name string, scope *fetchScope, atRoot bool) (*fetchScope, error) {
	if name == "" {
		return scope, nil
	}
	if !atRoot {
		if name == scope.alias || name == scope.name {
			return scope, nil
		}
		return nil, fetchError(dverr.CodeFetchAliasDoesNotExist, "The specified alias for the given entity in the condition does not exist. A condition inside the link-entity '%s' can only refer to that link-entity, not to '%s'; move it to the entity's filter.", scope.alias, name)
	}
	if s, ok := fb.scopes[name]; ok {
		return s, nil
	}
	if name == fb.plan.root.name {
		return fb.plan.root, nil
	}
	return nil, fetchError(dverr.CodeFetchAliasDoesNotExist, "The specified alias for the given entity in the condition does not exist. No link-entity has the alias '%s'.", name)
}

func (fb *fetchBinder) bindCondition(c *fetchxml.Condition, scope *fetchScope, atRoot bool) (store.Cond, error) {
	target, err := fb.conditionScope(c.EntityName, scope, atRoot)
	if err != nil {
		return nil, err
	}
	col, ok := target.table.Column(c.Attribute)
	if !ok {
		return nil, errFetchNoAttribute(target.table, c.Attribute)
	}
	cond, err := fb.bindOperator(c, col, target)
	if err != nil {
		return nil, err
	}
	if target != scope && target.join != nil {
		return store.InJoin(target.join, cond), nil
	}
	return cond, nil
}

// bindColumns plans the columns and order of a non-aggregate query.
func (fb *fetchBinder) bindColumns() error {
	plan := fb.plan
	t := plan.table
	var rootCols []*schema.Column
	var ctx []string
	plain := map[*schema.Column]bool{} // root columns written under their own name
	addRoot := func(key string, c *schema.Column, aliased bool) {
		plan.cols = append(plan.cols, fetchColumn{key: key, col: c, scope: plan.root, aliased: aliased, index: len(rootCols)})
		rootCols = append(rootCols, c)
	}
	e := plan.fq.Entity
	for _, a := range e.Attributes {
		if a.Aggregate != "" || a.GroupBy || a.DateGrouping != "" {
			return fetchError(dverr.CodeFetchInvalidAggregate, "An error occurred while processing Aggregates in Query. The attribute '%s' has aggregate, groupby or dategrouping, but the <fetch> element does not have aggregate='true'.", a.Name)
		}
		c, ok := t.Column(a.Name)
		if !ok || !c.ValidForRead {
			return errFetchNoAttribute(t, a.Name)
		}
		if a.Alias != "" {
			if err := fb.claimAlias(a.Alias); err != nil {
				return err
			}
			addRoot(a.Alias, c, true)
			ctx = append(ctx, c.LogicalName)
			continue
		}
		if plain[c] {
			continue
		}
		plain[c] = true
		addRoot(c.PropertyName(), c, false)
		ctx = append(ctx, contextName(c)...)
	}
	if e.AllAttributes {
		for _, c := range t.Columns {
			if !c.Internal && c.ValidForRead && !plain[c] {
				plain[c] = true
				addRoot(c.PropertyName(), c, false)
				ctx = append(ctx, contextName(c)...)
			}
		}
	}
	if !plan.query.Distinct {
		// Money brings the row's currency along, and the primary key is
		// always returned, as in Dataverse's responses.
		if cur, ok := t.Column("transactioncurrencyid"); ok && !plain[cur] {
			for _, c := range rootCols {
				if c.Type == schema.TypeMoney {
					plain[cur] = true
					addRoot(cur.PropertyName(), cur, false)
					ctx = append(ctx, contextName(cur)...)
					break
				}
			}
		}
		if pk := t.PrimaryID(); !plain[pk] {
			plain[pk] = true
			addRoot(pk.PropertyName(), pk, false)
			ctx = append(ctx, pk.LogicalName)
		}
	}
	for _, c := range rootCols {
		if c.IsLookup() && plain[c] {
			if nav := lookupNavigation(t, c, c.Targets[0]); nav != "" {
				ctx = append(ctx, nav+"()")
			}
		}
	}
	plan.query.Columns = rootCols
	plan.context = "(" + strings.Join(ctx, ",") + ")"
	// Link-entity columns follow, in the order the store returns them
	// (depth-first).
	index := len(rootCols)
	var walk func(links []*fetchxml.Link) error
	walk = func(links []*fetchxml.Link) error {
		for _, l := range links {
			scope := fb.scopeOfLink(l)
			add := func(key string, c *schema.Column) {
				plan.cols = append(plan.cols, fetchColumn{key: key, col: c, scope: scope, aliased: true, index: index})
				scope.join.Columns = append(scope.join.Columns, c)
				index++
			}
			for _, a := range l.Attributes {
				if a.Aggregate != "" || a.GroupBy || a.DateGrouping != "" {
					return fetchError(dverr.CodeFetchInvalidAggregate, "An error occurred while processing Aggregates in Query. The attribute '%s' has aggregate, groupby or dategrouping, but the <fetch> element does not have aggregate='true'.", a.Name)
				}
				c, ok := scope.table.Column(a.Name)
				if !ok || !c.ValidForRead {
					return errFetchNoAttribute(scope.table, a.Name)
				}
				key := scope.alias + "." + c.LogicalName
				if a.Alias != "" {
					if err := fb.claimAlias(a.Alias); err != nil {
						return err
					}
					key = a.Alias
				}
				add(key, c)
			}
			if l.AllAttributes {
				for _, c := range scope.table.Columns {
					if !c.Internal && c.ValidForRead {
						add(scope.alias+"."+c.LogicalName, c)
					}
				}
			}
			if err := walk(l.Links); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(e.Links); err != nil {
		return err
	}
	return fb.bindOrders()
}

// contextName is how a column appears in @odata.context: a lookup as its
// property and its navigation property ("_x_value,x").
func contextName(c *schema.Column) []string {
	if c.IsLookup() {
		return []string{c.PropertyName(), c.LogicalName}
	}
	return []string{c.LogicalName}
}

// claimAlias records an attribute alias, refusing duplicates.
func (fb *fetchBinder) claimAlias(alias string) error {
	if fb.aliases[alias] {
		return fetchError(dverr.CodeFetchDuplicateAlias, "FetchXML should have unique aliases. The alias '%s' is used twice.", alias)
	}
	fb.aliases[alias] = true
	return nil
}

// bindOrders binds the order elements of a non-aggregate query: the
// entity's, then each link-entity's, in document order. A choice sorts by
// its labels unless the fetch sets useraworderby; a lookup by the name of
// the row it references (the store does that for every lookup order).
func (fb *fetchBinder) bindOrders() error {
	var orders []store.Order
	add := func(o *fetchxml.Order, scope *fetchScope, atRoot bool) error {
		if o.Alias != "" {
			return fetchError(dverr.CodeFetchOrderAliasPlain, "An alias cannot be specified for an order clause for a non-aggregate Query. Use an attribute. The order has alias='%s'.", o.Alias)
		}
		if o.Attribute == "" {
			return fetchError(dverr.CodeFetchOrderAttrRequired, "An attribute is required for an order clause for a non-aggregate Query.")
		}
		target, err := fb.conditionScope(o.EntityName, scope, atRoot)
		if err != nil {
			return err
		}
		c, ok := target.table.Column(o.Attribute)
		if !ok {
			return errFetchNoAttribute(target.table, o.Attribute)
		}
		orders = append(orders, store.Order{Column: c, Desc: o.Descending, Join: target.join, Label: !fb.plan.fq.RawOrderBy})
		return nil
	}
	for _, o := range fb.plan.fq.Entity.Orders {
		if err := add(o, fb.plan.root, true); err != nil {
			return err
		}
	}
	var walk func(links []*fetchxml.Link) error
	walk = func(links []*fetchxml.Link) error {
		for _, l := range links {
			scope := fb.scopeOfLink(l)
			for _, o := range l.Orders {
				if err := add(o, scope, false); err != nil {
					return err
				}
			}
			if err := walk(l.Links); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(fb.plan.fq.Entity.Links); err != nil {
		return err
	}
	fb.plan.query.Orders = orders
	return nil
}
