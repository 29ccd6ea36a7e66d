package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/internal/jsonobj"
)

// maxJSONLLine bounds one line of a JSON Lines import, so that a file without newlines cannot
// fill memory.
const maxJSONLLine = 16 << 20

// jsonlRows reads JSON Lines: one JSON object per line, member names as in a Web API body
// (logical names, "<navigation>@odata.bind"). Blank lines are skipped. Read-only annotations an
// export writes ("@odata.etag", formatted values) are left out; "_<lookup>_value" members become
// bindings.
type jsonlRows struct {
	r    *bufio.Reader
	t    *importTable
	line int
	// reported holds the member names whose problem (an unknown or read-only column) was
	// reported, on the first line that has them: a million rows exported with a computed
	// column give one problem, not a million.
	reported map[string]bool
	// members is the list each line's members are parsed into, reused from line to line.
	members []jsonobj.Member
	// known, when not nil, makes this the parser of a worker of a parallel read
	// (parallelJSONLRows): it types a row only with plans already made, memoised here, and
	// leaves every other row to be typed again in order (see planFor).
	known map[string]columnPlan
}

func newJSONLRows(in io.Reader, t *importTable) *jsonlRows {
	return &jsonlRows{r: bufio.NewReaderSize(in, 64<<10), t: t, reported: map[string]bool{}}
}

// readLine appends the next line, without its end, to dst and returns dst, or an error; a line
// longer than maxJSONLLine is read to its end, reported as too long and not appended.
func (j *jsonlRows) readLine(dst []byte) ([]byte, bool, error) {
	start := len(dst)
	tooLong := false
	for {
		chunk, err := j.r.ReadSlice('\n')
		if !tooLong {
			if len(dst)-start+len(chunk) > maxJSONLLine {
				tooLong, dst = true, dst[:start]
			} else {
				dst = append(dst, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && (len(dst) > start || tooLong) {
			return dst, tooLong, nil
		}
		return dst, tooLong, err
	}
}

// tooLongProblem is the problem of a line longer than maxJSONLLine.
func tooLongProblem(line int) []string {
	return []string{fmt.Sprintf("line %d: the line is longer than %d MiB", line, maxJSONLLine>>20)}
}

func (j *jsonlRows) next() (dataverse.Record, int, []string, error) {
	for {
		b, tooLong, err := j.readLine(nil)
		if err != nil {
			return nil, 0, nil, err
		}
		j.line++
		if tooLong {
			return nil, j.line, tooLongProblem(j.line), nil
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		rec, problems, _ := j.parse(b)
		return rec, j.line, problems, nil
	}
}

func (j *jsonlRows) close() {}

// planFor returns the plan of the member name. A worker of a parallel read (j.known set) only
// takes plans already made and without a problem, and says !ok otherwise: making a plan
// records skipped columns and may ask the service for metadata, which happens in input order,
// and a problem with a column is said once, on the first line that has it.
func (j *jsonlRows) planFor(name string) (p columnPlan, ok bool) {
	if j.known == nil {
		return j.t.plan(name), true
	}
	if p, ok := j.known[name]; ok {
		return p, true
	}
	p, ok = j.t.cachedPlan(name)
	if !ok || p.err != nil {
		return columnPlan{}, false
	}
	if len(j.known) < maxPlanCache {
		j.known[name] = p
	}
	return p, true
}

// parse decodes and types one line. retry is true only for a worker of a parallel read, for a
// row it leaves to be typed again in order (see planFor).
func (j *jsonlRows) parse(b []byte) (row dataverse.Record, problems []string, retry bool) {
	// One pass, into a list of members rather than a map: the row is built
	// from them in name order. What the parser is not sure of goes to
	// encoding/json, for its error.
	members, null, ok := jsonobj.ParseMembers(b, j.members[:0])
	if !ok {
		var raw map[string]any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			return nil, []string{fmt.Sprintf("line %d: not a JSON object: %s", j.line, jsonProblem(err, b))}, false
		}
		if dec.More() {
			return nil, []string{fmt.Sprintf("line %d: text follows the JSON object; write one object per line", j.line)}, false
		}
		null = raw == nil
		for name, v := range raw {
			members = append(members, jsonobj.Member{Name: name, Value: v})
		}
	}
	j.members = members
	defer clear(members) // the values belong to the row now
	if null {
		return nil, []string{fmt.Sprintf("line %d: null is not a row; write a JSON object", j.line)}, false
	}
	// Problems in a stable order. Of a repeated name the last counts, as
	// encoding/json keeps it: the stable sort leaves it last of its run.
	slices.SortStableFunc(members, func(a, b jsonobj.Member) int { return strings.Compare(a.Name, b.Name) })
	row = make(dataverse.Record, len(members))
	for i, m := range members {
		if i+1 < len(members) && members[i+1].Name == m.Name {
			continue
		}
		name := m.Name
		p, ok := j.planFor(name)
		if !ok {
			return nil, nil, true
		}
		switch {
		case p.err != nil:
			if !j.reported[name] {
				if len(j.reported) < maxPlanCache {
					j.reported[name] = true
				}
				problems = append(problems, fmt.Sprintf("line %d, %s: %v (said once, for every row that has it)", j.line, name, p.err))
			}
			continue
		case p.drop:
			continue
		}
		v, err := p.cell.value(m.Value)
		if err != nil {
			problems = append(problems, fmt.Sprintf("line %d, %s: %v", j.line, name, err))
			continue
		}
		prop := p.property
		if r, ok := v.(polyRef); ok {
			prop = r.property
		} else if v == nil {
			prop = p.nullProperty()
		}
		if _, dup := row[prop]; dup {
			problems = append(problems, fmt.Sprintf("line %d, %s: writes %s, which another member of the row also writes", j.line, name, prop))
			continue
		}
		p.put(row, v)
	}
	problems = append(problems, checkRowKeys(row, j.t, j.line)...)
	return row, problems, false
}

// jsonProblem words a JSON syntax error with the character where it was found.
func jsonProblem(err error, b []byte) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at character %d", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("the line holds a JSON %s, not an object", te.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("the object is not closed (%d characters read)", len(b))
	}
	return err.Error()
}
