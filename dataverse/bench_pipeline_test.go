//go:build unix

package dataverse

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/d365s2s/d365/bench/canned"
)

// BenchmarkPipelineOverhead prices one Retrieve without any network: the
// transport answers from memory, so cpu-ns/op and allocs/op are the client's
// own work (request building, the azcore pipeline, decoding), steady enough
// to compare variants that the CPU-per-GET run cannot tell apart on a
// shared machine.
//
//	go test -run '^$' -bench PipelineOverhead -benchmem -count 5 ./dataverse
//
// The variants: client is Client.Retrieve as built today (its first try
// the lean one of lean.go once the bearer policy has a token);
// client-pipeline is the same Client with every try in the azcore pipeline
// (with the query policies of query_policy.go), as before the lean first
// try; no-pipeline sends the Client's own request building and decoding
// straight to the transport with a fixed token, the floor a lean path
// around the azcore pipeline could reach; bare is a hand-written net/http
// request decoded with json.Decoder.
func BenchmarkPipelineOverhead(b *testing.B) {
	ctx := context.Background()
	tr := memoryTransport{body: []byte(canned.RecordBody)}
	hc := &http.Client{Transport: tr}
	const base = "https://org.example"
	check := func(b *testing.B, out *cpuContact) {
		if out.ID != cpuBenchID {
			b.Fatalf("decoded id %s", out.ID)
		}
	}
	retrieve := func(opts *ClientOptions, lean bool) func(b *testing.B) {
		return func(b *testing.B) {
			o := *opts
			o.Transport = tr
			c, err := NewClient(base, &fakeCredential{}, &o)
			if err != nil {
				b.Fatal(err)
			}
			if !lean {
				c.withoutLean()
			}
			ropts := &RetrieveOptions{Select: cpuSelect}
			b.ReportAllocs()
			defer reportCPUPerOp(b)()
			for b.Loop() {
				var out cpuContact
				if err := c.Retrieve(ctx, "contacts", cpuBenchID, &out, ropts); err != nil {
					b.Fatal(err)
				}
				check(b, &out)
			}
		}
	}
	b.Run("client", retrieve(&ClientOptions{}, true))
	b.Run("client-pipeline", retrieve(&ClientOptions{}, false))
	b.Run("no-pipeline", func(b *testing.B) {
		c, err := NewClient(base, &fakeCredential{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		defer reportCPUPerOp(b)()
		for b.Loop() {
			path, err := recordPath("contacts", cpuBenchID)
			if err != nil {
				b.Fatal(err)
			}
			q := Query{Select: cpuSelect}
			query, err := q.encode()
			if err != nil {
				b.Fatal(err)
			}
			r := &request{method: http.MethodGet, path: path, query: query}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.requestURL(r, ""), nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header = newRequestHeader(nil)
			req.Header["Authorization"] = []string{"Bearer static-token"}
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var out cpuContact
			if err := decodeBody(resp, &out); err != nil {
				b.Fatal(err)
			}
			closeBody(resp)
			check(b, &out)
		}
	})
	b.Run("bare", func(b *testing.B) {
		url := base + "/api/data/v9.2/contacts(" + cpuBenchID.String() + ")?$select=fullname%2Cemailaddress1"
		b.ReportAllocs()
		defer reportCPUPerOp(b)()
		for b.Loop() {
			var out cpuContact
			if err := bareGet(ctx, hc, url, &out); err != nil {
				b.Fatal(err)
			}
			check(b, &out)
		}
	})
}

// BenchmarkListOverhead is BenchmarkPipelineOverhead for a one-page List
// of canned.PageBody (5 rows into Page[Record]) against bare net/http
// decoding the same page into []map[string]any.
//
//	go test -run '^$' -bench ListOverhead -benchmem -count 5 ./dataverse
func BenchmarkListOverhead(b *testing.B) {
	ctx := context.Background()
	tr := memoryTransport{body: []byte(canned.PageBody)}
	const base = "https://org.example"
	list := func(lean bool) func(b *testing.B) {
		return func(b *testing.B) {
			c, err := NewClient(base, &fakeCredential{}, &ClientOptions{ClientOptions: policy.ClientOptions{Transport: tr}})
			if err != nil {
				b.Fatal(err)
			}
			if !lean {
				c.withoutLean()
			}
			opts := &ListOptions{Query: Query{Select: cpuSelect}}
			b.ReportAllocs()
			defer reportCPUPerOp(b)()
			for b.Loop() {
				page, err := c.List(ctx, "contacts", opts)
				if err != nil || len(page.Items) != canned.PageRows {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("client", list(true))
	b.Run("client-pipeline", list(false))
	b.Run("bare", func(b *testing.B) {
		call := bareList(b, &http.Client{Transport: tr}, base)
		b.ReportAllocs()
		defer reportCPUPerOp(b)()
		for b.Loop() {
			if err := call(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// memoryTransport answers every request with 200 and body, from memory.
type memoryTransport struct{ body []byte }

var _ policy.Transporter = memoryTransport{}

// Do implements policy.Transporter.
func (t memoryTransport) Do(req *http.Request) (*http.Response, error) { return t.RoundTrip(req) }

// RoundTrip implements http.RoundTripper.
func (t memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    http.StatusOK,
		Status:        "200 OK",
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
		Header:        http.Header{"Content-Type": {"application/json; odata.metadata=minimal"}, "Content-Length": {strconv.Itoa(len(t.body))}},
		Body:          io.NopCloser(bytes.NewReader(t.body)),
		ContentLength: int64(len(t.body)),
		Request:       req,
	}, nil
}

// reportCPUPerOp starts counting the process's CPU time; the returned
// function reports it per operation as cpu-ns/op, which unlike ns/op does
// not grow when other processes take the machine's cores.
func reportCPUPerOp(b *testing.B) func() {
	before := processCPUTime()
	return func() {
		b.ReportMetric(float64((processCPUTime()-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
