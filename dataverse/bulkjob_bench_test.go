package dataverse_test

import (
	"crypto/tls"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// BenchmarkBulkImport compares ways of creating rows on one emulator in one run (without service
// protection limits, so each goes as fast as it can): sequential single Creates, plain
// CreateMultiple requests of 1,000 rows one after the other, and a BulkJob with its defaults, with
// 2 workers, and with its defaults over HTTP/1.1 connections. Each starts from the same empty
// table (a snapshot restored). ns/op is the time per row; rows/s is the same figure inverted. The ratios between
// the sub-benchmarks are what docs/benchmarks.md reports:
//
//	go test -run '^$' -bench 'BulkImport$' -benchtime 20000x -count 2 ./dataverse
func BenchmarkBulkImport(b *testing.B) { benchBulkImport(b, 0) }

// BenchmarkBulkImportLatency is BenchmarkBulkImport with 50 ms added to every Web API request (a
// fault rule), the server time the issue calls realistic: there a single create or a sequential
// CreateMultiple waits, and the job's parallel requests overlap the waits. Single creates take
// 50 ms each, so give it a time, not a count:
//
//	go test -run '^$' -bench 'BulkImportLatency' -benchtime 6s ./dataverse
func BenchmarkBulkImportLatency(b *testing.B) { benchBulkImport(b, 50*time.Millisecond) }

func benchBulkImport(b *testing.B, latency time.Duration) {
	off := emulator.LimitsOff()
	opts := &emulator.Options{Limits: &off}
	if latency > 0 {
		opts.Faults = []emulator.FaultRule{{
			ID: "server-time", Match: emulator.FaultMatch{PathPrefix: "/api/data/"},
			Action: emulator.FaultAction{Kind: emulator.ActionLatency, Delay: latency},
		}}
	}
	env := newBulkEnv(b, opts)
	c := env.clients[0]
	next := 0
	rows := func(n int) []dataverse.Record {
		out := make([]dataverse.Record, n)
		for i := range out {
			out[i] = itemRow(next)
			next++
		}
		return out
	}
	// Every sub-benchmark starts from the same, empty table: the store's inserts slow down as the
	// table grows, which would favour whichever ran first.
	if err := env.Emulator.Snapshot(b.Context(), "empty"); err != nil {
		b.Fatal(err)
	}
	restore := func(b *testing.B) {
		b.Helper()
		if err := env.Emulator.Restore(b.Context(), "empty"); err != nil {
			b.Fatal(err)
		}
	}
	// rows/s is wall time, which on a shared machine depends on what else runs; cpu-µs/row is the
	// process's CPU time (client and emulator together) per row, which does not.
	var cpuStart time.Duration
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64((cpu()-cpuStart).Microseconds())/float64(b.N), "cpu-µs/row")
	}
	b.Run("single-creates", func(b *testing.B) {
		in := rows(b.N)
		restore(b)
		b.ResetTimer()
		cpuStart = cpu()
		for i := range b.N {
			if _, err := c.Create(b.Context(), "new_items", in[i], nil); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("createmultiple", func(b *testing.B) {
		in := rows(b.N)
		restore(b)
		b.ResetTimer()
		cpuStart = cpu()
		if _, err := dataverse.CreateMultiple(b.Context(), c, "new_items", "new_item", in, nil); err != nil {
			b.Fatal(err)
		}
		report(b)
	})
	// Plain CreateMultiple again, with the primary ids in the rows, as the job sends them (so that
	// a create whose answer is lost can be sent again as an upsert).
	b.Run("createmultiple-with-ids", func(b *testing.B) {
		in := rows(b.N)
		for _, r := range in {
			r["new_itemid"] = uuid.NewString()
		}
		restore(b)
		b.ResetTimer()
		cpuStart = cpu()
		if _, err := dataverse.CreateMultiple(b.Context(), c, "new_items", "new_item", in, nil); err != nil {
			b.Fatal(err)
		}
		report(b)
	})
	// The same job through a pool of HTTP/1.1 connections instead of one HTTP/2 connection (the
	// transport the issue expects to win for parallel work).
	h1 := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: env.Emulator.CACertPool()}, MaxIdleConnsPerHost: 64,
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}, // no HTTP/2
	}}
	co := env.ClientOptions
	co.Transport = h1
	c1, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: co})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		client *dataverse.Client
		conc   int
	}{
		{"bulkjob", c, 0},
		{"bulkjob-concurrency-2", c, 2},
		{"bulkjob-http1", c1, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			in := rows(b.N)
			restore(b)
			b.ResetTimer()
			cpuStart = cpu()
			job, err := dataverse.NewBulkJob([]*dataverse.Client{tc.client}, "new_items", &dataverse.BulkJobOptions{LogicalName: "new_item", Concurrency: tc.conc})
			if err != nil {
				b.Fatal(err)
			}
			res, err := job.Run(b.Context(), func(yield func(dataverse.Record, error) bool) {
				for _, r := range in {
					if !yield(r, nil) {
						return
					}
				}
			})
			if err != nil || res.Written != int64(b.N) {
				b.Fatalf("%+v, %v", res, err)
			}
			report(b)
		})
	}
}
