package dataverse

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
)

// cannedServerEnv makes TestCannedServerProcess serve instead of skipping.
const cannedServerEnv = "D365_CANNED_HTTPS_SERVER"

// cannedID is the record the canned server answers with.
var cannedID = uuid.MustParse("6a1f0d1e-2b3c-4d5e-8f90-a1b2c3d4e5f6")

// TestCannedServerProcess is not a test: run by BenchmarkParallelTransportCanned as a child
// process (the test binary itself, with cannedServerEnv set), it serves one fixed JSON answer over
// HTTPS with HTTP/1.1 and HTTP/2, prints its URL and certificate, and exits when its standard
// input closes. In its own process, the server's CPU does not count in the benchmark's.
func TestCannedServerProcess(t *testing.T) {
	if os.Getenv(cannedServerEnv) != "1" {
		t.Skip("only run as the canned server of BenchmarkParallelTransportCanned")
	}
	body := []byte(`{"@odata.context":"x","@odata.etag":"W/\"1\"","contactid":"` + cannedID.String() + `","firstname":"Ada"}`)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = []string{"application/json; odata.metadata=minimal"}
		h["Odata-Version"] = []string{"4.0"}
		h["X-Ms-Dop-Hint"] = []string{"52"}
		_, _ = w.Write(body)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	fmt.Println(srv.URL)
	_ = pem.Encode(os.Stdout, &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startCannedServer runs TestCannedServerProcess in a child process and returns its URL and a
// certificate pool that trusts it.
func startCannedServer(b *testing.B) (string, *x509.CertPool) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCannedServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), cannedServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	r := bufio.NewReader(stdout)
	url, err := r.ReadString('\n')
	if err != nil {
		b.Fatalf("canned server: %v", err)
	}
	var certPEM strings.Builder
	for !strings.Contains(certPEM.String(), "END CERTIFICATE") {
		line, err := r.ReadString('\n')
		if err != nil {
			b.Fatalf("canned server certificate: %v", err)
		}
		certPEM.WriteString(line)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(certPEM.String())) {
		b.Fatal("canned server: no certificate")
	}
	return strings.TrimSpace(url), roots
}

// BenchmarkParallelTransportCanned is BenchmarkE2EParallelTransport against a canned HTTPS server
// in another process (one fixed JSON answer), so that the client's own cost shows: HTTP/1.1 with
// a keep-alive pool sized to the Governor against HTTP/2, with 16 and 52 callers, through the
// whole Client (pipeline and Governor) and, as "bare", a plain net/http GET on the same HTTP
// client. cpu-ns/op is this process's CPU time per call: the client's alone, and less inflated
// by a loaded machine than ns/op (wall time per call made in parallel). conns is the number of
// connections the client opened (HTTP/1.1: one per caller; HTTP/2: one), which is what a load
// balancer spreads over web servers. "http1-governor-off" is HTTP/1.1 with
// GovernorOptions.Disabled: the difference is the Governor's cost per call. Compare as ratios within
// one run:
//
//	go test -run '^$' -bench 'ParallelTransportCanned' -benchmem -count 6 ./dataverse
//
// Results: docs/benchmarks.md.
func BenchmarkParallelTransportCanned(b *testing.B) {
	base, roots := startCannedServer(b)
	for _, proto := range []struct {
		name          string
		http2, govOff bool
	}{{"http1", false, false}, {"http2", true, false}, {"http1-governor-off", false, true}} {
		for _, callers := range []int{16, 52} {
			hc := newHTTPClient(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, proto.http2)
			// conns counts the connections opened: the web servers a load balancer could
			// spread the calls over.
			var conns atomic.Int64
			dialer := &net.Dialer{}
			hc.Transport.(*http.Transport).DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				conns.Add(1)
				return dialer.DialContext(ctx, network, addr)
			}
			opts := &ClientOptions{Governor: GovernorOptions{Disabled: proto.govOff}}
			opts.Transport = hc
			c, err := NewClient(base+"/org1", &fakeCredential{}, opts)
			if err != nil {
				b.Fatal(err)
			}
			var out struct{ FirstName string }
			if err := c.Retrieve(b.Context(), "contacts", cannedID, &out, nil); err != nil || out.FirstName != "Ada" {
				b.Fatalf("warm-up: %v %+v", err, out)
			}
			par := (callers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0)
			b.Run(fmt.Sprintf("%s/client/callers=%d", proto.name, callers), func(b *testing.B) {
				b.SetParallelism(par)
				b.ReportAllocs()
				cpu := processCPU()
				defer func() {
					b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op")
					b.ReportMetric(float64(conns.Load()), "conns")
				}()
				b.RunParallel(func(pb *testing.PB) {
					var out struct{ FirstName string }
					for pb.Next() {
						if err := c.Retrieve(b.Context(), "contacts", cannedID, &out, nil); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			url := base + "/org1/api/data/v9.2/contacts(" + cannedID.String() + ")"
			b.Run(fmt.Sprintf("%s/bare/callers=%d", proto.name, callers), func(b *testing.B) {
				b.SetParallelism(par)
				b.ReportAllocs()
				cpu := processCPU()
				defer func() { b.ReportMetric(float64(processCPU()-cpu)/float64(b.N), "cpu-ns/op") }()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						resp, err := hc.Get(url)
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				})
			})
			hc.CloseIdleConnections()
		}
	}
}
