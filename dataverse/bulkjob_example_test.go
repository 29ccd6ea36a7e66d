package dataverse_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/d365s2s/d365/dataverse"
)

// Import contacts from JSON Lines with a BulkJob: rows the service refuses go to an error file, a
// checkpoint lets a killed import continue where it stopped, and the result counts what happened.
func ExampleNewBulkJob() {
	client, stop := exampleClient(nil)
	defer stop()
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "bulk-example")
	defer os.RemoveAll(dir)

	input := `{"firstname":"Ada","lastname":"Lovelace"}
{"firstname":"Alan","lastname":"Turing"}
{"firstname":"Grace","lastname":"` + strings.Repeat("H", 65) + `"}
{"firstname":"Edsger","lastname":"Dijkstra"}
`
	// Grace's last name is longer than the column's 64 characters: the service refuses that row.
	// The rows, as an iterator: a reader of a file of any size would yield them one at a time.
	rows := func(yield func(dataverse.Record, error) bool) {
		dec := json.NewDecoder(bytes.NewBufferString(input))
		for dec.More() {
			var rec dataverse.Record
			err := dec.Decode(&rec)
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}

	errorsFile, err := dataverse.OpenJSONLinesErrorFile(filepath.Join(dir, "errors.jsonl"))
	if err != nil {
		log.Fatal(err)
	}
	defer errorsFile.Close()
	job, err := dataverse.NewBulkJob([]*dataverse.Client{client}, "contacts", &dataverse.BulkJobOptions{
		Mode:       dataverse.BulkCreate,
		Checkpoint: filepath.Join(dir, "contacts.checkpoint"),
		Errors:     errorsFile,
	})
	if err != nil {
		log.Fatal(err)
	}
	res, err := job.Run(ctx, rows)
	if err != nil {
		log.Fatal(err)
	}
	errorsFile.Sync()
	fmt.Printf("written %d, failed %d, skipped %d\n", res.Written, res.Failed, res.Skipped)
	failures, _ := os.ReadFile(filepath.Join(dir, "errors.jsonl"))
	var f dataverse.BulkFailure
	json.Unmarshal(failures, &f)
	fmt.Printf("row %d: %d %s\n", f.Position, f.StatusCode, f.Code)

	// Run again with the same checkpoint: everything is done already.
	job, _ = dataverse.NewBulkJob([]*dataverse.Client{client}, "contacts", &dataverse.BulkJobOptions{
		Checkpoint: filepath.Join(dir, "contacts.checkpoint"),
		Errors:     errorsFile,
	})
	res, err = job.Run(ctx, rows)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("again: written %d, failed %d, skipped %d\n", res.Written, res.Failed, res.Skipped)
	// Output:
	// written 3, failed 1, skipped 0
	// row 2: 400 0x80044331
	// again: written 0, failed 0, skipped 4
}
