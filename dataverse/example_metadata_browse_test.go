package dataverse_test

import (
	"context"
	"fmt"
	"log"

	"github.com/d365s2s/d365/dataverse"
)

// List the environment's tables with the names each API takes: the logical name for metadata,
// the entity set name for rows.
func ExampleClient_ListTables() {
	client, stop := exampleClient(nil)
	defer stop()

	tables, err := client.ListTables(context.Background(), &dataverse.ListTablesOptions{
		Filter: "LogicalName eq 'account' or LogicalName eq 'contact'",
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tables {
		fmt.Println(t.LogicalName, t.EntitySetName, t.DisplayName, t.IsCustomEntity)
	}
	// Output:
	// account accounts Account false
	// contact contacts Contact false
}

// Show a choice column's values with their labels, and the required level of a column.
func ExampleClient_TableChoices() {
	client, stop := exampleClient(nil)
	defer stop()
	ctx := context.Background()

	choices, err := client.TableChoices(ctx, "contacts")
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range choices.Options["preferredcontactmethodcode"] {
		fmt.Println(o.Value, o.Label)
	}
	md, err := client.TableMetadata(ctx, "contacts")
	if err != nil {
		log.Fatal(err)
	}
	lastname, _ := md.Column("lastname")
	fmt.Println(lastname.LogicalName, lastname.RequiredLevel, lastname.MaxLength)
	// Output:
	// 1 Any
	// 2 Email
	// 3 Phone
	// 4 Fax
	// 5 Mail
	// lastname ApplicationRequired 50
}

// Find how a table relates to others: the lookups it holds (many-to-one) and the navigation
// property to bind each with.
func ExampleClient_TableRelationships() {
	client, stop := exampleClient(nil)
	defer stop()

	rels, err := client.TableRelationships(context.Background(), "contacts")
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range rels.ManyToOne {
		if r.ReferencingAttribute == "parentcustomerid" {
			fmt.Println(r.SchemaName, r.ReferencingEntityNavigationPropertyName, "->", r.ReferencedEntity)
		}
	}
	// Output:
	// contact_customer_accounts parentcustomerid_account -> account
	// contact_customer_contacts parentcustomerid_contact -> contact
}
