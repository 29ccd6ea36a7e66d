package traffic

import (
	"github.com/d365s2s/d365/emulator/internal/caller"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// The middleware sits on every request: these measure its overhead against the bare handler,
// with Dataverse's limits on and with a few fault rules that do not match.
func BenchmarkMiddleware(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentTypeOData)
		w.WriteHeader(http.StatusOK)
	})
	identify := identifyAs(caller.Caller{TenantID: tenantA, AppID: appA})
	// A clock that moves 20 ms per reading (4 readings a request): one caller stays well under
	// 6,000 requests per 300 s, so every request is admitted and served. It drives both the
	// emulator's clock and the limits' monotonic one (mustWrap).
	var ticks atomic.Int64
	base := time.Unix(1_700_000_000, 0)
	now := func() time.Time { return base.Add(time.Duration(ticks.Add(1)) * 20 * time.Millisecond) }
	nonMatching := []FaultRule{
		{Match: FaultMatch{Table: "accounts"}, Action: FaultAction{Kind: ActionError, Status: 503}},
		{Match: FaultMatch{AppID: appB}, Action: FaultAction{Kind: ActionDrop}},
		{Action: FaultAction{Kind: ActionTokenEndpointDown}},
	}
	for _, bc := range []struct {
		name    string
		handler func(b *testing.B) http.Handler
	}{
		{"bare", func(*testing.B) http.Handler { return ok }},
		{"limits=off", func(b *testing.B) http.Handler {
			return mustWrap(b, Options{Limits: &Limits{}, Identity: identify, Now: now}, ok)
		}},
		{"limits=default", func(b *testing.B) http.Handler { return mustWrap(b, Options{Identity: identify, Now: now}, ok) }},
		{"limits=default,faults=3", func(b *testing.B) http.Handler {
			return mustWrap(b, Options{Identity: identify, Now: now, Faults: nonMatching}, ok)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := bc.handler(b)
			req := httptest.NewRequest(http.MethodGet, "/api/data/v9.2/contacts?$select=fullname&$top=10", nil)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					h.ServeHTTP(w, req)
					if w.status != http.StatusOK {
						b.Fatalf("status %d %v: the benchmark must measure served requests", w.status, w.h)
					}
				}
			})
		})
	}
}

// BenchmarkRequestLimitWindow measures the request window at Dataverse's 6,000 per 300 s with the
// ring full.
func BenchmarkRequestLimitWindow(b *testing.B) {
	lim := newLimiter(Limits{Requests: 6000, Window: time.Hour})
	cfg := lim.cfg.Load()
	c := caller.Caller{TenantID: tenantA, AppID: appA}
	var now time.Duration
	b.ReportAllocs()
	for b.Loop() {
		now += time.Second // the window never fills: 3,600 arrivals per hour
		v := lim.admit(cfg, c, now)
		lim.release(v, time.Millisecond, now)
	}
}

func mustWrap(b *testing.B, opts Options, h http.Handler) http.Handler {
	c, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	if opts.Now != nil {
		// The limits run on a monotonic clock of their own: give it the benchmark's, or a
		// fast run sends more than 6,000 requests in 300 real seconds and is refused.
		origin := opts.Now()
		c.since = func() time.Duration { return opts.Now().Sub(origin) }
	}
	return c.Wrap(h)
}

type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(code int)        { d.status = code }
