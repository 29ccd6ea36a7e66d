package dataverse

// Checks of the names a caller puts in a URL: entity sets, columns,
// navigation properties, sort keys and annotation names. They run on every
// call (a Retrieve checks its entity set and each $select name), so they
// are hand-written loops over bytes rather than regular expressions; each
// is equivalent to the expression in its comment, which
// names_test.go checks with table tests and a fuzz test.

// namePattern matches ^[A-Za-z_][A-Za-z0-9_]*$: an entity set, column,
// navigation property or parameter name. It keeps the regexp's method
// name so call sites read as before.
type namePattern struct{}

// MatchString reports whether s is a name.
func (namePattern) MatchString(s string) bool { return isName(s) }

// sortKeyPattern matches ^[A-Za-z_@][A-Za-z0-9_./@]*( (asc|desc))?$: a
// $orderby key with an optional direction.
type sortKeyPattern struct{}

// MatchString reports whether s is a sort key.
func (sortKeyPattern) MatchString(s string) bool { return isSortKey(s) }

// annotationNamePattern matches ^[A-Za-z0-9_.*]+$: an annotation name or
// a wildcard pattern such as "OData.Community.Display.V1.*".
type annotationNamePattern struct{}

// MatchString reports whether s is an annotation name.
func (annotationNamePattern) MatchString(s string) bool { return isAnnotationName(s) }

var (
	propertyNamePattern namePattern
	entitySetPattern    namePattern
	orderByPattern      sortKeyPattern
	annotationPattern   annotationNamePattern
)

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isName reports whether s matches ^[A-Za-z_][A-Za-z0-9_]*$.
func isName(s string) bool {
	if s == "" || !(isLetter(s[0]) || s[0] == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(isLetter(c) || isDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

// isSortKey reports whether s matches
// ^[A-Za-z_@][A-Za-z0-9_./@]*( (asc|desc))?$.
func isSortKey(s string) bool {
	key := s
	for _, dir := range [...]string{" asc", " desc"} {
		if len(s) > len(dir) && s[len(s)-len(dir):] == dir {
			key = s[:len(s)-len(dir)]
			break
		}
	}
	if key == "" || !(isLetter(key[0]) || key[0] == '_' || key[0] == '@') {
		return false
	}
	for i := 1; i < len(key); i++ {
		switch c := key[i]; {
		case isLetter(c), isDigit(c), c == '_', c == '.', c == '/', c == '@':
		default:
			return false
		}
	}
	return true
}

// isAnnotationName reports whether s matches ^[A-Za-z0-9_.*]+$.
func isAnnotationName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isLetter(c), isDigit(c), c == '_', c == '.', c == '*':
		default:
			return false
		}
	}
	return true
}
