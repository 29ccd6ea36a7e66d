package cli

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
	"unicode"

	"github.com/d365s2s/d365/dataverse"
)

// jsonlChunkLines is how many lines a worker of a parallel JSON Lines read types at a time,
// enough that handing chunks between goroutines costs little per line; a chunk also stops
// taking lines once it holds jsonlChunkBytes. The chunks in flight (one per worker waiting for
// next, one being typed per worker, one being filled) then hold a few megabytes, and only a file
// of lines longer than that (each at most maxJSONLLine) holds more: one such line per chunk.
const (
	jsonlChunkLines = 256
	jsonlChunkBytes = 1 << 20
)

// errRowsClosed is what next returns after close.
var errRowsClosed = errors.New("the import file was read after its reader was closed")

// parallelJSONLRows reads JSON Lines as jsonlRows does, rows and problems alike and in the same
// order, with the typing of the lines (most of the cost of a check pass) spread over several
// goroutines. One goroutine reads lines into chunks; workers type the rows of whole chunks;
// next hands the rows out in input order.
//
// A worker types a row only with plans next has already made (jsonlRows.planFor): a member name
// met for the first time, or a column with a problem, leaves the row to next, which types it
// again in order. So the columns skipped are recorded, the service is asked for metadata, and a
// problem said once is said on its first line, exactly as in a sequential read; in a file whose
// rows share their columns, only the first rows are typed twice.
type parallelJSONLRows struct {
	// seq types, in input order, the rows the workers leave (retry).
	seq *jsonlRows
	// chunks carries the chunks to next in input order; its capacity bounds the chunks in flight.
	chunks chan *jsonlChunk
	stop   chan struct{}
	once   sync.Once
	wg     sync.WaitGroup

	cur      *jsonlChunk
	i        int
	lastLine int
	closed   bool
}

// jsonlChunk is a run of lines: their text, one after another in buf, and once done is closed,
// each typed, or marked for next to type.
type jsonlChunk struct {
	buf   []byte
	items []jsonlItem
	// err ends the input after the items: io.EOF, or the read error.
	err  error
	done chan struct{}
}

// jsonlItem is one line of a chunk that is not blank.
type jsonlItem struct {
	start, end int // the line's text, trimmed, in the chunk's buf
	line       int
	tooLong    bool

	rec      dataverse.Record
	problems []string
	retry    bool
}

// newParallelJSONLRows starts reading in with workers goroutines that type chunkLines lines at a
// time. close stops them.
func newParallelJSONLRows(in io.Reader, t *importTable, workers, chunkLines int) *parallelJSONLRows {
	workers, chunkLines = max(workers, 1), max(chunkLines, 1)
	p := &parallelJSONLRows{
		seq:    &jsonlRows{t: t, reported: map[string]bool{}},
		chunks: make(chan *jsonlChunk, workers),
		stop:   make(chan struct{}),
	}
	work := make(chan *jsonlChunk, workers)
	lines := &jsonlRows{r: bufio.NewReaderSize(in, 64<<10)}
	p.wg.Add(1 + workers)
	go p.read(lines, work, chunkLines)
	for range workers {
		go p.work(t, work)
	}
	return p
}

// read cuts the input into chunks, which go to next and to the workers, until the input ends or
// close is called.
func (p *parallelJSONLRows) read(lines *jsonlRows, work chan<- *jsonlChunk, chunkLines int) {
	defer p.wg.Done()
	defer close(work)
	defer close(p.chunks)
	for {
		c := &jsonlChunk{done: make(chan struct{})}
		for len(c.items) < chunkLines && len(c.buf) < jsonlChunkBytes {
			start := len(c.buf)
			b, tooLong, err := lines.readLine(c.buf)
			if err != nil {
				c.buf, c.err = b[:start], err
				break
			}
			lines.line++
			if tooLong {
				c.items = append(c.items, jsonlItem{line: lines.line, tooLong: true})
				continue
			}
			// Trimmed as bytes.TrimSpace trims, kept as offsets, which stay right when buf
			// moves as it grows.
			line := b[start:]
			lead := len(line) - len(bytes.TrimLeftFunc(line, unicode.IsSpace))
			text := bytes.TrimRightFunc(line[lead:], unicode.IsSpace)
			if len(text) == 0 {
				c.buf = b[:start]
				continue
			}
			c.buf = b
			c.items = append(c.items, jsonlItem{start: start + lead, end: start + lead + len(text), line: lines.line})
		}
		select {
		case p.chunks <- c:
		case <-p.stop:
			return
		}
		if len(c.items) == 0 {
			close(c.done)
		} else {
			select {
			case work <- c:
			case <-p.stop:
				return
			}
		}
		if c.err != nil {
			return
		}
	}
}

// work types the rows of chunks until there are no more.
func (p *parallelJSONLRows) work(t *importTable, work <-chan *jsonlChunk) {
	defer p.wg.Done()
	w := &jsonlRows{t: t, reported: map[string]bool{}, known: map[string]columnPlan{}}
	for c := range work {
		for i := range c.items {
			it := &c.items[i]
			if it.tooLong {
				continue
			}
			w.line = it.line
			it.rec, it.problems, it.retry = w.parse(c.buf[it.start:it.end])
		}
		close(c.done)
	}
}

func (p *parallelJSONLRows) next() (dataverse.Record, int, []string, error) {
	if p.closed {
		return nil, p.lastLine, nil, errRowsClosed
	}
	for p.cur == nil || p.i == len(p.cur.items) {
		if p.cur != nil && p.cur.err != nil {
			return nil, p.lastLine, nil, p.cur.err
		}
		c, ok := <-p.chunks
		if !ok {
			return nil, p.lastLine, nil, errRowsClosed
		}
		<-c.done
		p.cur, p.i = c, 0
	}
	it := &p.cur.items[p.i]
	p.i++
	p.lastLine = it.line
	switch {
	case it.tooLong:
		return nil, it.line, tooLongProblem(it.line), nil
	case it.retry:
		p.seq.line = it.line
		rec, problems, _ := p.seq.parse(p.cur.buf[it.start:it.end])
		return rec, it.line, problems, nil
	}
	rec, problems := it.rec, it.problems
	it.rec, it.problems = nil, nil // the caller's now
	return rec, it.line, problems, nil
}

// close stops the goroutines and waits for them; the input is not read after it returns.
func (p *parallelJSONLRows) close() {
	p.closed = true
	p.once.Do(func() { close(p.stop) })
	// The workers end when the reader closes their channel; chunks they hold are dropped.
	p.wg.Wait()
}
