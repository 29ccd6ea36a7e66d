package webapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The metadata benchmarks time what clients ask for most: the table list,
// a full pull of every table with its columns (what code generators and
// `d365 metadata pull` read), and one table's choices through a cast.
// Figures: docs/benchmarks.md, "Table metadata".
func benchMetadata(b *testing.B, target string) {
	h := benchHandler(b)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, benchRequest(http.MethodGet, api+target, ""))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d %s", w.Code, w.Body)
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/response")
}

func BenchmarkMetadataTableList(b *testing.B) {
	benchMetadata(b, "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute")
}

func BenchmarkMetadataAllTablesWithAttributes(b *testing.B) {
	benchMetadata(b, "EntityDefinitions?$expand=Attributes")
}

func BenchmarkMetadataPicklistCast(b *testing.B) {
	benchMetadata(b, "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet")
}
