package dataverse

import "time"

// progressWindow is the span over which BulkProgress.RowsPerSecond is measured.
const progressWindow = 5 * time.Second

// progressLoop calls OnProgress every ProgressInterval until done.
func (r *bulkRun) progressLoop(done <-chan struct{}) {
	t := time.NewTicker(r.opts.ProgressInterval)
	defer t.Stop()
	type sample struct {
		at   time.Time
		rows int64
	}
	samples := []sample{{at: r.start}}
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			rows := r.written.Load() + r.failed.Load()
			samples = append(samples, sample{at: now, rows: rows})
			for len(samples) > 2 && now.Sub(samples[1].at) >= progressWindow {
				samples = samples[1:]
			}
			first := samples[0]
			rate := 0.0
			if d := now.Sub(first.at).Seconds(); d > 0 {
				rate = float64(rows-first.rows) / d
			}
			r.opts.OnProgress(r.progress(rate))
		}
	}
}

// progress is a snapshot of the run; rate 0 means the average since the start.
func (r *bulkRun) progress(rate float64) BulkProgress {
	p := BulkProgress{
		Read:          r.read.Load(),
		Written:       r.written.Load(),
		Failed:        r.failed.Load(),
		Skipped:       r.skipped.Load(),
		Elapsed:       time.Since(r.start),
		RowsPerSecond: rate,
		BatchSize:     r.sizer.size(),
		Workers:       r.workers(),
		ThrottleWait:  r.throttleWait(),
		Retries:       r.retries.Load(),
	}
	if rate == 0 && p.Elapsed > 0 {
		p.RowsPerSecond = float64(p.Written+p.Failed) / p.Elapsed.Seconds()
	}
	return p
}
