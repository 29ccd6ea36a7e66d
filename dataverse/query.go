package dataverse

import (
	"slices"
	"strconv"
	"strings"
)

// MaxPageSizeLimit is the largest page size Dataverse serves (and its
// default): Query.MaxPageSize above it is rejected before sending.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results
const MaxPageSizeLimit = 5000

// Annotation names for Query.Annotations (Prefer: odata.include-annotations).
const (
	// AnnotationsAll asks for every annotation.
	AnnotationsAll = "*"
	// AnnotationFormattedValue asks for formatted values (choice labels,
	// lookup names, currency with symbol, dates in the user's zone).
	AnnotationFormattedValue = "OData.Community.Display.V1.FormattedValue"
	// AnnotationLookupLogicalName asks for the table of each lookup value.
	AnnotationLookupLogicalName = "Microsoft.Dynamics.CRM.lookuplogicalname"
	// AnnotationAssociatedNavigationProperty asks for the navigation
	// property of each lookup value.
	AnnotationAssociatedNavigationProperty = "Microsoft.Dynamics.CRM.associatednavigationproperty"
	// AnnotationTotalRecordCount asks for @Microsoft.Dynamics.CRM.totalrecordcount.
	AnnotationTotalRecordCount = "Microsoft.Dynamics.CRM.totalrecordcount"
	// AnnotationTotalRecordCountLimitExceeded asks for whether that count hit its 5,000 cap.
	AnnotationTotalRecordCountLimitExceeded = "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"
)

// Query holds the OData query options of a collection request. The zero
// value asks for every column of the first page of up to 5,000 rows.
//
// Values are strings as the Web API spells them; build Filter with
// Filterf or the filter builder (Eq, And, …) so values are quoted and
// escaped correctly. The client never modifies a Query it is given.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/overview
type Query struct {
	// Select lists the columns to return ($select). Lookup columns are
	// selected by their _name_value property.
	Select []string
	// Filter is the $filter expression.
	Filter string
	// OrderBy lists sort keys such as "name" or "createdon desc" ($orderby).
	OrderBy []string
	// Top limits the number of rows ($top); 0 means no limit. The service
	// ignores $top when MaxPageSize is also set and pages through every
	// row, so a Pager (and List) also stops after Top rows: the page that
	// reaches Top is cut short and has no NextLink. ($top inside a $batch
	// QueryRequest is left to the service.)
	Top int
	// Count asks for the total number of matching rows ($count=true,
	// reported in Page.Count, capped at 5,000 by the service).
	Count bool
	// Expand joins related rows ($expand).
	Expand []Expand
	// Apply is an aggregation ($apply), e.g. "groupby((statuscode),aggregate($count as count))".
	Apply string
	// MaxPageSize is the page size (Prefer: odata.maxpagesize), 1 to 5,000;
	// 0 leaves the service default (5,000).
	MaxPageSize int
	// Annotations are the annotations to include (Prefer:
	// odata.include-annotations), e.g. AnnotationFormattedValue or
	// AnnotationsAll.
	Annotations []string
}

// Expand is one navigation property in $expand, with its nested options.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/join-tables
type Expand struct {
	// Property is the navigation property, e.g. "primarycontactid" or
	// "Account_Tasks" (case-sensitive).
	Property string
	// Select lists the related row's columns.
	Select []string
	// Filter, OrderBy and Top apply to collection-valued properties only.
	Filter  string
	OrderBy []string
	Top     int
	// Expand nests further expansions.
	Expand []Expand
}

// clone returns a deep copy of q, so per-call changes never reach the
// caller's slices.
func (q Query) clone() Query {
	q.Select = slices.Clone(q.Select)
	q.OrderBy = slices.Clone(q.OrderBy)
	q.Annotations = slices.Clone(q.Annotations)
	q.Expand = cloneExpands(q.Expand)
	return q
}

func cloneExpands(es []Expand) []Expand {
	if es == nil {
		return nil
	}
	out := make([]Expand, len(es))
	for i, e := range es {
		e.Select = slices.Clone(e.Select)
		e.OrderBy = slices.Clone(e.OrderBy)
		e.Expand = cloneExpands(e.Expand)
		out[i] = e
	}
	return out
}

// encode returns the query string ("$select=a%2Cb&$filter=…", without the
// leading "?"), every value percent-encoded as escapeComponent does.
func (q *Query) encode() (string, error) {
	var b strings.Builder
	add := func(name, value string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(escapeComponent(value))
	}
	if len(q.Select) > 0 {
		if err := checkNames("$select", q.Select); err != nil {
			return "", err
		}
		// Column names need no escaping: write them and the escaped
		// commas straight into the builder, sized once.
		n := len("$select=") + 3*(len(q.Select)-1)
		for _, name := range q.Select {
			n += len(name)
		}
		if q.Filter == "" && len(q.OrderBy) == 0 && len(q.Expand) == 0 && q.Apply == "" {
			b.Grow(n + len("&$top=5000&$count=true"))
		}
		b.WriteString("$select=")
		for i, name := range q.Select {
			if i > 0 {
				b.WriteString("%2C")
			}
			b.WriteString(name)
		}
	}
	if q.Filter != "" {
		if err := checkFilter("$filter", q.Filter); err != nil {
			return "", err
		}
		add("$filter", q.Filter)
	}
	if len(q.OrderBy) > 0 {
		if err := checkOrderBy("$orderby", q.OrderBy); err != nil {
			return "", err
		}
		add("$orderby", strings.Join(q.OrderBy, ","))
	}
	if q.Top < 0 {
		return "", invalidf("dataverse: $top %d is negative", q.Top)
	}
	if q.Top > 0 {
		add("$top", strconv.Itoa(q.Top))
	}
	if q.Count {
		add("$count", "true")
	}
	if len(q.Expand) > 0 {
		s, err := formatExpands(q.Expand)
		if err != nil {
			return "", err
		}
		add("$expand", s)
	}
	if q.Apply != "" {
		if err := checkFilter("$apply", q.Apply); err != nil {
			return "", err
		}
		add("$apply", q.Apply)
	}
	return b.String(), nil
}

// preferences returns the Prefer values the query asks for.
func (q *Query) preferences() ([]string, error) {
	var prefs []string
	switch {
	case q.MaxPageSize < 0 || q.MaxPageSize > MaxPageSizeLimit:
		return nil, invalidf("dataverse: MaxPageSize %d is outside 1..%d (0 means the service default)", q.MaxPageSize, MaxPageSizeLimit)
	case q.MaxPageSize > 0:
		prefs = append(prefs, "odata.maxpagesize="+strconv.Itoa(q.MaxPageSize))
	}
	if p, err := includeAnnotations(q.Annotations); err != nil {
		return nil, err
	} else if p != "" {
		prefs = append(prefs, p)
	}
	return prefs, nil
}

// includeAnnotations returns the odata.include-annotations preference.
func includeAnnotations(names []string) (string, error) {
	if len(names) == 0 {
		return "", nil
	}
	for _, n := range names {
		if !annotationPattern.MatchString(n) {
			return "", invalidf("dataverse: annotation name %q is not valid; use names such as %q or %q", n, AnnotationFormattedValue, AnnotationsAll)
		}
	}
	return `odata.include-annotations="` + strings.Join(names, ",") + `"`, nil
}

func formatExpands(es []Expand) (string, error) {
	var b strings.Builder
	for i := range es {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := es[i].format(&b); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// format writes nav($select=a,b;$filter=…;$orderby=…;$top=n;$expand=…).
func (e *Expand) format(b *strings.Builder) error {
	if !propertyNamePattern.MatchString(e.Property) {
		return invalidf("dataverse: $expand: %q is not a navigation property name", e.Property)
	}
	b.WriteString(e.Property)
	var opts []string
	if len(e.Select) > 0 {
		if err := checkNames("$expand "+e.Property+" $select", e.Select); err != nil {
			return err
		}
		opts = append(opts, "$select="+strings.Join(e.Select, ","))
	}
	if e.Filter != "" {
		if err := checkFilter("$expand "+e.Property+" $filter", e.Filter); err != nil {
			return err
		}
		opts = append(opts, "$filter="+e.Filter)
	}
	if len(e.OrderBy) > 0 {
		if err := checkOrderBy("$expand "+e.Property+" $orderby", e.OrderBy); err != nil {
			return err
		}
		opts = append(opts, "$orderby="+strings.Join(e.OrderBy, ","))
	}
	if e.Top < 0 {
		return invalidf("dataverse: $expand %s: $top %d is negative", e.Property, e.Top)
	}
	if e.Top > 0 {
		opts = append(opts, "$top="+strconv.Itoa(e.Top))
	}
	if len(e.Expand) > 0 {
		s, err := formatExpands(e.Expand)
		if err != nil {
			return err
		}
		opts = append(opts, "$expand="+s)
	}
	if len(opts) > 0 {
		b.WriteByte('(')
		b.WriteString(strings.Join(opts, ";"))
		b.WriteByte(')')
	}
	return nil
}

func checkNames(where string, names []string) error {
	for _, n := range names {
		if !propertyNamePattern.MatchString(n) {
			return invalidf("dataverse: %s: %q is not a column name (letters, digits and underscores; lookups as _name_value)", where, n)
		}
	}
	return nil
}

func checkOrderBy(where string, keys []string) error {
	for _, k := range keys {
		if !orderByPattern.MatchString(k) {
			return invalidf("dataverse: %s: %q is not a sort key such as \"name\" or \"createdon desc\"", where, k)
		}
	}
	return nil
}
