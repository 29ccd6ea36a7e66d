package dataverse

import (
	"encoding/json"
	"math"
	"testing"
)

// appendMembers gives json.Marshal's bytes for the map without the omitted
// members: a row's derived id hashes them, so a resumed job must see the same.
func TestAppendMembersIsJSONMarshal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rec  Record
		omit map[string]bool
	}{
		{"empty", Record{}, nil},
		{"all omitted", Record{"contactid": "x", "@odata.type": "y"}, map[string]bool{"contactid": true, "@odata.type": true}},
		{"plain", Record{"lastname": "Smith", "firstname": "Ann", "numberofchildren": json.Number("3"), "donotemail": true, "fax": nil, "creditlimit": json.Number("-1.5e3")}, nil},
		{"sorted byte-wise", Record{"b": 1, "B": 2, "a_b": 3, "a": 4, "é": 5, "parentcustomerid_account@odata.bind": "/accounts(1)"}, nil},
		{"escapes", Record{"q": `say "hi"\`, "html": "<b>&</b>", "ctl": "a\nb\tc\x01\b\f", "u2028": "x\u2028y\u2029", "bad utf8": "a\xffb", "emoji": "🙂 café"}, nil},
		{"names escaped", Record{"we<ird": "v", "new\nline": "v"}, nil},
		{"numbers", Record{"empty": json.Number(""), "float": 1e21, "small": 1e-7, "int": 42, "neg zero": math.Copysign(0, -1)}, nil},
		{"nested", Record{"list": []any{"a", json.Number("1"), nil}, "obj": map[string]any{"z": 1, "a": "<"}}, nil},
		{"omit some", Record{"contactid": "id", "firstname": "Ann", "k1": "v"}, map[string]bool{"contactid": true, "k1": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := appendMembers([]byte("prefix"), tc.rec, tc.omit)
			if err != nil {
				t.Fatal(err)
			}
			if want := "prefix" + marshalMembers(t, tc.rec, tc.omit); string(got) != want {
				t.Errorf("appendMembers = %s\nwant            %s", got, want)
			}
		})
	}
}

// A value json.Marshal refuses is refused with its error.
func TestAppendMembersRefusesWhatJSONMarshalRefuses(t *testing.T) {
	t.Parallel()
	for _, v := range []any{json.Number("12abc"), json.Number("Infinity"), json.Number("0 "), json.Number("1\n"), json.Number(" 1"), math.NaN(), make(chan int)} {
		_, want := json.Marshal(v)
		_, err := appendMembers(nil, Record{"x": v}, nil)
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%v: error %v, want %v", v, err, want)
		}
	}
}

func marshalMembers(t testing.TB, rec Record, omit map[string]bool) string {
	rest := map[string]any{}
	for k, v := range rec {
		if !omit[k] {
			rest[k] = v
		}
	}
	b, err := json.Marshal(rest)
	if err != nil {
		t.Fatal(err)
	}
	return string(b[1 : len(b)-1])
}

func FuzzAppendMembers(f *testing.F) {
	f.Add("firstname", "Ann", "numberofchildren", "3", true)
	f.Add("a<b", "x\u2028\xff\"", "-", "-0.5e+3", false)
	f.Add("", "", "n", "", true)
	f.Fuzz(func(t *testing.T, k1, s, k2, num string, b bool) {
		rec := Record{k1: s, k2: json.Number(num), k1 + k2 + "!": b, s: nil}
		want, wantErr := json.Marshal(map[string]any(rec))
		got, err := appendMembers(nil, rec, nil)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("error %v, json.Marshal's %v", err, wantErr)
		}
		if err == nil && string(got) != string(want[1:len(want)-1]) {
			t.Fatalf("appendMembers = %s\njson.Marshal    %s", got, want)
		}
	})
}

// BenchmarkAppendMembers encodes the fields of a typical imported contact (as a JSON Lines row
// decodes), by appendMembers and by what it replaced: json.Marshal of a copy of the map.
func BenchmarkAppendMembers(b *testing.B) {
	rec := Record{
		"firstname": "Run1", "lastname": "Import0000042", "jobtitle": "Purchasing Manager",
		"emailaddress1": "r1.i0000042@example.com", "telephone1": "+1 425 555 0100",
		"address1_line1": "1 Microsoft Way", "address1_city": "Redmond", "address1_postalcode": "98052",
		"numberofchildren": json.Number("2"), "creditlimit": json.Number("1500.5"), "donotemail": false,
		"description": "Imported from the legacy CRM; see ticket #42",
	}
	omit := map[string]bool{"@odata.type": true, "contactid": true}
	b.Run("appendMembers", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := appendMembers(nil, rec, omit); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			marshalMembers(b, rec, omit)
		}
	})
}
