package odata

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

const typicalFilter = "statecode eq 0 and (contains(name,'contoso') or startswith(name,'Fabrikam')) and " +
	"revenue ge 1000000.50 and _primarycontactid_value eq 70bf4d48-34cb-ed11-b596-0022481d68cd and " +
	"modifiedon ge 2024-01-01T00:00:00Z and primarycontactid/fullname ne null"

// largeFilter is a filter at Dataverse's limit of 500 conditions.
func largeFilter() string {
	var b strings.Builder
	for i := range 500 {
		if i > 0 {
			if i%2 == 0 {
				b.WriteString(" or ")
			} else {
				b.WriteString(" and ")
			}
		}
		fmt.Fprintf(&b, "(emailaddress%d eq 'user%d@example.com')", i%3+1, i)
	}
	return b.String()
}

func BenchmarkParseFilter(b *testing.B) {
	large := largeFilter()
	for _, bc := range []struct{ name, in string }{
		{"typical", typicalFilter},
		{"500conditions", large},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				if _, err := ParseFilter(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseQuery(b *testing.B) {
	values := url.Values{
		"$select":  {"name,revenue,statecode,_primarycontactid_value"},
		"$filter":  {typicalFilter},
		"$orderby": {"revenue desc,name"},
		"$expand":  {"primarycontactid($select=fullname),Account_Tasks($select=subject;$filter=statecode eq 0;$top=5)"},
		"$top":     {"50"},
		"$count":   {"true"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseQuery(values); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatFilter(b *testing.B) {
	e, err := ParseFilter(largeFilter())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = e.String()
	}
}

func TestLargeFilterParses(t *testing.T) {
	t.Parallel()
	e, err := ParseFilter(largeFilter())
	if err != nil {
		t.Fatal(err)
	}
	if n := CountConditions(e); n != 500 {
		t.Errorf("CountConditions = %d, want 500", n)
	}
}
