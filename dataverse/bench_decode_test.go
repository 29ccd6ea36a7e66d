package dataverse

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// BenchmarkRawPageDecode prices what Export does with each page before writing it: check the
// body and cut it into rows (decodeRawPage), for a page of 5,000 rows as the emulator sends
// `contacts?$select=firstname,lastname,emailaddress1,jobtitle` (about 190 bytes a row).
//
//	go test -run '^$' -bench RawPageDecode -benchmem ./dataverse
func BenchmarkRawPageDecode(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`{"@odata.context":"https://org.example/api/data/v9.2/$metadata#contacts(firstname,lastname,emailaddress1,jobtitle,contactid)","value":[`)
	const rows = 5000
	for i := range rows {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"@odata.etag":"W/\"%d\"","firstname":"First%d","lastname":"Last%d","emailaddress1":"person%d@example.com","jobtitle":"Engineer","contactid":"%08x-0000-4000-8000-000000000001"}`, 1000+i, i, i, i, i)
	}
	body.WriteString(`],"@odata.nextLink":"https://org.example/api/data/v9.2/contacts?$select=firstname&$skiptoken=abc"}`)
	b.SetBytes(int64(body.Len()))
	b.ReportAllocs()
	for b.Loop() {
		var p Page[json.RawMessage]
		if err := decodeRawPage(body.Bytes(), &p); err != nil || len(p.Items) != rows || p.NextLink == "" {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
}
