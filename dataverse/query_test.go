package dataverse

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestQueryEncode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    Query
		want string
	}{
		{"empty", Query{}, ""},
		{"select", Query{Select: []string{"name", "_primarycontactid_value"}}, "$select=name%2C_primarycontactid_value"},
		{"filter with quote and plus", Query{Filter: "name eq 'A+B & O''Neil #1?'"}, "$filter=name%20eq%20'A%2BB%20%26%20O''Neil%20%231%3F'"},
		{"orderby top count", Query{OrderBy: []string{"revenue desc", "name"}, Top: 10, Count: true}, "$orderby=revenue%20desc%2Cname&$top=10&$count=true"},
		{"apply", Query{Apply: "groupby((statuscode),aggregate($count as count))"}, "$apply=groupby((statuscode)%2Caggregate(%24count%20as%20count))"},
		{"nested expand", Query{Expand: []Expand{
			{Property: "primarycontactid", Select: []string{"fullname"}},
			{Property: "Account_Tasks", Select: []string{"subject"}, Filter: "statecode eq 0", OrderBy: []string{"createdon desc"}, Top: 5,
				Expand: []Expand{{Property: "ownerid"}}},
		}}, "$expand=primarycontactid(%24select%3Dfullname)%2CAccount_Tasks(%24select%3Dsubject%3B%24filter%3Dstatecode%20eq%200%3B%24orderby%3Dcreatedon%20desc%3B%24top%3D5%3B%24expand%3Downerid)"},
	}
	for _, tt := range tests {
		got, err := tt.q.encode()
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func TestQueryPreferences(t *testing.T) {
	t.Parallel()
	q := Query{MaxPageSize: 100, Annotations: []string{AnnotationFormattedValue, AnnotationLookupLogicalName}}
	got, err := q.preferences()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"odata.maxpagesize=100", `odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.lookuplogicalname"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("preferences (-want +got):\n%s", diff)
	}
}

func TestQueryCloneIsDeep(t *testing.T) {
	t.Parallel()
	orig := Query{Select: []string{"a"}, Expand: []Expand{{Property: "p", Select: []string{"x"}, Expand: []Expand{{Property: "q"}}}}}
	c := orig.clone()
	c.Select[0] = "changed"
	c.Expand[0].Select[0] = "changed"
	c.Expand[0].Expand[0].Property = "changed"
	if orig.Select[0] != "a" || orig.Expand[0].Select[0] != "x" || orig.Expand[0].Expand[0].Property != "q" {
		t.Errorf("clone shares memory with the original: %+v", orig)
	}
}
