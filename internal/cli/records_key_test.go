package cli

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

func TestParseKeyLiteral(t *testing.T) {
	t.Parallel()
	id := uuid.MustParse("01a24e83-b6f8-7195-89e6-76b8c1bebe6d")
	tests := []struct {
		in      string
		want    dataverse.AlternateKey
		wantErr string
	}{
		{"emailaddress1='a@b.c'", dataverse.AlternateKey{"emailaddress1": "a@b.c"}, ""},
		{"name='O''Brien, Ltd'", dataverse.AlternateKey{"name": "O'Brien, Ltd"}, ""},
		{"name=''", dataverse.AlternateKey{"name": ""}, ""},
		{" a = 'x' , b=42,c=-1.5 ,d=true, _e_value=" + id.String(), dataverse.AlternateKey{"a": "x", "b": int64(42), "c": -1.5, "d": true, "_e_value": id}, ""},
		{"", nil, "the alternate key is empty"},
		{"a", nil, `"a" is not an alternate key`},
		{"a b='x'", nil, "is not an alternate key"},
		{"a='x',a='y'", nil, "names a twice"},
		{"a='x' b='y'", nil, `expected "," before "b='y'"`},
		{"a='x", nil, "no closing quote"},
		{"a=", nil, "the value is missing"},
		{"a=x", nil, `"x" is neither a number, a GUID, true nor false: quote a string value, 'x'`},
		{"a=NaN", nil, "quote a string value"},
		{"a=it's", nil, "quote a string value, 'it''s'"},
		{"a='x',", nil, "is not an alternate key"},
	}
	for _, tt := range tests {
		got, err := parseKeyLiteral(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseKeyLiteral(%q) = %v, %v; want error %q", tt.in, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseKeyLiteral(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseKeyLiteral(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseKeyFlags(t *testing.T) {
	t.Parallel()
	got, err := parseKeyFlags([]string{"emailaddress1=a=b@c", "lastname=O'Brien", "n=42"})
	if err != nil {
		t.Fatal(err)
	}
	// Values are strings as typed: no quoting, no typing.
	if diff := cmp.Diff(dataverse.AlternateKey{"emailaddress1": "a=b@c", "lastname": "O'Brien", "n": "42"}, got); diff != "" {
		t.Error(diff)
	}
	for _, bad := range [][]string{{"x"}, {"=1"}, {"a b=1"}, {"a=1", "a=2"}} {
		if _, err := parseKeyFlags(bad); err == nil {
			t.Errorf("parseKeyFlags(%q) accepted", bad)
		}
	}
}

// FuzzParseKeyLiteral: any input gives a key or an error, never a panic; a key has at least one
// column, every name is a column name, and every string written back in the literal syntax
// parses to the same key.
func FuzzParseKeyLiteral(f *testing.F) {
	for _, s := range []string{"a='x'", "a='O''B',b=1,c=true", "a=01a24e83-b6f8-7195-89e6-76b8c1bebe6d", "a='", "a=1.5e3", ",", "a='x'  ,  b='y'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := parseKeyLiteral(s)
		if err != nil {
			return
		}
		if len(key) == 0 {
			t.Fatalf("parseKeyLiteral(%q) = an empty key", s)
		}
		var parts []string
		for name, v := range key {
			if !isColumnName(name) {
				t.Fatalf("parseKeyLiteral(%q): column %q", s, name)
			}
			if str, ok := v.(string); ok {
				parts = append(parts, name+"='"+strings.ReplaceAll(str, "'", "''")+"'")
			}
		}
		if len(parts) == 0 {
			return
		}
		again, err := parseKeyLiteral(strings.Join(parts, ","))
		if err != nil {
			t.Fatalf("the strings of %q written back do not parse: %v", s, err)
		}
		for name, v := range again {
			if key[name] != v {
				t.Fatalf("%q: column %s is %v, written back and parsed %v", s, name, key[name], v)
			}
		}
	})
}
