package dataverse_test

import (
	"context"
	"fmt"
	"log"
	"sync"

	"github.com/d365s2s/d365/dataverse"
)

// Size a pool of workers with the Governor of the client's application user: its limit follows
// the service's x-ms-dop-hint (the emulator sends 16 by default), and every request of every
// worker passes it, so the pool never sends more than the service recommends.
func ExampleClient_Governor() {
	client, stop := exampleClient(nil)
	defer stop()
	ctx := context.Background()
	if _, err := client.WhoAmI(ctx); err != nil { // any call brings the hint
		log.Fatal(err)
	}
	gov, err := client.Governor(ctx)
	if err != nil {
		log.Fatal(err)
	}
	workers := gov.Limit()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if _, err := client.Create(ctx, "contacts", dataverse.Record{"lastname": fmt.Sprint("Worker ", i)}, nil); err != nil {
					log.Print(err)
				}
			}
		})
	}
	for i := range 100 {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	s := gov.Stats()
	fmt.Printf("%d workers, hint %d, %d requests, %d in flight, %d throttled\n",
		workers, s.DOPHint, s.Sent, s.InFlight, s.ConcurrencyThrottles+s.RequestThrottles+s.ExecutionTimeThrottles)
	// Output: 16 workers, hint 16, 101 requests, 0 in flight, 0 throttled
}
