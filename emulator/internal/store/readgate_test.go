package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestInMemoryReadGoesBetweenBackToBackWrites: in memory, a read that comes while a write
// transaction is open runs when that transaction ends, before the write transaction that
// follows it at once, and does not wait for that one. Without the gate, memdb refuses the
// read's SHARED lock while any writer holds RESERVED, and the read, asleep in SQLite's busy
// handler, missed the instant between the two: it waited for the second transaction too, and
// behind an import's back-to-back writes for seconds. A snapshot's copy is such a read.
func TestInMemoryReadGoesBetweenBackToBackWrites(t *testing.T) {
	for _, tc := range []struct {
		name string
		// read reads the contacts; 2 are committed when it is let in.
		read func(ctx context.Context, s *Store, p *Principal) error
	}{
		{"count", func(ctx context.Context, s *Store, p *Principal) error {
			n, err := s.Count(ctx, p, table(t, s, "contact"), nil, 0)
			if err == nil && n != 2 {
				err = fmt.Errorf("counted %d rows, want the 2 committed before the read", n)
			}
			return err
		}},
		{"snapshot", func(ctx context.Context, s *Store, p *Principal) error {
			sn, err := s.SnapshotInMemory(ctx)
			if err == nil {
				err = sn.Close()
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, p := newStore(t, &Options{BusyTimeout: 5 * time.Second})
			if s.gate == nil {
				t.Fatal("an in-memory store has no read gate")
			}
			ctx := context.Background()
			contact := table(t, s, "contact")
			if _, err := s.Create(ctx, p, contact, fields(t, contact, "lastname", "Before")); err != nil {
				t.Fatal(err)
			}

			// The first write transaction stays open until released.
			inFirst, releaseFirst := make(chan struct{}), make(chan struct{})
			firstDone := make(chan error, 1)
			go func() {
				firstDone <- s.Write(ctx, func(tx *Tx) error {
					if _, err := tx.Create(ctx, p, contact, fields(t, contact, "lastname", "First")); err != nil {
						return err
					}
					close(inFirst)
					<-releaseFirst
					return nil
				})
			}()
			<-inFirst

			// A read comes and waits for it.
			read := make(chan error, 1)
			go func() { read <- tc.read(ctx, s, p) }()
			for s.gate.waitingReads() == 0 {
				select {
				case err := <-read:
					t.Fatalf("the read ran while a write transaction was open: %v", err)
				case <-time.After(time.Millisecond):
				}
			}

			// The first transaction commits and a second begins straight after, and stays open
			// until the read has answered.
			close(releaseFirst)
			if err := <-firstDone; err != nil {
				t.Fatal(err)
			}
			releaseSecond := make(chan struct{})
			secondDone := make(chan error, 1)
			go func() {
				secondDone <- s.Write(ctx, func(tx *Tx) error {
					if _, err := tx.Create(ctx, p, contact, fields(t, contact, "lastname", "Second")); err != nil {
						return err
					}
					<-releaseSecond
					return nil
				})
			}()
			err := <-read // within the gate's timeout, or it fails
			close(releaseSecond)
			if err != nil {
				t.Fatalf("the read between the two write transactions: %v; want it to run at once", err)
			}
			if err := <-secondDone; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReadGateOrder drives the gate alone: reads share it; a waiting writer holds back new
// reads; the reads that waited for a writer go before the next; a read that waits too long or
// whose context ends fails without keeping anyone out.
func TestReadGateOrder(t *testing.T) {
	g := newReadGate(time.Minute)
	ctx := context.Background()
	leave1, err := g.enterRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leave2, err := g.enterRead(ctx) // reads share the gate
	if err != nil {
		t.Fatal(err)
	}

	writerIn := make(chan struct{})
	go func() {
		if err := g.enterWrite(ctx); err != nil {
			t.Error(err)
		}
		close(writerIn)
	}()
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.writersWaiting == 1 })

	// A read that comes after the waiting writer waits for it.
	lateIn := make(chan func(), 1)
	go func() {
		leave, err := g.enterRead(ctx)
		if err != nil {
			t.Error(err)
		}
		lateIn <- leave
	}()
	waitFor(t, func() bool { return g.waitingReads() == 1 })
	leave1()
	leave2()
	<-writerIn
	select {
	case <-lateIn:
		t.Fatal("a read came in while a write transaction was inside")
	default:
	}

	// A second writer queues; the read that waited goes first when the first writer leaves.
	secondIn := make(chan struct{})
	go func() {
		if err := g.enterWrite(ctx); err != nil {
			t.Error(err)
		}
		close(secondIn)
	}()
	waitFor(t, func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.writersWaiting == 1 })
	g.leaveWrite()
	leaveLate := <-lateIn
	select {
	case <-secondIn:
		t.Fatal("the next writer came in before the read that waited for the last one")
	default:
	}
	leaveLate()
	<-secondIn

	// While the second writer is inside, a read whose context ends, and one that times out,
	// fail and keep no one out.
	cctx, cancel := context.WithCancel(ctx)
	cancelled := make(chan error, 1)
	go func() {
		_, err := g.enterRead(cctx)
		cancelled <- err
	}()
	waitFor(t, func() bool { return g.waitingReads() == 1 })
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled read: %v", err)
	}
	g.timeout = 10 * time.Millisecond
	if _, err := g.enterRead(ctx); err == nil {
		t.Fatal("a read waited past its timeout without failing")
	}
	g.leaveWrite()
	g.timeout = time.Minute
	leave, err := g.enterRead(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A writer that waits too long for a read gives up, and lets the reads it held back in.
	g.timeout = 10 * time.Millisecond
	if err := g.enterWrite(ctx); err == nil {
		t.Fatal("a writer waited past its timeout without failing")
	}
	g.timeout = time.Minute
	leave2, err = g.enterRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leave()
	leave2()
	if err := g.enterWrite(ctx); err != nil { // nothing left inside or admitted
		t.Fatal(err)
	}
	g.leaveWrite()
}

// waitFor polls cond until it holds, for at most ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the condition never held")
		}
		time.Sleep(time.Millisecond)
	}
}
