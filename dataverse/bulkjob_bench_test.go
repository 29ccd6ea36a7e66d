package dataverse_test

import (
	"fmt"
	"testing"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// BenchmarkBulkImport compares ways of creating rows on one emulator in one run (without service
// protection limits, so each goes as fast as it can): sequential single Creates, plain
// CreateMultiple requests of 1,000 rows one after the other, and a BulkJob with its defaults and
// with 2 workers. ns/op is the time per row; rows/s is the same figure inverted. The ratios between
// the sub-benchmarks are what docs/benchmarks.md reports:
//
//	go test -run '^$' -bench 'BulkImport' -benchtime 20000x -count 3 ./dataverse
func BenchmarkBulkImport(b *testing.B) {
	off := emulator.LimitsOff()
	env := newBulkEnv(b, &emulator.Options{Limits: &off})
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
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	}
	b.Run("single-creates", func(b *testing.B) {
		in := rows(b.N)
		b.ResetTimer()
		for i := range b.N {
			if _, err := c.Create(b.Context(), "new_items", in[i], nil); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})
	b.Run("createmultiple", func(b *testing.B) {
		in := rows(b.N)
		b.ResetTimer()
		if _, err := dataverse.CreateMultiple(b.Context(), c, "new_items", "new_item", in, nil); err != nil {
			b.Fatal(err)
		}
		report(b)
	})
	for _, conc := range []int{0, 2} {
		name := "bulkjob"
		if conc > 0 {
			name = fmt.Sprintf("bulkjob-concurrency-%d", conc)
		}
		b.Run(name, func(b *testing.B) {
			in := rows(b.N)
			b.ResetTimer()
			job, err := dataverse.NewBulkJob([]*dataverse.Client{c}, "new_items", &dataverse.BulkJobOptions{LogicalName: "new_item", Concurrency: conc})
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
