package jsonobj

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestValid: Valid agrees with json.Valid, including at the edges of the
// grammar and at encoding/json's nesting limit.
func TestValid(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	cases := []struct {
		name, in string
		want     bool
	}{
		{"a page of rows", `{"@odata.context":"x","value":[{"@odata.etag":"W/\"1\"","n":-1.5e3,"b":true,"z":null,"s":"é\u00e9\/"}],"@odata.nextLink":"y"}`, true},
		{"scalars", ` 42 `, true},
		{"string", `"s"`, true},
		{"invalid UTF-8 in a string (json.Valid does not check it)", "\"\xff\"", true},
		{"lone surrogate escape", `"\ud800"`, true},
		{"nesting at the limit", nest(maxValidDepth), true},
		{"nesting beyond the limit", nest(maxValidDepth + 1), false},
		{"raw newline in a string", "\"a\nb\"", false},
		{"bad escape", `"\x"`, false},
		{"short unicode escape", `"\u12"`, false},
		{"non-hex unicode escape", `"\u12g4"`, false},
		{"escape at the end", `"\`, false},
		{"unterminated string", `"abc`, false},
		{"leading zero", `01`, false},
		{"dot without digits", `1.`, false},
		{"exponent without digits", `1e+`, false},
		{"plus sign", `+1`, false},
		{"trailing comma in an object", `{"a":1,}`, false},
		{"trailing comma in an array", `[1,]`, false},
		{"missing colon", `{"a" 1}`, false},
		{"non-string name", `{1:2}`, false},
		{"two values", `1 2`, false},
		{"bad literal", `nul`, false},
		{"empty", ``, false},
		{"white space only", " \n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Valid([]byte(tc.in)); got != tc.want {
				t.Errorf("Valid = %t, want %t", got, tc.want)
			}
			if std := json.Valid([]byte(tc.in)); std != tc.want {
				t.Errorf("json.Valid = %t: the case is wrong", std)
			}
		})
	}
}

// FuzzValid: Valid(b) == json.Valid(b) for any bytes.
func FuzzValid(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[true,null,"x\"y"],"c":{"d":-1.5e3}}`, `"\u00e9\/\b"`, "\"\xff\"", `[1e5,1E+2,-0.0]`,
		`{"a":01}`, `{"a":1,}`, "\"a\tb\"", `"\u12"`, ` null `, `[[[]]]`, `{"a" : [ 1 , 2 ] }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %t, json.Valid %t", b, got, want)
		}
	})
}

// BenchmarkValid prices Valid against json.Valid on a page of 5,000 rows.
func BenchmarkValid(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"@odata.context":"https://org.crm.dynamics.com/api/data/v9.2/$metadata#contacts","value":[`)
	for i := range 5000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"@odata.etag":"W/\"5365\"","firstname":"Ada","lastname":"Lovelace","emailaddress1":"ada@example.com","numberofchildren":2,"creditlimit":1500.5,"donotemail":false,"_parentcustomerid_value":null,"description":"Imported from the legacy CRM; see ticket #1","contactid":"7eb682f1-ca75-e511-80d4-00155d2a68d1"}`)
	}
	sb.WriteString(`]}`)
	page := []byte(sb.String())
	for _, bc := range []struct {
		name  string
		valid func([]byte) bool
	}{{"jsonobj", Valid}, {"encoding-json", json.Valid}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				if !bc.valid(page) {
					b.Fatal("invalid")
				}
			}
		})
	}
}
