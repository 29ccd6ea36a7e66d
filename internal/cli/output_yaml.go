package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"
)

// writeYAML writes the JSON document doc as YAML, keeping object members in document order and
// every value's type: a string that looks like a number or a boolean stays quoted. The elements
// of a top-level array are converted and written one at a time, so a page of rows never becomes
// one YAML tree in memory.
func writeYAML(w io.Writer, doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if t := bytes.TrimSpace(doc); len(t) == 0 || t[0] != '[' {
		node, err := yamlNode(dec)
		if err != nil {
			return fmt.Errorf("convert to YAML: %w", err)
		}
		return encodeYAML(w, node)
	}
	if _, err := dec.Token(); err != nil { // '['
		return fmt.Errorf("convert to YAML: %w", err)
	}
	if !dec.More() {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	var buf bytes.Buffer
	for dec.More() {
		node, err := yamlNode(dec)
		if err != nil {
			return fmt.Errorf("convert to YAML: %w", err)
		}
		buf.Reset()
		if err := encodeYAML(&buf, node); err != nil {
			return err
		}
		// A sequence item: "- " before the first line, two spaces before the others.
		text := strings.TrimSuffix(buf.String(), "\n")
		if _, err := io.WriteString(w, "- "+strings.ReplaceAll(text, "\n", "\n  ")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// encodeYAML writes one YAML document with two-space indentation.
func encodeYAML(w io.Writer, node *yaml.Node) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(node); err != nil {
		return err
	}
	return enc.Close()
}

// yamlNode reads one JSON value from dec and returns it as a YAML node.
func yamlNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			for dec.More() {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := key.(string)
				v, err := yamlNode(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, v)
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			for dec.More() {
				v, err := yamlNode(dec)
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}, nil
	case json.Number:
		tag := "!!int" // an integer of any size: YAML integers have no limit
		if strings.ContainsAny(t.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
