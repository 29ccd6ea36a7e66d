package odata

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The query options Dataverse takes besides the OData system options it
// implements. Their values are opaque here.
const (
	OptionFetchXML    = "fetchXml"
	OptionSavedQuery  = "savedQuery"
	OptionUserQuery   = "userQuery"
	OptionTag         = "tag"
	OptionPartitionID = "partitionId"
	OptionSkipToken   = "$skiptoken"
	OptionDeltaToken  = "$deltatoken"
)

// optionKind classifies a query string parameter name.
type optionKind uint8

const (
	optIgnored     optionKind = iota // a custom (non-$) parameter Dataverse ignores
	optParsed                        // a system option this package parses
	optOpaque                        // kept as is
	optAlias                         // @name
	optUnsupported                   // refused with "The query parameter … is not supported"
)

func classifyOption(name string) optionKind {
	switch name {
	case "$select", "$filter", "$orderby", "$top", "$count", "$expand", "$apply":
		return optParsed
	case OptionSkipToken, OptionDeltaToken, OptionFetchXML, OptionSavedQuery, OptionUserQuery,
		OptionTag, OptionPartitionID:
		return optOpaque
	}
	switch {
	case strings.HasPrefix(name, "@"):
		return optAlias
	case strings.HasPrefix(name, "$"):
		// $skip, $search, $format, $levels, $compute, $index, $schemaversion,
		// $inlinecount, mis-cased names such as $Filter, and any other.
		return optUnsupported
	}
	return optIgnored
}

// isAliasName reports whether name is '@' followed by an identifier.
func isAliasName(name string) bool {
	if len(name) < 2 {
		return false
	}
	w := textWindow{src: name, lo: 1, hi: len(name)}
	l := lexer{w: &w, pos: 1}
	r, size := l.runeAt(1)
	return isIdentStart(r) && l.scanIdent(1+size) == len(name)
}

// ParseQuery parses the query options of a Web API GET on a collection.
// values must come from net/url (already decoded). Option names are
// case-sensitive, as in Dataverse. It refuses:
//   - an option given twice;
//   - $skip, $search, $format and any other $-option Dataverse does not
//     implement (also mis-cased ones such as $Filter);
//   - a malformed value of $select, $filter, $orderby, $top, $count,
//     $expand or $apply.
//
// fetchXml, savedQuery, userQuery, $skiptoken, $deltatoken, tag and
// partitionId are kept unparsed; parameter aliases (@p1) are kept raw for
// [Query.Alias]; other parameters without '$' are ignored, as custom query
// options. Every error is a *SyntaxError whose Option names the option.
func ParseQuery(values url.Values) (*Query, error) {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names) // so the first error reported does not depend on map order
	q := &Query{}
	for _, name := range names {
		vs := values[name]
		kind := classifyOption(name)
		if len(vs) > 1 && kind != optIgnored {
			return nil, &SyntaxError{Option: name, Msg: fmt.Sprintf(msgDuplicateOption, name)}
		}
		switch kind {
		case optUnsupported:
			return nil, &SyntaxError{Option: name, Msg: fmt.Sprintf(msgOptionNotSupported, name)}
		case optAlias:
			if !isAliasName(name) {
				return nil, &SyntaxError{Option: name, Msg: fmt.Sprintf(msgOptionNotSupported, name)}
			}
			if q.Aliases == nil {
				q.Aliases = make(map[string]string)
			}
			q.Aliases[name] = first(vs)
		case optOpaque:
			v := first(vs)
			switch name {
			case OptionSkipToken:
				q.SkipToken = v
			case OptionDeltaToken:
				q.DeltaToken = v
			case OptionFetchXML:
				q.FetchXML, q.HasFetchXML = v, true
			case OptionSavedQuery:
				q.SavedQuery = v
			case OptionUserQuery:
				q.UserQuery = v
			case OptionTag:
				q.Tag = v
			case OptionPartitionID:
				q.PartitionID = v
			}
		}
	}
	// The system options, in a fixed order.
	var err error
	if v, ok := values["$select"]; ok {
		if q.Select, err = parseSelectText(first(v), 0, len(first(v)), "$select"); err != nil {
			return nil, err
		}
	}
	if v, ok := values["$expand"]; ok {
		if q.Expand, err = parseExpandText(first(v), 0, len(first(v)), "$expand", MaxDepth); err != nil {
			return nil, err
		}
	}
	if v, ok := values["$filter"]; ok {
		if q.Filter, err = parseFilterText(first(v), 0, len(first(v)), "$filter"); err != nil {
			return nil, err
		}
	}
	if v, ok := values["$orderby"]; ok {
		if q.OrderBy, err = parseOrderByText(first(v), 0, len(first(v)), "$orderby"); err != nil {
			return nil, err
		}
	}
	if v, ok := values["$top"]; ok {
		top, ok := parseNonNegative(first(v))
		if !ok {
			return nil, &SyntaxError{Option: "$top", Msg: fmt.Sprintf(msgInvalidTop, first(v))}
		}
		q.Top = &top
	}
	if v, ok := values["$count"]; ok {
		switch strings.TrimSpace(first(v)) {
		case "true":
			q.Count = true
		case "false":
		default:
			return nil, &SyntaxError{Option: "$count", Msg: fmt.Sprintf(msgInvalidCount, first(v))}
		}
	}
	if v, ok := values["$apply"]; ok {
		if q.Apply, err = parseApplyText(first(v), 0, len(first(v)), "$apply"); err != nil {
			return nil, err
		}
	}
	return q, nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// Alias returns the value of the parameter alias name ("@p1"), parsed as an
// expression: a literal, a JSON array (`["a","b"]`), or whatever else
// ODataLib would accept there. An alias the query string does not assign is
// null, as in OData. Errors are *SyntaxError with Option set to name.
func (q *Query) Alias(name string) (Expr, error) {
	raw, ok := q.Aliases[name]
	if !ok {
		return &NullLiteral{}, nil
	}
	return parseFilterText(raw, 0, len(raw), name)
}

// Values formats q back into query string values with canonical text for
// every parsed option, the opaque options and the aliases as given. It is
// what a nextLink needs (set or replace $skiptoken afterwards).
func (q *Query) Values() url.Values {
	v := url.Values{}
	if q.Select != nil {
		v.Set("$select", FormatSelect(q.Select))
	}
	if q.Expand != nil {
		v.Set("$expand", FormatExpand(q.Expand))
	}
	if q.Filter != nil {
		v.Set("$filter", FormatExpr(q.Filter))
	}
	if q.OrderBy != nil {
		v.Set("$orderby", FormatOrderBy(q.OrderBy))
	}
	if q.Top != nil {
		v.Set("$top", strconv.FormatInt(*q.Top, 10))
	}
	if q.Count {
		v.Set("$count", "true")
	}
	if q.Apply != nil {
		v.Set("$apply", FormatApply(q.Apply))
	}
	for name, val := range map[string]string{
		OptionSkipToken: q.SkipToken, OptionDeltaToken: q.DeltaToken, OptionSavedQuery: q.SavedQuery,
		OptionUserQuery: q.UserQuery, OptionTag: q.Tag, OptionPartitionID: q.PartitionID,
	} {
		if val != "" {
			v.Set(name, val)
		}
	}
	if q.HasFetchXML {
		v.Set(OptionFetchXML, q.FetchXML)
	}
	for name, val := range q.Aliases {
		v.Set(name, val)
	}
	return v
}
