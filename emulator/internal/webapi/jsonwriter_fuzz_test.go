package webapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzJSONWriterString: jsonWriter.str writes every string as a JSON string
// that decodes to what encoding/json makes of the same string (invalid
// UTF-8 as U+FFFD), escaping only what JSON requires: "<", ">" and "&" stay
// as they are, as Dataverse writes them. escapedKey is the same text after
// a comma and before a colon.
func FuzzJSONWriterString(f *testing.F) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\r", "\x00\x1f\x7f", "héllo wörld 😀",
		"a\xffb", "\xed\xa0\x80", "<b>&amp;</b>", "\u2028\u2029", "emailaddress1@OData.Community.Display.V1.FormattedValue",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		jw := newJSONWriter(&b)
		jw.str(s)
		if err := jw.flush(); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		var got string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("str(%q) wrote %s, not a JSON string: %v", s, out, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if enc, err := json.Marshal(s); err != nil || json.Unmarshal(enc, &want) != nil {
			t.Fatalf("encoding/json round trip of %q: %v", s, err)
		}
		if got != want {
			t.Fatalf("str(%q) decodes to %q, want %q", s, got, want)
		}
		for _, c := range "<>&" {
			if strings.ContainsRune(s, c) && !strings.ContainsRune(out, c) {
				t.Fatalf("str(%q) = %s escaped %q, which Dataverse writes as is", s, out, c)
			}
		}
		if k := escapedKey(s); k != ","+out+":" {
			t.Fatalf("escapedKey(%q) = %s, want ,%s:", s, k, out)
		}
	})
}
