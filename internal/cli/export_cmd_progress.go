package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/d365s2s/d365/dataverse"
)

// exportProgress shows an export's progress on stderr: a bar (rows, rows/s, elapsed) when
// stderr is a terminal, else a line every few seconds, so logs of unattended runs stay short.
type exportProgress struct {
	w      io.Writer
	bar    *progressbar.ProgressBar
	lines  bool
	every  time.Duration
	now    func() time.Time
	last   time.Time
	latest dataverse.ExportProgress
}

func newExportProgress(o *exportOptions) *exportProgress {
	p := &exportProgress{w: o.IO.ErrOut, every: o.progressEvery, now: o.now}
	p.last = p.now()
	mode := o.progress
	if mode == "auto" {
		mode = "lines"
		if f, ok := o.IO.ErrOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			mode = "bar"
		}
	}
	switch mode {
	case "bar":
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("exporting "+o.entitySet),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionShowIts(),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	case "lines":
		p.lines = true
	}
	return p
}

// update is ExportOptions.Progress.
func (p *exportProgress) update(ev dataverse.ExportProgress) {
	prev := p.latest
	p.latest = ev
	switch {
	case p.bar != nil:
		_ = p.bar.Add64(ev.Rows - prev.Rows)
	case p.lines:
		if now := p.now(); now.Sub(p.last) >= p.every {
			p.last = now
			fmt.Fprintf(p.w, "d365: export: %d rows, %d pages, %s, %.0f rows/s\n",
				ev.Rows, ev.Pages, formatBytes(ev.Bytes), float64(ev.Rows)/max(ev.Elapsed.Seconds(), 1e-9))
		}
	}
}

// finish removes the bar before the summary line.
func (p *exportProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
