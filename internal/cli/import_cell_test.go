package cli

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

func TestCellParse(t *testing.T) {
	bind := cellType{kind: cellBind, bindSets: []string{"accounts"}, bindSet: "accounts"}
	poly := cellType{kind: cellBind, bindSets: []string{"accounts", "contacts"}}
	tests := []struct {
		name string
		ct   cellType
		in   string
		want any    // nil when an error is expected
		err  string // part of the error
	}{
		{"text", cellType{kind: cellText, maxLength: 5}, "héllo", "héllo", ""},
		{"text too long", cellType{kind: cellText, maxLength: 4}, "héllo", nil, "is 5 characters long; the column holds at most 4"},
		{"text keeps spaces", cellType{kind: cellText}, " a ", " a ", ""},
		{"int", cellType{kind: cellInt32}, " 42 ", json.Number("42"), ""},
		{"int negative", cellType{kind: cellInt32}, "-2147483648", json.Number("-2147483648"), ""},
		{"int overflow", cellType{kind: cellInt32}, "2147483648", nil, "not a whole number from -2147483648 to 2147483647"},
		{"int decimal", cellType{kind: cellInt32}, "1.5", nil, "not a whole number"},
		{"bigint", cellType{kind: cellInt64}, "9223372036854775807", json.Number("9223372036854775807"), ""},
		{"decimal", cellType{kind: cellDecimal}, "-1234.5600", json.Number("-1234.5600"), ""},
		{"decimal plus and zeros", cellType{kind: cellDecimal}, "+007.5", json.Number("7.5"), ""},
		{"decimal leading dot", cellType{kind: cellDecimal}, ".5", json.Number("0.5"), ""},
		{"decimal trailing dot", cellType{kind: cellDecimal}, "5.", json.Number("5"), ""},
		{"decimal exponent", cellType{kind: cellDecimal}, "1E+3", json.Number("1e3"), ""},
		{"decimal thousands", cellType{kind: cellDecimal}, "1,234.5", nil, "no thousands separators"},
		{"decimal currency", cellType{kind: cellDecimal}, "$12", nil, "not a number"},
		{"decimal inf", cellType{kind: cellDecimal}, "Inf", nil, "not a number"},
		{"decimal nan", cellType{kind: cellDecimal}, "NaN", nil, "not a number"},
		{"decimal hex", cellType{kind: cellDecimal}, "0x10", nil, "not a number"},
		{"decimal huge", cellType{kind: cellDecimal}, "1e400", nil, "not a number"},
		{"bool true", cellType{kind: cellBool}, "TRUE", true, ""},
		{"bool 0", cellType{kind: cellBool}, "0", false, ""},
		{"bool yes", cellType{kind: cellBool}, "yes", true, ""},
		{"bool bad", cellType{kind: cellBool}, "maybe", nil, "not a yes/no value"},
		{"date", cellType{kind: cellDate}, "2024-02-29", "2024-02-29", ""},
		{"date invalid day", cellType{kind: cellDate}, "2023-02-29", nil, "write YYYY-MM-DD"},
		{"date with time", cellType{kind: cellDate}, "2024-01-31T10:00:00Z", nil, "not a date"},
		{"datetime utc", cellType{kind: cellDateTime}, "2024-01-31T09:30:00Z", "2024-01-31T09:30:00Z", ""},
		{"datetime offset", cellType{kind: cellDateTime}, "2024-01-31T09:30:00.5+02:00", "2024-01-31T09:30:00.5+02:00", ""},
		{"datetime bare date", cellType{kind: cellDateTime}, "2024-01-31", "2024-01-31T00:00:00Z", ""},
		{"datetime without zone", cellType{kind: cellDateTime}, "2024-01-31T09:30:00", nil, "with a zone"},
		{"datetime too early", cellType{kind: cellDateTime}, "1700-01-01T00:00:00Z", nil, "1753 to 9999"},
		{"choice", cellType{kind: cellChoice}, "100000001", json.Number("100000001"), ""},
		{"choice label", cellType{kind: cellChoice}, "Preferred", nil, "not its label"},
		{"choices", cellType{kind: cellChoices}, "1, 3,5", "1,3,5", ""},
		{"choices bad", cellType{kind: cellChoices}, "1;3", nil, "separated by commas"},
		{"guid", cellType{kind: cellGUID}, "5E0B7F0C-6D1C-4D1B-9A36-7C3F2A9E1D65", "5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65", ""},
		{"guid braces", cellType{kind: cellGUID}, "{5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65}", nil, "not a GUID"},
		{"bind id", bind, "accounts(5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65)", "/accounts(5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65)", ""},
		{"bind slash", bind, "/accounts(5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65)", "/accounts(5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65)", ""},
		{"bind bare id", bind, "5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65", "/accounts(5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65)", ""},
		{"bind key", bind, "accounts(accountnumber='A1')", "/accounts(accountnumber='A1')", ""},
		{"bind key quote and space", bind, "accounts(accountnumber='O''Brien & Co')", "/accounts(accountnumber='O''Brien%20%26%20Co')", ""},
		{"bind composite key", bind, "accounts(code=7,name='x')", "/accounts(code=7,name='x')", ""},
		{"bind wrong set", bind, "contacts(5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65)", nil, `points into "contacts"; this lookup points into accounts`},
		{"bind polymorphic bare id", poly, "5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65", nil, "accounts or contacts"},
		{"bind polymorphic contact", poly, "contacts(5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65)", "/contacts(5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65)", ""},
		{"bind unclosed quote", bind, "accounts(accountnumber='A1)", nil, "no closing quote"},
		{"bind no parens", bind, "accounts", nil, "not a record reference"},
		{"bind bad value", bind, "accounts(accountnumber=A1)", nil, "neither quoted text"},
		{"bind duplicate column", bind, "accounts(a='1',a='2')", nil, "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ct.parse(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parse(%q) = %#v, %v; want an error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parse(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
			}
		})
	}
}

// FuzzCellParse: for any text and column kind, parse never panics; what it accepts is a value of
// the kind's JSON type that encodes to valid JSON, numbers parse back to the same number, and
// text respects the length bound.
func FuzzCellParse(f *testing.F) {
	for _, s := range []string{"", "1", "-1.5e3", "+.5", "true", "2024-01-31", "2024-01-31T09:30:00Z", "1,2",
		"5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65", "accounts(accountnumber='A''1')", "accounts(a=1,b='x')", "é\xff"} {
		for k := cellText; k <= cellBind; k++ {
			f.Add(s, int(k))
		}
	}
	f.Fuzz(func(t *testing.T, s string, kind int) {
		if kind < int(cellText) || kind > int(cellBind) {
			return
		}
		ct := cellType{kind: cellKind(kind), maxLength: 10, bindSets: []string{"accounts"}, bindSet: "accounts"}
		v, err := ct.parse(s)
		if err != nil {
			if v != nil {
				t.Fatalf("parse(%q) returned %#v with error %v", s, v, err)
			}
			if !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("error message is not UTF-8: %q", err)
			}
			return
		}
		b, merr := json.Marshal(v)
		if merr != nil || !json.Valid(b) {
			t.Fatalf("parse(%q) = %#v, which does not encode as JSON: %v", s, v, merr)
		}
		switch ct.kind {
		case cellText:
			if utf8.RuneCountInString(v.(string)) > 10 {
				t.Fatalf("text %q is over the bound", v)
			}
		case cellInt32, cellInt64, cellChoice, cellDecimal:
			n := v.(json.Number)
			want, err1 := strconv.ParseFloat(strings.TrimSpace(s), 64)
			got, err2 := strconv.ParseFloat(string(n), 64)
			if err2 != nil || (err1 == nil && want != got) {
				t.Fatalf("parse(%q) = %s, want the number %v", s, n, want)
			}
		case cellBool:
			_ = v.(bool)
		default:
			if _, ok := v.(string); !ok {
				t.Fatalf("parse(%q) = %#v, want a string", s, v)
			}
		}
	})
}

// FuzzNormalizeDecimal: an accepted number is valid JSON, parses to the same float64 as the
// input, and is accepted again unchanged.
func FuzzNormalizeDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0", "+1", "007", ".5", "5.", "1e5", "1E-5", "-.0e+0", "1e", "e1", ".", "-", "1.2.3", "0x1p3", "Inf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, ok := normalizeDecimal(s)
		if !ok {
			return
		}
		if !json.Valid([]byte(out)) {
			t.Fatalf("normalizeDecimal(%q) = %q, not a JSON number", s, out)
		}
		a, err1 := strconv.ParseFloat(s, 64)
		b, err2 := strconv.ParseFloat(out, 64)
		if err1 != nil || err2 != nil || a != b {
			t.Fatalf("normalizeDecimal(%q) = %q: %v (%v) vs %v (%v)", s, out, a, err1, b, err2)
		}
		again, ok := normalizeDecimal(out)
		if !ok || again != out {
			t.Fatalf("normalizeDecimal(%q) = %q, then %q, %v", s, out, again, ok)
		}
	})
}

// FuzzParseBind: an accepted reference is "/accounts(…)" with nothing a URL must escape, and its
// key, unescaped, is the key that was written.
func FuzzParseBind(f *testing.F) {
	for _, s := range []string{"accounts(5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65)", "/accounts(a='x')", "accounts(a='O''B',b=12,c=true)",
		"accounts(a='%2F')", "accounts(a=)", "accounts()", "accounts(a='x'", "5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65", "accounts(a='(x) #?/é')"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := parseBind(s, []string{"accounts"}, "accounts")
		if err != nil {
			return
		}
		inner, ok := strings.CutPrefix(out, "/accounts(")
		if !ok || !strings.HasSuffix(inner, ")") {
			t.Fatalf("parseBind(%q) = %q", s, out)
		}
		inner = strings.TrimSuffix(inner, ")")
		if strings.ContainsAny(inner, " #?/") {
			t.Fatalf("parseBind(%q) = %q: unescaped URL delimiters", s, out)
		}
		for _, r := range inner {
			if r > 0x7e || r < 0x21 {
				t.Fatalf("parseBind(%q) = %q: unescaped character %q", s, out, r)
			}
		}
		if uuid.Validate(inner) == nil {
			return
		}
		unescaped, err := url.PathUnescape(inner)
		if err != nil {
			t.Fatalf("parseBind(%q) = %q: %v", s, out, err)
		}
		got, err := parseKeyPairs(unescaped)
		if err != nil {
			t.Fatalf("parseBind(%q) = %q, whose key does not parse: %v", s, out, err)
		}
		src := strings.TrimPrefix(s, "/")
		want, err := parseKeyPairs(src[strings.IndexByte(src, '(')+1 : len(src)-1])
		if err != nil {
			t.Fatalf("input key does not parse again: %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("parseBind(%q) = %q: key changed (-want +got):\n%s", s, out, diff)
		}
	})
}
