package emulator

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// connTracker follows the server's connections (http.Server.ConnState) to know when no request
// is being answered: an HTTP/1 connection is active from the first byte of a request until its
// response is written; an HTTP/2 connection while any of its streams is open. Close uses it to
// stop waiting as soon as nothing is in flight, instead of giving HTTP/2 clients the second the
// server otherwise waits for them to hang up after GOAWAY.
type connTracker struct {
	mu      sync.Mutex
	active  map[net.Conn]struct{}
	changed chan struct{} // receives a value (without blocking) when a connection goes idle or away
}

func newConnTracker() *connTracker {
	return &connTracker{active: map[net.Conn]struct{}{}, changed: make(chan struct{}, 1)}
}

// track is the server's ConnState hook.
func (t *connTracker) track(c net.Conn, state http.ConnState) {
	t.mu.Lock()
	if state == http.StateActive {
		t.active[c] = struct{}{}
	} else {
		delete(t.active, c)
	}
	t.mu.Unlock()
	if state != http.StateActive {
		select {
		case t.changed <- struct{}{}:
		default:
		}
	}
}

func (t *connTracker) busy() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.active) > 0
}

// waitQuiet returns once no connection is answering a request (true), or when ctx ends first
// (false).
func (t *connTracker) waitQuiet(ctx context.Context) bool {
	for t.busy() {
		select {
		case <-t.changed:
		case <-ctx.Done():
			return false
		}
	}
	return true
}
