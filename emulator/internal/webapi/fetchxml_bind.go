package webapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/dverr"
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
	fq    *fetchQuery
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
	linkScopes map[*fetchLink]*fetchScope
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
func bindFetch(sch *schema.Schema, t *schema.Table, p *store.Principal, now time.Time, fq *fetchQuery) (*fetchPlan, error) {
	if fq.entity.name != t.LogicalName {
		if _, known := sch.Table(fq.entity.name); !known {
			return nil, fetchError(dverr.CodeFetchNoEntity, "The specified entity was not found. There is no table with the logical name '%s'.", fq.entity.name)
		}
		return nil, fetchError(dverr.CodeFetchEntitiesDontMatch, "The entity name specified in fetchxml does not match the entity name specified in the Entity or Query Expression.")
	}
	if fq.top > maxPageSize || fq.count > maxPageSize {
		return nil, fetchError(dverr.CodeFetchInvalidValue, "Invalid value specified for type. The top and count attributes of <fetch> cannot exceed %d.", maxPageSize)
	}
	if fq.top > 0 && (fq.count > 0 || fq.page > 0) {
		return nil, fetchError(dverr.CodeFetchInvalidValue, "Invalid value specified for type. The top attribute cannot be combined with page or count; use count and page to page results.")
	}
	if fq.top > 0 && fq.totalCount {
		return nil, fetchError(dverr.CodeFetchInvalidValue, "Invalid value specified for type. The top attribute cannot be combined with returntotalrecordcount.")
	}
	fb := &fetchBinder{sch: sch, p: p, now: now, scopes: map[string]*fetchScope{}, linkScopes: map[*fetchLink]*fetchScope{}, aliases: map[string]bool{}}
	root := &fetchScope{table: t, name: fq.entity.name}
	fb.plan = &fetchPlan{fq: fq, table: t, root: root, query: store.Query{Table: t, Distinct: fq.distinct && !fq.aggregate}, joinAlias: map[*store.Join]string{}}
	joins, err := fb.bindLinks(root, fq.entity.links)
	if err != nil {
		return nil, err
	}
	fb.plan.query.Joins = joins
	where, err := fb.bindFilters(fq.entity.filters, root, true)
	if err != nil {
		return nil, err
	}
	fb.plan.query.Where = where
	if err := fb.bindLinkFilters(fq.entity.links); err != nil {
		return nil, err
	}
	if fb.conds > maxConditions {
		return nil, errTooManyConditions()
	}
	if fq.aggregate {
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
func (fb *fetchBinder) bindLinks(parent *fetchScope, links []*fetchLink) ([]*store.Join, error) {
	var joins []*store.Join
	for _, l := range links {
		fb.links++
		t, ok := fb.sch.Table(l.name)
		if !ok {
			// The intersect table of an N:N relationship
			// (intersect='true' in the documented queries).
			t, ok = fb.sch.IntersectTable(l.name)
		}
		if !ok {
			return nil, fetchError(dverr.CodeFetchNoEntity, "The specified entity was not found. There is no table with the logical name '%s' (link-entity).", l.name)
		}
		from, ok := t.Column(l.from)
		if !ok {
			return nil, errFetchNoAttribute(t, l.from)
		}
		to, ok := parent.table.Column(l.to)
		if !ok {
			return nil, errFetchNoAttribute(parent.table, l.to)
		}
		if from.EdmType() != to.EdmType() {
			return nil, fetchError(dverr.CodeJoinTypeMismatch, "Data Types don't match for the link-entity join attributes '%s', '%s'.", l.from, l.to)
		}
		j := &store.Join{Table: t, From: from, To: to}
		switch l.linkType {
		case "", "inner":
		case "outer":
			j.Outer = true
		case "natural", "in", "exists", "matchfirstrowusingcrossapply", "any", "not any", "all", "not all":
			return nil, errNotImplemented("the FetchXML link-type '" + l.linkType + "'")
		default:
			return nil, fetchError(dverr.CodeFetchInvalidLinkType, "The only valid values for link-type attribute are 'natural', 'inner','in','exists','matchfirstrowusingcrossapply' and 'outer'. The link-entity '%s' has link-type='%s'.", l.name, l.linkType)
		}
		alias := l.alias
		if alias == "" {
			alias = generatedLinkAlias(l.name, fb.links)
		}
		if _, dup := fb.scopes[alias]; dup || alias == fb.plan.root.name {
			return nil, fetchError(dverr.CodeFetchDuplicateAlias, "FetchXML should have unique aliases. The alias '%s' is used twice.", alias)
		}
		scope := &fetchScope{table: t, join: j, alias: alias, name: l.name}
		fb.scopes[alias] = scope
		fb.linkScopes[l] = scope
		fb.plan.joinAlias[j] = alias
		nested, err := fb.bindLinks(scope, l.links)
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
func (fb *fetchBinder) bindLinkFilters(links []*fetchLink) error {
	for _, l := range links {
		scope := fb.scopeOfLink(l)
		on, err := fb.bindFilters(l.filters, scope, false)
		if err != nil {
			return err
		}
		scope.join.On = on
		if err := fb.bindLinkFilters(l.links); err != nil {
			return err
		}
	}
	return nil
}

// scopeOfLink returns the scope bound for a link-entity element.
func (fb *fetchBinder) scopeOfLink(l *fetchLink) *fetchScope { return fb.linkScopes[l] }

// bindFilters binds the filter elements of an entity (ANDed together).
func (fb *fetchBinder) bindFilters(filters []*fetchFilter, scope *fetchScope, atRoot bool) (store.Cond, error) {
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

func (fb *fetchBinder) bindFilter(f *fetchFilter, scope *fetchScope, atRoot bool) (store.Cond, error) {
	var conds []store.Cond
	for _, c := range f.conds {
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
	for _, sub := range f.filters {
		c, err := fb.bindFilter(sub, scope, atRoot)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	if f.or {
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

func (fb *fetchBinder) bindCondition(c *fetchCondition, scope *fetchScope, atRoot bool) (store.Cond, error) {
	target, err := fb.conditionScope(c.entityName, scope, atRoot)
	if err != nil {
		return nil, err
	}
	col, ok := target.table.Column(c.attribute)
	if !ok {
		return nil, errFetchNoAttribute(target.table, c.attribute)
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
	e := plan.fq.entity
	for _, a := range e.attrs {
		if a.aggregate != "" || a.groupBy || a.dateGrouping != "" {
			return fetchError(dverr.CodeFetchInvalidAggregate, "An error occurred while processing Aggregates in Query. The attribute '%s' has aggregate, groupby or dategrouping, but the <fetch> element does not have aggregate='true'.", a.name)
		}
		c, ok := t.Column(a.name)
		if !ok || !c.ValidForRead {
			return errFetchNoAttribute(t, a.name)
		}
		if a.alias != "" {
			if err := fb.claimAlias(a.alias); err != nil {
				return err
			}
			addRoot(a.alias, c, true)
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
	if e.allAttrs {
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
	var walk func(links []*fetchLink) error
	walk = func(links []*fetchLink) error {
		for _, l := range links {
			scope := fb.scopeOfLink(l)
			add := func(key string, c *schema.Column) {
				plan.cols = append(plan.cols, fetchColumn{key: key, col: c, scope: scope, aliased: true, index: index})
				scope.join.Columns = append(scope.join.Columns, c)
				index++
			}
			for _, a := range l.attrs {
				if a.aggregate != "" || a.groupBy || a.dateGrouping != "" {
					return fetchError(dverr.CodeFetchInvalidAggregate, "An error occurred while processing Aggregates in Query. The attribute '%s' has aggregate, groupby or dategrouping, but the <fetch> element does not have aggregate='true'.", a.name)
				}
				c, ok := scope.table.Column(a.name)
				if !ok || !c.ValidForRead {
					return errFetchNoAttribute(scope.table, a.name)
				}
				key := scope.alias + "." + c.LogicalName
				if a.alias != "" {
					if err := fb.claimAlias(a.alias); err != nil {
						return err
					}
					key = a.alias
				}
				add(key, c)
			}
			if l.allAttrs {
				for _, c := range scope.table.Columns {
					if !c.Internal && c.ValidForRead {
						add(scope.alias+"."+c.LogicalName, c)
					}
				}
			}
			if err := walk(l.links); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(e.links); err != nil {
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
	add := func(o *fetchOrder, scope *fetchScope, atRoot bool) error {
		if o.alias != "" {
			return fetchError(dverr.CodeFetchOrderAliasPlain, "An alias cannot be specified for an order clause for a non-aggregate Query. Use an attribute. The order has alias='%s'.", o.alias)
		}
		if o.attribute == "" {
			return fetchError(dverr.CodeFetchOrderAttrRequired, "An attribute is required for an order clause for a non-aggregate Query.")
		}
		target, err := fb.conditionScope(o.entityName, scope, atRoot)
		if err != nil {
			return err
		}
		c, ok := target.table.Column(o.attribute)
		if !ok {
			return errFetchNoAttribute(target.table, o.attribute)
		}
		orders = append(orders, store.Order{Column: c, Desc: o.desc, Join: target.join, Label: !fb.plan.fq.rawOrderBy})
		return nil
	}
	for _, o := range fb.plan.fq.entity.orders {
		if err := add(o, fb.plan.root, true); err != nil {
			return err
		}
	}
	var walk func(links []*fetchLink) error
	walk = func(links []*fetchLink) error {
		for _, l := range links {
			scope := fb.scopeOfLink(l)
			for _, o := range l.orders {
				if err := add(o, scope, false); err != nil {
					return err
				}
			}
			if err := walk(l.links); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(fb.plan.fq.entity.links); err != nil {
		return err
	}
	fb.plan.query.Orders = orders
	return nil
}
