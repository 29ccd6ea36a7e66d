package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// cellKind is how the text of a CSV cell becomes a JSON value, chosen from the column's metadata.
type cellKind int

const (
	cellText     cellKind = iota // String, Memo: the text as is (checked against MaxLength)
	cellInt32                    // Integer
	cellInt64                    // BigInt
	cellDecimal                  // Decimal, Money, Double: a JSON number, digits kept as written
	cellBool                     // Boolean: true/false, 1/0, yes/no
	cellDate                     // DateTime with the DateOnly format: YYYY-MM-DD
	cellDateTime                 // DateTime: RFC 3339 with a zone
	cellChoice                   // Picklist, State, Status: the option's integer value
	cellChoices                  // multi-select choices: integers separated by commas
	cellGUID                     // Uniqueidentifier
	cellBind                     // <navigation>@odata.bind: set(<id>) or set(key='v'), or a bare id
)

// cellType says how to read the cells of one column.
type cellType struct {
	kind cellKind
	// maxLength bounds text cells (in characters); 0 means no bound.
	maxLength int
	// bindSets are the entity sets a bind column may point into; bindSet is the one a bare id
	// points into (set when the navigation property has exactly one target).
	bindSets []string
	bindSet  string
	// poly lists the targets of a polymorphic lookup read from one "_<lookup>_value" column
	// (polyAttr is the lookup's logical name): each cell names its table (import_polymorphic.go).
	poly     []polyTarget
	polyAttr string
}

// String names the type as the messages about a cell do.
func (k cellKind) String() string {
	switch k {
	case cellText:
		return "text"
	case cellInt32:
		return "a whole number"
	case cellInt64:
		return "a big whole number"
	case cellDecimal:
		return "a number"
	case cellBool:
		return "a yes/no value"
	case cellDate:
		return "a date"
	case cellDateTime:
		return "a date and time"
	case cellChoice:
		return "a choice value"
	case cellChoices:
		return "choice values"
	case cellGUID:
		return "a GUID"
	case cellBind:
		return "a record reference"
	}
	return "a value"
}

// parse turns the text of a cell into the JSON value to send. An empty cell is not parsed: the
// caller leaves the column out of the row. The error says what was wrong and what is expected,
// without repeating the column name or line (the caller adds them).
func (t *cellType) parse(s string) (any, error) {
	switch t.kind {
	case cellText:
		if !utf8.ValidString(s) {
			return nil, errors.New("is not valid UTF-8 text")
		}
		if n := utf8.RuneCountInString(s); t.maxLength > 0 && n > t.maxLength {
			return nil, fmt.Errorf("is %d characters long; the column holds at most %d", n, t.maxLength)
		}
		return s, nil
	case cellInt32, cellChoice:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			if t.kind == cellChoice {
				return nil, fmt.Errorf("%s is not a choice value; write the option's number, such as 1 or 100000000 (not its label)", quoteCell(s))
			}
			return nil, fmt.Errorf("%s is not a whole number from -2147483648 to 2147483647", quoteCell(s))
		}
		return json.Number(strconv.FormatInt(n, 10)), nil
	case cellInt64:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not a whole number that fits in 64 bits", quoteCell(s))
		}
		return json.Number(strconv.FormatInt(n, 10)), nil
	case cellDecimal:
		d, ok := normalizeDecimal(strings.TrimSpace(s))
		if !ok {
			return nil, fmt.Errorf("%s is not a number; write digits with an optional sign, '.' and exponent, such as -1234.56 (no thousands separators or currency symbols)", quoteCell(s))
		}
		return json.Number(d), nil
	case cellBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1", "yes", "y":
			return true, nil
		case "false", "0", "no", "n":
			return false, nil
		}
		return nil, fmt.Errorf("%s is not a yes/no value; write true or false (or 1/0, yes/no)", quoteCell(s))
	case cellDate:
		v := strings.TrimSpace(s)
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return nil, fmt.Errorf("%s is not a date; write YYYY-MM-DD, such as 2024-01-31", quoteCell(s))
		}
		return v, nil
	case cellDateTime:
		v := strings.TrimSpace(s)
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			if _, derr := time.Parse(time.DateOnly, v); derr == nil {
				return v + "T00:00:00Z", nil
			}
			return nil, fmt.Errorf("%s is not a date and time; write RFC 3339 with a zone, such as 2024-01-31T09:30:00Z or 2024-01-31T09:30:00+02:00 (a bare date means midnight UTC)", quoteCell(s))
		}
		if tm.Year() < 1753 || tm.Year() > 9999 {
			return nil, fmt.Errorf("%s is outside the years 1753 to 9999 that Dataverse stores", quoteCell(s))
		}
		return tm.Format(time.RFC3339Nano), nil
	case cellChoices:
		parts := strings.Split(s, ",")
		out := make([]string, 0, len(parts))
		for _, p := range parts {
			n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
			if err != nil {
				return nil, fmt.Errorf("%s is not a list of choice values; write the options' numbers separated by commas, such as 1,3", quoteCell(s))
			}
			out = append(out, strconv.FormatInt(n, 10))
		}
		return strings.Join(out, ","), nil
	case cellGUID:
		id, err := uuid.Parse(strings.TrimSpace(s))
		if err != nil || len(strings.TrimSpace(s)) != 36 {
			return nil, fmt.Errorf("%s is not a GUID such as 5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65", quoteCell(s))
		}
		return id.String(), nil
	case cellBind:
		if len(t.poly) > 0 {
			return t.parsePoly(strings.TrimSpace(s))
		}
		ref, err := parseBind(strings.TrimSpace(s), t.bindSets, t.bindSet)
		if err != nil {
			return nil, err
		}
		return ref, nil
	}
	return nil, fmt.Errorf("cannot be imported")
}

// quoteCell quotes a cell's text for a message, shortened when long.
func quoteCell(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return strconv.Quote(s)
}

// normalizeDecimal checks that s is a decimal number (an optional sign, digits with an optional
// fraction, an optional exponent) and returns it as a JSON number, digits unchanged: a leading
// "+" and leading zeros are dropped, ".5" becomes "0.5" and "5." becomes "5". Infinity, NaN,
// hexadecimal and thousands separators are refused, and so are numbers out of float64's range.
func normalizeDecimal(s string) (string, bool) {
	i := 0
	var b strings.Builder
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		if s[i] == '-' {
			b.WriteByte('-')
		}
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart := strings.TrimLeft(s[start:i], "0")
	fracPart := ""
	hasDigits := i > start
	if i < len(s) && s[i] == '.' {
		i++
		fs := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fracPart = s[fs:i]
		hasDigits = hasDigits || i > fs
	}
	if !hasDigits {
		return "", false
	}
	if intPart == "" {
		intPart = "0"
	}
	b.WriteString(intPart)
	if fracPart != "" {
		b.WriteByte('.')
		b.WriteString(fracPart)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		b.WriteByte('e')
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			if s[i] == '-' {
				b.WriteByte('-')
			}
			i++
		}
		es := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == es {
			return "", false
		}
		b.WriteString(s[es:i])
	}
	if i != len(s) {
		return "", false
	}
	out := b.String()
	f, err := strconv.ParseFloat(out, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	return out, true
}
