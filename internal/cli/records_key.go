package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// parseKeyLiteral parses an alternate key written as in a Web API URL, without the parentheses:
// "emailaddress1='a@b.c'" or "accountnumber='A1',name='Contoso'". Strings are quoted with ' and a
// quote inside one is doubled (”); numbers, GUIDs, true and false are bare.
func parseKeyLiteral(s string) (dataverse.AlternateKey, error) {
	key := dataverse.AlternateKey{}
	rest := strings.TrimSpace(s)
	if rest == "" {
		return nil, errors.New("the alternate key is empty")
	}
	for {
		name, after, ok := strings.Cut(rest, "=")
		name = strings.TrimSpace(name)
		if !ok || !isColumnName(name) {
			return nil, fmt.Errorf("%q is not an alternate key: write column=value pairs like emailaddress1='a@b.c' (strings in single quotes)", s)
		}
		if _, dup := key[name]; dup {
			return nil, fmt.Errorf("alternate key %q names %s twice", s, name)
		}
		value, tail, err := parseKeyValue(strings.TrimLeft(after, " "))
		if err != nil {
			return nil, fmt.Errorf("alternate key %q, column %s: %v", s, name, err)
		}
		key[name] = value
		tail = strings.TrimLeft(tail, " ")
		if tail == "" {
			return key, nil
		}
		if tail[0] != ',' {
			return nil, fmt.Errorf("alternate key %q: expected \",\" before %q", s, tail)
		}
		rest = strings.TrimLeft(tail[1:], " ")
	}
}

// parseKeyValue reads one literal at the start of s and returns it with the text after it.
func parseKeyValue(s string) (any, string, error) {
	if strings.HasPrefix(s, "'") {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			if s[i] != '\'' {
				b.WriteByte(s[i])
				continue
			}
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), s[i+1:], nil
		}
		return nil, "", errors.New("the quoted value has no closing quote (double a quote inside it: 'O''Brien')")
	}
	end := strings.IndexByte(s, ',')
	if end < 0 {
		end = len(s)
	}
	tok, tail := strings.TrimSpace(s[:end]), s[end:]
	switch {
	case tok == "":
		return nil, "", errors.New("the value is missing")
	case tok == "true" || tok == "false":
		return tok == "true", tail, nil
	case len(tok) == 36:
		if id, err := uuid.Parse(tok); err == nil {
			return id, tail, nil
		}
	}
	if n, err := strconv.ParseInt(tok, 10, 64); err == nil {
		return n, tail, nil
	}
	if f, err := strconv.ParseFloat(tok, 64); err == nil && !strings.ContainsAny(tok, "xXpPnN") {
		return f, tail, nil
	}
	return nil, "", fmt.Errorf("%q is neither a number, a GUID, true nor false: quote a string value, '%s'", tok, strings.ReplaceAll(tok, "'", "''"))
}

// parseKeyFlags turns --key column=value flags into an alternate key; each value is a string,
// as typed, with no quoting.
func parseKeyFlags(flags []string) (dataverse.AlternateKey, error) {
	key := dataverse.AlternateKey{}
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		name = strings.TrimSpace(name)
		if !ok || !isColumnName(name) {
			return nil, fmt.Errorf("--key %q is not column=value, e.g. --key emailaddress1=a@b.c", f)
		}
		if _, dup := key[name]; dup {
			return nil, fmt.Errorf("--key names %s twice", name)
		}
		key[name] = value
	}
	return key, nil
}

// isColumnName reports whether s can be a column's logical name (letters, digits, underscores).
func isColumnName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
