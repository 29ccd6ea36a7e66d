package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"sort"

	"github.com/d365s2s/d365/dataverse"
)

// maxProblemsShown caps the problems an import lists when it refuses a file; the count of all of
// them is always given.
const maxProblemsShown = 50

// maxCheckWorkers is the most goroutines a check pass types JSON Lines rows with. Each holds
// a chunk (up to jsonlChunkBytes, or one longer line) and one more waits for it, so this bounds
// the memory of a file of long lines; measured on 2 cores, where the check pass took 0.64–0.85 s
// with one goroutine and 0.49–0.59 s with two for 100,000 lines (docs/benchmarks.md).
const maxCheckWorkers = 4

// checkResult is what the check pass found.
type checkResult struct {
	rows int64
	// problems are the first maxProblemsShown problems, each with its line; problemCount
	// counts them all.
	problems     []string
	problemCount int
	lines        lineMap
}

// refusal is an import refused by its check pass: nothing was sent.
type refusal struct{ *checkResult }

func (r *refusal) Error() string {
	return fmt.Sprintf("the file has %d problem(s); nothing was imported", r.problemCount)
}

// checkRows reads every row once, typing it against the metadata, and collects the problems.
// It keeps no row: memory stays flat however long the file.
func checkRows(ctx context.Context, in io.Reader, format string, t *importTable) (*checkResult, error) {
	res := &checkResult{}
	add := func(ps ...string) {
		for _, p := range ps {
			res.problemCount++
			if len(res.problems) < maxProblemsShown {
				res.problems = append(res.problems, p)
			}
		}
	}
	// The check pass has the machine to itself: nothing is sent while it runs. At most
	// maxCheckWorkers goroutines, which bounds the chunks in flight for a file of long lines.
	rr, headerProblems, err := newRowReader(format, in, t, min(runtime.GOMAXPROCS(0), maxCheckWorkers))
	add(headerProblems...)
	var he *headerError
	if errors.As(err, &he) {
		add(he.problems...)
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	defer rr.close()
	for {
		if res.rows%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		_, line, problems, err := rr.next()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the input after line %d: %w", line, err)
		}
		res.lines.add(res.rows, line)
		res.rows++
		add(problems...)
	}
}

// rowsOf reads the rows again for writing: the input position of a row is its index among the
// rows (blank JSON Lines lines are not rows). A problem here means the file changed since it was
// checked; it stops the job at that row.
func rowsOf(in io.Reader, format string, t *importTable) iter.Seq2[dataverse.Record, error] {
	return func(yield func(dataverse.Record, error) bool) {
		// One goroutine: the write pass shares the cores with the requests in flight (and, against
		// a local emulator, with the service), and typing its rows in parallel measured slower
		// there (docs/benchmarks.md).
		rr, headerProblems, err := newRowReader(format, in, t, 1)
		if err == nil && len(headerProblems) > 0 {
			err = fmt.Errorf("%s (the input changed after it was checked)", headerProblems[0])
		}
		if err != nil {
			yield(nil, fmt.Errorf("reading the input again: %w", err))
			return
		}
		defer rr.close()
		for {
			rec, line, problems, err := rr.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err == nil && len(problems) > 0 {
				err = fmt.Errorf("%s (the input changed after it was checked)", problems[0])
			}
			if err != nil {
				yield(nil, fmt.Errorf("line %d: %w", line, err))
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// lineMap maps an input position to the line its row starts on, keeping only the positions
// where the distance between the two changes (a header, blank lines, multi-line cells): one
// entry for most files, however long.
type lineMap struct {
	starts []lineStart
}

type lineStart struct {
	pos  int64
	line int
}

func (m *lineMap) add(pos int64, line int) {
	if n := len(m.starts); n > 0 {
		last := m.starts[n-1]
		if int64(line)-pos == int64(last.line)-last.pos {
			return
		}
	}
	m.starts = append(m.starts, lineStart{pos, line})
}

// line returns the line of the row at pos (0 when unknown).
func (m *lineMap) line(pos int64) int {
	i := sort.Search(len(m.starts), func(i int) bool { return m.starts[i].pos > pos }) - 1
	if i < 0 {
		return 0
	}
	s := m.starts[i]
	return s.line + int(pos-s.pos)
}
