package webapi

import (
	"net/http"
	"testing"
)

// discardResponse is a ResponseWriter that keeps nothing, so the
// benchmark measures the envelope alone.
type discardResponse struct{ h http.Header }

func (d *discardResponse) Header() http.Header         { return d.h }
func (d *discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardResponse) WriteHeader(int)             {}

// BenchmarkWriteErrorEnvelope writes a 404 in the error envelope, plain
// and with every error-detail annotation:
//
//	go test -run '^$' -bench WriteErrorEnvelope -benchmem ./emulator/internal/webapi
func BenchmarkWriteErrorEnvelope(b *testing.B) {
	e := newError(http.StatusNotFound, "0x80040217", "contact With Id = %s Does Not Exist", "7eb682f1-ca75-e511-80d4-00155d2a68d1")
	for _, bc := range []struct {
		name   string
		prefer preferences
	}{
		{"plain", preferences{}},
		{"annotations", preferences{includeAnnotations: []string{"*"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := &discardResponse{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				writeErrorDetails(w, e, bc.prefer)
			}
		})
	}
}
