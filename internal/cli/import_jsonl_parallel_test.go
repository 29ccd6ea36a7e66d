package cli

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
)

// readRow is one result of a rowReader's next.
type readRow struct {
	Rec      dataverse.Record
	Line     int
	Problems []string
}

// readAllRows reads rows until the end of the input (or at most limit results), and closes rr.
func readAllRows(t testing.TB, rr rowReader, limit int) []readRow {
	t.Helper()
	defer rr.close()
	var out []readRow
	for range limit {
		rec, line, problems, err := rr.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("next after %d rows: %v", len(out), err)
		}
		out = append(out, readRow{rec, line, problems})
	}
	return out
}

// jsonlReadsAgree reads in sequentially and in parallel (workers goroutines, chunkLines lines a
// chunk), each against its own table, and fails unless both give the same rows, lines and
// problems, in the same order, and skip the same columns.
func jsonlReadsAgree(t testing.TB, in string, mode string, skipReadOnly bool, workers, chunkLines int) []readRow {
	t.Helper()
	seqTable, parTable := testImportTable(mode), testImportTable(mode)
	seqTable.skipReadOnly, parTable.skipReadOnly = skipReadOnly, skipReadOnly
	seq := readAllRows(t, newJSONLRows(strings.NewReader(in), seqTable), 100000)
	par := readAllRows(t, newParallelJSONLRows(strings.NewReader(in), parTable, workers, chunkLines), 100000)
	if diff := cmp.Diff(seq, par); diff != "" {
		t.Fatalf("parallel read (%d workers, %d lines a chunk) differs from the sequential one (-seq +par):\n%s", workers, chunkLines, diff)
	}
	if diff := cmp.Diff(seqTable.skipped, parTable.skipped, cmp.AllowUnexported(skippedColumn{})); diff != "" {
		t.Fatalf("skipped columns differ (-seq +par):\n%s", diff)
	}
	return seq
}

// TestParallelJSONLReadMatchesSequential: the parallel JSON Lines reader gives what the
// sequential one gives, row for row, on files where columns first appear, and problems first
// occur, deep inside (after the first chunks have gone to the workers), across chunk sizes.
func TestParallelJSONLReadMatchesSequential(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 1200; i++ {
		switch {
		case i == 3:
			b.WriteString("\n   \n") // blank lines are not rows but count as lines
		case i == 700:
			fmt.Fprintf(&b, `{"lastname":"L%d","nosuchcolumn":1}`+"\n", i) // an unknown column: said once
		case i == 701 || i == 1100:
			fmt.Fprintf(&b, `{"lastname":"L%d","nosuchcolumn":2,"createdon":"2024-01-01T00:00:00Z"}`+"\n", i)
		case i == 900:
			fmt.Fprintf(&b, `{"lastname":"L%d","numberofchildren":"two"}`+"\n", i) // a bad cell
		case i == 950:
			b.WriteString(`{"lastname":` + "\n") // a malformed line
		case i%97 == 0:
			fmt.Fprintf(&b, `{"lastname":"L%d","creditlimit":1.5,"createdon":"2024-01-01T00:00:00Z"}`+"\n", i) // a read-only column, skipped
		default:
			fmt.Fprintf(&b, "  {\"lastname\":\"L%d\",\"numberofchildren\":%d}\t\n", i, i%5)
		}
	}
	in := b.String()
	for _, tc := range []struct{ workers, chunkLines int }{{2, 1}, {2, 7}, {3, 64}, {4, jsonlChunkLines}} {
		rows := jsonlReadsAgree(t, in, "create", true, tc.workers, tc.chunkLines)
		var problems []string
		for _, r := range rows {
			problems = append(problems, r.Problems...)
		}
		want := []string{
			`line 701, nosuchcolumn: contacts has no column "nosuchcolumn" (column names are logical names, such as fullname, contactid) (said once, for every row that has it)`,
			`line 901, numberofchildren: is the string "two", not a whole number (a JSON number)`,
			`line 951: not a JSON object: the object is not closed (12 characters read)`,
		}
		if diff := cmp.Diff(want, problems); diff != "" {
			t.Errorf("%+v: problems (-want +got):\n%s", tc, diff)
		}
		if len(rows) != 1199 { // the blank lines took the place of one
			t.Errorf("%+v: %d rows, want 1199", tc, len(rows))
		}
	}
}

// TestParallelJSONLReadLongLines: chunks that end on their size rather than their line count
// (lines of hundreds of kilobytes) give the same rows as a sequential read.
func TestParallelJSONLReadLongLines(t *testing.T) {
	var b strings.Builder
	for i := range 40 {
		if i%3 == 0 {
			fmt.Fprintf(&b, `{"lastname":"%s"}`+"\n", strings.Repeat("x", 300<<10)) // too long for the column: a problem
		} else {
			fmt.Fprintf(&b, `{"lastname":"L%d"}`+"\n", i)
		}
	}
	rows := jsonlReadsAgree(t, b.String(), "create", true, 2, jsonlChunkLines)
	if len(rows) != 40 || len(rows[0].Problems) != 1 || len(rows[1].Problems) != 0 {
		t.Errorf("%d rows; problems of the first two: %q, %q", len(rows), rows[0].Problems, rows[1].Problems)
	}
}

// TestParallelJSONLReadStopsEarly: a reader closed before the end of a long input stops its
// goroutines (close returns) without reading the rest.
func TestParallelJSONLReadStopsEarly(t *testing.T) {
	in := strings.Repeat(`{"lastname":"A"}`+"\n", 100000)
	r := &countingReader{r: strings.NewReader(in)}
	rr := newParallelJSONLRows(r, testImportTable("create"), 2, 16)
	for range 10 {
		if _, _, problems, err := rr.next(); err != nil || len(problems) > 0 {
			t.Fatalf("next: %v %v", problems, err)
		}
	}
	rr.close()
	if r.n >= len(in) {
		t.Errorf("read %d of %d bytes after close: the reader did not stop", r.n, len(in))
	}
	if _, _, _, err := rr.next(); err == nil {
		t.Error("next after close: no error")
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// FuzzParallelJSONLRead: on any input, the parallel JSON Lines reader agrees with the
// sequential one.
func FuzzParallelJSONLRead(f *testing.F) {
	f.Add(`{"lastname":"Ada","numberofchildren":1}`+"\n\n"+`{"x":`+"\n"+`[1]`, uint8(1))
	f.Add(`{"lastname":"A"}`+"\r\n"+` {"createdon":"2024-01-01T00:00:00Z","lastname":"B"}`+"\u00a0\n"+`null`+"\n"+`{"lastname":"C","lastname":1}`, uint8(2))
	f.Add(`{"_parentcustomerid_value":"contact:7eb682f1-ca75-e511-80d4-00155d2a68d1"}`+"\n"+`{"_parentcustomerid_value":null}`+"\n"+`{"nosuch":1}`+"\n"+`{"nosuch":2}`, uint8(3))
	f.Fuzz(func(t *testing.T, in string, chunk uint8) {
		jsonlReadsAgree(t, in, "upsert", chunk%2 == 0, 2, int(chunk%8)+1)
	})
}
