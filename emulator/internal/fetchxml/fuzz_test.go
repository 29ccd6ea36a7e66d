package fetchxml

import (
	"errors"
	"net/http"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/dverr"
)

// FuzzParse parses arbitrary FetchXML: every failure is a *dverr.Error
// with a message, 400 for a malformed query and 501 for a well-formed one
// using a feature the emulator lacks, and never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<fetch><entity name="contact"><attribute name="fullname" /></entity></fetch>`,
		`<fetch count="2" page="2" paging-cookie="&lt;cookie page=&quot;1&quot;&gt;&lt;contactid last=&quot;{00000000-0000-0000-0000-000000000001}&quot; /&gt;&lt;/cookie&gt;"><entity name="contact" /></fetch>`,
		`<fetch top="5" distinct="true"><entity name="contact"><all-attributes /><order attribute="lastname" descending="true" /></entity></fetch>`,
		`<fetch><entity name="contact"><filter type="or"><condition attribute="lastname" operator="in"><value>a</value><value>b</value></condition><filter><condition attribute="createdon" operator="last-x-days" value="3" /></filter></filter></entity></fetch>`,
		`<fetch><entity name="contact"><link-entity name="account" from="accountid" to="parentcustomerid" alias="a" link-type="outer"><attribute name="name" /><filter><condition attribute="name" operator="like" value="%x%" /></filter></link-entity><filter><condition entityname="a" attribute="accountid" operator="null" /></filter></entity></fetch>`,
		`<fetch aggregate="true"><entity name="contact"><attribute name="numberofchildren" alias="k" groupby="true" /><attribute name="annualincome" alias="s" aggregate="sum" /><attribute name="createdon" alias="m" groupby="true" dategrouping="month" /><order alias="k" /></entity></fetch>`,
		`<fetch><entity name="contact"><attribute name="lastname" alias="x" /><filter><condition attribute="numberofchildren" operator="between"><value>1</value><value>3</value></condition></filter></entity></fetch>`,
		`<?xml version="1.0"?><fetch><entity name="contact" /></fetch>`,
		`<fetch><entity name="contact"><filter><condition attribute="modifiedon" operator="eq" valueof="createdon" /></filter></entity></fetch>`,
		`<fetch count="1" page="2" paging-cookie="&lt;cookie page=&quot;1&quot;&gt;&lt;gendercodename last=&quot;Male&quot; /&gt;&lt;gendercode last=&quot;1&quot; /&gt;&lt;parentcustomeridname /&gt;&lt;parentcustomerid /&gt;&lt;contactid last=&quot;{00000000-0000-0000-0000-000000000001}&quot; /&gt;&lt;/cookie&gt;"><entity name="contact"><order attribute="gendercode" /><order attribute="parentcustomerid" descending="true" /></entity></fetch>`,
		`<fetch useraworderby="true"><entity name="contact"><order attribute="gendercode" /><link-entity name="account" from="accountid" to="parentcustomerid" alias="a"><order attribute="ownerid" /></link-entity></entity></fetch>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		q, err := Parse(text)
		if err != nil {
			var de *dverr.Error
			if !errors.As(err, &de) || (de.Status != http.StatusBadRequest && de.Status != http.StatusNotImplemented) || de.Message == "" || de.Code == "" {
				t.Fatalf("parse error %#v is neither a 400 nor a 501 with a code and a message", err)
			}
			return
		}
		if q.Entity == nil || q.Entity.Name == "" {
			t.Fatalf("%q parsed without an entity", text)
		}
	})
}
