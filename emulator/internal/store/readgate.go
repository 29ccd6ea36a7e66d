package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// In memory, SQLite's memdb VFS refuses a reader's SHARED lock while a writer holds RESERVED,
// and the store opens every write transaction with BEGIN IMMEDIATE, which takes RESERVED at
// once. A read that comes during a write waits in SQLite's busy handler, which sleeps and tries
// again (after 1, 2, 5, 10 … up to 100 ms); the store hands its writer mutex straight to the
// next writer, so under writes that follow each other without a gap (the bulk requests of an
// import) the reader keeps missing the moment between two transactions: a $count waited 7.6 s
// behind an import. Dataverse does not make reads wait behind writes.
//
// readGate makes reads and write transactions take turns. A write transaction holds the gate
// from BEGIN to COMMIT or ROLLBACK (a restore, for its copy). A statement outside a transaction
// holds it, shared with other reads, only while it starts (the driver prepares it and steps to
// its first row, which takes SHARED) and lets go as soon as it returns: no read holds the gate
// while its caller works, so reads never nest. (The statement keeps SHARED until its rows are
// closed, and a writer's COMMIT waits for that in SQLite's busy handler; the store reads a page
// into memory before anyone writes it out, so that wait is short. A snapshot holds the read side
// for its whole copy.) The order is fair both ways: a writer waiting for the gate holds back the reads that come
// after it, and the reads that waited for a write transaction get in before the next writer
// does, however closely the writers follow each other. A store with a data directory (WAL) has
// no gate: there reads do not wait for writers.
type readGate struct {
	mu sync.Mutex
	// changed is closed, and replaced, whenever a waiter may be able to go on.
	changed chan struct{}
	// readers are the reads inside; writer is a write transaction inside.
	readers int
	writer  bool
	// writersWaiting and readersWaiting count those waiting to come in.
	writersWaiting, readersWaiting int
	// gen counts the write transactions that have left; admitted are the reads that waited
	// for the last of them and have not come in yet: the next writer waits for them.
	gen      uint64
	admitted int
	// timeout is how long a read waits before it fails, as SQLite fails a statement that
	// waited busy_timeout for a lock.
	timeout time.Duration
}

func newReadGate(timeout time.Duration) *readGate {
	return &readGate{timeout: timeout, changed: make(chan struct{})}
}

// broadcast wakes every waiter to look at the gate again; the caller holds mu.
func (g *readGate) broadcast() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// wait lets go of mu until the gate changes, ctx ends or timer fires, and takes mu again. The
// caller holds mu. Its error says the wait ended without a change: ctx's error, or what
// (a format with the timeout's %s) as SQLite's "database is locked".
func (g *readGate) wait(ctx context.Context, timer *time.Timer, what string) error {
	changed := g.changed
	g.mu.Unlock()
	defer g.mu.Lock()
	select {
	case <-changed:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("store: "+what+": database is locked", g.timeout)
	}
}

// enterRead lets one statement in and returns what lets it out. It waits while a write
// transaction is inside or waiting (unless this read waited for the last one), at most the
// gate's timeout and until ctx ends.
func (g *readGate) enterRead(ctx context.Context) (leave func(), err error) {
	g.mu.Lock()
	if !g.writer && g.writersWaiting == 0 {
		g.readers++
		g.mu.Unlock()
		return g.leaveRead, nil
	}
	g.readersWaiting++
	since := g.gen
	timer := time.NewTimer(g.timeout)
	defer timer.Stop()
	for {
		turn := since < g.gen // a write transaction has left since this read began to wait
		if !g.writer && (g.writersWaiting == 0 || turn) {
			if turn {
				g.admitted--
			}
			g.readersWaiting--
			g.readers++
			g.mu.Unlock()
			return g.leaveRead, nil
		}
		if err = g.wait(ctx, timer, "a read waited %s for write transactions"); err != nil {
			g.readersWaiting--
			if since < g.gen {
				g.admitted-- // the turn this read was given goes unused
				g.broadcast()
			}
			g.mu.Unlock()
			return nil, err
		}
	}
}

func (g *readGate) leaveRead() {
	g.mu.Lock()
	g.readers--
	if g.readers == 0 {
		g.broadcast()
	}
	g.mu.Unlock()
}

// enterWrite lets a write transaction in, once the reads inside and the reads that waited for
// the last write transaction are through. Like BEGIN IMMEDIATE waiting for a lock, it gives up
// when ctx ends or after the gate's timeout. leaveWrite lets it out.
func (g *readGate) enterWrite(ctx context.Context) error {
	g.mu.Lock()
	g.writersWaiting++
	var timer *time.Timer
	for g.writer || g.readers > 0 || g.admitted > 0 {
		if timer == nil {
			timer = time.NewTimer(g.timeout)
			defer timer.Stop()
		}
		if err := g.wait(ctx, timer, "a write transaction waited %s for reads"); err != nil {
			g.writersWaiting--
			g.broadcast() // the reads this writer held back may go on
			g.mu.Unlock()
			return err
		}
	}
	g.writersWaiting--
	g.writer = true
	g.mu.Unlock()
	return nil
}

func (g *readGate) leaveWrite() {
	g.mu.Lock()
	g.writer = false
	g.gen++
	g.admitted = g.readersWaiting // every read waiting now goes before the next writer
	g.broadcast()
	g.mu.Unlock()
}

// waitingReads is how many reads wait for the gate.
func (g *readGate) waitingReads() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.readersWaiting
}
