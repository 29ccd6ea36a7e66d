package cli

import (
	"fmt"
	"io"

	"github.com/d365s2s/d365/dataverse"
)

// rowReader reads the rows of an import file one at a time, typed against the table's metadata.
// Memory stays bounded by the longest row: nothing is kept between rows.
type rowReader interface {
	// next returns the next row and the line it starts on, with the problems found in it (a
	// row with problems is still counted as a row). At the end it returns io.EOF; any other
	// error stops the reading (an I/O failure, or a problem with the file as a whole, such as
	// its CSV header).
	next() (rec dataverse.Record, line int, problems []string, err error)
}

// newRowReader returns the reader for the format ("csv" or "jsonl").
func newRowReader(format string, r io.Reader, t *importTable) (rowReader, error) {
	switch format {
	case "csv":
		return newCSVRows(r, t)
	case "jsonl":
		return newJSONLRows(r, t), nil
	}
	return nil, fmt.Errorf("unknown format %q; use csv or jsonl", format)
}

// headerError is a problem with a CSV header: every cell of it is listed, on line 1.
type headerError struct {
	problems []string
}

func (e *headerError) Error() string {
	return fmt.Sprintf("the CSV header has %d problem(s)", len(e.problems))
}
