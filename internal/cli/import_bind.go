package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// parseBind reads the value of a "<navigation>@odata.bind" cell: a reference to a record by id,
// "accounts(<id>)", or by alternate key, "accounts(accountnumber='A1')" or
// "accounts(name='x',code=7)", with or without a leading "/"; or a bare id when the navigation
// property has one target (bareSet). The entity set must be one of sets. It returns the
// reference as the Web API expects it in a body ("/accounts(…)", key values percent-encoded).
func parseBind(s string, sets []string, bareSet string) (string, error) {
	if id, err := uuid.Parse(s); err == nil && len(s) == 36 {
		if bareSet == "" {
			return "", fmt.Errorf("%s is a bare id, but the lookup can point to %s: write the table too, such as %s(%s)", quoteCell(s), strings.Join(sets, " or "), firstOr(sets, "accounts"), s)
		}
		return dataverse.Bind(bareSet, id)
	}
	ref := strings.TrimPrefix(s, "/")
	open := strings.IndexByte(ref, '(')
	if open <= 0 || !strings.HasSuffix(ref, ")") {
		return "", fmt.Errorf("%s is not a record reference; write %s(<id>) or %s(<key column>='<value>')", quoteCell(s), firstOr(sets, "accounts"), firstOr(sets, "accounts"))
	}
	set, inner := ref[:open], ref[open+1:len(ref)-1]
	if len(sets) > 0 && !slices.Contains(sets, set) {
		return "", fmt.Errorf("%s points into %q; this lookup points into %s", quoteCell(s), set, strings.Join(sets, " or "))
	}
	if id, err := uuid.Parse(inner); err == nil && len(inner) == 36 {
		return dataverse.Bind(set, id)
	}
	key, err := parseKeyPairs(inner)
	if err != nil {
		return "", fmt.Errorf("%s: %v", quoteCell(s), err)
	}
	return dataverse.BindKey(set, key)
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

// parseKeyPairs reads "col='text',col2=12,col3=true" (OData key syntax: strings in single quotes
// with ” for a quote; numbers, true, false and GUIDs bare) into an alternate key.
func parseKeyPairs(s string) (dataverse.AlternateKey, error) {
	key := dataverse.AlternateKey{}
	i := 0
	for {
		start := i
		for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || i > start && s[i] >= '0' && s[i] <= '9') {
			i++
		}
		name := s[start:i]
		if name == "" || i >= len(s) || s[i] != '=' {
			return nil, fmt.Errorf("expected <column>=<value> at character %d, such as accountnumber='A1'", start+1)
		}
		if _, dup := key[name]; dup {
			return nil, fmt.Errorf("column %s appears twice in the key", name)
		}
		i++
		if i < len(s) && s[i] == '\'' {
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					closed = true
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("the quoted value of %s has no closing quote (write a quote inside a value as '')", name)
			}
			key[name] = b.String()
		} else {
			vs := i
			for i < len(s) && s[i] != ',' {
				i++
			}
			v := s[vs:i]
			switch {
			case v == "true" || v == "false":
				key[name] = v == "true"
			case len(v) == 36 && uuid.Validate(v) == nil:
				key[name] = uuid.MustParse(v)
			default:
				n, ok := normalizeDecimal(v)
				if !ok || strings.ContainsAny(v, "eE") {
					return nil, fmt.Errorf("the value of %s, %q, is neither quoted text ('…') nor a number, true, false or GUID", name, v)
				}
				key[name] = json.Number(n)
			}
		}
		if i == len(s) {
			return key, nil
		}
		if s[i] != ',' {
			return nil, fmt.Errorf("expected , or ) after the value of %s at character %d", name, i+1)
		}
		i++
	}
}
