package dataverse

import (
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

type status string

func TestFormatLiteral(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	s := "x"
	var nilPtr *string
	tests := []struct {
		in   any
		want string
	}{
		{"O'Brien", `'O''Brien'`},
		{"''", `''''''`},
		{"", `''`},
		{"a/b+c&d#e?f", `'a/b+c&d#e?f'`},
		{"Zoë 東京", `'Zoë 東京'`},
		{status("Active"), `'Active'`},
		{idA, idA.String()},
		{&idA, idA.String()},
		{when, "2024-01-02T02:04:05Z"},
		{when.Add(1500 * time.Millisecond), "2024-01-02T02:04:06.5Z"},
		{DateOf(when), "2024-01-02"},
		{true, "true"},
		{42, "42"},
		{int64(-7), "-7"},
		{uint8(255), "255"},
		{2.5, "2.5"},
		{float32(0.1), "0.1"},
		{1e21, "1000000000000000000000"},
		{json.Number("5000000.0000"), "5000000.0000"},
		{nil, "null"},
		{nilPtr, "null"},
		{&s, "'x'"},
		{Raw("Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'"), "Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'"},
		{[]string{"O'Brian", "OBrian"}, `["O'Brian","OBrian"]`},
		{[]any{5, "a\"b", idA}, `["5","a\"b","` + idA.String() + `"]`},
		{[]uuid.UUID{idA}, `["` + idA.String() + `"]`},
	}
	for _, tt := range tests {
		got, err := FormatLiteral(tt.in)
		if err != nil {
			t.Errorf("FormatLiteral(%#v): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("FormatLiteral(%#v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestFormatTimeLiteral: a time becomes UTC with at most 7 fractional digits (the 100 ns tick of
// .NET's DateTimeOffset, which Dataverse's OData parser is limited to), truncated so it never
// rounds into the next second, trailing zeros dropped.
func TestFormatTimeLiteral(t *testing.T) {
	t.Parallel()
	at := func(nsec int, loc *time.Location) time.Time { return time.Date(2024, 12, 31, 23, 59, 59, nsec, loc) }
	tests := []struct {
		name string
		in   time.Time
		want string
	}{
		{"nanoseconds are truncated to 7 digits", at(312697919, time.UTC), "2024-12-31T23:59:59.3126979Z"},
		{"never rounded into the next second (or year)", at(999999999, time.UTC), "2024-12-31T23:59:59.9999999Z"},
		{"exactly 7 digits", at(312697900, time.UTC), "2024-12-31T23:59:59.3126979Z"},
		{"one tick", at(100, time.UTC), "2024-12-31T23:59:59.0000001Z"},
		{"below one tick", at(99, time.UTC), "2024-12-31T23:59:59Z"},
		{"trailing zeros dropped", at(120000000, time.UTC), "2024-12-31T23:59:59.12Z"},
		{"whole seconds", at(0, time.UTC), "2024-12-31T23:59:59Z"},
		{"converted to UTC", at(312697919, time.FixedZone("UTC+14", 14*3600)), "2024-12-31T09:59:59.3126979Z"},
		{"west of UTC crosses the year", at(5, time.FixedZone("UTC-1", -3600)), "2025-01-01T00:59:59Z"},
		{"zero time", time.Time{}, "0001-01-01T00:00:00Z"},
		{"last tick of 9999", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "9999-12-31T23:59:59.9999999Z"},
	}
	for _, tt := range tests {
		// The same text whichever way the time arrives: by value, by pointer, in a list.
		for _, in := range []any{tt.in, &tt.in} {
			got, err := FormatLiteral(in)
			if err != nil || got != tt.want {
				t.Errorf("%s: FormatLiteral(%T %v) = %q, %v; want %q", tt.name, in, tt.in, got, err, tt.want)
			}
		}
		if got, err := FormatLiteral([]time.Time{tt.in}); err != nil || got != `["`+tt.want+`"]` {
			t.Errorf("%s: FormatLiteral([]time.Time) = %q, %v; want [%q]", tt.name, got, err, tt.want)
		}
		if got := Filterf("createdon ge %v", tt.in); got != "createdon ge "+tt.want {
			t.Errorf("%s: Filterf = %q", tt.name, got)
		}
	}
	// Years a DateTimeOffset cannot hold are refused instead of written as text the service
	// cannot parse ("10000-01-01T…", "-0001-…").
	for _, bad := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC)} {
		if got, err := FormatLiteral(bad); err == nil || !strings.Contains(err.Error(), "years 1 to 9999") {
			t.Errorf("FormatLiteral(%v) = %q, %v; want an error naming the range", bad, got, err)
		}
	}
}

func TestFormatLiteralRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []any{
		math.NaN(), math.Inf(1), []byte("x"), struct{}{}, map[string]int{}, json.Number("0x10"),
		json.Number("1 or 1 eq 1"), []any{nil}, [][]string{{"a"}}, func() {},
	} {
		if got, err := FormatLiteral(in); err == nil {
			t.Errorf("FormatLiteral(%#v) = %q, want an error", in, got)
		}
	}
	// Dates that are not calendar days of the years 1 to 9999 are refused, not written as
	// "0000-00-00" or "2023-02-29" for the service to reject (or misread) later; by value, by
	// pointer and inside a list alike.
	for _, bad := range []struct {
		d    Date
		want string
	}{
		{Date{}, "0000-00-00"},
		{Date{2024, 13, 1}, "2024-13-01"},
		{Date{2024, 0, 10}, "2024-00-10"},
		{Date{2024, 1, 0}, "2024-01-00"},
		{Date{2024, 2, 31}, "2024-02-31"},
		{Date{2023, 2, 29}, "2023-02-29"},
		{Date{2024, 4, 31}, "2024-04-31"},
		{Date{2024, 1, -1}, "2024-01--1"},
		{Date{0, 12, 31}, "0000-12-31"},
		{Date{10000, 1, 1}, "10000-01-01"},
	} {
		for _, in := range []any{bad.d, &bad.d, []Date{{2024, 1, 1}, bad.d}} {
			got, err := FormatLiteral(in)
			if err == nil || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "calendar day") {
				t.Errorf("FormatLiteral(%T %v) = %q, %v; want an ErrInvalidArgument naming %s as no calendar day", in, bad.d, got, err, bad.want)
			}
		}
	}
	for d, want := range map[Date]string{{2024, 2, 29}: "2024-02-29", {1, 1, 1}: "0001-01-01", {9999, 12, 31}: "9999-12-31"} {
		if got, err := FormatLiteral(d); err != nil || got != want {
			t.Errorf("FormatLiteral(%v) = %q, %v; want %q", d, got, err, want)
		}
	}
}

func TestEscapeComponent(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"abcXYZ019-_.!~*'()": "abcXYZ019-_.!~*'()",
		"a b":                "a%20b",
		"'/+&#?":             "'%2F%2B%26%23%3F",
		";=,$:@%":            "%3B%3D%2C%24%3A%40%25",
		"ë":                  "%C3%AB",
		"東":                  "%E6%9D%B1",
		"\n\x00":             "%0A%00",
	}
	for in, want := range tests {
		got := escapeComponent(in)
		if got != want {
			t.Errorf("escapeComponent(%q) = %q, want %q", in, got, want)
		}
		// Whatever the encoding, a standard query parser must read the
		// value back unchanged ("+" must not turn into a space).
		v, err := url.ParseQuery("k=" + got)
		if err != nil || v.Get("k") != in {
			t.Errorf("ParseQuery(k=%s) = %q, %v; want %q", got, v.Get("k"), err, in)
		}
	}
}

func FuzzEscapeComponentRoundTrip(f *testing.F) {
	for _, s := range []string{"", "O'Brien", "a+b&c=d;e#f?g", "東京", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := escapeComponent(s)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c == '&' || c == '+' || c == '#' || c == ';' || c == '=' || c == ' ' || c == '?' || c >= 0x80 {
				t.Fatalf("escapeComponent(%q) = %q keeps %q", s, enc, c)
			}
		}
		got, err := url.QueryUnescape(enc)
		if err != nil || got != s {
			t.Fatalf("QueryUnescape(escapeComponent(%q)) = %q, %v", s, got, err)
		}
	})
}
