package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a scenario that cannot be read, checked or applied. Its message names the scenario
// (its file, or "(in Options)"), the line and the field, and never repeats a secret value; the
// emulator reports it as an ErrInvalid failure.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func invalidf(format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...)}
}

// Load reads a scenario file. Relative paths inside it (certificate and schema files) are
// relative to the file's directory.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, invalidf("read scenario: %v", err)
	}
	sc, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, invalidf("scenario %s: %v", path, err)
	}
	sc.Dir = abs
	return sc, nil
}

// Parse reads a scenario from YAML. name is used in messages ("scenario NAME: line 7: …");
// relative paths inside the scenario are relative to the current directory. Unknown fields are
// errors naming their line.
func Parse(data []byte, name string) (*Scenario, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, invalidf("scenario %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	sc := &Scenario{Name: name}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(sc); err != nil {
			return nil, decodeError(name, err, secretLines(&root))
		}
	}
	sc.Name = name
	sc.Root = &root
	return sc, nil
}

// UnmarshalYAML reads rows as a mapping of entity set to a list of records, keeping the order
// of the entity sets (rows are created in that order, so lookups can point at earlier ones).
func (r *Rows) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: rows must map entity sets to lists of records, e.g. rows: {contacts: [{lastname: Lovelace}]}", n.Line)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		if seen[key.Value] {
			return fmt.Errorf("line %d: rows: entity set %q is listed twice; put all its records in one list", key.Line, key.Value)
		}
		seen[key.Value] = true
		if val.Kind != yaml.SequenceNode {
			return fmt.Errorf("line %d: rows.%s must be a list of records", val.Line, key.Value)
		}
		set := RowSet{EntitySet: key.Value}
		for _, item := range val.Content {
			if item.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: rows.%s: a record must map column names to values", item.Line, key.Value)
			}
			var rec map[string]any
			if err := item.Decode(&rec); err != nil {
				return fmt.Errorf("line %d: rows.%s: %v", item.Line, key.Value, err)
			}
			set.Records = append(set.Records, rec)
		}
		*r = append(*r, set)
	}
	return nil
}

// scenarioTypes describe the scenario's YAML types in the words a message uses, keyed by the
// names users see (publicTypeNames).
var scenarioTypes = map[string]struct {
	what string
	typ  reflect.Type
}{
	"Scenario":                {"the scenario", reflect.TypeFor[Scenario]()},
	"ScenarioOrganization":    {"organization", reflect.TypeFor[Organization]()},
	"ScenarioTenant":          {"a tenant", reflect.TypeFor[Tenant]()},
	"ScenarioApp":             {"an app", reflect.TypeFor[App]()},
	"ScenarioSecret":          {"a secret", reflect.TypeFor[Secret]()},
	"ScenarioCertificate":     {"a certificate", reflect.TypeFor[Certificate]()},
	"ScenarioBusinessUnit":    {"a business unit", reflect.TypeFor[BusinessUnit]()},
	"ScenarioRole":            {"a role", reflect.TypeFor[Role]()},
	"ScenarioApplicationUser": {"an application user", reflect.TypeFor[ApplicationUser]()},
	"ScenarioSchema":          {"schema", reflect.TypeFor[Schema]()},
}

// publicTypes are the names yaml's messages give this package's types and the traffic
// middleware's, mapped to the names of the emulator's exported types that mirror them: users
// read (and tests pin) messages such as "field x not found in type emulator.ScenarioApp", as
// they were when the scenario types were decoded in the emulator package itself.
var publicTypes = map[string]string{
	"scenario.Scenario":        "emulator.Scenario",
	"scenario.Organization":    "emulator.ScenarioOrganization",
	"scenario.Tenant":          "emulator.ScenarioTenant",
	"scenario.App":             "emulator.ScenarioApp",
	"scenario.Secret":          "emulator.ScenarioSecret",
	"scenario.Certificate":     "emulator.ScenarioCertificate",
	"scenario.BusinessUnit":    "emulator.ScenarioBusinessUnit",
	"scenario.Role":            "emulator.ScenarioRole",
	"scenario.ApplicationUser": "emulator.ScenarioApplicationUser",
	"scenario.Schema":          "emulator.ScenarioSchema",
	"scenario.Rows":            "emulator.ScenarioRows",
	"scenario.RowSet":          "emulator.ScenarioRowSet",
	"traffic.Limits":           "emulator.Limits",
	"traffic.FaultRule":        "emulator.FaultRule",
}

// typeNameRE finds the Go type a yaml message names: after "in type " or "into ", behind any
// list or pointer marks.
var typeNameRE = regexp.MustCompile(`(in type |into )((?:\[\]|\*)*)((?:scenario|traffic)\.\w+)\b`)

// publicTypeNames rewrites the type names in one of yaml's messages to those of publicTypes.
func publicTypeNames(m string) string {
	return typeNameRE.ReplaceAllStringFunc(m, func(s string) string {
		sub := typeNameRE.FindStringSubmatch(s)
		if public, ok := publicTypes[sub[3]]; ok {
			return sub[1] + sub[2] + public
		}
		return s
	})
}

var (
	unknownFieldRE = regexp.MustCompile(`^(line \d+): field (\S+) not found in type emulator\.(\w+)$`)
	// cannotUnmarshalRE matches yaml's type errors, which quote the start of the value found:
	// line 3: cannot unmarshal !!str `abc...` into []emulator.ScenarioSecret.
	cannotUnmarshalRE = regexp.MustCompile("^(line \\d+): cannot unmarshal !!(\\w+)(?: `[^`]*`)? into (.+)$")
)

// yamlKinds name yaml's tags in a message's words.
var yamlKinds = map[string]string{
	"str": "a string", "int": "a number", "float": "a number", "bool": "a boolean", "null": "null",
	"map": "a mapping", "seq": "a list", "timestamp": "a time", "binary": "binary data",
}

// decodeError rewrites yaml's strict-decoding errors for people: "line 7: unknown field
// "secert" in an app; known fields: name, clientId, …". It never repeats a value the file holds
// where it does not fit (yaml quotes one in type errors): a misplaced value may be a client
// secret. Nor does it repeat an unknown field's name inside a secret: a secret pasted as a key
// would be one.
func decodeError(name string, err error, secretLines map[int]bool) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return invalidf("scenario %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		// The schema section decodes into the schema package's types, whose names the
		// messages have always given (schema.TableDefinition); the rest are renamed.
		m = publicTypeNames(m)
		msgs[i] = m
		if sub := unknownFieldRE.FindStringSubmatch(m); sub != nil {
			if t, ok := scenarioTypes[sub[3]]; ok {
				field := strconv.Quote(sub[2])
				if sub[3] == "ScenarioSecret" {
					field = "(not repeated here: it may be the secret)"
				}
				msgs[i] = fmt.Sprintf("%s: unknown field %s in %s; known fields: %s", sub[1], field, t.what, strings.Join(yamlFields(t.typ), ", "))
			}
			continue
		}
		line, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(m, ":", 2)[0], "line "))
		if !secretLines[line] && !strings.HasSuffix(m, " into emulator.Scenario") {
			continue // a value out of place elsewhere is repeated: it says what was wrong
		}
		if sub := cannotUnmarshalRE.FindStringSubmatch(m); sub != nil {
			found := yamlKinds[sub[2]]
			if found == "" {
				found = "a value of another kind"
			}
			msgs[i] = fmt.Sprintf("%s: found %s where %s belongs", sub[1], found, yamlTypeWords(sub[3]))
			continue
		}
		msgs[i] = scrubQuoted(m)
	}
	return invalidf("scenario %s: %s", name, strings.Join(msgs, "; "))
}

// secretLines are the lines of a scenario's YAML that hold secrets: every node under a
// "secrets" key, and the key's own line (secrets: VALUE).
func secretLines(root *yaml.Node) map[int]bool {
	lines := map[int]bool{}
	var all func(n *yaml.Node)
	all = func(n *yaml.Node) {
		lines[n.Line] = true
		for _, c := range n.Content {
			all(c)
		}
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "secrets" {
					lines[n.Content[i].Line] = true
					all(n.Content[i+1])
					continue
				}
				walk(n.Content[i+1])
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root)
	return lines
}

// yamlTypeWords names a Go type of a yaml type error in the scenario's words:
// "[]emulator.ScenarioSecret" -> "a list of secrets ({value: …})".
func yamlTypeWords(goType string) string {
	list := strings.HasPrefix(goType, "[]")
	base := strings.TrimPrefix(strings.TrimPrefix(goType, "[]"), "emulator.")
	if t, ok := scenarioTypes[base]; ok {
		what := t.what
		if base == "ScenarioSecret" {
			what = "a secret ({value: …})"
		}
		if list {
			return "a list, each item " + what
		}
		return what
	}
	switch goType {
	case "string":
		return "a string"
	case "int", "int64", "bool", "float64":
		return "a " + map[string]string{"int": "whole number", "int64": "whole number", "bool": "boolean", "float64": "number"}[goType]
	}
	return "a value of type " + goType
}

// scrubQuoted removes the values yaml quotes in backticks from a message it wrote.
func scrubQuoted(m string) string {
	for {
		i := strings.IndexByte(m, '`')
		if i < 0 {
			return m
		}
		j := strings.IndexByte(m[i+1:], '`')
		if j < 0 {
			return m[:i]
		}
		m = m[:i] + "(a value)" + m[i+1+j+1:]
	}
}

// yamlFields lists the YAML names of a struct's fields, inline ones included.
func yamlFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case !f.IsExported() || name == "-":
		case strings.Contains(opts, "inline"):
			out = append(out, yamlFields(f.Type)...)
		case name != "":
			out = append(out, name)
		}
	}
	return out
}

// scenarioErrors collects the problems of a scenario, each naming its place.
type scenarioErrors struct {
	sc   *Scenario
	errs []string
}

// add records a problem at path (mapping keys and sequence indexes from the root).
func (e *scenarioErrors) add(path []any, format string, args ...any) {
	e.errs = append(e.errs, e.sc.where(path)+": "+fmt.Sprintf(format, args...))
}

func (e *scenarioErrors) err() error {
	if len(e.errs) == 0 {
		return nil
	}
	const max = 10
	msgs := e.errs
	if len(msgs) > max {
		msgs = append(msgs[:max:max], fmt.Sprintf("and %d more", len(e.errs)-max))
	}
	return invalidf("scenario %s: %s", e.sc.displayName(), e.sc.redactSecrets(strings.Join(msgs, "; ")))
}

// minRedactedSecret is the shortest secret value redactSecrets looks for.
const minRedactedSecret = 6

// redactSecrets replaces every secret value the scenario holds in msg: a value that also sits in
// another field (a secret pasted as a client ID) must not come back in that field's message.
func (sc *Scenario) redactSecrets(msg string) string {
	for _, a := range sc.Apps {
		for _, s := range a.Secrets {
			// Shorter values would redact ordinary words; no real secret is that short.
			if v := strings.TrimSpace(s.Value); len(v) >= minRedactedSecret {
				msg = strings.ReplaceAll(msg, v, "[REDACTED]")
			}
		}
	}
	return msg
}

func (sc *Scenario) displayName() string {
	if sc.Name == "" {
		return "(in Options)"
	}
	return sc.Name
}

// errorAt is one problem at path, as an error.
func (sc *Scenario) errorAt(path []any, format string, args ...any) error {
	return invalidf("scenario %s: %s: %s", sc.displayName(), sc.where(path), sc.redactSecrets(fmt.Sprintf(format, args...)))
}

// where renders a path as "line 12: apps[0].secrets[1].expires" (without the line when the
// scenario was not read from YAML).
func (sc *Scenario) where(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch v := p.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(v) + "]")
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		}
	}
	if line := sc.line(path); line > 0 {
		return "line " + strconv.Itoa(line) + ": " + b.String()
	}
	return b.String()
}

// line finds the line of the deepest node along path that exists.
func (sc *Scenario) line(path []any) int {
	if sc.Root == nil || len(sc.Root.Content) == 0 {
		return 0
	}
	n := sc.Root.Content[0]
	line := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch v := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == v {
						line = n.Content[i].Line
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && v < len(n.Content) {
				next = n.Content[v]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

// path is a shorthand for building error paths.
func path(parts ...any) []any { return parts }

// resolve makes a path in the scenario absolute (relative to the scenario file's directory).
func (sc *Scenario) resolve(p string) string {
	if filepath.IsAbs(p) || sc.Dir == "" {
		return p
	}
	return filepath.Join(sc.Dir, p)
}
