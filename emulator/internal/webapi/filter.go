package webapi

import (
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// binder resolves a $filter syntax tree against table metadata and turns
// it into a store condition. Literal values become bound parameters; no
// caller text reaches SQL.
type binder struct {
	req   *request
	q     *odata.Query // for parameter aliases; may be nil
	table *schema.Table
	// vars are the lambda range variables in scope, innermost last.
	vars []rangeVar
	// aliasDepth guards against aliases that refer to each other.
	aliasDepth int
}

type rangeVar struct {
	name  string
	table *schema.Table
}

func errFilterUnsupported(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, dverr.CodeQuerySyntax, format, args...)
}

// bindFilter binds a boolean expression.
func (b *binder) bindFilter(e odata.Expr) (store.Cond, error) {
	switch x := e.(type) {
	case *odata.BinaryExpr:
		switch {
		case x.Op.Logical():
			l, err := b.bindFilter(x.Left)
			if err != nil {
				return nil, err
			}
			r, err := b.bindFilter(x.Right)
			if err != nil {
				return nil, err
			}
			if x.Op == odata.OpAnd {
				return store.And(l, r), nil
			}
			return store.Or(l, r), nil
		case x.Op.Comparison():
			return b.bindComparison(x)
		}
		return nil, errFilterUnsupported("The '%s' operator is not supported in $filter.", x.Op)
	case *odata.NotExpr:
		if _, ok := x.X.(*odata.QueryFunctionExpr); ok {
			return nil, errFilterUnsupported("Not operator along with the Custom Named Condition operators is not allowed")
		}
		c, err := b.bindFilter(x.X)
		if err != nil {
			return nil, err
		}
		return store.Not(c), nil
	case *odata.CallExpr:
		return b.bindCall(x)
	case *odata.QueryFunctionExpr:
		return b.bindQueryFunction(x)
	case *odata.LambdaExpr:
		return b.bindLambda(x)
	case *odata.AliasExpr:
		b.aliasDepth++
		defer func() { b.aliasDepth-- }()
		if b.aliasDepth > 8 {
			return nil, errFilterUnsupported("Parameter aliases are nested too deeply.")
		}
		resolved, err := b.alias(x)
		if err != nil {
			return nil, err
		}
		return b.bindFilter(resolved)
	case *odata.BoolLiteral:
		if x.Value {
			return store.True, nil
		}
		return store.False, nil
	case *odata.PathExpr:
		// A bare boolean property: `creditonhold`.
		p, err := b.path(x)
		if err != nil {
			return nil, err
		}
		if p.col.Type != schema.TypeBoolean {
			return nil, errFilterUnsupported("The $filter expression must evaluate to a single boolean value.")
		}
		return p.wrap(store.Compare(p.col, store.OpEq, true)), nil
	}
	return nil, errFilterUnsupported("The $filter expression must evaluate to a single boolean value.")
}

// alias resolves a parameter alias; an unassigned alias is null.
func (b *binder) alias(a *odata.AliasExpr) (odata.Expr, error) {
	if b.q == nil {
		return &odata.NullLiteral{}, nil
	}
	return b.q.Alias(a.Name)
}

// operand replaces an alias operand by its value.
func (b *binder) operand(e odata.Expr) (odata.Expr, error) {
	for i := 0; i < 8; i++ {
		a, ok := e.(*odata.AliasExpr)
		if !ok {
			return e, nil
		}
		v, err := b.alias(a)
		if err != nil {
			return nil, err
		}
		e = v
	}
	return nil, errFilterUnsupported("Parameter aliases are nested too deeply.")
}

// boundPath is a property reached by a path: the column, and how to apply
// a condition on its table to the table being queried (through
// single-valued navigation properties).
type boundPath struct {
	col   *schema.Column
	navs  int
	wrap  func(store.Cond) store.Cond
	table *schema.Table
	// navProps are the single-valued navigation properties the path
	// follows, in order.
	navProps []*schema.NavigationProperty
}

// path resolves a property path: zero or more single-valued navigation
// properties, then a property.
func (b *binder) path(p *odata.PathExpr) (boundPath, error) {
	t, segs, err := b.pathStart(p)
	if err != nil {
		return boundPath{}, err
	}
	if len(segs) == 0 {
		return boundPath{}, errFilterUnsupported("A range variable cannot be compared by itself in $filter.")
	}
	var navs []*schema.NavigationProperty
	for _, s := range segs[:len(segs)-1] {
		n, ok := t.NavigationProperty(s.Name)
		if !ok {
			return boundPath{}, errPropertyNotFound(s.Name, t)
		}
		if n.Collection {
			return boundPath{}, errFilterUnsupported("The collection-valued navigation property '%s' can only be used with any or all.", s.Name)
		}
		if err := b.requireRead(n); err != nil {
			return boundPath{}, err
		}
		navs = append(navs, n)
		t = n.Target()
	}
	last := segs[len(segs)-1].Name
	col, ok := t.Property(last)
	if !ok {
		return boundPath{}, errPropertyNotFound(last, t)
	}
	wrap := func(c store.Cond) store.Cond {
		for i := len(navs) - 1; i >= 0; i-- {
			c = store.Related(navs[i], c)
		}
		return c
	}
	return boundPath{col: col, navs: len(navs), wrap: wrap, table: t, navProps: navs}, nil
}

// requireRead checks that the caller may read the rows a navigation
// property leads to (every target of ownerid): a condition on related rows
// reads them, so a caller without prvRead on their table gets the same 403
// as $expand and FetchXML link-entity give, not a silently empty result.
func (b *binder) requireRead(n *schema.NavigationProperty) error {
	for _, target := range n.Targets {
		if _, err := b.req.h.store.Require(b.req.p, store.VerbRead, target); err != nil {
			return err
		}
	}
	return nil
}

// pathStart returns the table a path starts from and its segments.
func (b *binder) pathStart(p *odata.PathExpr) (*schema.Table, []odata.Segment, error) {
	switch p.Root {
	case odata.RootIt:
		if len(b.vars) > 0 {
			return nil, nil, errFilterUnsupported("$it inside a lambda expression is not supported.")
		}
		return b.table, p.Segments, nil
	case odata.RootRangeVariable:
		for i := len(b.vars) - 1; i >= 0; i-- {
			if b.vars[i].name == p.Var {
				if i != len(b.vars)-1 {
					return nil, nil, errFilterUnsupported("The range variable '%s' of an outer lambda expression cannot be used here.", p.Var)
				}
				return b.vars[i].table, p.Segments, nil
			}
		}
		return nil, nil, errPropertyNotFound(p.Var, b.current())
	}
	return b.current(), p.Segments, nil
}

func (b *binder) current() *schema.Table {
	if len(b.vars) > 0 {
		return b.vars[len(b.vars)-1].table
	}
	return b.table
}

var flippedOps = map[odata.BinaryOp]odata.BinaryOp{
	odata.OpEq: odata.OpEq, odata.OpNe: odata.OpNe,
	odata.OpGt: odata.OpLt, odata.OpGe: odata.OpLe, odata.OpLt: odata.OpGt, odata.OpLe: odata.OpGe,
}

var storeOps = map[odata.BinaryOp]store.Op{
	odata.OpEq: store.OpEq, odata.OpNe: store.OpNe, odata.OpGt: store.OpGt,
	odata.OpGe: store.OpGe, odata.OpLt: store.OpLt, odata.OpLe: store.OpLe,
}

func (b *binder) bindComparison(x *odata.BinaryExpr) (store.Cond, error) {
	left, err := b.operand(x.Left)
	if err != nil {
		return nil, err
	}
	right, err := b.operand(x.Right)
	if err != nil {
		return nil, err
	}
	op := x.Op
	for _, side := range []odata.Expr{left, right} {
		if call, ok := side.(*odata.CallExpr); ok {
			if info, known := odata.LookupFunction(call.Name); known && !info.Dataverse {
				return nil, errFilterUnsupported("The '%s' function is not supported.", call.Name)
			}
			return nil, errFilterUnsupported("The result of the function '%s' cannot be compared; use it as a condition by itself.", call.Name)
		}
	}
	lp, leftIsPath := left.(*odata.PathExpr)
	rp, rightIsPath := right.(*odata.PathExpr)
	switch {
	case leftIsPath && rightIsPath:
		a, err := b.path(lp)
		if err != nil {
			return nil, err
		}
		c, err := b.path(rp)
		if err != nil {
			return nil, err
		}
		if a.navs > 0 || c.navs > 0 {
			return nil, errFilterUnsupported("Comparing columns of related tables is not supported.")
		}
		if a.col.EdmType() != c.col.EdmType() {
			return nil, newError(http.StatusBadRequest, dverr.CodeIncompatibleTypes,
				"A binary operator with incompatible types was detected. Found operand types '%s' and '%s' for operator kind '%s'.",
				a.col.EdmType(), c.col.EdmType(), op.KindName())
		}
		return store.CompareColumns(a.col, storeOps[op], c.col), nil
	case !leftIsPath && rightIsPath:
		right, lp = left, rp // the literal is now on the right
		op = flippedOps[op]
	case !leftIsPath:
		return nil, errFilterUnsupported("A $filter comparison needs a property on one side.")
	}
	p, err := b.path(lp)
	if err != nil {
		return nil, err
	}
	if _, isNull := right.(*odata.NullLiteral); !isNull {
		if _, isLit := isLiteral(right); !isLit {
			return nil, errFilterUnsupported("The right operand of '%s' must be a literal value.", x.Op)
		}
	}
	v, err := literalValue(p.col, right, x.Op)
	if err != nil {
		return nil, err
	}
	return p.wrap(store.Compare(p.col, storeOps[op], v)), nil
}

func isLiteral(e odata.Expr) (odata.Expr, bool) {
	switch e.(type) {
	case *odata.StringLiteral, *odata.IntLiteral, *odata.DecimalLiteral, *odata.DoubleLiteral, *odata.BoolLiteral,
		*odata.GUIDLiteral, *odata.DateTimeOffsetLiteral, *odata.DateLiteral, *odata.NullLiteral, *odata.EnumLiteral:
		return e, true
	}
	return nil, false
}

// bindCall binds contains, startswith and endswith; Dataverse evaluates
// no other OData function.
func (b *binder) bindCall(x *odata.CallExpr) (store.Cond, error) {
	info, known := odata.LookupFunction(x.Name)
	if !known {
		return nil, errFilterUnsupported("An unknown function with name '%s' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", x.Name)
	}
	if !info.Dataverse {
		return nil, errFilterUnsupported("The '%s' function is not supported.", x.Name)
	}
	if len(x.Args) != 2 {
		return nil, errFilterUnsupported("The '%s' function takes two arguments.", x.Name)
	}
	arg0, err := b.operand(x.Args[0])
	if err != nil {
		return nil, err
	}
	arg1, err := b.operand(x.Args[1])
	if err != nil {
		return nil, err
	}
	pe, ok := arg0.(*odata.PathExpr)
	if !ok {
		return nil, errFilterUnsupported("The first argument of '%s' must be a property.", x.Name)
	}
	p, err := b.path(pe)
	if err != nil {
		return nil, err
	}
	lit, ok := arg1.(*odata.StringLiteral)
	if !p.col.Type.IsText() || !ok {
		return nil, newError(http.StatusBadRequest, dverr.CodeIncompatibleTypes,
			"No function signature for the function with name '%s' matches the specified arguments. The function signatures considered are: %s(Edm.String Nullable=true, Edm.String Nullable=true).", x.Name, x.Name)
	}
	// Dataverse passes SQL wildcards in the value through to LIKE.
	pattern := lit.Value
	switch x.Name {
	case "contains":
		pattern = "%" + pattern + "%"
	case "startswith":
		pattern += "%"
	case "endswith":
		pattern = "%" + pattern
	}
	return p.wrap(store.Like(p.col, pattern)), nil
}

// bindLambda binds coll/any(v:pred) and coll/all(v:pred).
func (b *binder) bindLambda(x *odata.LambdaExpr) (store.Cond, error) {
	t, segs, err := b.pathStart(x.Collection)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return nil, errFilterUnsupported("any and all need a collection-valued navigation property.")
	}
	var navs []*schema.NavigationProperty
	for i, s := range segs {
		n, ok := t.NavigationProperty(s.Name)
		if !ok {
			return nil, errPropertyNotFound(s.Name, t)
		}
		if last := i == len(segs)-1; last != n.Collection {
			if last {
				return nil, errFilterUnsupported("The navigation property '%s' is not collection-valued; any and all need a collection.", s.Name)
			}
			return nil, errFilterUnsupported("A collection-valued navigation property under a lookup is not supported in $filter.")
		}
		if err := b.requireRead(n); err != nil {
			return nil, err
		}
		navs = append(navs, n)
		t = n.Target()
	}
	coll := navs[len(navs)-1]
	var pred store.Cond
	if x.Predicate != nil {
		b.vars = append(b.vars, rangeVar{name: x.Var, table: coll.Target()})
		pred, err = b.bindFilter(x.Predicate)
		b.vars = b.vars[:len(b.vars)-1]
		if err != nil {
			return nil, err
		}
	}
	var c store.Cond
	if x.Kind == odata.LambdaAll {
		if pred == nil {
			return nil, errFilterUnsupported("all needs a predicate.")
		}
		c = store.All(coll, pred)
	} else {
		c = store.Any(coll, pred)
	}
	for i := len(navs) - 2; i >= 0; i-- {
		c = store.Related(navs[i], c)
	}
	return c, nil
}

// columnByName resolves the PropertyName parameter of a query function.
func (b *binder) columnByName(f *odata.QueryFunctionExpr) (boundPath, error) {
	v, ok := f.Param("PropertyName")
	if !ok {
		return boundPath{}, errFilterUnsupported("The function '%s' requires the parameter 'PropertyName'.", f.FullName())
	}
	v, err := b.operand(v)
	if err != nil {
		return boundPath{}, err
	}
	s, ok := v.(*odata.StringLiteral)
	if !ok {
		return boundPath{}, errFilterUnsupported("The PropertyName parameter of '%s' must be a string.", f.FullName())
	}
	// PropertyName names a column by its logical name, as the reference's
	// examples do ('ownerid', 'primarycontactid', 'createdon'); a Web API
	// property path ('_ownerid_value', 'primarycontactid/fullname') is
	// accepted too.
	if t := b.current(); !strings.Contains(s.Value, "/") {
		if col, ok := t.Column(s.Value); ok && !col.Internal {
			return boundPath{col: col, wrap: func(c store.Cond) store.Cond { return c }, table: t}, nil
		}
	}
	segs := strings.Split(s.Value, "/")
	pe := &odata.PathExpr{}
	for _, name := range segs {
		pe.Segments = append(pe.Segments, odata.Segment{Name: name})
	}
	return b.path(pe)
}
