package odata

// Walk calls fn for e and, while fn returns true, for each of its
// children in source order: operands, call arguments, parameter values,
// array items, the collection and predicate of a lambda. A nil e is not
// visited.
func Walk(e Expr, fn func(Expr) bool) {
	if e == nil || !fn(e) {
		return
	}
	switch e := e.(type) {
	case *BinaryExpr:
		Walk(e.Left, fn)
		Walk(e.Right, fn)
	case *NotExpr:
		Walk(e.X, fn)
	case *NegateExpr:
		Walk(e.X, fn)
	case *LambdaExpr:
		Walk(e.Collection, fn)
		Walk(e.Predicate, fn)
	case *CallExpr:
		for _, a := range e.Args {
			Walk(a, fn)
		}
	case *QueryFunctionExpr:
		for _, p := range e.Params {
			Walk(p.Value, fn)
		}
	case *ArrayLiteral:
		for _, it := range e.Items {
			Walk(it, fn)
		}
	}
}

// MaxConditions is the number of conditions Dataverse allows in one query
// ("Number of conditions in query exceeded maximum limit."). [unverified:
// the figure is quoted from the docs by a third party] The parser does not
// enforce it; the binder counts with [CountConditions].
const MaxConditions = 500

// CountConditions counts the conditions in a filter the way a query
// builder turns them into FetchXML conditions: each comparison, each
// function call used as a predicate (contains, startswith…), each
// Dataverse query function and each lambda, with the conditions inside
// lambdas counted too.
func CountConditions(e Expr) int {
	n := 0
	Walk(e, func(x Expr) bool {
		switch x := x.(type) {
		case *BinaryExpr:
			if x.Op.Comparison() || x.Op == OpHas {
				n++
				return false
			}
		case *CallExpr, *QueryFunctionExpr:
			n++
			return false
		case *LambdaExpr:
			n++
		}
		return true
	})
	return n
}

// MaxExpand is the number of $expand options Dataverse allows in one query
// (15 in the current docs; older docs said 10, counting nested ones). The
// parser does not enforce it; the binder counts with [CountExpands].
// [unverified: the error text for exceeding it]
const MaxExpand = 15

// CountExpands counts the expanded navigation properties in items,
// including nested ones.
func CountExpands(items []ExpandItem) int {
	n := len(items)
	for _, it := range items {
		if it.Options != nil {
			n += CountExpands(it.Options.Expand)
		}
	}
	return n
}
