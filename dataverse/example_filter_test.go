package dataverse_test

import (
	"fmt"
	"time"

	"github.com/d365s2s/d365/dataverse"
	"github.com/google/uuid"
)

func ExampleFilterf() {
	since := time.Date(2024, 5, 1, 14, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	account := uuid.MustParse("70bf4d48-34cb-ed11-b596-0022481d68cd")
	fmt.Println(dataverse.Filterf("lastname eq %v and _parentcustomerid_value eq %v and createdon ge %v",
		"O'Brien", account, since))
	// Output:
	// lastname eq 'O''Brien' and _parentcustomerid_value eq 70bf4d48-34cb-ed11-b596-0022481d68cd and createdon ge 2024-05-01T12:00:00Z
}

func ExampleAnd() {
	f := dataverse.And(
		dataverse.Eq("statecode", 0),
		dataverse.Or(dataverse.StartsWith("name", "Contoso"), dataverse.Contains("name", "it's")),
		dataverse.In("address1_country", "Norway", "Sweden"),
	)
	fmt.Println(f)
	// Output:
	// statecode eq 0 and (startswith(name,'Contoso') or contains(name,'it''s')) and Microsoft.Dynamics.CRM.In(PropertyName='address1_country',PropertyValues=["Norway","Sweden"])
}

func ExampleFormatLiteral() {
	for _, v := range []any{"O'Brien", 42, true, nil, uuid.MustParse("00000000-0000-0000-0000-000000000001")} {
		s, _ := dataverse.FormatLiteral(v)
		fmt.Println(s)
	}
	// Output:
	// 'O''Brien'
	// 42
	// true
	// null
	// 00000000-0000-0000-0000-000000000001
}
