package webapi

import (
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/google/uuid"
)

// evalMetadataFilter evaluates a $filter on a metadata record: and, or,
// not, and comparisons of a property (or a path into a complex property,
// such as RequiredLevel/Value) with a literal.
func evalMetadataFilter(e odata.Expr, r record, typeName string) (bool, error) {
	switch x := e.(type) {
	case *odata.BinaryExpr:
		switch x.Op {
		case odata.OpAnd, odata.OpOr:
			l, err := evalMetadataFilter(x.Left, r, typeName)
			if err != nil {
				return false, err
			}
			rt, err := evalMetadataFilter(x.Right, r, typeName)
			if err != nil {
				return false, err
			}
			if x.Op == odata.OpAnd {
				return l && rt, nil
			}
			return l || rt, nil
		case odata.OpEq, odata.OpNe:
			path, lit := x.Left, x.Right
			if _, ok := path.(*odata.PathExpr); !ok {
				path, lit = lit, path
			}
			pe, ok := path.(*odata.PathExpr)
			if !ok {
				return false, errFilterUnsupported("A metadata $filter compares a property with a value.")
			}
			v, err := metadataPath(r, pe, typeName)
			if err != nil {
				return false, err
			}
			eq := metadataEqual(v, lit)
			if x.Op == odata.OpNe {
				return !eq, nil
			}
			return eq, nil
		}
	case *odata.NotExpr:
		v, err := evalMetadataFilter(x.X, r, typeName)
		return !v, err
	case *odata.PathExpr:
		v, err := metadataPath(r, x, typeName)
		b, _ := v.(bool)
		return b, err
	}
	return false, errFilterUnsupported("This $filter is not supported on metadata; use eq, ne, and, or and not.")
}

func metadataPath(r record, pe *odata.PathExpr, typeName string) (any, error) {
	var cur any = r
	for _, s := range pe.Segments {
		rec, ok := cur.(record)
		if !ok {
			return nil, errPropertyNotFound(s.Name, metadataType(typeName))
		}
		if cur, ok = rec.get(s.Name); !ok {
			return nil, errPropertyNotFound(s.Name, metadataType(typeName))
		}
	}
	return cur, nil
}

func metadataEqual(v any, lit odata.Expr) bool {
	switch l := lit.(type) {
	case *odata.NullLiteral:
		return v == nil
	case *odata.StringLiteral:
		s, ok := v.(string)
		return ok && s == l.Value
	case *odata.EnumLiteral:
		s, ok := v.(string)
		return ok && s == l.Value
	case *odata.IntLiteral:
		n, ok := v.(int64)
		return ok && n == l.Value
	case *odata.BoolLiteral:
		b, ok := v.(bool)
		return ok && b == l.Value
	case *odata.GUIDLiteral:
		id, ok := v.(uuid.UUID)
		return ok && id == l.Value
	}
	return false
}
