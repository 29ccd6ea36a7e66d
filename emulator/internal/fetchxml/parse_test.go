package fetchxml

import (
	"errors"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/google/go-cmp/cmp"
)

func TestParseTree(t *testing.T) {
	got, err := Parse(`<fetch top="5" distinct="true" paging-cookie="c" useraworderby="1">
	  <entity name="contact">
	    <attribute name="fullname" alias="n" />
	    <order attribute="lastname" descending="true" />
	    <filter type="or">
	      <condition attribute="lastname" operator="in"><value>a</value><value>b</value></condition>
	      <filter><condition entityname="a" attribute="name" operator="like" value="%x%" /></filter>
	    </filter>
	    <link-entity name="account" from="accountid" to="parentcustomerid" alias="a" link-type="outer">
	      <all-attributes />
	    </link-entity>
	  </entity>
	</fetch>`)
	if err != nil {
		t.Fatal(err)
	}
	want := &Query{
		Top: 5, Distinct: true, PagingCookie: "c", HasCookie: true, RawOrderBy: true,
		Entity: &Entity{
			Name:       "contact",
			Attributes: []*Attribute{{Name: "fullname", Alias: "n"}},
			Orders:     []*Order{{Attribute: "lastname", Descending: true}},
			Filters: []*Filter{{Or: true,
				Conditions: []*Condition{{Attribute: "lastname", Operator: "in", Values: []string{"a", "b"}}},
				Filters: []*Filter{{Conditions: []*Condition{
					{Attribute: "name", EntityName: "a", Operator: "like", Value: "%x%", HasValue: true}}}},
			}},
			Links: []*Link{{Entity: Entity{Name: "account", AllAttributes: true},
				From: "accountid", To: "parentcustomerid", Alias: "a", LinkType: "outer"}},
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("tree (-want +got):\n%s", d)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, fetch string
		status      int
		code        string
		message     string
	}{
		{"empty", "  ", 400, dverr.CodeFetchEmptyXML, "Xml String can't be null. The fetchXml parameter is empty."},
		{"wrong root", `<entity name="contact"/>`, 400, dverr.CodeFetchInvalidNode,
			"The element node encountered is invalid. The root element of a FetchXML query must be <fetch>, not <entity>."},
		{"undeclared attribute", `<fetch><entity name="contact" colour="red"/></fetch>`, 400, dverr.CodeFetchInvalidXML,
			"Invalid XML. The 'colour' attribute is not declared on the <entity> element."},
		{"no entity", `<fetch/>`, 400, dverr.CodeFetchElementNotFound,
			"A required element was not specified. The <fetch> element needs an <entity> element."},
		{"bad filter type", `<fetch><entity name="contact"><filter type="xor"/></entity></fetch>`, 400, dverr.CodeFetchInvalidFilterType,
			"Unsupported filter type. Valid values are 'and', or 'or'. The filter has type='xor'."},
		{"row aggregate", `<fetch><entity name="contact"><attribute name="x" rowaggregate="CountChildren"/></entity></fetch>`, 501, dverr.CodeNotImplemented,
			"The emulator does not implement FetchXML row aggregates (rowaggregate) yet."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.fetch)
			var de *dverr.Error
			if !errors.As(err, &de) || de.Status != tt.status || de.Code != tt.code || de.Message != tt.message {
				t.Fatalf("err = %#v, want %d %s %q", err, tt.status, tt.code, tt.message)
			}
		})
	}
}
