package odata

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func seg(name string, off int) Segment { return Segment{Name: name, Offset: off} }

func TestParseFilterTree(t *testing.T) {
	t.Parallel()
	guid := uuid.MustParse("70bf4d48-34cb-ed11-b596-0022481d68cd")
	tests := []struct {
		in   string
		want Expr
	}{
		{
			in: "lastname eq 'O''Bryan'",
			want: &BinaryExpr{Op: OpEq, OpOffset: 9,
				Left:  &PathExpr{Offset: 0, Segments: []Segment{seg("lastname", 0)}},
				Right: &StringLiteral{Offset: 12, Value: "O'Bryan"}},
		},
		{
			in: "primarycontactid/fullname ne null",
			want: &BinaryExpr{Op: OpNe, OpOffset: 26,
				Left:  &PathExpr{Offset: 0, Segments: []Segment{seg("primarycontactid", 0), seg("fullname", 17)}},
				Right: &NullLiteral{Offset: 29}},
		},
		{
			in: "_primarycontactid_value eq 70bf4d48-34cb-ed11-b596-0022481d68cd",
			want: &BinaryExpr{Op: OpEq, OpOffset: 24,
				Left:  &PathExpr{Offset: 0, Segments: []Segment{seg("_primarycontactid_value", 0)}},
				Right: &GUIDLiteral{Offset: 27, Value: guid}},
		},
		{
			// A quoted GUID is a string; the binder reports the type error.
			in: "accountid eq '70bf4d48-34cb-ed11-b596-0022481d68cd'",
			want: &BinaryExpr{Op: OpEq, OpOffset: 10,
				Left:  &PathExpr{Offset: 0, Segments: []Segment{seg("accountid", 0)}},
				Right: &StringLiteral{Offset: 13, Value: "70bf4d48-34cb-ed11-b596-0022481d68cd"}},
		},
		{
			// or < and: a or b and c is a or (b and c).
			in: "a eq 1 or b eq 2 and c eq 3",
			want: &BinaryExpr{Op: OpOr, OpOffset: 7,
				Left: &BinaryExpr{Op: OpEq, OpOffset: 2,
					Left: &PathExpr{Segments: []Segment{seg("a", 0)}}, Right: &IntLiteral{Offset: 5, Value: 1}},
				Right: &BinaryExpr{Op: OpAnd, OpOffset: 17,
					Left: &BinaryExpr{Op: OpEq, OpOffset: 12,
						Left: &PathExpr{Offset: 10, Segments: []Segment{seg("b", 10)}}, Right: &IntLiteral{Offset: 15, Value: 2}},
					Right: &BinaryExpr{Op: OpEq, OpOffset: 23,
						Left: &PathExpr{Offset: 21, Segments: []Segment{seg("c", 21)}}, Right: &IntLiteral{Offset: 26, Value: 3}}}},
		},
		{
			// not binds tighter than eq, as in ODataLib and the OData ABNF.
			in: "not a eq b",
			want: &BinaryExpr{Op: OpEq, OpOffset: 6,
				Left:  &NotExpr{Offset: 0, X: &PathExpr{Offset: 4, Segments: []Segment{seg("a", 4)}}},
				Right: &PathExpr{Offset: 9, Segments: []Segment{seg("b", 9)}}},
		},
		{
			in: "not (contains(name,'%a_b'))",
			want: &NotExpr{Offset: 0, X: &CallExpr{Name: "contains", Offset: 5, Args: []Expr{
				&PathExpr{Offset: 14, Segments: []Segment{seg("name", 14)}},
				&StringLiteral{Offset: 19, Value: "%a_b"}}}},
		},
		{
			in: "Account_Tasks/any(t:t/statecode eq 1)",
			want: &LambdaExpr{
				Collection: &PathExpr{Segments: []Segment{seg("Account_Tasks", 0)}},
				Kind:       LambdaAny, KindOffset: 14, Var: "t", VarOffset: 18,
				Predicate: &BinaryExpr{Op: OpEq, OpOffset: 32,
					Left:  &PathExpr{Offset: 20, Root: RootRangeVariable, Var: "t", Segments: []Segment{seg("statecode", 22)}},
					Right: &IntLiteral{Offset: 35, Value: 1}}},
		},
		{
			in: "contact_customer_accounts/any()",
			want: &LambdaExpr{
				Collection: &PathExpr{Segments: []Segment{seg("contact_customer_accounts", 0)}},
				Kind:       LambdaAny, KindOffset: 26},
		},
		{
			in: "tags/all(x:x eq $it/name)",
			want: &LambdaExpr{
				Collection: &PathExpr{Segments: []Segment{seg("tags", 0)}},
				Kind:       LambdaAll, KindOffset: 5, Var: "x", VarOffset: 9,
				Predicate: &BinaryExpr{Op: OpEq, OpOffset: 13,
					Left:  &PathExpr{Offset: 11, Root: RootRangeVariable, Var: "x"},
					Right: &PathExpr{Offset: 16, Root: RootIt, Segments: []Segment{seg("name", 20)}}}},
		},
		{
			in: "Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=[\"a\",\"O'Brian\"])",
			want: &QueryFunctionExpr{Namespace: "Microsoft.Dynamics.CRM", Name: "In", Offset: 0, Params: []NamedParam{
				{Name: "PropertyName", Offset: 26, Value: &StringLiteral{Offset: 39, Value: "lastname"}},
				{Name: "PropertyValues", Offset: 50, Value: &ArrayLiteral{Offset: 65, Items: []Expr{
					&StringLiteral{Offset: 66, Value: "a"}, &StringLiteral{Offset: 70, Value: "O'Brian"}}}},
			}},
		},
		{
			in: "Microsoft.Dynamics.CRM.Between(PropertyName=@p1,PropertyValues=@p2)",
			want: &QueryFunctionExpr{Namespace: "Microsoft.Dynamics.CRM", Name: "Between", Params: []NamedParam{
				{Name: "PropertyName", Offset: 31, Value: &AliasExpr{Name: "@p1", Offset: 44}},
				{Name: "PropertyValues", Offset: 48, Value: &AliasExpr{Name: "@p2", Offset: 63}},
			}},
		},
		{
			in: "Microsoft.Dynamics.CRM.Today(PropertyName='createdon')",
			want: &QueryFunctionExpr{Namespace: "Microsoft.Dynamics.CRM", Name: "Today", Params: []NamedParam{
				{Name: "PropertyName", Offset: 29, Value: &StringLiteral{Offset: 42, Value: "createdon"}},
			}},
		},
		{
			in: "OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'",
			want: &BinaryExpr{Op: OpEq, OpOffset: 14,
				Left:  &PathExpr{Segments: []Segment{seg("OwnershipType", 0)}},
				Right: &EnumLiteral{Offset: 17, Type: "Microsoft.Dynamics.CRM.OwnershipTypes", Value: "UserOwned"}},
		},
		{
			in: "revenue gt -5 and x lt - 2.5",
			want: &BinaryExpr{Op: OpAnd, OpOffset: 14,
				Left: &BinaryExpr{Op: OpGt, OpOffset: 8,
					Left: &PathExpr{Segments: []Segment{seg("revenue", 0)}}, Right: &IntLiteral{Offset: 11, Value: -5}},
				Right: &BinaryExpr{Op: OpLt, OpOffset: 20,
					Left: &PathExpr{Offset: 18, Segments: []Segment{seg("x", 18)}}, Right: &DecimalLiteral{Offset: 23, Text: "-2.5"}}},
		},
		{
			in:   "-revenue",
			want: &NegateExpr{Offset: 0, X: &PathExpr{Offset: 1, Segments: []Segment{seg("revenue", 1)}}},
		},
		{
			in: "firstname eq lastname",
			want: &BinaryExpr{Op: OpEq, OpOffset: 10,
				Left:  &PathExpr{Segments: []Segment{seg("firstname", 0)}},
				Right: &PathExpr{Offset: 13, Segments: []Segment{seg("lastname", 13)}}},
		},
		{
			// Non-ASCII text: offsets are bytes.
			in: "name eq 'Zoë' and city eq 'x'",
			want: &BinaryExpr{Op: OpAnd, OpOffset: 15,
				Left: &BinaryExpr{Op: OpEq, OpOffset: 5,
					Left: &PathExpr{Segments: []Segment{seg("name", 0)}}, Right: &StringLiteral{Offset: 8, Value: "Zoë"}},
				Right: &BinaryExpr{Op: OpEq, OpOffset: 24,
					Left: &PathExpr{Offset: 19, Segments: []Segment{seg("city", 19)}}, Right: &StringLiteral{Offset: 27, Value: "x"}}},
		},
		{
			in: "parentcustomerid_account/Microsoft.Dynamics.CRM.account/name eq 'a'",
			want: &BinaryExpr{Op: OpEq, OpOffset: 61,
				Left: &PathExpr{Segments: []Segment{seg("parentcustomerid_account", 0),
					seg("Microsoft.Dynamics.CRM.account", 25), seg("name", 56)}},
				Right: &StringLiteral{Offset: 64, Value: "a"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFilter(tt.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseFilter(%q) tree mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// TestParseFilterCanonical checks parsing through the canonical text:
// whitespace, parentheses and precedence.
func TestParseFilterCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"name eq 'x'", "name eq 'x'"},
		{"  name   eq\t'x'\n", "name eq 'x'"},
		{"name\u00a0eq\u2003'x'", "name eq 'x'"}, // Unicode spaces are whitespace
		{"((name eq 'x'))", "name eq 'x'"},
		{"(a eq 1 or b eq 2) and c eq 3", "(a eq 1 or b eq 2) and c eq 3"},
		{"a eq 1 or (b eq 2 and c eq 3)", "a eq 1 or b eq 2 and c eq 3"},
		{"a eq 1 and b eq 2 and c eq 3", "a eq 1 and b eq 2 and c eq 3"},
		{"a eq 1 and (b eq 2 and c eq 3)", "a eq 1 and (b eq 2 and c eq 3)"},
		{"not(contains(name,'x'))", "not contains(name,'x')"},
		{"not (a eq 1)", "not (a eq 1)"},
		{"not not a", "not not a"},
		{"startswith( name , 'a' ) and endswith(name,'Inc.')", "startswith(name,'a') and endswith(name,'Inc.')"},
		{"contains(name,'100%') or contains(name,'a_b') or contains(name,'[x]')", "contains(name,'100%') or contains(name,'a_b') or contains(name,'[x]')"},
		{"revenue add 5 gt 10", "revenue add 5 gt 10"},
		{"revenue mul (a add b) gt 10", "revenue mul (a add b) gt 10"},
		{"a has Microsoft.Dynamics.CRM.Flags'A,B'", "a has Microsoft.Dynamics.CRM.Flags'A,B'"},
		{"x eq 'it''s'", "x eq 'it''s'"},
		{"x eq ''", "x eq ''"},
		{"x eq ''''", "x eq ''''"},
		{"n eq 12M", "n eq 12M"},
		{"n eq 12.50m", "n eq 12.50"},
		{"n eq 5L", "n eq 5"},
		{"n eq 1e10", "n eq 1e10"},
		{"n eq 2.5d", "n eq 2.5d"},
		{"n eq INF or n eq -INF or n eq NaN", "n eq INF or n eq -INF or n eq NaN"},
		{"n eq 99999999999999999999", "n eq 99999999999999999999M"},
		{"d eq 2024-02-29", "d eq 2024-02-29"},
		{"t ge 2024-01-01T09:30:00.125+02:00", "t ge 2024-01-01T09:30:00.125+02:00"},
		{"g eq A0BF4D48-34CB-ED11-B596-0022481D68CD", "g eq a0bf4d48-34cb-ed11-b596-0022481d68cd"},
		{"x eq @p1 and @p2 eq y", "x eq @p1 and @p2 eq y"},
		{"Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=[1, 2 ,3])", "Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=[1,2,3])"},
		{"Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=['a','b'])", `Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=["a","b"])`},
		{`Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=["a\"b","\u00e9"])`, `Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=["a\"b","é"])`},
		{"Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=[])", "Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=[])"},
		{"Microsoft.Dynamics.CRM.LastXHours(PropertyName='modifiedon',PropertyValue=12)", "Microsoft.Dynamics.CRM.LastXHours(PropertyName='modifiedon',PropertyValue=12)"},
		{"Microsoft . Dynamics . CRM . OwnershipTypes'UserOwned' eq x", "Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned' eq x"},
		{"a/b/c eq 1", "a/b/c eq 1"},
		{"a / b eq 1", "a/b eq 1"},
		{"A_Tasks/any(t: t/B_Notes/all(n: n/x eq t/y))", "A_Tasks/any(t:t/B_Notes/all(n:n/x eq t/y))"},
		{"tasks/any(t:t/subject eq 'x') and tasks/any(t:t/subject eq 'y')", "tasks/any(t:t/subject eq 'x') and tasks/any(t:t/subject eq 'y')"},
		{"t/x eq 1", "t/x eq 1"}, // t is a property outside a lambda
		{"-(5) gt x", "-(5) gt x"},
		{"- - x", "--x"},
		{"tolower(name) eq 'a' and year(createdon) eq 2024 and length(name) gt 3", "tolower(name) eq 'a' and year(createdon) eq 2024 and length(name) gt 3"},
		{"now()", "now()"},
		{"and eq or", "and eq or"}, // keywords in operand position are property names
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFilter(tt.in)
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.in, err)
			}
			if s := got.String(); s != tt.want {
				t.Errorf("ParseFilter(%q).String() = %q, want %q", tt.in, s, tt.want)
			}
			assertRoundTrip(t, tt.in, got)
		})
	}
}

func TestParseFilterLiteralValues(t *testing.T) {
	t.Parallel()
	rhs := func(t *testing.T, in string) Expr {
		t.Helper()
		e, err := ParseFilter("x eq " + in)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", "x eq "+in, err)
		}
		return e.(*BinaryExpr).Right
	}
	tests := []struct {
		in   string
		want Expr
	}{
		{"9223372036854775807", &IntLiteral{Offset: 5, Value: math.MaxInt64}},
		{"-9223372036854775808", &IntLiteral{Offset: 5, Value: math.MinInt64}},
		{"9223372036854775808", &DecimalLiteral{Offset: 5, Text: "9223372036854775808"}},
		{"12345678901234567890.123456789", &DecimalLiteral{Offset: 5, Text: "12345678901234567890.123456789"}},
		{"0.1", &DecimalLiteral{Offset: 5, Text: "0.1"}},
		{"2.5E-3", &DoubleLiteral{Offset: 5, Value: 0.0025, Text: "2.5E-3"}},
		{"1f", &DoubleLiteral{Offset: 5, Value: 1, Text: "1f"}},
		{"true", &BoolLiteral{Offset: 5, Value: true}},
		{"false", &BoolLiteral{Offset: 5, Value: false}},
		{"null", &NullLiteral{Offset: 5}},
		{"'a''b''''c'", &StringLiteral{Offset: 5, Value: "a'b''c"}},
		{"'%_[^a]'", &StringLiteral{Offset: 5, Value: "%_[^a]"}},
		{"'日本'", &StringLiteral{Offset: 5, Value: "日本"}},
		{"2024-01-31", &DateLiteral{Offset: 5, Year: 2024, Month: time.January, Day: 31}},
		{"2024-01-01T00:00:00Z", &DateTimeOffsetLiteral{Offset: 5, Text: "2024-01-01T00:00:00Z",
			Value: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"2024-01-01T10:00Z", &DateTimeOffsetLiteral{Offset: 5, Text: "2024-01-01T10:00Z",
			Value: time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)}},
		{"2024-06-30T23:59:59.1234567-07:00", &DateTimeOffsetLiteral{Offset: 5, Text: "2024-06-30T23:59:59.1234567-07:00",
			Value: time.Date(2024, 7, 1, 6, 59, 59, 123456700, time.UTC)}},
		{"Microsoft.Dynamics.CRM.OwnershipTypes'User''Owned'", &EnumLiteral{Offset: 5,
			Type: "Microsoft.Dynamics.CRM.OwnershipTypes", Value: "User'Owned"}},
		{`[1,-2,3.5,1e2,"s",'t',true,null,99999999999999999999]`, &ArrayLiteral{Offset: 5, Items: []Expr{
			&IntLiteral{Offset: 6, Value: 1}, &IntLiteral{Offset: 8, Value: -2}, &DecimalLiteral{Offset: 11, Text: "3.5"},
			&DoubleLiteral{Offset: 15, Value: 100, Text: "1e2"}, &StringLiteral{Offset: 19, Value: "s"},
			&StringLiteral{Offset: 23, Value: "t"}, &BoolLiteral{Offset: 27, Value: true}, &NullLiteral{Offset: 32},
			&DecimalLiteral{Offset: 37, Text: "99999999999999999999"}}}},
		{`["\ud83d\ude00\n\t\\"]`, &ArrayLiteral{Offset: 5, Items: []Expr{&StringLiteral{Offset: 6, Value: "😀\n\t\\"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := rhs(t, tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("literal %q mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	t.Run("NaN", func(t *testing.T) {
		t.Parallel()
		d, ok := rhs(t, "NaN").(*DoubleLiteral)
		if !ok || !math.IsNaN(d.Value) {
			t.Errorf("NaN parsed as %#v", d)
		}
	})
	t.Run("INF", func(t *testing.T) {
		t.Parallel()
		d, ok := rhs(t, "-INF").(*DoubleLiteral)
		if !ok || !math.IsInf(d.Value, -1) || d.Text != "-INF" {
			t.Errorf("-INF parsed as %#v", d)
		}
	})
}

func TestParseFilterErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		pos     int // byte offset
		wantMsg string
	}{
		// The example from Dataverse's documentation.
		{"lastname eq 'O'Bryan'", 21, "There is an unterminated literal at position 21 in 'lastname eq 'O'Bryan''."},
		{"name eq 'abc", 12, "There is an unterminated string literal at position 12 in 'name eq 'abc'."},
		{"x eq Microsoft.Dynamics.CRM.T'abc", 33, "There is an unterminated literal at position 33 in 'x eq Microsoft.Dynamics.CRM.T'abc'."},
		{"name eqq 'x'", 8, "Syntax error at position 8 in 'name eqq 'x''."},
		// Keywords are case-sensitive: AND is an identifier, so the
		// expression ends after "a eq 1" and the next token is extra.
		{"a eq 1 AND b eq 2", 10, "Syntax error at position 10 in 'a eq 1 AND b eq 2'."},
		{"a EQ 1", 4, "Syntax error at position 4 in 'a EQ 1'."},
		{"a eq True", 9, "Syntax error at position 9 in 'a eq True'."}, // True is a property; "a eq True" is fine…
		{"name eq", 7, "Expression expected at position 7 in 'name eq'."},
		{"", 0, "Expression expected at position 0 in ''."},
		{"(a eq 1", 7, "')' or operator expected at position 7 in '(a eq 1'."},
		{"a eq 1)", 7, "Syntax error at position 7 in 'a eq 1)'."},
		{"contains(name,'x'", 17, "')' or ',' expected at position 17 in 'contains(name,'x''."},
		{"contains(name 'x')", 14, "')' or ',' expected at position 14 in 'contains(name 'x')'."},
		{"a/any(x:x eq 1", 14, "')' or ',' expected at position 14 in 'a/any(x:x eq 1'."},
		{"a/any x:x eq 1)", 6, "'(' expected at position 6 in 'a/any x:x eq 1)'."},
		{"a/any(x x eq 1)", 9, "Syntax error at position 9 in 'a/any(x x eq 1)'."},
		{"a/any(1:x eq 1)", 6, "An identifier was expected at position 6."},
		{"a/any(x:x/b/any(x:x eq 1))", 16, "The range variable 'x' has already been declared."},
		{"a/any($it:true)", 6, "The range variable '$it' has already been declared."},
		{"a/1 eq 2", 2, "An identifier was expected at position 2."},
		{"'a'/b eq 1", 0, "An identifier was expected at position 0."},
		{"x eq 1.", 7, "A digit was expected at position 7 in 'x eq 1.'."},
		{"x eq 1e+", 8, "A digit was expected at position 8 in 'x eq 1e+'."},
		{"x eq 99999999999999999999L", 5, "Unrecognized 'Edm.Int64' literal '99999999999999999999L' at '5' in 'x eq 99999999999999999999L'."},
		{"x eq 1e999", 5, "Unrecognized 'Edm.Double' literal '1e999' at '5' in 'x eq 1e999'."},
		{"x eq - -5", 5, "Unrecognized 'Edm.Int32' literal '--5' at '5' in 'x eq - -5'."},
		// The capture in the DynamicsWebApi issue: '&' inside $filter.
		{"Microsoft.Dynamics.CRM.LastXMonths(PropertyName=@p1,PropertyValue=@p2)&@p1='name'", 70,
			"Syntax error: character '&' is not valid at position 70 in 'Microsoft.Dynamics.CRM.LastXMonths(PropertyName=@p1,PropertyValue=@p2)&@p1='name''."},
		// Positions in messages count UTF-16 units; Pos counts bytes.
		{"x eq 'ü' and y eq &", 19, "Syntax error: character '&' is not valid at position 18 in 'x eq 'ü' and y eq &'."},
		{"x eq '😀' and y eq &", 21, "Syntax error: character '&' is not valid at position 19 in 'x eq '😀' and y eq &'."},
		{"x eq 50%", 7, "Syntax error: character '%' is not valid at position 7 in 'x eq 50%'."},
		{"x eq \"a\"", 5, "Syntax error: character '\"' is not valid at position 5 in 'x eq \"a\"'."},
		{"x eq @", 6, "Syntax error at position 6 in 'x eq @'."},
		{"x eq @1", 6, "Syntax error: character '1' is not valid at position 6 in 'x eq @1'."},
		{"x eq null'Edm.String'", 9, "Syntax error at position 9 in 'x eq null'Edm.String''."},
		{"x eq duration'P1D'", 5, "Literal 'duration'P1D'' of type 'Edm.Duration' at position 5 in 'x eq duration'P1D'' is not supported."},
		{"x eq 0x1F", 5, "Literal '0x1F' of type 'Edm.Binary' at position 5 in 'x eq 0x1F' is not supported."},
		{"x eq 10:30:00", 5, "Literal '10:30:00' of type 'Edm.TimeOfDay' at position 5 in 'x eq 10:30:00' is not supported."},
		{"x eq Foo'bar'", 5, "Syntax error at position 5 in 'x eq Foo'bar''."},
		{"x eq {\"a\":1}", 5, "Expression expected at position 5 in 'x eq {\"a\":1}'."},
		{"x eq *", 5, "Expression expected at position 5 in 'x eq *'."},
		{"Microsoft.Dynamics.CRM.In(PropertyName='a',PropertyName='b')", 43, "Parameter or entity key names must be unique. There is most likely an error in the model."},
		{"Microsoft.Dynamics.CRM.In('a')", 26, "Syntax error at position 26 in 'Microsoft.Dynamics.CRM.In('a')'."},
		{"Microsoft.Dynamics.CRM.In(PropertyName 'a')", 39, "Syntax error at position 39 in 'Microsoft.Dynamics.CRM.In(PropertyName 'a')'."},
		// JSON arrays, read as Json.NET would.
		{"Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=['O''Brian'])", 62,
			"Invalid JSON. A comma character ',' was expected in scope 'Array'. Was there a missing comma?"},
		{`x eq ["a"`, 9, "Invalid JSON. Unexpected end of content while loading JArray."},
		{`x eq ["a`, 6, "Invalid JSON. Unterminated string. Expected delimiter: \"."},
		{`x eq [[1]]`, 6, "Invalid JSON. Nested arrays and objects are not supported in a list of property values."},
		{`x eq [01]`, 6, "Invalid JSON. Input string '01' is not a valid number."},
		{`x eq [nope]`, 6, "Invalid JSON. Unexpected character encountered while parsing value: n."},
		{`x eq ["\x"]`, 7, `Invalid JSON. Bad JSON escape sequence: \x.`},
		{"a/b(1) eq 1", 3, "Syntax error at position 3 in 'a/b(1) eq 1'."},
		{"(a)/b eq 1", 3, "Syntax error at position 3 in '(a)/b eq 1'."},
		{"a/any()/b eq 1", 7, "Syntax error at position 7 in 'a/any()/b eq 1'."},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFilter(tt.in)
			if tt.in == "a eq True" {
				// "True" is not the boolean literal (keywords are case-sensitive)
				// but a property path, which is valid syntax.
				if err != nil {
					t.Fatalf("ParseFilter(%q): %v", tt.in, err)
				}
				if _, ok := got.(*BinaryExpr).Right.(*PathExpr); !ok {
					t.Errorf("True parsed as %T, want a property path", got.(*BinaryExpr).Right)
				}
				return
			}
			assertSyntaxError(t, tt.in, got, err, tt.pos, tt.wantMsg)
		})
	}
}

func assertSyntaxError[T any](t *testing.T, in string, got T, err error, pos int, msg string) {
	t.Helper()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("parse(%q) = %v, %v; want *SyntaxError", in, got, err)
	}
	if se.Msg != msg || se.Error() != msg {
		t.Errorf("parse(%q) message\n got %q\nwant %q", in, se.Msg, msg)
	}
	if se.Pos != pos {
		t.Errorf("parse(%q) Pos = %d, want %d", in, se.Pos, pos)
	}
}

func TestParseFilterDepth(t *testing.T) {
	t.Parallel()
	nest := func(n int) string {
		return strings.Repeat("(", n) + "a eq 1" + strings.Repeat(")", n)
	}
	// ODataLib's budget of 800 allows 113 parentheses around a comparison.
	if _, err := ParseFilter(nest(113)); err != nil {
		t.Errorf("113 nested parentheses: %v", err)
	}
	for _, in := range []string{
		nest(114),
		nest(100000),
		strings.Repeat("not ", 100000) + "a",
		strings.Repeat("-", 100000) + "a",
		lambdas(1000),
		strings.Repeat("f(", 100000),
	} {
		_, err := ParseFilter(in)
		var se *SyntaxError
		if !errors.As(err, &se) || se.Msg != "Recursion depth exceeded allowed limit." {
			t.Errorf("deep input of %d bytes: err = %v, want the recursion limit", len(in), err)
		}
	}
	if _, err := ParseFilter(strings.Repeat("not ", 790) + "a"); err != nil {
		t.Errorf("790 nested nots: %v", err)
	}
}

// lambdas nests n any() lambdas, each with its own range variable.
func lambdas(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a/any(x%d:", i)
	}
	b.WriteString("true")
	b.WriteString(strings.Repeat(")", n))
	return b.String()
}

// assertRoundTrip checks that formatting e and parsing the text again gives
// the same tree, positions aside.
func assertRoundTrip(t *testing.T, in string, e Expr) {
	t.Helper()
	text := e.String()
	again, err := ParseFilter(text)
	if err != nil {
		t.Fatalf("ParseFilter(%q) formatted as %q, which does not parse: %v", in, text, err)
	}
	if diff := cmp.Diff(e, again, ignorePositions, equateNaN); diff != "" {
		t.Errorf("ParseFilter(%q) -> %q -> different tree (-first +second):\n%s", in, text, diff)
	}
}
