package dataverse

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// onePageBatchResponse is a $batch response holding one GET part whose page has a row of n bytes.
func onePageBatchResponse(n int) string {
	return "--batchresponse_s\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Type: application/json; odata.metadata=minimal\r\n\r\n" +
		`{"value":[{"description":"` + strings.Repeat("x", n) + `"}]}` + "\r\n" +
		"--batchresponse_s--\r\n"
}

// TestBatchResponseSizeLimit: a $batch response is read whole, so the client reads at most
// ClientOptions.MaxBatchResponseSize bytes of it (64 MiB by default): a response of exactly the
// limit is read, one byte more fails with an error naming the limit rather than being taken for
// a shorter response. A long GET sent through $batch is bounded the same way.
func TestBatchResponseSizeLimit(t *testing.T) {
	t.Parallel()
	body := onePageBatchResponse(8 << 10)
	serve := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/mixed; boundary=batchresponse_s")
		_, _ = io.WriteString(w, body)
	}
	batch := func() *Batch {
		b := NewBatch()
		b.Add(QueryRequest("contacts", Query{Select: []string{"description"}}))
		return b
	}
	longFilter := In("lastname", func() []any {
		names := make([]any, 3000)
		for i := range names {
			names[i] = "name-" + strings.Repeat("n", 6)
		}
		return names
	}()...).String()
	for _, tt := range []struct {
		name    string
		limit   int64
		wantErr bool
	}{
		{"default limit", 0, false},
		{"exactly the limit", int64(len(body)), false},
		{"one byte over", int64(len(body)) - 1, true},
		{"far over", 1 << 10, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, serve, &ClientOptions{MaxBatchResponseSize: tt.limit})
			res, err := f.client.ExecuteBatch(context.Background(), batch(), nil)
			page, lerr := f.client.List(context.Background(), "contacts", &ListOptions{Query: Query{Filter: longFilter}})
			if !tt.wantErr {
				if err != nil || len(res.Responses) != 1 || len(res.Responses[0].Body) < 8<<10 {
					t.Errorf("ExecuteBatch: %v, %+v; want the whole part", err, res)
				}
				if lerr != nil || len(page.Items) != 1 {
					t.Errorf("long GET through $batch: %v, %+v", lerr, page)
				}
				return
			}
			for what, err := range map[string]error{"ExecuteBatch": err, "long GET through $batch": lerr} {
				var tooLarge *errBatchTooLarge
				if !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), "MaxBatchResponseSize") || errors.Is(err, ErrInvalidArgument) {
					t.Errorf("%s: error %v, want the size limit named (and not an input error: the batch was sent)", what, err)
				}
			}
		})
	}
	f := newFakeAPI(t, serve, nil)
	if f.client.maxBatchResponse != DefaultMaxBatchResponseSize || DefaultMaxBatchResponseSize != 64<<20 {
		t.Errorf("default limit %d, want 64 MiB", f.client.maxBatchResponse)
	}
	if _, err := NewClient(f.orgURL(), f.cred, &ClientOptions{MaxBatchResponseSize: -1}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NewClient with a negative MaxBatchResponseSize: %v, want ErrInvalidArgument", err)
	}
}
