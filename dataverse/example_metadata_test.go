package dataverse_test

import (
	"context"
	"fmt"
	"log"
)

// Read a table's metadata to type the values of a file before importing it: the column types,
// the lookups' navigation properties for "<navigation>@odata.bind".
func ExampleClient_TableMetadata() {
	client, stop := exampleClient(nil)
	defer stop()
	ctx := context.Background()

	md, err := client.TableMetadata(ctx, "contacts") // or the logical name, "contact"
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(md.LogicalName, md.EntitySetName, md.PrimaryIDAttribute)
	for _, name := range []string{"birthdate", "numberofchildren", "parentcustomerid"} {
		c, _ := md.Column(name)
		fmt.Println(c.LogicalName, c.AttributeType, c.Targets)
	}
	for _, l := range md.Lookups {
		if l.Attribute == "parentcustomerid" {
			fmt.Println(l.NavigationProperty+"@odata.bind", "->", l.Targets[0])
		}
	}
	// Output:
	// contact contacts contactid
	// birthdate DateTime []
	// numberofchildren Integer []
	// parentcustomerid Customer [account contact]
	// parentcustomerid_account@odata.bind -> account
	// parentcustomerid_contact@odata.bind -> contact
}
