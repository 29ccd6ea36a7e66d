package cli

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestShellQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://127.0.0.1:8365", "https://127.0.0.1:8365"},
		{"d365~emulator~dev~secret", "'d365~emulator~dev~secret'"},
		{"abc:def", "abc:def"},
		{"/tmp/my dir/ca.pem", "'/tmp/my dir/ca.pem'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
		{"", "''"},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCheckJSONObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantErr string
	}{
		{`{"a":1}`, ""},
		{`  {"a":"b"}  `, ""},
		{`[1,2]`, "--data must be a JSON object"},
		{`"x"`, "--data must be a JSON object"},
		{`{"a":}`, "--data is not valid JSON at byte 6"},
		{``, "--data must be a JSON object"},
	}
	for _, tt := range tests {
		_, err := checkJSONObject([]byte(tt.in), "--data")
		got := ""
		if err != nil {
			got = err.Error()
		}
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && !bytes.Contains([]byte(got), []byte(tt.wantErr)) {
			t.Errorf("checkJSONObject(%q) error = %q, want %q", tt.in, got, tt.wantErr)
		}
		if err != nil && exitCode(err) != ExitUsage {
			t.Errorf("checkJSONObject(%q): exit code %d, want %d", tt.in, exitCode(err), ExitUsage)
		}
	}
}

func TestTableShowsFormattedValuesAndKeepsColumnOrder(t *testing.T) {
	t.Parallel()
	var recs []orderedObject
	data := `[{"@odata.etag":"W/\"1\"","name":"Contoso","statecode@OData.Community.Display.V1.FormattedValue":"Active","statecode":0,"note":"two\nlines"},
	          {"name":"Fabrikam","statecode":1,"note":null}]`
	if err := json.Unmarshal([]byte(data), &recs); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeTable(&out, recs, nil); err != nil {
		t.Fatal(err)
	}
	want := "NAME      STATECODE  NOTE\n" +
		"Contoso   Active     two lines\n" +
		"Fabrikam  1          \n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestOrderedObjectRoundTripKeepsOrder(t *testing.T) {
	t.Parallel()
	in := `{"z":1,"a":{"b":[1,2]},"m":"x"}`
	var o orderedObject
	if err := json.Unmarshal([]byte(in), &o); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Errorf("round trip = %s, want %s", out, in)
	}
}

// TestWriteJSONEndsWithOneNewline: a document that already ends in a newline (what
// json.Encoder writes, as for "d365 whoami") prints with one newline, not a blank line after it.
func TestWriteJSONEndsWithOneNewline(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`{"a":1}`, "{\"a\":1}\n", "{\"a\":1}\n\n"} {
		var buf bytes.Buffer
		if err := writeJSON(&buf, json.RawMessage(in)); err != nil {
			t.Fatalf("writeJSON(%q): %v", in, err)
		}
		if got, want := buf.String(), "{\n  \"a\": 1\n}\n"; got != want {
			t.Errorf("writeJSON(%q) = %q, want %q", in, got, want)
		}
	}
}
