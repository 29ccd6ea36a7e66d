package dataverse

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

const annotatedRecord = `{
 "@odata.etag":"W/\"81052965\"",
 "accountid":"7eb682f1-ca75-e511-80d4-00155d2a68d1",
 "revenue@OData.Community.Display.V1.FormattedValue":"$20,000.00","revenue":20000.0,
 "_ownerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty":"ownerid",
 "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":"systemuser",
 "_ownerid_value@OData.Community.Display.V1.FormattedValue":"Jane Doe",
 "_ownerid_value":"00000000-0000-0000-0000-000000000002",
 "_primarycontactid_value":null,
 "name":"Contoso"
}`

func TestRecordHelpers(t *testing.T) {
	t.Parallel()
	var r Record
	if err := json.Unmarshal([]byte(annotatedRecord), &r); err != nil {
		t.Fatal(err)
	}
	if r.ETag() != `W/"81052965"` {
		t.Errorf("ETag = %q", r.ETag())
	}
	if v, ok := r.FormattedValue("revenue"); !ok || v != "$20,000.00" {
		t.Errorf("FormattedValue(revenue) = %q %v", v, ok)
	}
	if r["revenue"] != json.Number("20000.0") {
		t.Errorf("revenue = %#v, want json.Number", r["revenue"])
	}
	want := Lookup{ID: idB, LogicalName: "systemuser", Name: "Jane Doe", NavigationProperty: "ownerid"}
	for _, col := range []string{"ownerid", "_ownerid_value"} {
		got, ok := r.Lookup(col)
		if !ok {
			t.Errorf("Lookup(%q) not found", col)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Lookup(%q) (-want +got):\n%s", col, diff)
		}
	}
	if _, ok := r.Lookup("primarycontactid"); ok {
		t.Error("a null lookup was reported present")
	}
	if id, ok := r.GUID("accountid"); !ok || id != idA {
		t.Errorf("GUID(accountid) = %s %v", id, ok)
	}
	if _, ok := r.GUID("name"); ok {
		t.Error("GUID(name) parsed a non-GUID")
	}
	if s, ok := r.String("name"); !ok || s != "Contoso" {
		t.Errorf("String(name) = %q %v", s, ok)
	}
	if v, ok := r.Annotation("_ownerid_value", AnnotationLookupLogicalName); !ok || v != "systemuser" {
		t.Errorf("Annotation = %v %v", v, ok)
	}
	var typed struct {
		ID      uuid.UUID `json:"accountid"`
		Name    string    `json:"name"`
		Revenue float64   `json:"revenue"`
	}
	if err := r.Decode(&typed); err != nil {
		t.Fatal(err)
	}
	if typed.ID != idA || typed.Name != "Contoso" || typed.Revenue != 20000 {
		t.Errorf("Decode = %+v", typed)
	}
}

func TestRecordRoundTripKeepsPrecision(t *testing.T) {
	t.Parallel()
	var r Record
	if err := json.Unmarshal([]byte(`{"big":123456789012345678901234567890,"d":0.1000}`), &r); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(r)
	if string(out) != `{"big":123456789012345678901234567890,"d":0.1000}` {
		t.Errorf("round trip = %s", out)
	}
}
