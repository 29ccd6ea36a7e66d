package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// cancelStormRounds is how many bursts TestCancelStormAffectsOnlyTheCancelled runs;
// D365_CANCEL_STORM_ROUNDS sets more for a hunt.
func cancelStormRounds(t *testing.T) int {
	if s := os.Getenv("D365_CANCEL_STORM_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("D365_CANCEL_STORM_ROUNDS=%q: %v", s, err)
		}
		return n
	}
	if testing.Short() {
		return 5
	}
	return 30
}

// Bulk writes and reads whose contexts are cancelled mid-flight (requests of a client that
// went away) fail with the cancellation and affect nothing else: reads and writes with live
// contexts, run at the same time on the same few pooled connections, all succeed, and a
// cancelled write is all there or not at all.
func TestCancelStormAffectsOnlyTheCancelled(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	contact := table(t, s, "contact")
	lastname, _ := contact.Column("lastname")
	firstname, _ := contact.Column("firstname")
	// Few connections, so that the live requests reuse the ones the cancelled requests used, and
	// one idle at most, so that new connections (whose schema is not loaded yet) keep coming.
	s.db.SetMaxOpenConns(4)
	s.db.SetMaxIdleConns(1)
	ctx := context.Background()
	planned := map[string]int{} // tag -> rows its write creates
	var plannedMu sync.Mutex
	for round := range cancelStormRounds(t) {
		stop := make(chan struct{})
		var failures atomic.Int64
		fail := func(format string, args ...any) {
			if failures.Add(1) <= 5 {
				t.Errorf("round %d: "+format, append([]any{round}, args...)...)
			}
		}
		var wg sync.WaitGroup
		// Cancelled: bulk creates and reads, each cancelled after a random short while.
		for w := range 9 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					cctx, cancel := context.WithCancel(ctx)
					time.AfterFunc(time.Duration(rng.IntN(4000))*time.Microsecond, cancel)
					var err error
					if w%4 == 0 {
						tag := fmt.Sprintf("r%dw%di%d", round, w, i)
						n := 100 + rng.IntN(200)
						plannedMu.Lock()
						planned[tag] = n
						plannedMu.Unlock()
						err = s.Write(cctx, func(tx *Tx) error {
							for range n {
								if _, err := tx.Create(cctx, p, contact, []Field{{Column: lastname, Value: "Storm"}, {Column: firstname, Value: tag}}); err != nil {
									return err
								}
							}
							return nil
						})
					} else {
						_, err = s.Count(cctx, p, contact, Compare(lastname, OpEq, "Storm"), 0)
					}
					cancel()
					if err != nil && !errors.Is(err, context.Canceled) {
						fail("a cancelled request failed with %v, not its cancellation", err)
					}
				}
			})
		}
		// Live: reads and small writes that must all succeed.
		for w := range 2 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := s.Count(ctx, p, contact, Compare(lastname, OpEq, "Storm"), 0); err != nil {
						fail("a live count failed: %v", err)
					}
					if _, err := s.Query(ctx, p, Query{Table: contact, Columns: []*schema.Column{firstname}, Limit: 50}); err != nil {
						fail("a live page read failed: %v", err)
					}
					if w == 0 && i%4 == 0 {
						err := s.Write(ctx, func(tx *Tx) error {
							_, err := tx.Create(ctx, p, contact, []Field{{Column: lastname, Value: "Live"}})
							return err
						})
						if err != nil {
							fail("a live write failed: %v", err)
						}
					}
				}
			})
		}
		time.Sleep(120 * time.Millisecond)
		close(stop)
		wg.Wait()
		if t.Failed() {
			return
		}
	}
	if _, ok := mustRawConn(t, s).(*resettingConn); !ok {
		t.Error("the store's connections are not wrapped by resettingConn")
	}
	// Every cancelled write is whole or absent.
	page, err := s.Query(ctx, p, Query{Table: contact, Columns: []*schema.Column{firstname}, Where: Compare(lastname, OpEq, "Storm")})
	if err != nil {
		t.Fatal(err)
	}
	written := map[string]int{}
	for _, row := range page.Rows {
		written[fmt.Sprint(row.Values[0])]++
	}
	for tag, n := range written {
		if n != planned[tag] {
			t.Errorf("write %s left %d rows, want all %d or none", tag, n, planned[tag])
		}
	}
}

// mustRawConn returns the driver connection behind one of s's pooled connections.
func mustRawConn(t *testing.T, s *Store) any {
	t.Helper()
	c, err := s.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var raw any
	if err := c.Raw(func(dc any) error { raw = dc; return nil }); err != nil {
		t.Fatal(err)
	}
	return raw
}
