package cli

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// TestWriteYAMLRoundTrip: what writeYAML writes, a YAML parser reads back as the same values as
// the JSON it came from: strings that look like numbers, booleans or null stay strings,
// multi-line strings and nested rows keep their shape, and rows of an array stay in order.
func TestWriteYAMLRoundTrip(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		`{"a":"0123","b":"true","c":"null","d":"","e":"- x","f":"a: b","g":"#x","h":"two\nlines\n  indented","i":1.5,"j":-3,"k":null,"l":false}`,
		`[{"name":"Ada","note":"line1\nline2"},{"name":"Bob","nested":{"list":[1,"2",{"x":[]}]}},{}]`,
		`[]`,
		`[1,"a",null,[true]]`,
		`"just a string"`,
		`{"@odata.etag":"W/\"1\"","value":[{"k":"v"}]}`,
	} {
		var buf bytes.Buffer
		if err := writeYAML(&buf, []byte(doc)); err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		var fromYAML, fromJSON any
		if err := yaml.Unmarshal(buf.Bytes(), &fromYAML); err != nil {
			t.Fatalf("%s: the YAML does not parse: %v\n%s", doc, err, buf.String())
		}
		if err := json.Unmarshal([]byte(doc), &fromJSON); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(fromJSON, normalizeYAML(fromYAML)); diff != "" {
			t.Errorf("%s: (-json +yaml):\n%s\n%s", doc, diff, buf.String())
		}
	}
}

// normalizeYAML turns a decoded YAML value into what encoding/json decodes: float64 numbers.
func normalizeYAML(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = normalizeYAML(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = normalizeYAML(e)
		}
		return v
	case int:
		return float64(v)
	}
	return v
}
