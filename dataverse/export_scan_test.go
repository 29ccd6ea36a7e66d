package dataverse

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type scannedMember struct{ Name, Value string }

func scanAll(row []byte) ([]scannedMember, error) {
	var out []scannedMember
	err := scanObject(row, func(name, value []byte) error {
		out = append(out, scannedMember{string(name), string(value)})
		return nil
	})
	return out, err
}

// decodeMembers is what encoding/json reads from an object: its members in order, values compact.
func decodeMembers(t testing.TB, row []byte) []scannedMember {
	dec := json.NewDecoder(bytes.NewReader(row))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var out []scannedMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, scannedMember{tok.(string), compact(t, v)})
	}
	return out
}

func compact(t testing.TB, v []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		t.Fatalf("%s: %v", v, err)
	}
	return b.String()
}

func TestScanObject(t *testing.T) {
	tests := []struct {
		row     string
		want    []scannedMember
		wantErr string
	}{
		{`{}`, nil, ""},
		{` { "a" : 1 , "b":"x,}\"y" ,"c":{"d":[1,{"e":"]"}]},"n":null,"t":true,"f":-1.5e3} `, []scannedMember{
			{"a", "1"}, {"b", `"x,}\"y"`}, {"c", `{"d":[1,{"e":"]"}]}`}, {"n", "null"}, {"t", "true"}, {"f", "-1.5e3"}}, ""},
		{`{"a\u0040b":1,"@odata.etag":"W/\"1\""}`, []scannedMember{{"a@b", "1"}, {"@odata.etag", `"W/\"1\""`}}, ""},
		{`[1]`, nil, "not a JSON object"},
		{`{"a":1`, nil, "ends inside the object"},
		{`{"a" 1}`, nil, "':' was expected"},
		{`{"a":nul}`, nil, "is not a JSON value"},
		{`{"a":1}x`, nil, "data follows the object"},
		{`{"a":"x`, nil, "does not end"},
		{`{"a":{"b":1}`, nil, "ends inside the object"},
		{`{"a":1 "b":2}`, nil, "',' or '}' was expected"},
	}
	for _, tt := range tests {
		got, err := scanAll([]byte(tt.row))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %q", tt.row, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.row, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.row, diff)
		}
	}
}

// FuzzScanObject checks the hand-written row scanner against encoding/json: on every valid JSON
// object it returns the same members, in order, with the same values; on anything else it returns
// an error or members, never a panic.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":"x"}`, `{"a":{"b":[1,2,{"c":"}"}]},"d":null}`, `{"a\"b":"\\"}`,
		`{"contactid":"9f1c","@odata.etag":"W/\"1\"","n":1.5e-3,"t":false}`, `[1]`, `{"a":`, `{"a":tru}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, row []byte) {
		got, err := scanAll(row)
		trimmed := bytes.TrimSpace(row)
		if !json.Valid(row) || len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		if err != nil {
			t.Fatalf("%q: valid JSON object refused: %v", row, err)
		}
		want := decodeMembers(t, row)
		for i := range got {
			got[i].Value = compact(t, []byte(got[i].Value))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%q (-encoding/json +scanObject):\n%s", row, diff)
		}
	})
}

// FuzzDecodeRawPage checks the raw page decoder (the export read path) against encoding/json's
// decoding of the same body into a Page[json.RawMessage].
func FuzzDecodeRawPage(f *testing.F) {
	for _, s := range []string{
		`{"@odata.context":"x","value":[{"a":1},{"b":"c"}],"@odata.nextLink":"https://h/api/data/v9.2/contacts?$skiptoken=1"}`,
		`{"value":[],"@Microsoft.Dynamics.CRM.morerecords":true,"@Microsoft.Dynamics.CRM.fetchxmlpagingcookie":"<cookie pagenumber=\"2\"/>"}`,
		`{"@odata.count":3,"value":[ {"x":[1,{"y":"]"}]} , {} ]}`, `{"value":null}`, `{"value":{}}`, `[]`, `{"value":[1,]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var got Page[json.RawMessage]
		gotErr := decodeRawPage(body, &got)
		var want Page[json.RawMessage]
		wantErr := json.Unmarshal(body, &want)
		if wantErr != nil {
			if gotErr == nil {
				t.Fatalf("%q: accepted, encoding/json says %v", body, wantErr)
			}
			return
		}
		if gotErr != nil {
			t.Fatalf("%q: refused (%v), encoding/json accepts it", body, gotErr)
		}
		if len(got.Items) != len(want.Items) {
			t.Fatalf("%q: %d rows, encoding/json %d", body, len(got.Items), len(want.Items))
		}
		for i := range got.Items {
			if compact(t, got.Items[i]) != compact(t, want.Items[i]) {
				t.Fatalf("%q: row %d = %s, encoding/json %s", body, i, got.Items[i], want.Items[i])
			}
		}
		got.Items, want.Items = nil, nil
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%q (-encoding/json +decodeRawPage):\n%s", body, diff)
		}
	})
}
