package odata

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestParseSelect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []SelectItem
	}{
		{"", []SelectItem{}},
		{"   ", []SelectItem{}},
		{"name", []SelectItem{{Path: []Segment{seg("name", 0)}}}},
		{"name, revenue ,_primarycontactid_value", []SelectItem{
			{Path: []Segment{seg("name", 0)}},
			{Path: []Segment{seg("revenue", 6)}, Offset: 6},
			{Path: []Segment{seg("_primarycontactid_value", 15)}, Offset: 15}}},
		{"*", []SelectItem{{Star: true}}},
		{"a/b", []SelectItem{{Path: []Segment{seg("a", 0), seg("b", 2)}}}},
		{"a/b/", []SelectItem{{Path: []Segment{seg("a", 0), seg("b", 2)}}}},
		{"Microsoft.Dynamics.CRM.account/name", []SelectItem{{Path: []Segment{seg("Microsoft.Dynamics.CRM.account", 0), seg("name", 31)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSelect(tt.in)
			if err != nil {
				t.Fatalf("ParseSelect(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseSelect(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			again, err := ParseSelect(FormatSelect(got))
			if err != nil || !cmp.Equal(got, again, ignorePositions) {
				t.Errorf("ParseSelect(%q) round trip via %q = %v, %v", tt.in, FormatSelect(got), again, err)
			}
		})
	}
}

func TestParseSelectErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, msg string
		pos     int
	}{
		{"name revenue", "Term 'name revenue' is not valid in a $select or $expand expression.", 5},
		{"$filter", "Found system token '$filter' in select or expand clause '$filter'.", 0},
		{"a,$ref", "Found system token '$ref' in select or expand clause 'a,$ref'.", 2},
		{"a/$count", "$count is not allowed in $select option.", 2},
		{"a,,b", "An identifier was expected at position 2.", 2},
		{",a", "An identifier was expected at position 0.", 0},
		{"a,", "An identifier was expected at position 2.", 2},  // SelectTrailingCommaRefused
		{"a, ", "An identifier was expected at position 3.", 3}, // SelectTrailingCommaRefused
		{"a/", "An identifier was expected at position 2.", 2},
		{"'a'", "An identifier was expected at position 0.", 0},
		{"*/a", "An identifier was expected at position 0.", 0},
		{"a($select=b)", "Term 'a($select=b)' is not valid in a $select or $expand expression.", 1},
		{"a@b", "Syntax error: character '@' is not valid at position 1 in 'a@b'.", 1},
		{strings.Repeat("a/", 100) + "a", "Recursion depth exceeded allowed limit.", 200},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseSelect(tt.in)
			assertSyntaxError(t, tt.in, got, err, tt.pos, tt.msg)
		})
	}
}

func TestParseExpand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []ExpandItem
	}{
		{"", []ExpandItem{}},
		{"primarycontactid", []ExpandItem{{Path: []Segment{seg("primarycontactid", 0)}}}},
		{"primarycontactid/$ref", []ExpandItem{{Path: []Segment{seg("primarycontactid", 0)}, Ref: true}}},
		{"primarycontactid($select=fullname,emailaddress1)", []ExpandItem{{
			Path: []Segment{seg("primarycontactid", 0)},
			Options: &ExpandOptions{Select: []SelectItem{
				{Path: []Segment{seg("fullname", 25)}, Offset: 25},
				{Path: []Segment{seg("emailaddress1", 34)}, Offset: 34}}}}}},
		{"Account_Tasks($select=subject;$filter=contains(subject,'a;b)c');$orderby=createdon desc;$top= 5 )", []ExpandItem{{
			Path: []Segment{seg("Account_Tasks", 0)},
			Options: &ExpandOptions{
				Select: []SelectItem{{Path: []Segment{seg("subject", 22)}, Offset: 22}},
				Filter: &CallExpr{Name: "contains", Offset: 38, Args: []Expr{
					&PathExpr{Offset: 47, Segments: []Segment{seg("subject", 47)}},
					&StringLiteral{Offset: 55, Value: "a;b)c"}}},
				OrderBy: []OrderByItem{{Expr: &PathExpr{Offset: 73, Segments: []Segment{seg("createdon", 73)}}, Desc: true}},
				Top:     ptr(int64(5))}}}},
		{"a($expand=b($select=c)),d", []ExpandItem{
			{Path: []Segment{seg("a", 0)}, Options: &ExpandOptions{Expand: []ExpandItem{{
				Path: []Segment{seg("b", 10)}, Offset: 10,
				Options: &ExpandOptions{Select: []SelectItem{{Path: []Segment{seg("c", 20)}, Offset: 20}}}}}}},
			{Path: []Segment{seg("d", 24)}, Offset: 24}}},
		{"a($filter=(x eq 1))", []ExpandItem{{Path: []Segment{seg("a", 0)}, Options: &ExpandOptions{
			Filter: &BinaryExpr{Op: OpEq, OpOffset: 13,
				Left: &PathExpr{Offset: 11, Segments: []Segment{seg("x", 11)}}, Right: &IntLiteral{Offset: 16, Value: 1}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseExpand(tt.in)
			if err != nil {
				t.Fatalf("ParseExpand(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseExpand(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			text := FormatExpand(got)
			again, err := ParseExpand(text)
			if err != nil || !cmp.Equal(got, again, ignorePositions) {
				t.Errorf("ParseExpand(%q) round trip via %q = %v, %v", tt.in, text, again, err)
			}
		})
	}
}

func TestParseExpandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, msg string
		pos     int
	}{
		{"a()", "Missing expand option on navigation property 'a'. If a parenthesis expression follows an expanded navigation property, then at least one expand option must be provided.", 2},
		{"a($skip=1)", "The query parameter $skip is not supported", 2},
		{"a($count=true)", "The query parameter $count is not supported", 2},
		{"a($levels=2)", "The query parameter $levels is not supported", 2},
		{"a($search=x)", "The query parameter $search is not supported", 2},
		{"a($Filter=x eq 1)", "Term '($Filter=x eq 1)' is not valid in a $select or $expand expression.", 2},
		{"a($top=-1)", "Top option must be a non-negative integer, it is set to '-1' instead.", 7},
		{"a($top=x)", "Top option must be a non-negative integer, it is set to 'x' instead.", 7},
		{"a($filter x eq 1)", "Syntax error at position 9 in '($filter x eq 1)'.", 10},
		// Nested options are parsed as texts of their own: the position and
		// the quoted text are the nested ones; Pos is in the whole value.
		{"a($filter=x eqq 1)", "Syntax error at position 5 in 'x eqq 1'.", 15},
		{"a($select=b;$filter=name eq 'x)", "Found an unbalanced bracket expression.", 1},
		{"a($select=b", "Found an unbalanced bracket expression.", 1},
		{"a/$ref($select=b)", "Term 'a/$ref($select=b)' is not valid in a $select or $expand expression.", 6},
		{"a/$ref/b", "No property is allowed after $ref segment.", 7},
		{"$ref", "Term '$ref' is not valid in a $select or $expand expression.", 0},
		{"*", "Term '*' is not valid in a $select or $expand expression.", 0},
		{"a/$count", "Found system token '$count' in select or expand clause 'a/$count'.", 2},
		{"a b", "Term 'a b' is not valid in a $select or $expand expression.", 2},
		{"a($expand=b($top=z))", "Top option must be a non-negative integer, it is set to 'z' instead.", 17},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseExpand(tt.in)
			assertSyntaxError(t, tt.in, got, err, tt.pos, tt.msg)
		})
	}
}

func TestParseOrderBy(t *testing.T) {
	t.Parallel()
	got, err := ParseOrderBy("revenue asc, name desc,createdon,primarycontactid/fullname desc")
	if err != nil {
		t.Fatal(err)
	}
	if s := FormatOrderBy(got); s != "revenue,name desc,createdon,primarycontactid/fullname desc" {
		t.Errorf("FormatOrderBy = %q", s)
	}
	if !got[1].Desc || got[0].Desc || got[2].Desc || !got[3].Desc {
		t.Errorf("directions = %v %v %v %v", got[0].Desc, got[1].Desc, got[2].Desc, got[3].Desc)
	}
	for _, tt := range []struct {
		in, msg string
		pos     int
	}{
		{"name DESC", "Syntax error at position 9 in 'name DESC'.", 9},
		{"name desc desc", "Syntax error at position 14 in 'name desc desc'.", 14},
		{"", "Expression expected at position 0 in ''.", 0},
		{"name,", "Expression expected at position 5 in 'name,'.", 5},
	} {
		got, err := ParseOrderBy(tt.in)
		assertSyntaxError(t, tt.in, got, err, tt.pos, tt.msg)
	}
}

func TestParseApply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []Transformation
	}{
		{"groupby((statuscode))", []Transformation{&GroupByTransformation{Properties: []*PathExpr{
			{Offset: 9, Segments: []Segment{seg("statuscode", 9)}}}}}},
		{"groupby((statuscode,primarycontactid/fullname),aggregate($count as count))", []Transformation{&GroupByTransformation{
			Properties: []*PathExpr{
				{Offset: 9, Segments: []Segment{seg("statuscode", 9)}},
				{Offset: 20, Segments: []Segment{seg("primarycontactid", 20), seg("fullname", 37)}}},
			Aggregate: &AggregateTransformation{Offset: 47, Items: []AggregateItem{
				{Method: AggregateCountRows, MethodOffset: 57, Alias: "count", AliasOffset: 67, Offset: 57}}}}}},
		{"aggregate(revenue with sum as total,revenue with average as avg)", []Transformation{&AggregateTransformation{Items: []AggregateItem{
			{Path: &PathExpr{Offset: 10, Segments: []Segment{seg("revenue", 10)}}, Method: AggregateSum, MethodOffset: 23,
				Alias: "total", AliasOffset: 30, Offset: 10},
			{Path: &PathExpr{Offset: 36, Segments: []Segment{seg("revenue", 36)}}, Method: AggregateAverage, MethodOffset: 49,
				Alias: "avg", AliasOffset: 60, Offset: 36}}}}},
		{"filter(address1_stateorprovince eq 'WA')/groupby((primarycontactid/fullname))", []Transformation{
			&FilterTransformation{Filter: &BinaryExpr{Op: OpEq, OpOffset: 32,
				Left:  &PathExpr{Offset: 7, Segments: []Segment{seg("address1_stateorprovince", 7)}},
				Right: &StringLiteral{Offset: 35, Value: "WA"}}},
			&GroupByTransformation{Offset: 41, Properties: []*PathExpr{
				{Offset: 50, Segments: []Segment{seg("primarycontactid", 50), seg("fullname", 67)}}}}}},
		{"aggregate(a with min as x, b with max as y, c with countdistinct as z)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseApply(tt.in)
			if err != nil {
				t.Fatalf("ParseApply(%q): %v", tt.in, err)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ParseApply(%q) mismatch (-want +got):\n%s", tt.in, diff)
				}
			}
			text := FormatApply(got)
			again, err := ParseApply(text)
			if err != nil || !cmp.Equal(got, again, ignorePositions) {
				t.Errorf("ParseApply(%q) round trip via %q = %v, %v", tt.in, text, again, err)
			}
		})
	}
	if got, err := ParseApply(""); err != nil || got != nil {
		t.Errorf("ParseApply(\"\") = %v, %v; want no steps", got, err)
	}
}

func TestParseApplyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, msg string
		pos     int
	}{
		{"compute(a as b)", "'aggregate|filter|groupby' expected at position 0 in 'compute(a as b)'.", 0},
		{"   ", "An identifier was expected at position 3.", 3},
		{"groupby(statuscode)", "'(' expected at position 8 in 'groupby(statuscode)'.", 8},
		{"groupby((statuscode)", "')' or ',' expected at position 20 in 'groupby((statuscode)'.", 20},
		{"groupby((statuscode),filter(x))", "'aggregate' expected at position 21 in 'groupby((statuscode),filter(x))'.", 21},
		{"groupby((1))", "Expression expected at position 10 in 'groupby((1))'.", 10},
		{"groupby((a b))", "')' or operator expected at position 11 in 'groupby((a b))'.", 11},
		{"aggregate(revenue sum as total)", "'with' expected at position 18 in 'aggregate(revenue sum as total)'.", 18},
		{"aggregate(revenue with total as total)", "Unrecognized with 'total' at '23' in 'aggregate(revenue with total as total)'.", 23},
		{"aggregate(revenue with sum total)", "'as' expected at position 27 in 'aggregate(revenue with sum total)'.", 27},
		{"aggregate(revenue with sum as)", "An identifier was expected at position 29.", 29},
		{"aggregate(revenue with sum as t", "')' or ',' expected at position 31 in 'aggregate(revenue with sum as t'.", 31},
		{"aggregate(1 with sum as t)", "The aggregate expression '1' at position 10 in 'aggregate(1 with sum as t)' must be a property path or $count.", 10},
		{"filter(a eq 1", "')' or operator expected at position 13 in 'filter(a eq 1'.", 13},
		{"filter(a eq 1)/", "An identifier was expected at position 15.", 15},
		{"filter(a eq 1) x", "Syntax error at position 16 in 'filter(a eq 1) x'.", 16},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseApply(tt.in)
			assertSyntaxError(t, tt.in, got, err, tt.pos, tt.msg)
		})
	}
}

func TestParseQuery(t *testing.T) {
	t.Parallel()
	values := url.Values{
		"$select":     {"name,revenue"},
		"$filter":     {"Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)"},
		"$orderby":    {"name desc"},
		"$top":        {"10"},
		"$count":      {"true"},
		"$expand":     {"primarycontactid($select=fullname)"},
		"@p1":         {"'lastname'"},
		"@p2":         {`["O'Brian","OBrian"]`},
		"$skiptoken":  {"<cookie pagenumber=\"2\"/>"},
		"fetchXml":    {""},
		"tag":         {"abc"},
		"partitionId": {"p1"},
		"_":           {"1700000000"}, // a cache buster: custom options are ignored
	}
	q, err := ParseQuery(values)
	if err != nil {
		t.Fatal(err)
	}
	if FormatSelect(q.Select) != "name,revenue" || q.Filter == nil || FormatOrderBy(q.OrderBy) != "name desc" ||
		q.Top == nil || *q.Top != 10 || !q.Count || FormatExpand(q.Expand) != "primarycontactid($select=fullname)" {
		t.Errorf("ParseQuery parsed %+v", q)
	}
	if q.SkipToken != `<cookie pagenumber="2"/>` || !q.HasFetchXML || q.FetchXML != "" || q.Tag != "abc" || q.PartitionID != "p1" {
		t.Errorf("opaque options = %q %v %q %q %q", q.SkipToken, q.HasFetchXML, q.FetchXML, q.Tag, q.PartitionID)
	}
	p2, err := q.Alias("@p2")
	if err != nil {
		t.Fatal(err)
	}
	want := &ArrayLiteral{Items: []Expr{&StringLiteral{Offset: 1, Value: "O'Brian"}, &StringLiteral{Offset: 11, Value: "OBrian"}}}
	if diff := cmp.Diff(want, p2); diff != "" {
		t.Errorf("Alias(@p2) mismatch (-want +got):\n%s", diff)
	}
	if p1, err := q.Alias("@p1"); err != nil || !cmp.Equal(p1, Expr(&StringLiteral{Value: "lastname"})) {
		t.Errorf("Alias(@p1) = %v, %v", p1, err)
	}
	if p3, err := q.Alias("@p3"); err != nil || !cmp.Equal(p3, Expr(&NullLiteral{})) {
		t.Errorf("unassigned Alias(@p3) = %v, %v; want null", p3, err)
	}

	// Values gives the canonical query back.
	again, err := ParseQuery(q.Values())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(q, again, ignorePositions); diff != "" {
		t.Errorf("ParseQuery(q.Values()) differs (-first +second):\n%s", diff)
	}
}

func TestParseQueryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		values url.Values
		option string
		pos    int
		msg    string
	}{
		{url.Values{"$skip": {"10"}}, "$skip", 0, "The query parameter $skip is not supported"},
		{url.Values{"$search": {"x"}}, "$search", 0, "The query parameter $search is not supported"},
		{url.Values{"$format": {"json"}}, "$format", 0, "The query parameter $format is not supported"},
		{url.Values{"$levels": {"2"}}, "$levels", 0, "The query parameter $levels is not supported"},
		{url.Values{"$Filter": {"a eq 1"}}, "$Filter", 0, "The query parameter $Filter is not supported"},
		{url.Values{"$inlinecount": {"allpages"}}, "$inlinecount", 0, "The query parameter $inlinecount is not supported"},
		{url.Values{"$top": {"1", "2"}}, "$top", 0, "Query option '$top' was specified more than once, but it must be specified at most once."},
		{url.Values{"$top": {"-1"}}, "$top", 0, "Invalid value '-1' for $top query option found. The $top query option requires a non-negative integer value."},
		{url.Values{"$top": {"ten"}}, "$top", 0, "Invalid value 'ten' for $top query option found. The $top query option requires a non-negative integer value."},
		{url.Values{"$top": {""}}, "$top", 0, "Invalid value '' for $top query option found. The $top query option requires a non-negative integer value."},
		{url.Values{"$count": {"yes"}}, "$count", 0, "Invalid value 'yes' for $count query option found. Valid values are 'true, false'."},
		{url.Values{"$filter": {"name eq 'O'Bryan'"}}, "$filter", 17, "There is an unterminated literal at position 17 in 'name eq 'O'Bryan''."},
		{url.Values{"$filter": {""}}, "$filter", 0, "Expression expected at position 0 in ''."},
		{url.Values{"$select": {"a b"}}, "$select", 2, "Term 'a b' is not valid in a $select or $expand expression."},
		{url.Values{"$expand": {"a($skip=1)"}}, "$expand", 2, "The query parameter $skip is not supported"},
		{url.Values{"$orderby": {"a b"}}, "$orderby", 3, "Syntax error at position 3 in 'a b'."},
		{url.Values{"$apply": {"x"}}, "$apply", 0, "'aggregate|filter|groupby' expected at position 0 in 'x'."},
		{url.Values{"@1": {"x"}}, "@1", 0, "The query parameter @1 is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.option+"="+strings.Join(tt.values[tt.option], "&"), func(t *testing.T) {
			t.Parallel()
			q, err := ParseQuery(tt.values)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseQuery(%v) = %+v, %v; want *SyntaxError", tt.values, q, err)
			}
			if se.Option != tt.option || se.Pos != tt.pos || se.Msg != tt.msg {
				t.Errorf("ParseQuery(%v) error = {%q %d %q}, want {%q %d %q}", tt.values, se.Option, se.Pos, se.Msg, tt.option, tt.pos, tt.msg)
			}
		})
	}
	t.Run("alias", func(t *testing.T) {
		t.Parallel()
		q, err := ParseQuery(url.Values{"@p1": {`['O''Brian']`}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = q.Alias("@p1")
		var se *SyntaxError
		if !errors.As(err, &se) || se.Option != "@p1" || se.Pos != 4 ||
			se.Msg != "Invalid JSON. A comma character ',' was expected in scope 'Array'. Was there a missing comma?" {
			t.Errorf("Alias(@p1) error = %#v", err)
		}
	})
}

func TestCountConditions(t *testing.T) {
	t.Parallel()
	e, err := ParseFilter("a eq 1 and (b eq 2 or contains(c,'x')) and not d/any(x:x/e eq 1 and x/f eq 2) and Microsoft.Dynamics.CRM.Today(PropertyName='g')")
	if err != nil {
		t.Fatal(err)
	}
	// a, b, contains, the lambda, e, f, Today.
	if n := CountConditions(e); n != 7 {
		t.Errorf("CountConditions = %d, want 7", n)
	}
	if n := CountConditions(nil); n != 0 {
		t.Errorf("CountConditions(nil) = %d", n)
	}
}

func TestLookupFunction(t *testing.T) {
	t.Parallel()
	for name, dataverse := range map[string]bool{"contains": true, "startswith": true, "endswith": true, "tolower": false, "year": false} {
		f, ok := LookupFunction(name)
		if !ok || f.Dataverse != dataverse {
			t.Errorf("LookupFunction(%q) = %+v, %v", name, f, ok)
		}
	}
	if _, ok := LookupFunction("Contains"); ok {
		t.Error("LookupFunction is case-sensitive; Contains should be unknown")
	}
	if got := QueryFunctionParams["In"]; !cmp.Equal(got, []string{"PropertyName", "PropertyValues"}) {
		t.Errorf("QueryFunctionParams[In] = %v", got)
	}
}
