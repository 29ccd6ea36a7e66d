package cli

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/rivo/uniseg"
	"golang.org/x/term"
)

// tableGap is the space between two table columns.
const tableGap = 2

// minTableColumn is the narrowest a column is cut to when the table does not fit the terminal.
const minTableColumn = 6

// tableWidth returns the width a table printed to streams.Out must fit in: $COLUMNS when set (as
// shells export it), else the terminal's width when stdout is a terminal, else 0, no limit (a
// pipe or a file gets whole cells).
func tableWidth(streams *IOStreams) int {
	if v, ok := streams.lookupEnv("COLUMNS"); ok {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
			return n
		}
	}
	if f, ok := streams.Out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 0
}

// writeTableWidth prints records as an aligned table no wider than width (0: no limit). Columns
// are the given ones, or else every non-annotation member in the order first seen; a formatted
// value annotation, when present, is shown instead of the raw value. When the table is too wide,
// the widest columns are narrowed first and their cells cut with "…".
func writeTableWidth(w io.Writer, records []orderedObject, columns []string, width int) error {
	if len(columns) == 0 {
		columns = inferTableColumns(records)
	}
	rows := make([][]string, 0, len(records)+1)
	header := make([]string, len(columns))
	for i, c := range columns {
		header[i] = strings.ToUpper(c)
	}
	rows = append(rows, header)
	formatted := make([]string, len(columns))
	for i, col := range columns {
		formatted[i] = col + formattedValueSuffix
	}
	for _, rec := range records {
		cells := make([]string, len(columns))
		for i, col := range columns {
			cells[i] = cellOf(rec, col, formatted[i])
		}
		rows = append(rows, cells)
	}
	widths := make([]int, len(columns))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], cellWidth(c))
		}
	}
	if width > 0 {
		fitColumns(widths, width, guidColumns(rows[1:], len(columns)))
	}
	bw := bufio.NewWriter(w)
	for _, r := range rows {
		for i, c := range r {
			c = truncateCell(c, widths[i])
			bw.WriteString(c)
			if i < len(r)-1 {
				bw.WriteString(strings.Repeat(" ", widths[i]-cellWidth(c)+tableGap))
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// cellWidth is the number of terminal cells s takes: its length for printable ASCII (the common
// case, without uniseg's grapheme segmentation), else uniseg's measure.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return uniseg.StringWidth(s)
		}
	}
	return len(s)
}

// inferTableColumns returns every non-annotation member of records, in the order first seen.
func inferTableColumns(records []orderedObject) []string {
	var columns []string
	seen := map[string]bool{}
	for _, rec := range records {
		for _, f := range rec {
			if strings.Contains(f.Key, "@") || seen[f.Key] {
				continue
			}
			seen[f.Key] = true
			columns = append(columns, f.Key)
		}
	}
	return columns
}

// fitColumns narrows the widest column, one cell at a time, until the columns and the gaps
// between them fit in width. Columns of ids (keep[i]) are cut only when cutting every other
// column down to minTableColumn was not enough: a cut id is useless.
func fitColumns(widths []int, width int, keep []bool) {
	total := tableGap * (len(widths) - 1)
	for _, w := range widths {
		total += w
	}
	for _, spareIDs := range []bool{true, false} {
		for total > width {
			widest := -1
			for i, w := range widths {
				if (!spareIDs || !keep[i]) && w > minTableColumn && (widest < 0 || w > widths[widest]) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			widths[widest]--
			total--
		}
	}
}

// guidColumns reports, for each of n columns, whether every non-empty cell of rows is a GUID.
func guidColumns(rows [][]string, n int) []bool {
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = len(rows) > 0
		for _, r := range rows {
			if r[i] == "" {
				continue
			}
			if _, err := uuid.Parse(r[i]); err != nil || len(r[i]) != 36 {
				keep[i] = false
				break
			}
		}
	}
	return keep
}

// truncateCell cuts s to at most width terminal cells, ending it with "…" when cut.
func truncateCell(s string, width int) string {
	if cellWidth(s) <= width {
		return s
	}
	var b strings.Builder
	used := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		w := g.Width()
		if used+w > width-1 {
			break
		}
		b.WriteString(g.Str())
		used += w
	}
	b.WriteString("…")
	return b.String()
}
