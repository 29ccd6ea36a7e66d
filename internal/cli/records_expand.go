package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/dataverse"
)

// parseExpand parses an --expand value in the Web API's own syntax: navigation properties
// separated by commas, each with optional options in parentheses separated by semicolons,
// e.g. "primarycontactid($select=fullname,emailaddress1)" or
// "contact_customer_accounts($select=fullname;$filter=statecode eq 0;$top=5;$orderby=fullname)".
// $expand nests.
func parseExpand(s string) ([]dataverse.Expand, error) {
	parts, err := splitTopLevel(s, ',')
	if err != nil {
		return nil, fmt.Errorf("--expand %q: %v", s, err)
	}
	var out []dataverse.Expand
	for _, p := range parts {
		p = strings.TrimSpace(p)
		name, opts, hasOpts := strings.Cut(p, "(")
		name = strings.TrimSpace(name)
		if !isColumnName(name) {
			return nil, fmt.Errorf("--expand %q: %q is not a navigation property name", s, name)
		}
		e := dataverse.Expand{Property: name}
		if hasOpts {
			if !strings.HasSuffix(opts, ")") {
				return nil, fmt.Errorf("--expand %q: the options of %s do not end with \")\"", s, name)
			}
			if err := parseExpandOptions(&e, strings.TrimSuffix(opts, ")")); err != nil {
				return nil, fmt.Errorf("--expand %q, %s: %v", s, name, err)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// parseExpandOptions reads "$select=a,b;$filter=…;$orderby=…;$top=N;$expand=…" into e.
func parseExpandOptions(e *dataverse.Expand, s string) error {
	opts, err := splitTopLevel(s, ';')
	if err != nil {
		return err
	}
	for _, o := range opts {
		name, value, ok := strings.Cut(strings.TrimSpace(o), "=")
		if !ok {
			return fmt.Errorf("%q is not $option=value", o)
		}
		value = strings.TrimSpace(value)
		switch strings.TrimSpace(name) {
		case "$select":
			e.Select = splitList(value)
		case "$filter":
			e.Filter = value
		case "$orderby":
			e.OrderBy = splitList(value)
		case "$top":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return fmt.Errorf("$top=%s is not a count", value)
			}
			e.Top = n
		case "$expand":
			nested, err := parseExpand(value)
			if err != nil {
				return err
			}
			e.Expand = nested
		default:
			return fmt.Errorf("%s is not an option of $expand: use $select, $filter, $orderby, $top or $expand", name)
		}
	}
	return nil
}

// splitList splits a comma-separated list, dropping spaces around its items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// splitTopLevel splits s at sep where it is outside parentheses and single-quoted strings.
func splitTopLevel(s string, sep byte) ([]string, error) {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted // a doubled quote toggles twice
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return nil, errors.New(`a ")" has no "("`)
			}
		case c == sep && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if quoted {
		return nil, errors.New("a quoted string is not closed")
	}
	if depth != 0 {
		return nil, errors.New(`a "(" is not closed`)
	}
	return append(parts, s[start:]), nil
}
