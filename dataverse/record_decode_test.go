package dataverse

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/d365s2s/d365/bench/canned"
	"github.com/google/go-cmp/cmp"
)

// oldRecord is Record as it decoded before jsonobj.Parse: a json.Decoder
// with UseNumber per value. The tests hold the new path to it.
type oldRecord map[string]any

func (r *oldRecord) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	m := map[string]any{}
	if err := dec.Decode(&m); err != nil {
		return err
	}
	*r = m
	return nil
}

// recordBodies are rows as the service (or a broken proxy) might send
// them; the malformed ones must fail with encoding/json's error, as before.
var recordBodies = []struct{ name, body string }{
	{"integers", `{"a":0,"b":-1,"c":42,"d":2147483647}`},
	{"big integers", `{"a":12345678901234567890123,"b":-9007199254740993,"c":9223372036854775808}`},
	{"decimals", `{"a":1.50,"b":-0.000001,"c":1e400,"d":2.5E-3,"e":1E+2,"f":123456789012345678.123456789}`},
	{"strings", `{"s":"plain","e":"","esc":"a\"b\\c\/d\n\t\u00e9\ud83d\ude00","u":"héllo wörld","k\u00e9y":"v"}`},
	{"invalid utf-8 and lone surrogate", "{\"s\":\"a\xffb\",\"t\":\"\\ud800x\"}"},
	{"nested", `{"o":{"p":{"q":[1,[2,{"r":null}],[]],"e":{}}},"arr":[true,false,null,"x",1.0]}`},
	{"annotations", `{"@odata.etag":"W/\"536530\"","_parentcustomerid_value":"9f0c8c2e-5e4b-4b0e-9b8d-2c1f3a4b5c6d","_parentcustomerid_value@OData.Community.Display.V1.FormattedValue":"Contoso","_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname":"account","statuscode@OData.Community.Display.V1.FormattedValue":"1,000.00 €"}`},
	{"null values", `{"a":null,"b":[null]}`},
	{"null record", `null`},
	{"empty", `{}`},
	{"white space", " \t\r\n{ \"a\" : 1 , \"b\" : [ 1 , 2 ] } \n"},
	{"duplicate keys", `{"a":1,"a":"two"}`},
	{"deep", strings.Repeat(`{"a":`, 1200) + "1" + strings.Repeat("}", 1200)},
	{"trailing data after the object", `{"a":1} x`},
	{"truncated", `{"a":1`},
	{"truncated string", `{"a":"abc`},
	{"missing colon", `{"a" 1}`},
	{"trailing comma", `{"a":1,}`},
	{"bad literal", `{"a":tru}`},
	{"leading zero", `{"a":01}`},
	{"bare minus", `{"a":-}`},
	{"dot without digits", `{"a":1.}`},
	{"exponent without digits", `{"a":1e}`},
	{"plus sign", `{"a":+1}`},
	{"control character in a string", "{\"a\":\"x\ty\"}"},
	{"bad escape", `{"a":"\x"}`},
	{"single quotes", `{'a':1}`},
	{"not an object", `[1,2]`},
	{"a number", `42`},
	{"a string", `"s"`},
	{"empty input", ``},
}

// TestRecordDecodeMatchesDecoder decodes each body as a Record (directly,
// and as a row of a page through json.Unmarshal and through a Client's
// response decoding) the new way and the old way, and requires the same
// Record or the same error.
func TestRecordDecodeMatchesDecoder(t *testing.T) {
	for _, tc := range recordBodies {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.body)

			var got Record
			gotErr := got.UnmarshalJSON(b)
			var want oldRecord
			wantErr := want.UnmarshalJSON(b)
			sameResult(t, "UnmarshalJSON", map[string]any(got), gotErr, map[string]any(want), wantErr)

			var gotU Record
			gotErr = json.Unmarshal(b, &gotU)
			var wantU oldRecord
			wantErr = json.Unmarshal(b, &wantU)
			sameResult(t, "json.Unmarshal", map[string]any(gotU), gotErr, map[string]any(wantU), wantErr)

			page := []byte(`{"@odata.context":"x","value":[{"n":1},` + tc.body + `,{"n":2}],"@odata.nextLink":"next"}`)
			var gotP Page[Record]
			gotErr = json.Unmarshal(page, &gotP)
			var wantP Page[oldRecord]
			wantErr = json.Unmarshal(page, &wantP)
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("page: error %v, want %v", gotErr, wantErr)
			}
			if gotErr != nil {
				// The type named by an UnmarshalTypeError's context differs.
				if g, w := gotErr.Error(), strings.ReplaceAll(wantErr.Error(), "oldRecord", "Record"); g != w {
					t.Fatalf("page: error %q, want %q", g, w)
				}
				return
			}
			if gotP.NextLink != wantP.NextLink || gotP.Context != wantP.Context || len(gotP.Items) != len(wantP.Items) {
				t.Fatalf("page: %+v, want %+v", gotP, wantP)
			}
			for i := range gotP.Items {
				if d := cmp.Diff(map[string]any(wantP.Items[i]), map[string]any(gotP.Items[i])); d != "" {
					t.Fatalf("page row %d (-old +new):\n%s", i, d)
				}
			}
		})
	}
}

func sameResult(t *testing.T, path string, got map[string]any, gotErr error, want map[string]any, wantErr error) {
	t.Helper()
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("%s: error %v, want %v", path, gotErr, wantErr)
	}
	if gotErr != nil {
		return
	}
	if (got == nil) != (want == nil) {
		t.Fatalf("%s: nil record %v, want %v", path, got == nil, want == nil)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("%s (-old +new):\n%s", path, d)
	}
}

// TestRecordDecodeKeepsNumbers pins what callers rely on: numbers of every
// size arrive as json.Number with every digit, nested ones too.
func TestRecordDecodeKeepsNumbers(t *testing.T) {
	var r Record
	if err := json.Unmarshal([]byte(`{"big":12345678901234567890123,"dec":0.10,"nested":{"n":[9007199254740993]}}`), &r); err != nil {
		t.Fatal(err)
	}
	want := Record{
		"big":    json.Number("12345678901234567890123"),
		"dec":    json.Number("0.10"),
		"nested": map[string]any{"n": []any{json.Number("9007199254740993")}},
	}
	if d := cmp.Diff(want, r); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

// FuzzParseRecord holds Record.UnmarshalJSON (jsonobj.Parse, then the
// decoder for what it refuses) to the old per-row decoder: the same Record
// or the same error. jsonobj.FuzzParse holds the parser itself.
func FuzzParseRecord(f *testing.F) {
	for _, tc := range recordBodies {
		f.Add([]byte(tc.body))
	}
	f.Add([]byte(canned.PageBody))
	f.Fuzz(func(t *testing.T, b []byte) {
		var got Record
		gotErr := got.UnmarshalJSON(b)
		var old oldRecord
		oldErr := old.UnmarshalJSON(b)
		if (gotErr == nil) != (oldErr == nil) || gotErr != nil && gotErr.Error() != oldErr.Error() {
			t.Fatalf("%q: error %v, old %v", b, gotErr, oldErr)
		}
		if gotErr == nil {
			if (got == nil) != (old == nil) {
				t.Fatalf("%q: nil %v, old nil %v", b, got == nil, old == nil)
			}
			if d := cmp.Diff(map[string]any(old), map[string]any(got)); d != "" {
				t.Fatalf("%q (-old +new):\n%s", b, d)
			}
		}
	})
}
