package dataverse

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/d365s2s/d365/bench/canned"
)

// BenchmarkPageDecode prices the decoding of the canned one-page List body
// (5 rows): into Page[Record], whose UnmarshalJSON parses each row with
// jsonobj.Parse (numbers as json.Number; before, a json.Decoder per row),
// against one decoder with UseNumber
// for the whole page into maps, and plain json.Unmarshal into maps (numbers
// as float64, as bare net/http code would).
//
//	go test -run '^$' -bench PageDecode -benchmem ./dataverse
func BenchmarkPageDecode(b *testing.B) {
	body := []byte(canned.PageBody)
	b.Run("Page[Record]", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p Page[Record]
			if err := json.Unmarshal(body, &p); err != nil || len(p.Items) != canned.PageRows {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-UseNumber-decoder", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p Page[map[string]any]
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.UseNumber()
			if err := dec.Decode(&p); err != nil || len(p.Items) != canned.PageRows {
				b.Fatal(err)
			}
		}
	})
	b.Run("Unmarshal-maps", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p Page[map[string]any]
			if err := json.Unmarshal(body, &p); err != nil || len(p.Items) != canned.PageRows {
				b.Fatal(err)
			}
		}
	})
}
