package dataverse

import (
	"context"
	"net/http"
	"time"
)

// SetRetrySleep replaces c's wait between retries, so that the end-to-end tests in
// dataverse_test can see each wait without taking it, and makes the waits exact (no resume
// jitter). Call it before c sends anything.
func SetRetrySleep(c *Client, sleep func(ctx context.Context, d time.Duration) error) {
	c.retry.sleep = sleep
	c.retry.jitter = noJitter
}

// OnGovernorPause calls f with the interval of every pause g starts or extends, so that a test
// can check the emulator's request log against the pauses.
func OnGovernorPause(g *Governor, f func(from, until time.Time)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.onPause = f
}

// NewHTTPClientWithProtocol is the default transport's HTTP client with another TLS
// configuration (the emulator's CA), over HTTP/2 or HTTP/1.1, for the transport benchmarks.
var NewHTTPClientWithProtocol = newHTTPClient

// DefaultHTTPClient is the HTTP client of Clients made without a Transport.
func DefaultHTTPClient() *http.Client { return transportOrDefault(nil).(*http.Client) }

// ProcessCPU is processCPU for the benchmarks of dataverse_test.
var ProcessCPU = processCPU
