package cli

import (
	"fmt"
	"io"

	"github.com/d365s2s/d365/dataverse"
)

// rowReader reads the rows of an import file one at a time, typed against the table's metadata.
// Memory stays bounded by the longest row: nothing is kept between rows (a parallel JSON Lines
// reader keeps a few chunks of lines in flight, each at most 1 MiB or one longer line).
type rowReader interface {
	// next returns the next row and the line it starts on, with the problems found in it (a
	// row with problems is still counted as a row). At the end it returns io.EOF; any other
	// error stops the reading (an I/O failure, or a problem with the file as a whole, such as
	// its CSV header).
	next() (rec dataverse.Record, line int, problems []string, err error)
	// close stops the reader's goroutines, if it has any; the input is not read after it.
	close()
}

// newRowReader returns the reader for the format ("csv" or "jsonl"), with the problems of the
// file's header (a CSV header naming unknown columns, say): the reader then skips those columns,
// so the rows can still be checked. A headerError means the rows cannot be read at all. With
// workers above 1, JSON Lines rows are typed by that many goroutines (parallelJSONLRows).
func newRowReader(format string, r io.Reader, t *importTable, workers int) (rowReader, []string, error) {
	switch format {
	case "csv":
		return newCSVRows(r, t)
	case "jsonl":
		if workers > 1 {
			return newParallelJSONLRows(r, t, workers, jsonlChunkLines), nil, nil
		}
		return newJSONLRows(r, t), nil, nil
	}
	return nil, nil, fmt.Errorf("unknown format %q; use csv or jsonl", format)
}

// headerError is a CSV file whose header cannot be read (an empty file, a malformed first line).
type headerError struct {
	problems []string
}

func (e *headerError) Error() string {
	return fmt.Sprintf("the CSV header has %d problem(s)", len(e.problems))
}
