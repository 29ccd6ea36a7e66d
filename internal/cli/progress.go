package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/d365s2s/d365/dataverse"
)

// defaultProgressLineInterval is how often a long job writes a progress line when stderr is not
// a terminal (a log file, a CI job).
const defaultProgressLineInterval = 5 * time.Second

// jobProgress shows a bulk job's progress on stderr: a progress bar (rows, rows/s, ETA and the
// time spent waiting for service-protection limits) when stderr is a terminal, otherwise a line
// every few seconds.
type jobProgress struct {
	mu    sync.Mutex
	w     io.Writer
	total int64
	bar   *progressbar.ProgressBar
	// lines: the interval between progress lines and when the last one was written.
	every time.Duration
	last  time.Time
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newJobProgress returns the progress display for a job of total rows written to w.
func newJobProgress(w io.Writer, total int64, every time.Duration) *jobProgress {
	p := &jobProgress{w: w, total: total, every: every, last: time.Now()}
	if p.every <= 0 {
		p.every = defaultProgressLineInterval
	}
	if isTerminal(w) {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// update takes a progress report from the job (BulkJobOptions.OnProgress).
func (p *jobProgress) update(s dataverse.BulkProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	done := s.Written + s.Failed + s.Skipped
	if p.bar != nil {
		if s.Final {
			_ = p.bar.Finish()
			return
		}
		desc := fmt.Sprintf("%d failed, batch %d, %d workers", s.Failed, s.BatchSize, s.Workers)
		if s.ThrottleWait > 0 {
			desc += ", throttled " + s.ThrottleWait.Round(time.Second).String()
		}
		p.bar.Describe(desc)
		_ = p.bar.Set64(done)
		return
	}
	if s.Final || time.Since(p.last) < p.every {
		return
	}
	p.last = time.Now()
	fmt.Fprintln(p.w, progressLine(done, p.total, s))
}

// progressLine is the line written when stderr is not a terminal, e.g.
// "import: 12000/100000 rows (12%), 2400 rows/s, ETA 37s, 3 failed, throttled 2s".
func progressLine(done, total int64, s dataverse.BulkProgress) string {
	line := fmt.Sprintf("import: %d/%d rows", done, total)
	if total > 0 {
		line += fmt.Sprintf(" (%d%%)", done*100/total)
	}
	line += fmt.Sprintf(", %.0f rows/s", s.RowsPerSecond)
	if s.RowsPerSecond > 0 && total > done {
		eta := time.Duration(float64(total-done) / s.RowsPerSecond * float64(time.Second))
		line += ", ETA " + eta.Round(time.Second).String()
	}
	if s.Failed > 0 {
		line += fmt.Sprintf(", %d failed", s.Failed)
	}
	if s.ThrottleWait > 0 {
		line += ", throttled " + s.ThrottleWait.Round(time.Second).String()
	}
	return line
}
