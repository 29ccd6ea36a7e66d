package dataverse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"

	"github.com/d365s2s/d365/dataverse"
)

// Export every row of a query to a writer as CSV: the header is the selected columns, lookups are
// their _name_value columns, and --formatted values come as <column>@formatted columns.
func ExampleClient_Export() {
	client, stop := exampleClient(nil)
	defer stop()
	ctx := context.Background()
	for _, name := range []string{"Ada", "Grace"} {
		if _, err := client.Create(ctx, "contacts", map[string]any{"firstname": name, "lastname": "Example", "gendercode": 2}, nil); err != nil {
			log.Fatal(err)
		}
	}
	res, err := client.Export(ctx, os.Stdout, "contacts", &dataverse.ExportOptions{
		Format:          dataverse.FormatCSV,
		FormattedValues: true,
		Columns:         []string{"firstname", "gendercode"},
		Query:           dataverse.Query{Select: []string{"firstname", "gendercode"}, OrderBy: []string{"firstname"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d rows in %d page(s)\n", res.Rows, res.Pages)
	// Output:
	// firstname,firstname@formatted,gendercode,gendercode@formatted
	// Ada,,2,Female
	// Grace,,2,Female
	// 2 rows in 1 page(s)
}

// A RowWriter writes rows someone else read (here two literal rows) in any export format.
func ExampleNewRowWriter() {
	w, err := dataverse.NewRowWriter(os.Stdout, &dataverse.RowWriterOptions{Format: dataverse.FormatCSV})
	if err != nil {
		log.Fatal(err)
	}
	rows := []json.RawMessage{
		json.RawMessage(`{"@odata.etag":"W/\"1\"","name":"Contoso, Ltd","numberofemployees":250,"_primarycontactid_value":null}`),
		json.RawMessage(`{"@odata.etag":"W/\"2\"","name":"Fabrikam","numberofemployees":12,"_primarycontactid_value":"9f1c0b44-3c56-4f65-a7f1-000000000001"}`),
	}
	if err := w.WritePage(rows); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// name,numberofemployees,_primarycontactid_value
	// "Contoso, Ltd",250,
	// Fabrikam,12,9f1c0b44-3c56-4f65-a7f1-000000000001
}
