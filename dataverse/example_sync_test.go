package dataverse_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/d365s2s/d365/dataverse"
)

// Keep a mirror of a table in step: the first run of Changes is a full load after a reset; a later
// run yields only what changed since, with the position kept in a state file between runs.
func ExampleSync_Changes() {
	client, stop := exampleClient(nil)
	defer stop()
	ctx := context.Background()
	ada, err := client.Create(ctx, "contacts", map[string]any{"firstname": "Ada", "lastname": "Example"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "sync-example-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	state, err := dataverse.OpenFileSyncCheckpoint(filepath.Join(dir, "contacts.sync"))
	if err != nil {
		log.Fatal(err)
	}
	defer state.Close()

	mirror := map[string]string{} // the consumer's mirror: id -> the row as JSON
	sync := func() {
		s := client.NewSync("contacts", state, &dataverse.SyncOptions{Select: []string{"firstname"}})
		for ch, err := range s.Changes(ctx) {
			if err != nil {
				log.Fatal(err)
			}
			switch ch.Op {
			case dataverse.ChangeReset:
				clear(mirror)
				fmt.Println("reset:", ch.Reason)
				continue
			case dataverse.ChangeUpsert:
				mirror[ch.ID.String()] = string(ch.Record)
			case dataverse.ChangeDelete:
				delete(mirror, ch.ID.String())
			}
			fmt.Println(ch.Op)
		}
		st := s.Stats()
		fmt.Printf("%d upserts, %d deletes; the mirror holds %d rows\n", st.Upserts, st.Deletes, len(mirror))
	}
	sync() // the first run: a full load

	if _, err := client.Create(ctx, "contacts", map[string]any{"firstname": "Grace", "lastname": "Example"}, nil); err != nil {
		log.Fatal(err)
	}
	if err := client.Delete(ctx, "contacts", ada.ID, nil); err != nil {
		log.Fatal(err)
	}
	sync() // only the changes
	// Output:
	// reset: initial
	// upsert
	// 1 upserts, 0 deletes; the mirror holds 1 rows
	// upsert
	// delete
	// 1 upserts, 1 deletes; the mirror holds 1 rows
}
