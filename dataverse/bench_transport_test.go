package dataverse_test

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// BenchmarkE2EParallelTransport compares the default transport's two protocol choices for
// parallel calls: HTTP/1.1 with a keep-alive pool sized to the Governor (one connection per
// request in flight) and HTTP/2 (streams multiplexed on one connection), with 16 and 52 callers
// retrieving one contact from the emulator. The emulator's limits are off and its x-ms-dop-hint
// is 52, so the Governor admits every caller. ns/op is wall time divided by calls made in
// parallel (the inverse of throughput), cpu-ns/op the process's CPU time per call; the emulator
// runs in the same process, so both sides pay for its work. Compare the two protocols as ratios within one run:
//
//	go test -run '^$' -bench 'E2EParallelTransport' -benchmem -count 6 ./dataverse
//
// The "governor-off" case is HTTP/1.1 with GovernorOptions.Disabled: the Governor's cost.
// Results: docs/benchmarks.md.
func BenchmarkE2EParallelTransport(b *testing.B) {
	limits := emulator.Limits{DOPHint: dataverse.DefaultGovernorMaxConcurrency}
	env := newE2E(b, &e2eSetup{emulator: &emulator.Options{Limits: &limits}})
	ctx := b.Context()
	res, err := env.client.Create(ctx, "contacts", map[string]any{"firstname": "Ada", "lastname": "Lovelace"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	tlsConfig := env.emu.HTTPClient().Transport.(*http.Transport).TLSClientConfig
	for _, tc := range []struct {
		name          string
		http2, govOff bool
	}{{"http1", false, false}, {"http2", true, false}, {"http1-governor-off", false, true}} {
		for _, callers := range []int{16, 52} {
			b.Run(fmt.Sprintf("%s/callers=%d", tc.name, callers), func(b *testing.B) {
				hc := dataverse.NewHTTPClientWithProtocol(tlsConfig.Clone(), tc.http2)
				defer hc.CloseIdleConnections()
				opts := &dataverse.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: hc}}
				opts.Governor.Disabled = tc.govOff
				c := newClient(b, env.emu, env.cred, opts)
				var warm struct{ FirstName string }
				if err := c.Retrieve(ctx, "contacts", res.ID, &warm, nil); err != nil {
					b.Fatal(err)
				}
				b.SetParallelism((callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				b.ReportAllocs()
				b.ResetTimer()
				cpu := dataverse.ProcessCPU()
				defer func() { b.ReportMetric(float64(dataverse.ProcessCPU()-cpu)/float64(b.N), "cpu-ns/op") }()
				b.RunParallel(func(pb *testing.PB) {
					var out struct{ FirstName string }
					for pb.Next() {
						if err := c.Retrieve(ctx, "contacts", res.ID, &out, &dataverse.RetrieveOptions{Select: []string{"firstname"}}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
