package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeWithDecoder is what Parse stands in for: a json.Decoder with
// UseNumber decoding one value into a map, and nothing after it.
func decodeWithDecoder(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, errTrailing
	}
	return m, nil
}

var errTrailing = errors.New("data after the object")

// TestParse: what Parse accepts it decodes as the decoder does (strings with
// escapes or invalid UTF-8 through encoding/json itself), and what it must
// leave to encoding/json (invalid JSON, too deep nesting, a value that is
// not an object) it refuses.
func TestParse(t *testing.T) {
	cases := []struct {
		name, body string
		ok         bool
	}{
		{"integers", `{"a":0,"b":-1,"c":42,"d":2147483647}`, true},
		{"big integers keep every digit", `{"a":12345678901234567890123,"b":-9007199254740993}`, true},
		{"decimals as written", `{"a":1.50,"b":-0.000001,"c":1e400,"d":2.5E-3,"e":1E+2}`, true},
		{"plain strings", `{"s":"plain","e":"","@odata.etag":"W/1"}`, true},
		{"escaped strings go to encoding/json", `{"esc":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}`, true},
		{"non-ASCII strings are copied", `{"u":"héllo wörld","k":"日本語"}`, true},
		{"invalid UTF-8 is replaced as encoding/json does", "{\"s\":\"a\xffb\"}", true},
		{"nested", `{"o":{"p":{"q":[1,[2,{"r":null}],[]],"e":{}}},"arr":[true,false,null,"x",1.0]}`, true},
		{"white space", " \t\r\n{ \"a\" : 1 , \"b\" : [ 1 , 2 ] } \n", true},
		{"the last repeated name wins", `{"a":1,"a":"two"}`, true},
		{"null", `null`, true},
		{"empty object", `{}`, true},
		{"too deep", strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1), false},
		{"trailing data", `{"a":1} x`, false},
		{"two objects", `{"a":1}{"b":2}`, false},
		{"truncated", `{"a":1`, false},
		{"truncated string", `{"a":"abc`, false},
		{"missing colon", `{"a" 1}`, false},
		{"trailing comma", `{"a":1,}`, false},
		{"bad literal", `{"a":tru}`, false},
		{"leading zero", `{"a":01}`, false},
		{"bare minus", `{"a":-}`, false},
		{"dot without digits", `{"a":1.}`, false},
		{"exponent without digits", `{"a":1e}`, false},
		{"plus sign", `{"a":+1}`, false},
		{"raw control character in a string", "{\"a\":\"x\ty\"}", false},
		{"bad escape", `{"a":"\x"}`, false},
		{"single quotes", `{'a':1}`, false},
		{"an array", `[1,2]`, false},
		{"a number", `42`, false},
		{"empty input", ``, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Parse([]byte(tc.body))
			if ok != tc.ok {
				t.Fatalf("Parse(%q) ok = %t, want %t", tc.body, ok, tc.ok)
			}
			if !ok {
				return
			}
			want, err := decodeWithDecoder([]byte(tc.body))
			if err != nil {
				t.Fatalf("Parse accepted %q, which the decoder refuses: %v", tc.body, err)
			}
			if (got == nil) != (want == nil) {
				t.Fatalf("nil map %t, the decoder's %t", got == nil, want == nil)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("(-decoder +Parse):\n%s", d)
			}
		})
	}
}

// FuzzParse: anything Parse accepts is valid JSON that the decoder decodes
// to the same map.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,null,"x"],"c":{"d":-1.5e3}}`, `{"s":"\u00e9\"","t":"héllo"}`, `null`, `{}`,
		`{"a":01}`, `{"a":1,}`, `[1]`, " {\"a\" : \"b\" } ",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := Parse(b)
		members, null, membersOK := ParseMembers(b, nil)
		if membersOK != ok || ok && null != (got == nil) {
			t.Fatalf("%q: ParseMembers ok %t null %t, Parse ok %t map %v", b, membersOK, null, ok, got)
		}
		if ok && !null {
			// The members, the last of a repeated name winning, are Parse's map.
			m := map[string]any{}
			for _, mb := range members {
				m[mb.Name] = mb.Value
			}
			if d := cmp.Diff(got, m); d != "" {
				t.Fatalf("%q (-Parse +ParseMembers):\n%s", b, d)
			}
		}
		if !ok {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("Parse accepted invalid JSON %q", b)
		}
		want, err := decodeWithDecoder(b)
		if err != nil {
			t.Fatalf("Parse accepted %q, which the decoder refuses: %v", b, err)
		}
		if (got == nil) != (want == nil) {
			t.Fatalf("%q: nil map %t, the decoder's %t", b, got == nil, want == nil)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("%q (-decoder +Parse):\n%s", b, d)
		}
	})
}
