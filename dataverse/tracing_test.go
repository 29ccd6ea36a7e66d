package dataverse

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
)

// spanRecorder is a tracing.Provider that records span names and ends,
// standing in for OpenTelemetry (azotel builds the same kind of Provider).
type spanRecorder struct {
	mu    sync.Mutex
	names []string
	ended int
	errs  int
}

func (s *spanRecorder) provider() tracing.Provider {
	return tracing.NewProvider(func(name, version string) tracing.Tracer {
		return tracing.NewTracer(func(ctx context.Context, spanName string, _ *tracing.SpanOptions) (context.Context, tracing.Span) {
			s.mu.Lock()
			s.names = append(s.names, spanName)
			s.mu.Unlock()
			return ctx, tracing.NewSpan(tracing.SpanImpl{
				End: func() { s.mu.Lock(); s.ended++; s.mu.Unlock() },
				SetStatus: func(code tracing.SpanStatus, _ string) {
					if code == tracing.SpanStatusError {
						s.mu.Lock()
						s.errs++
						s.mu.Unlock()
					}
				},
			})
		}, nil)
	}, nil)
}

func TestTracingSpans(t *testing.T) {
	t.Parallel()
	rec := &spanRecorder{}
	opts := &ClientOptions{}
	opts.TracingProvider = rec.provider()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "DELETE" {
			writeError(w, 404, CodeObjectDoesNotExist, "missing")
			return
		}
		w.Header().Set("OData-EntityId", "https://x/contacts("+idA.String()+")")
		w.WriteHeader(http.StatusNoContent)
	}, opts)
	ctx := context.Background()
	if _, err := f.client.Create(ctx, "contacts", Record{"a": 1}, nil); err != nil {
		t.Fatal(err)
	}
	_ = f.client.Delete(ctx, "contacts", idA, nil)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, want := range []string{"Client.Create", "Client.Delete", "HTTP POST", "HTTP DELETE"} {
		if !slices.Contains(rec.names, want) {
			t.Errorf("no span %q in %q", want, rec.names)
		}
	}
	if rec.ended != len(rec.names) {
		t.Errorf("%d spans started, %d ended", len(rec.names), rec.ended)
	}
	if rec.errs == 0 {
		t.Error("the failed Delete did not mark its span as an error")
	}
}
