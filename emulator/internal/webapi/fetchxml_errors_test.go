package webapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestFetchXMLErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	link := func(n int) string {
		return strings.Repeat(`<link-entity name="account" from="accountid" to="parentcustomerid" link-type="outer" />`, n)
	}
	conditions := func(n int) string {
		return "<filter type='or'>" + strings.Repeat(`<condition attribute='fax' operator='null'/>`, n) + "</filter>"
	}
	tests := []struct {
		name, set, fetchXML, extra string
		status                     int
		code, message              string
	}{
		{"entity does not match the set", "accounts", `<fetch><entity name="contact" /></fetch>`, "", 400, "0x80041128",
			"The entity name specified in fetchxml does not match the entity name specified in the Entity or Query Expression."},
		{"unknown entity", "contacts", `<fetch><entity name="contacts" /></fetch>`, "", 400, "0x80041102", "The specified entity was not found."},
		{"unknown attribute", "contacts", `<fetch><entity name="contact"><attribute name="x" /></entity></fetch>`, "", 400, "0x80041103",
			"'Contact' entity doesn't contain attribute with Name = 'x' and NameMapping = 'Logical' (look up attribute by name is case-sensitive)."},
		{"mis-cased attribute", "contacts", `<fetch><entity name="contact"><attribute name="FirstName" /></entity></fetch>`, "", 400, "0x80041103",
			"'Contact' entity doesn't contain attribute with Name = 'FirstName'"},
		{"OData lookup name", "contacts", `<fetch><entity name="contact"><filter><condition attribute="_parentcustomerid_value" operator="null" /></filter></entity></fetch>`, "", 400, "0x80041103",
			"'Contact' entity doesn't contain attribute with Name = '_parentcustomerid_value'"},
		{"unknown link-entity column", "contacts", `<fetch><entity name="contact"><link-entity name="account" from="accountid" to="parentid" /></entity></fetch>`, "", 400, "0x80041103",
			"'Contact' entity doesn't contain attribute with Name = 'parentid'"},
		{"unknown order column", "contacts", `<fetch><entity name="contact"><order attribute="nope" /></entity></fetch>`, "", 400, "0x80041103", "'Contact' entity doesn't contain attribute with Name = 'nope'"},
		{"empty", "contacts", ``, "", 400, "0x80041124", "Xml String can't be null."},
		{"not XML", "contacts", `<fetch><entity name="contact">`, "", 400, "0x80040201", "Invalid XML."},
		{"not fetch", "contacts", `<query />`, "", 400, "0x8004111c", "The element node encountered is invalid."},
		{"no entity", "contacts", `<fetch />`, "", 400, "0x80041123", "A required element was not specified."},
		{"unknown element", "contacts", `<fetch><entity name="contact"><column name="x" /></entity></fetch>`, "", 400, "0x8004111c",
			"The element node encountered is invalid. <column> is not a FetchXML element."},
		{"misplaced element", "contacts", `<fetch><entity name="contact"><value>1</value></entity></fetch>`, "", 400, "0x8004111c",
			"The element node encountered is invalid. <entity> cannot contain <value>."},
		{"undeclared attribute", "contacts", `<fetch><entity name="contact" top="3" /></fetch>`, "", 400, "0x80040201",
			"Invalid XML. The 'top' attribute is not declared on the <entity> element."},
		{"document type", "contacts", `<!DOCTYPE x [<!ENTITY a "b">]><fetch><entity name="contact" /></fetch>`, "", 400, "0x80040201", "Invalid XML."},
		{"missing entity name", "contacts", `<fetch><entity /></fetch>`, "", 400, "0x8004111e", "A required attribute was not specified."},
		{"bad boolean", "contacts", `<fetch distinct="yes"><entity name="contact" /></fetch>`, "", 400, "0x80041115",
			"The only valid values for distinct attribute are 'true', 'false', '1', and '0'."},
		{"bad descending", "contacts", `<fetch><entity name="contact"><order attribute="lastname" descending="down" /></entity></fetch>`, "", 400, "0x80041119",
			"The only valid values for descending attribute are 'true', 'false', '1', and '0'."},
		{"bad count", "contacts", `<fetch count="-1"><entity name="contact" /></fetch>`, "", 400, "0x80041108", "Invalid value specified for type."},
		{"count over 5000", "contacts", `<fetch count="5001"><entity name="contact" /></fetch>`, "", 400, "0x80041108", "Invalid value specified for type."},
		{"top over 5000", "contacts", `<fetch top="5001"><entity name="contact" /></fetch>`, "", 400, "0x80041108", "Invalid value specified for type."},
		{"top with paging", "contacts", `<fetch top="5" page="2"><entity name="contact" /></fetch>`, "", 400, "0x80041108", "Invalid value specified for type."},
		{"mapping", "contacts", `<fetch mapping="physical"><entity name="contact" /></fetch>`, "", 400, "0x80041116", "The only valid values for mapping are 'logical'"},
		{"utc-offset", "contacts", `<fetch utc-offset="1"><entity name="contact" /></fetch>`, "", 400, "0x8004111d", "The utc-offset attribute is not supported for deserialization."},
		{"bad filter type", "contacts", `<fetch><entity name="contact"><filter type="xor" /></entity></fetch>`, "", 400, "0x80041122",
			"Unsupported filter type. Valid values are 'and', or 'or'."},
		{"unknown operator", "contacts", `<fetch><entity name="contact"><filter><condition attribute="lastname" operator="equals" value="x" /></filter></entity></fetch>`, "", 400, "0x80041120",
			"Unsupported condition operator."},
		{"operator for another type", "contacts", `<fetch><entity name="contact"><filter><condition attribute="numberofchildren" operator="like" value="1%" /></filter></entity></fetch>`, "", 400, "0x80041120",
			"Unsupported condition operator."},
		{"value that is not a number", "contacts", `<fetch><entity name="contact"><filter><condition attribute="numberofchildren" operator="eq" value="two" /></filter></entity></fetch>`, "", 400, "0x80040203",
			"An exception System.FormatException was thrown while trying to convert input value 'two' to attribute 'contact.numberofchildren'. Expected type of attribute value: System.Int32."},
		{"value that is not a GUID", "contacts", `<fetch><entity name="contact"><filter><condition attribute="parentcustomerid" operator="eq" value="acme" /></filter></entity></fetch>`, "", 400, "0x80040203",
			"An exception System.FormatException was thrown while trying to convert input value 'acme' to attribute 'contact.parentcustomerid'. Expected type of attribute value: System.Guid."},
		{"missing value", "contacts", `<fetch><entity name="contact"><filter><condition attribute="lastname" operator="eq" /></filter></entity></fetch>`, "", 400, "0x80041106",
			"Incorrect filter condition or conditions."},
		{"between with one value", "contacts", `<fetch><entity name="contact"><filter><condition attribute="numberofchildren" operator="between"><value>1</value></condition></filter></entity></fetch>`, "", 400, "0x80041106",
			"Incorrect filter condition or conditions."},
		{"in without values", "contacts", `<fetch><entity name="contact"><filter><condition attribute="lastname" operator="in" value="x" /></filter></entity></fetch>`, "", 400, "0x80041106",
			"Incorrect filter condition or conditions."},
		{"unknown entityname", "contacts", `<fetch><entity name="contact"><filter><condition entityname="a" attribute="name" operator="null" /></filter></entity></fetch>`, "", 400, "0x8004110a",
			"The specified alias for the given entity in the condition does not exist."},
		{"duplicate link alias", "contacts", `<fetch><entity name="contact"><link-entity name="account" from="accountid" to="parentcustomerid" alias="a" /><link-entity name="account" from="accountid" to="parentcustomerid" alias="a" /></entity></fetch>`, "", 400, "0x80041130",
			"FetchXML should have unique aliases."},
		{"join columns of different types", "contacts", `<fetch><entity name="contact"><link-entity name="account" from="name" to="parentcustomerid" /></entity></fetch>`, "", 400, "0x80041104",
			"Data Types don't match for the link-entity join attributes 'name', 'parentcustomerid'."},
		{"bad link-type", "contacts", `<fetch><entity name="contact"><link-entity name="account" from="accountid" to="parentcustomerid" link-type="left" /></entity></fetch>`, "", 400, "0x80041117",
			"The only valid values for link-type attribute are"},
		{"16 link-entities", "contacts", `<fetch><entity name="contact">` + link(16) + `</entity></fetch>`, "", 400, "0x8004430d", "Number of link entities in query exceeded maximum limit."},
		{"501 conditions", "contacts", `<fetch><entity name="contact">` + conditions(501) + `</entity></fetch>`, "", 400, "0x80060888", "Number of conditions in query exceeded maximum limit."},
		{"alias order in a plain query", "contacts", `<fetch><entity name="contact"><order alias="x" /></entity></fetch>`, "", 400, "0x80041132",
			"An alias cannot be specified for an order clause for a non-aggregate Query. Use an attribute."},
		{"aggregate without aggregate='true'", "contacts", `<fetch><entity name="contact"><attribute name="contactid" alias="n" aggregate="count" /></entity></fetch>`, "", 400, "0x8004111a",
			"An error occurred while processing Aggregates in Query"},
		{"plain attribute in an aggregate", "contacts", `<fetch aggregate="true"><entity name="contact"><attribute name="lastname" /></entity></fetch>`, "", 400, "0x80041107",
			"Attributes can not be returned when aggregate operation is specified."},
		{"all-attributes in an aggregate", "contacts", `<fetch aggregate="true"><entity name="contact"><all-attributes /></entity></fetch>`, "", 400, "0x80041107",
			"Attributes can not be returned when aggregate operation is specified."},
		{"aggregate without alias", "contacts", `<fetch aggregate="true"><entity name="contact"><attribute name="contactid" aggregate="count" /></entity></fetch>`, "", 400, "0x80041109",
			"Invalid alias for aggregate operation."},
		{"groupby and aggregate", "contacts", `<fetch aggregate="true"><entity name="contact"><attribute name="lastname" alias="l" groupby="true" aggregate="count" /></entity></fetch>`, "", 400, "0x80041137",
			"An attribute can either be an aggregate or a Group By but not both"},
		{"sum of text", "contacts", `<fetch aggregate="true"><entity name="contact"><attribute name="lastname" alias="s" aggregate="sum" /></entity></fetch>`, "", 400, "0x8004112f",
			"Aggregate sum is not supported for attribute of type String."},
		{"unknown aggregate", "contacts", `<fetch aggregate="true"><entity name="contact"><attribute name="lastname" alias="s" aggregate="median" /></entity></fetch>`, "", 400, "0x8004111a",
			"An error occurred while processing Aggregates in Query"},
		{"attribute order in an aggregate", "contacts", `<fetch aggregate="true"><entity name="contact"><attribute name="lastname" alias="l" groupby="true" /><order attribute="lastname" /></entity></fetch>`, "", 400, "0x80041131",
			"An attribute cannot be specified for an order clause for an aggregate Query. Use an alias."},
		{"bad dategrouping", "contacts", `<fetch aggregate="true"><entity name="contact"><attribute name="createdon" alias="d" groupby="true" dategrouping="decade" /></entity></fetch>`, "", 400, "0x80041135",
			"An invalid value was specified for dategrouping."},
		{"duplicate attribute alias", "contacts", `<fetch><entity name="contact"><attribute name="lastname" alias="x" /><attribute name="firstname" alias="x" /></entity></fetch>`, "", 400, "0x80041130",
			"FetchXML should have unique aliases."},
		{"fetchXml with $select", "contacts", `<fetch><entity name="contact" /></fetch>`, "$select=lastname", 400, "0x80060888",
			"The fetchXml parameter cannot be combined with $select"},
		{"fetchXml on a navigation property", "", "", "", 400, "0x80060888", "The fetchXml parameter can only be used on an entity set"},
		{"filter on an aggregate", "contacts", `<fetch aggregate="true"><entity name="contact"><attribute name="contactid" alias="n" aggregate="count" /><filter><condition alias="n" attribute="contactid" operator="gt" value="1" /></filter></entity></fetch>`, "", 501, "0x80040216",
			"The emulator does not implement FetchXML conditions with 'alias' (filtering on aggregates) yet."},
		{"fiscal date grouping", "contacts", `<fetch aggregate="true"><entity name="contact"><attribute name="createdon" alias="d" groupby="true" dategrouping="fiscal-year" /></entity></fetch>`, "", 501, "0x80040216",
			"The emulator does not implement dategrouping='fiscal-year' yet."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *response
			if tt.set == "" {
				r = e.call(http.MethodGet, api+"systemusers(00000000-0000-0000-0000-000000000001)/user_accounts?fetchXml=%3Cfetch%2F%3E", tokenAdmin, nil)
			} else {
				r = e.fetchAs(tokenAdmin, tt.set, tt.fetchXML, tt.extra)
			}
			expectError(t, r, tt.status, tt.code, tt.message)
		})
	}
}
