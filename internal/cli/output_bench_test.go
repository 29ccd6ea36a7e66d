package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
)

// BenchmarkPrinterFormats prints one page of 5,000 contact-like rows (the largest page Dataverse
// sends) in each -o format, and through a --jq filter, to compare their cost per page:
//
//	go test ./internal/cli -run '^$' -bench BenchmarkPrinterFormats -benchmem
func BenchmarkPrinterFormats(b *testing.B) {
	var doc strings.Builder
	doc.WriteString(`{"@odata.context":"x#contacts","value":[`)
	for i := range 5000 {
		if i > 0 {
			doc.WriteByte(',')
		}
		fmt.Fprintf(&doc, `{"@odata.etag":"W/\"%d\"","fullname":"Contact %05d","emailaddress1":"c%d@example.com","numberofchildren":%d,"telephone1":"555-%04d","description":"a description, with a comma","contactid":"01a24e83-b6f8-7195-89e6-%012d"}`, i, i, i, i%7, i, i)
	}
	doc.WriteString(`]}`)
	page := []byte(doc.String())
	for _, tt := range []struct{ name, format, jq string }{
		{"json", outputJSON, ""},
		{"jsonl", outputJSONL, ""},
		{"csv", outputCSV, ""},
		{"yaml", outputYAML, ""},
		{"table", outputTable, ""},
		{"jq-select-2-columns", outputJSONL, ".value[] | {fullname, contactid}"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			p := printer{IO: &IOStreams{Out: io.Discard}, Format: tt.format, JQ: tt.jq}
			b.SetBytes(int64(len(page)))
			for b.Loop() {
				if err := p.print(context.Background(), page); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
