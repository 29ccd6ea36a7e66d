package schema

import (
	_ "embed"
	"fmt"
	"sync"
)

// Schema is a compiled, read-only set of tables and relationships.
type Schema struct {
	tables        []*Table
	byLogical     map[string]*Table
	bySet         map[string]*Table
	byCode        map[int]*Table
	relationships []*Relationship
	byRelName     map[string]*Relationship
	intersects    map[string]*Table
	optionSets    []*OptionSet
	byOptionSet   map[string]*OptionSet
}

// Tables returns all tables in definition order (built-in tables first).
// The slice must not be modified.
func (s *Schema) Tables() []*Table { return s.tables }

// Table returns the table with the given logical name (case-sensitive).
func (s *Schema) Table(logicalName string) (*Table, bool) {
	t, ok := s.byLogical[logicalName]
	return t, ok
}

// TableBySet returns the table with the given entity set name
// (case-sensitive: "Contacts" is not "contacts").
func (s *Schema) TableBySet(entitySetName string) (*Table, bool) {
	t, ok := s.bySet[entitySetName]
	return t, ok
}

// TableByObjectTypeCode returns the table with the given object type code.
func (s *Schema) TableByObjectTypeCode(code int) (*Table, bool) {
	t, ok := s.byCode[code]
	return t, ok
}

// IntersectTable returns the intersect table of an N:N relationship by
// its logical name ("systemuserroles", "teammembership"): not an entity
// set, but a table FetchXML may link through. See [Table.Intersect].
func (s *Schema) IntersectTable(logicalName string) (*Table, bool) {
	t, ok := s.intersects[logicalName]
	return t, ok
}

// Relationships returns all relationships in definition order. The slice
// must not be modified.
func (s *Schema) Relationships() []*Relationship { return s.relationships }

// Relationship returns the relationship with the given schema name
// (case-sensitive).
func (s *Schema) Relationship(schemaName string) (*Relationship, bool) {
	r, ok := s.byRelName[schemaName]
	return r, ok
}

//go:embed builtin.yaml
var builtinYAML []byte

var builtin struct {
	once sync.Once
	def  *Definition
	s    *Schema
	err  error
}

func loadBuiltin() {
	builtin.def, builtin.err = Parse(builtinYAML, "builtin.yaml")
	if builtin.err == nil {
		builtin.s, builtin.err = Compile(builtin.def)
	}
}

// Builtin returns the schema of the built-in tables. It is compiled once
// and shared; it is read-only.
func Builtin() *Schema {
	builtin.once.Do(loadBuiltin)
	if builtin.err != nil {
		// builtin.yaml is part of the binary and covered by tests; failing
		// here means the embedded file itself is broken.
		panic(fmt.Sprintf("schema: built-in definitions do not compile: %v", builtin.err))
	}
	return builtin.s
}

// BuiltinDefinition returns a copy of the built-in definitions, for
// callers that want to inspect or extend them.
func BuiltinDefinition() *Definition {
	builtin.once.Do(loadBuiltin)
	if builtin.err != nil {
		panic(fmt.Sprintf("schema: built-in definitions do not parse: %v", builtin.err))
	}
	return builtin.def.clone()
}

// WithBuiltin compiles the built-in tables together with user definitions:
// user tables are added, and a user table whose logical name is a
// built-in table adds its columns and keys to that table.
func WithBuiltin(user ...*Definition) (*Schema, error) {
	if len(user) == 0 {
		return Builtin(), nil
	}
	merged := BuiltinDefinition()
	for _, d := range user {
		if err := merged.merge(d); err != nil {
			return nil, err
		}
	}
	return Compile(merged)
}
