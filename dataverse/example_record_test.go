package dataverse_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/d365s2s/d365/dataverse"
	"github.com/google/uuid"
)

func ExampleRecord_Lookup() {
	// A row as the Web API returns it with Prefer: odata.include-annotations="*".
	body := `{
		"@odata.etag": "W/\"81052965\"",
		"name": "Fourth Coffee",
		"revenue@OData.Community.Display.V1.FormattedValue": "$20,000.00",
		"revenue": 20000.0,
		"_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "systemuser",
		"_ownerid_value@OData.Community.Display.V1.FormattedValue": "Jane Doe",
		"_ownerid_value": "4026be43-6b69-e111-8f65-78e7d1620f5e"
	}`
	var r dataverse.Record
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		panic(err)
	}
	owner, _ := r.Lookup("ownerid")
	revenue, _ := r.FormattedValue("revenue")
	fmt.Println(r.ETag())
	fmt.Println(owner.ID, owner.LogicalName, owner.Name)
	fmt.Println(revenue, r["revenue"])
	// Output:
	// W/"81052965"
	// 4026be43-6b69-e111-8f65-78e7d1620f5e systemuser Jane Doe
	// $20,000.00 20000.0
}

func ExampleAlternateKey() {
	key := dataverse.AlternateKey{"emailaddress1": "o'brien+news@example.com", "firstname": "Seán"}
	fmt.Println(key) // as it appears in the URL: quoted, quotes doubled, percent-encoded
	// Output:
	// (emailaddress1='o''brien%2Bnews%40example.com',firstname='Se%C3%A1n')
}

func ExampleRecord_Bind() {
	account := uuid.MustParse("00000000-0000-0000-0000-000000000001")
	contact := dataverse.Record{"firstname": "Ada"}.Bind("parentcustomerid_account", "accounts", account)
	b, _ := json.Marshal(contact)
	fmt.Println(string(b))
	// Output:
	// {"firstname":"Ada","parentcustomerid_account@odata.bind":"/accounts(00000000-0000-0000-0000-000000000001)"}
}

func ExampleIsNotFound() {
	// What Retrieve returns for a missing row (normally built from the response).
	var err error = &dataverse.ResponseError{
		StatusCode: 404, Code: dataverse.CodeObjectDoesNotExist, Method: "GET",
		Path:    "contacts(00000000-0000-0000-0000-000000000001)",
		Message: "contact With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist",
	}
	if dataverse.IsNotFound(err) {
		fmt.Println("not found")
	}
	var re *dataverse.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.Code)
	}
	fmt.Println(err)
	// Output:
	// not found
	// 0x80040217
	// dataverse: GET contacts(00000000-0000-0000-0000-000000000001): 404 0x80040217: contact With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist
}
