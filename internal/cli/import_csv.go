package cli

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/d365s2s/d365/dataverse"
)

// csvRows reads a CSV file whose first line names the columns: logical names, and
// "<navigation>@odata.bind" or "_<lookup>_value" for lookups. Each cell is typed by its column's
// metadata (see cellType.parse); an empty cell leaves the column out of the row, or with
// --empty-as-null sends null, which clears the column.
type csvRows struct {
	r     *csv.Reader
	t     *importTable
	plans []columnPlan
	names []string
	// keysMissing: the header lacks a column that addresses rows (said once, on line 1).
	keysMissing bool
}

// newCSVRows reads the header. Its problems come back with a reader that skips the columns
// concerned, so that the rows are still checked and every problem of the file is listed at once.
func newCSVRows(in io.Reader, t *importTable) (*csvRows, []string, error) {
	r := csv.NewReader(bufio.NewReaderSize(in, 64<<10))
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, &headerError{problems: []string{"line 1: the file is empty; a CSV import starts with a header line naming the columns"}}
	}
	if err != nil {
		return nil, nil, &headerError{problems: []string{csvProblem(err)}}
	}
	c := &csvRows{r: r, t: t, names: make([]string, len(header)), plans: make([]columnPlan, len(header))}
	var problems []string
	seen := map[string]int{}
	lookups := map[string]int{} // lookup column -> the input column writing it
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\ufeff")
		}
		h = strings.TrimSpace(h)
		c.names[i] = h
		c.plans[i] = columnPlan{drop: true} // until it is known to be good
		if h == "" {
			problems = append(problems, fmt.Sprintf("line 1, column %d: the header cell is empty; name every column", i+1))
			continue
		}
		p := t.plan(h)
		if p.err != nil {
			problems = append(problems, fmt.Sprintf("line 1, column %s: %v", h, p.err))
			continue
		}
		if p.drop {
			c.plans[i] = p
			continue
		}
		if j, dup := seen[strings.ToLower(p.property)]; dup {
			problems = append(problems, fmt.Sprintf("line 1, column %s: writes %s, as column %d (%s) does; keep one", h, p.property, j+1, c.names[j]))
			continue
		}
		if p.lookup != "" {
			if j, dup := lookups[p.lookup]; dup && (len(p.cell.poly) > 0 || len(c.plans[j].cell.poly) > 0) {
				problems = append(problems, fmt.Sprintf("line 1, column %s: writes the lookup %s, as column %d (%s) does; keep one (a _%s_value column names each row's table, as account:<id>)", h, p.lookup, j+1, c.names[j], p.lookup))
				continue
			}
			lookups[p.lookup] = i
		}
		seen[strings.ToLower(p.property)] = i
		c.plans[i] = p
	}
	for i := range c.plans {
		if len(c.plans[i].cell.poly) == 0 {
			continue
		}
		companion := c.names[i] + "@" + dataverse.AnnotationLookupLogicalName
		if j := slices.Index(c.names, companion); j >= 0 {
			c.plans[i].tableCell = j + 1
		}
	}
	for _, k := range t.keys {
		if _, ok := seen[strings.ToLower(k)]; !ok {
			problems = append(problems, fmt.Sprintf("line 1: the header has no column %s, which --key needs in every row", k))
			c.keysMissing = true
		}
	}
	if t.mode == "update" && len(t.keys) == 0 {
		if _, ok := seen[strings.ToLower(t.md.PrimaryIDAttribute)]; !ok {
			problems = append(problems, fmt.Sprintf("line 1: the header has no column %s; an update finds each row by its primary id (or pass --key)", t.md.PrimaryIDAttribute))
			c.keysMissing = true
		}
	}
	return c, problems, nil
}

func (c *csvRows) next() (dataverse.Record, int, []string, error) {
	rec, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, 0, nil, io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, pe.StartLine, []string{csvProblem(err)}, nil
	}
	if err != nil {
		return nil, 0, nil, err
	}
	line, _ := c.r.FieldPos(0)
	row := make(dataverse.Record, len(rec))
	var problems []string
	for i, cell := range rec {
		p := &c.plans[i]
		if p.drop {
			continue
		}
		if cell == "" {
			if c.t.emptyAsNull && !c.t.addresses(p.property) {
				row[p.nullProperty()] = nil
			}
			continue
		}
		if p.tableCell > 0 && rec[p.tableCell-1] != "" && !strings.ContainsAny(cell, ":(") {
			// A bare id whose table the companion column names: "<table>:<id>".
			cell = rec[p.tableCell-1] + ":" + cell
		}
		v, err := p.cell.parse(cell)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d, column %s: %v", line, c.names[i], err))
			continue
		}
		p.put(row, v)
	}
	if !c.keysMissing {
		problems = append(problems, checkRowKeys(row, c.t, line)...)
	}
	return row, line, problems, nil
}

func (c *csvRows) close() {}

// checkRowKeys checks that a row holds what addresses it: the --key columns, or for an update
// the primary id.
func checkRowKeys(row dataverse.Record, t *importTable, line int) []string {
	var problems []string
	for _, k := range t.keys {
		if v, ok := row[strings.ToLower(k)]; !ok || v == nil {
			problems = append(problems, fmt.Sprintf("line %d: no value for key column %s", line, k))
		}
	}
	if t.mode == "update" && len(t.keys) == 0 {
		if v, ok := row[t.md.PrimaryIDAttribute]; !ok || v == nil {
			problems = append(problems, fmt.Sprintf("line %d: no value for %s, which an update needs", line, t.md.PrimaryIDAttribute))
		}
	}
	return problems
}

// csvProblem words a CSV syntax error with its line.
func csvProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		switch {
		case errors.Is(pe.Err, csv.ErrFieldCount):
			msg = "the row has a different number of cells than the header"
		case errors.Is(pe.Err, csv.ErrBareQuote):
			msg = `a quote (") appears inside an unquoted cell; quote the whole cell and double the quote ("")`
		case errors.Is(pe.Err, csv.ErrQuote):
			msg = `a quoted cell is not closed, or text follows its closing quote`
		}
		return fmt.Sprintf("line %d: %s", pe.Line, msg)
	}
	return err.Error()
}
