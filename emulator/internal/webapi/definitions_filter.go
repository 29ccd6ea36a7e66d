package webapi

import (
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/google/uuid"
)

// evalMetadataFilter evaluates a $filter on a metadata record: and, or,
// not, and comparisons of a property (or a path into a complex property,
// such as RequiredLevel/Value) with a literal.
func evalMetadataFilter(e odata.Expr, r record, typ *metaType) (bool, error) {
	switch x := e.(type) {
	case *odata.BinaryExpr:
		switch x.Op {
		case odata.OpAnd, odata.OpOr:
			l, err := evalMetadataFilter(x.Left, r, typ)
			if err != nil {
				return false, err
			}
			rt, err := evalMetadataFilter(x.Right, r, typ)
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
			v, err := metadataPath(r, pe, typ)
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
		v, err := evalMetadataFilter(x.X, r, typ)
		return !v, err
	case *odata.PathExpr:
		v, err := metadataPath(r, x, typ)
		b, _ := v.(bool)
		return b, err
	}
	return false, errFilterUnsupported("This $filter is not supported on metadata; use eq, ne, and, or and not.")
}

// metadataPath reads a property, or a path into a complex property
// (IsCustomizable/Value), of a record whose declared type is typ: a
// property of a derived type needs a cast, as in Dataverse.
func metadataPath(r record, pe *odata.PathExpr, typ *metaType) (any, error) {
	if len(pe.Segments) == 0 {
		return nil, errFilterUnsupported("A metadata $filter compares a property with a value.")
	}
	first := pe.Segments[0].Name
	decl, ok := typ.prop(first)
	if !ok {
		return nil, errPropertyNotFound(first, metadataType(typ.name))
	}
	if decl.typ == lbl {
		return nil, errFilterUnsupported("Label properties such as '%s' cannot be used in a metadata $filter.", first)
	}
	var cur any = r
	for _, s := range pe.Segments {
		rec, ok := cur.(record)
		if !ok {
			return nil, errPropertyNotFound(s.Name, metadataType(typ.name))
		}
		if cur, ok = rec.get(s.Name); !ok {
			return nil, errPropertyNotFound(s.Name, metadataType(typ.name))
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
