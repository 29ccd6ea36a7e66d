package odata

import (
	"errors"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Seeds: one or two of each construct and each error family from the table
// tests, kept small so that plain `go test` stays fast.
var filterSeeds = []string{
	"lastname eq 'O''Bryan'",
	"lastname eq 'O'Bryan'",
	"name eq 'abc",
	"a eq 1 AND b eq 2",
	"(a eq 1 or b eq 2) and not c eq 3",
	"not (contains(name,'%a_b')) and startswith(name, 'x') or endswith(name,'y')",
	"_primarycontactid_value eq 70bf4d48-34cb-ed11-b596-0022481d68cd",
	"accountid eq '70bf4d48-34cb-ed11-b596-0022481d68cd'",
	"modifiedon ge 2024-01-01T00:00:00Z and d le 2024-02-29 and t eq 2024-01-01T09:30:00.125+02:00",
	"revenue gt -5.25 and n lt 1e10 and x eq 99999999999999999999 and y eq 12M and z eq 5L and w eq INF",
	"OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'",
	`Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=["a","O'Brian",1,2.5,true,null])`,
	"Microsoft.Dynamics.CRM.Between(PropertyName=@p1,PropertyValues=@p2)",
	"Account_Tasks/any(t:t/statecode eq 1 and t/x/all(u:u/y eq $it/z))",
	"contact_customer_accounts/any() and tags/all(x:x eq 'a')",
	"primarycontactid/fullname eq 'x' and -revenue lt - 5",
	"x eq 'ü' and y eq &",
	"((((a))))",
	"a/any(x:x/b/any(x:x eq 1))",
	"x eq [\"a\"",
	"x eq duration'P1D'",
}

var expandSeeds = []string{
	"primarycontactid",
	"primarycontactid/$ref,Account_Tasks",
	"Account_Tasks($select=subject;$filter=contains(subject,'a;b)c');$orderby=createdon desc;$top=5)",
	"a($expand=b($select=c;$expand=d)),e",
	"a()",
	"a($skip=1)",
	"a($filter=x eqq 1)",
	"a($select=b",
}

var applySeeds = []string{
	"groupby((statuscode))",
	"groupby((statuscode,primarycontactid/fullname),aggregate($count as count))",
	"aggregate(revenue with sum as total,revenue with average as avg)",
	"filter(address1_stateorprovince eq 'WA')/groupby((primarycontactid/fullname))",
	"aggregate(revenue with total as total)",
	"compute(a as b)",
}

var querySeeds = []string{
	"$select=name,revenue&$filter=revenue gt 100&$orderby=name desc&$top=10&$count=true",
	"$filter=Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)&@p1='lastname'&@p2=[\"O'Brian\",\"OBrian\"]",
	"$expand=primarycontactid($select=fullname)&$skiptoken=%3Ccookie%20pagenumber%3D%222%22%2F%3E",
	"$apply=groupby((statuscode),aggregate($count as count))",
	"fetchXml=%3Cfetch%2F%3E&tag=x&partitionId=p",
	"$skip=10",
	"$top=1&$top=2",
	"$count=yes",
}

// checkError asserts the fuzz property for failures: always a *SyntaxError
// with a position inside the input.
func checkError(t *testing.T, in string, err error) {
	t.Helper()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("parse(%q): error %T %v, want *SyntaxError", in, err, err)
	}
	if se.Pos < 0 || se.Pos > len(in) {
		t.Fatalf("parse(%q): Pos %d outside [0,%d]", in, se.Pos, len(in))
	}
	if se.Msg == "" {
		t.Fatalf("parse(%q): empty message", in)
	}
}

// checkPositions asserts that every node of e starts inside the input.
func checkPositions(t *testing.T, in string, e Expr) {
	t.Helper()
	Walk(e, func(x Expr) bool {
		if p := x.Pos(); p < 0 || p > len(in) {
			t.Fatalf("parse(%q): %T at %d, outside [0,%d]", in, x, p, len(in))
		}
		return true
	})
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := ParseFilter(in)
		if err != nil {
			checkError(t, in, err)
			return
		}
		checkPositions(t, in, e)
		text := e.String()
		again, err := ParseFilter(text)
		if err != nil {
			t.Fatalf("ParseFilter(%q) formats as %q, which fails: %v", in, text, err)
		}
		if diff := cmp.Diff(e, again, ignorePositions, equateNaN); diff != "" {
			t.Fatalf("ParseFilter(%q) -> %q -> different tree:\n%s", in, text, diff)
		}
	})
}

func FuzzParseExpand(f *testing.F) {
	for _, s := range expandSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		items, err := ParseExpand(in)
		if err != nil {
			checkError(t, in, err)
			return
		}
		text := FormatExpand(items)
		again, err := ParseExpand(text)
		if err != nil {
			t.Fatalf("ParseExpand(%q) formats as %q, which fails: %v", in, text, err)
		}
		if diff := cmp.Diff(items, again, ignorePositions, equateNaN); diff != "" {
			t.Fatalf("ParseExpand(%q) -> %q -> different tree:\n%s", in, text, diff)
		}
	})
}

func FuzzParseApply(f *testing.F) {
	for _, s := range applySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		steps, err := ParseApply(in)
		if err != nil {
			checkError(t, in, err)
			return
		}
		text := FormatApply(steps)
		again, err := ParseApply(text)
		if err != nil {
			t.Fatalf("ParseApply(%q) formats as %q, which fails: %v", in, text, err)
		}
		if diff := cmp.Diff(steps, again, ignorePositions, equateNaN); diff != "" {
			t.Fatalf("ParseApply(%q) -> %q -> different tree:\n%s", in, text, diff)
		}
	})
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range querySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		values, _ := url.ParseQuery(raw) // keeps what parses, as net/http does
		q, err := ParseQuery(values)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseQuery(%q): error %T %v", raw, err, err)
			}
			if v := values[se.Option]; len(v) == 0 || se.Pos < 0 || se.Pos > len(v[0]) {
				t.Fatalf("ParseQuery(%q): error %+v does not point into an option", raw, se)
			}
			return
		}
		for name := range q.Aliases {
			if _, err := q.Alias(name); err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Option != name || se.Pos < 0 || se.Pos > len(q.Aliases[name]) {
					t.Fatalf("Alias(%q) of %q: %v", name, raw, err)
				}
			}
		}
		again, err := ParseQuery(q.Values())
		if err != nil {
			t.Fatalf("ParseQuery(%q) formats as %v, which fails: %v", raw, q.Values(), err)
		}
		if diff := cmp.Diff(q, again, ignorePositions, equateNaN); diff != "" {
			t.Fatalf("ParseQuery(%q) -> %v -> different query:\n%s", raw, q.Values(), diff)
		}
	})
}
