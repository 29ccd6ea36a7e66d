package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
)

func TestParseExpand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []dataverse.Expand
		wantErr string
	}{
		{"primarycontactid", []dataverse.Expand{{Property: "primarycontactid"}}, ""},
		{"primarycontactid($select=fullname, emailaddress1),Account_Tasks", []dataverse.Expand{
			{Property: "primarycontactid", Select: []string{"fullname", "emailaddress1"}}, {Property: "Account_Tasks"}}, ""},
		{"contact_customer_accounts($select=fullname;$filter=lastname eq 'a;b,(c)';$orderby=fullname desc,createdon;$top=5)", []dataverse.Expand{{
			Property: "contact_customer_accounts", Select: []string{"fullname"}, Filter: "lastname eq 'a;b,(c)'",
			OrderBy: []string{"fullname desc", "createdon"}, Top: 5}}, ""},
		{"a($expand=b($select=x;$expand=c))", []dataverse.Expand{{Property: "a", Expand: []dataverse.Expand{
			{Property: "b", Select: []string{"x"}, Expand: []dataverse.Expand{{Property: "c"}}}}}}, ""},
		{"", nil, `"" is not a navigation property name`},
		{"a b", nil, `"a b" is not a navigation property name`},
		{"a($select=x", nil, `a "(" is not closed`},
		{"a)", nil, `a ")" has no "("`},
		{"a($filter=name eq 'x)", nil, "a quoted string is not closed"},
		{"a($top=-1)", nil, "$top=-1 is not a count"},
		{"a($skip=1)", nil, "$skip is not an option of $expand"},
		{"a(select)", nil, `"select" is not $option=value`},
		{"a($select=x)b", nil, `do not end with ")"`},
	}
	for _, tt := range tests {
		got, err := parseExpand(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseExpand(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseExpand(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseExpand(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// FuzzParseExpand: any input gives expansions or an error, never a panic, and every expansion
// names a navigation property.
func FuzzParseExpand(f *testing.F) {
	for _, s := range []string{"a", "a($select=x,y;$top=2)", "a($expand=b($expand=c))", "a($filter=x eq ')')", "a(", ")"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		exp, err := parseExpand(s)
		if err != nil {
			return
		}
		var check func([]dataverse.Expand)
		check = func(es []dataverse.Expand) {
			for _, e := range es {
				if !isColumnName(e.Property) || e.Top < 0 {
					t.Fatalf("parseExpand(%q) gave %+v", s, e)
				}
				check(e.Expand)
			}
		}
		check(exp)
	})
}
