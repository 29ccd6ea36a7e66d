package emulator

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// LoadSchema reads a schema file (JSON or YAML, see SchemaDefinition and the package
// documentation, "Schema files") for Options.Schema. `d365 metadata pull` writes this format.
// Decoding is strict: an unknown field is an error naming the file and its line.
func LoadSchema(path string) (*SchemaDefinition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, invalidf("schema file: %v", err)
	}
	return ParseSchema(data, path)
}

// ParseSchema reads a schema file's contents; name (its file name) chooses the format by its
// extension and names it in errors (see LoadSchema).
func ParseSchema(data []byte, name string) (*SchemaDefinition, error) {
	def, err := schema.Parse(data, name)
	if err != nil {
		return nil, invalidf("%s", strings.TrimPrefix(err.Error(), "schema: "))
	}
	// The two types have the same fields and tags: JSON carries every field across.
	raw, err := json.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("emulator: schema %s: %w", name, err)
	}
	var out SchemaDefinition
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("emulator: schema %s: %w", name, err)
	}
	return &out, nil
}

// withSchemaOption adds Options.Schema to what the emulator starts with. Without a scenario the
// default seed stays (tenant, app, application user) and the tables are compiled with the
// built-in ones, so the file is checked before anything starts. With a scenario the tables are
// added to the scenario's own schema section, so its rows may use them.
func withSchemaOption(sc *Scenario, extra *SchemaDefinition) (*Scenario, *schema.Schema, error) {
	if extra == nil {
		return sc, schema.Builtin(), nil
	}
	if sc == nil {
		def := extra.toSchema()
		sch, err := schema.WithBuiltin(&def)
		if err != nil {
			return nil, nil, invalidf("Options.Schema: %s", strings.TrimPrefix(err.Error(), "schema: "))
		}
		return nil, sch, nil
	}
	merged := *sc
	merged.Schema.SchemaDefinition = SchemaDefinition{
		Tables:        append(append([]TableDefinition(nil), sc.Schema.Tables...), extra.Tables...),
		Relationships: append(append([]RelationshipDefinition(nil), sc.Schema.Relationships...), extra.Relationships...),
		OptionSets:    append(append([]OptionSetDefinition(nil), sc.Schema.OptionSets...), extra.OptionSets...),
	}
	return &merged, schema.Builtin(), nil
}

// BuiltinSchema returns the emulator's built-in tables (account, contact, systemuser, …) in the
// schema file format. A schema file may add columns and keys to them, but not redefine them:
// `d365 metadata pull` uses it to write only what a built-in table lacks.
func BuiltinSchema() *SchemaDefinition {
	raw, err := json.Marshal(schema.BuiltinDefinition())
	if err != nil {
		panic(err)
	}
	var out SchemaDefinition
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(err)
	}
	return &out
}
