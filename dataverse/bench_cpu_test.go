//go:build unix

package dataverse

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/d365s2s/d365/bench/canned"
	"github.com/google/uuid"
)

// CPU per GET: the client's own processor time for one GET against the
// canned HTTPS server of bench/canned, which runs in another process (so
// the figure holds no server work), at 16 and 64 concurrent calls, for
// d365's Client (Retrieve and a one-page List) and for bare net/http over
// HTTP/2 and over an HTTP/1.1 keep-alive pool, all in one run. The figure
// is the process's user+system time (getrusage) divided by the calls; the
// table at the end prints the ratios. The -pipeline clients are the
// Client with every try in the azcore pipeline (no lean first try,
// lean.go), as it was before that. See docs/benchmarks.md.
//
//	go test -run '^$' -bench 'CPUPerGET' -benchtime 20000x -count 5 ./dataverse
//
// With D365_CANNED_H2_URL, D365_CANNED_H1_URL and D365_CANNED_CA set (as
// go run ./bench/cannedserver prints them) the benchmark uses that server,
// as bench/run.sh does so the Node.js peers meet the same one; otherwise it
// starts one in a child process.

// cpuContact is what the Retrieve benchmarks decode.
type cpuContact struct {
	ETag     string    `json:"@odata.etag"`
	ID       uuid.UUID `json:"contactid"`
	FullName string    `json:"fullname"`
	Email    string    `json:"emailaddress1"`
}

var cpuSelect = []string{"fullname", "emailaddress1"}

// cpuBenchID is the record the Retrieve benchmarks read.
var cpuBenchID = uuid.MustParse("7eb682f1-ca75-e511-80d4-00155d2a68d1")

// cannedEnv is a running canned server pair.
type cannedEnv struct {
	h2URL, h1URL string
	pool         *x509.CertPool
}

var (
	cannedOnce sync.Once
	cannedRun  *cannedEnv
	cannedErr  error
)

// canned returns the canned servers named by the environment, or starts
// them in a child process (this test binary, running TestCPUPerGETServerProcess)
// that lives as long as the benchmark binary.
func cannedServers(b *testing.B) *cannedEnv {
	cannedOnce.Do(func() {
		if os.Getenv(canned.EnvH2URL) != "" {
			cannedRun, cannedErr = cannedFromEnv(os.Getenv)
			return
		}
		cannedRun, cannedErr = startCannedProcess(b.TempDir())
	})
	if cannedErr != nil {
		b.Fatal(cannedErr)
	}
	return cannedRun
}

func cannedFromEnv(getenv func(string) string) (*cannedEnv, error) {
	e := &cannedEnv{h2URL: getenv(canned.EnvH2URL), h1URL: getenv(canned.EnvH1URL)}
	if e.h2URL == "" || e.h1URL == "" || getenv(canned.EnvCAFile) == "" {
		return nil, fmt.Errorf("set %s, %s and %s together (go run ./bench/cannedserver prints them)", canned.EnvH2URL, canned.EnvH1URL, canned.EnvCAFile)
	}
	pem, err := os.ReadFile(getenv(canned.EnvCAFile))
	if err != nil {
		return nil, err
	}
	e.pool = x509.NewCertPool()
	if !e.pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: no PEM certificate", getenv(canned.EnvCAFile))
	}
	return e, nil
}

// cannedStdin is the child's standard input; it must stay reachable, since
// the pipe's finalizer would close it and stop the child.
var cannedStdin io.WriteCloser

// cannedServeEnv makes TestCPUPerGETServerProcess serve instead of skipping;
// its value is the certificate file to write.
const cannedServeEnv = "D365_CANNED_SERVE_CA"

func startCannedProcess(dir string) (*cannedEnv, error) {
	// The child outlives this benchmark's TempDir only until the binary
	// exits: it stops when its standard input closes.
	ca := filepath.Join(dir, "ca.pem")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCPUPerGETServerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), cannedServeEnv+"="+ca)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	cannedStdin = stdin // kept, never closed: the child ends with this process
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	vars := map[string]string{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if line == "# ready" {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return cannedFromEnv(func(k string) string { return vars[k] })
		}
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
			vars[k] = v
		}
	}
	_ = cmd.Process.Kill()
	return nil, fmt.Errorf("the canned server process ended before it was ready: %v", sc.Err())
}

// TestCPUPerGETServerProcess is the canned server's child process of the
// CPU-per-GET benchmark; it is skipped unless D365_CANNED_SERVE_CA is set.
func TestCPUPerGETServerProcess(t *testing.T) {
	ca := os.Getenv(cannedServeEnv)
	if ca == "" {
		t.Skip("runs only as the canned server of BenchmarkCPUPerGET")
	}
	p, err := canned.StartPair(os.Stdout, ca)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// processCPUTime returns the user plus system time the process has used.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runConcurrent makes n calls from conc goroutines and returns the first
// error.
func runConcurrent(ctx context.Context, conc, n int, call func(context.Context) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := call(ctx); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// cpuResults keeps the last figure of each client and concurrency
// ("d365-retrieve-h2/conc=16") for the table.
var cpuResults = map[string]float64{}

// cpuBlock is how many calls a client makes before the next client takes
// its turn: the clients alternate in blocks, so a change of load on the
// machine during the run falls on all of them alike.
const cpuBlock = 1000

// measuredClient is one client of an interleaved run and its tally.
type measuredClient struct {
	name  string
	call  func(context.Context) error
	cpu   time.Duration
	calls int
}

// measureInterleaved makes b.N calls with each client, conc at a time, in
// alternating blocks of cpuBlock calls, and reports each client's process
// CPU time per call as the metric "µs/GET:<client>".
func measureInterleaved(b *testing.B, conc int, clients []*measuredClient) {
	ctx := context.Background()
	for _, c := range clients {
		if err := runConcurrent(ctx, conc, 8*conc, c.call); err != nil { // connections, token, pools
			b.Fatalf("%s: %v", c.name, err)
		}
	}
	runtime.GC()
	b.ResetTimer()
	for done, turn := 0, 0; done < b.N; turn++ {
		n := min(cpuBlock, b.N-done)
		for i := range clients {
			c := clients[(i+turn)%len(clients)] // a different client opens each turn
			before := processCPUTime()
			if err := runConcurrent(ctx, conc, n, c.call); err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
			c.cpu += processCPUTime() - before
			c.calls += n
		}
		done += n
	}
	b.StopTimer()
	for _, c := range clients {
		perCall := float64(c.cpu.Nanoseconds()) / 1e3 / float64(c.calls)
		b.ReportMetric(perCall, "µs/GET:"+c.name)
		cpuResults[fmt.Sprintf("%s/conc=%d", c.name, conc)] = perCall
	}
}

// benchTransport is the transport the Client uses by default
// (transportOrDefault) trusting pool; with http1 it is an HTTP/1.1
// keep-alive pool of up to conns connections instead.
func benchTransport(pool *x509.CertPool, http1 bool, conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	tr.MaxIdleConnsPerHost = max(64, conns)
	tr.ForceAttemptHTTP2 = !http1
	if http1 {
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP1(true)
	}
	return &http.Client{Transport: tr}
}

// cpuCase is one client measured by BenchmarkCPUPerGET.
type cpuCase struct {
	name  string
	http1 bool
	// newCall returns the call to measure, made with hc against base (the
	// server's root URL).
	newCall func(b *testing.B, hc *http.Client, base string) func(context.Context) error
}

func d365Client(b *testing.B, hc *http.Client, base string, opts *ClientOptions) *Client {
	if opts == nil {
		opts = &ClientOptions{}
	}
	o := *opts
	o.Transport = hc
	c, err := NewClient(base+"/org", &fakeCredential{}, &o)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func d365Retrieve(b *testing.B, hc *http.Client, base string) func(context.Context) error {
	return d365RetrieveWith(b, hc, base, nil)
}

// d365RetrieveNoGovernor is d365Retrieve with the Governor disabled, to
// tell its share.
func d365RetrieveNoGovernor(b *testing.B, hc *http.Client, base string) func(context.Context) error {
	return d365RetrieveWith(b, hc, base, &ClientOptions{Governor: GovernorOptions{Disabled: true}})
}

// d365RetrievePipeline is d365Retrieve with every try in the azcore
// pipeline (no lean first try, lean.go), to tell the lean first try's
// share in the same run.
func d365RetrievePipeline(b *testing.B, hc *http.Client, base string) func(context.Context) error {
	return d365RetrieveOn(d365Client(b, hc, base, nil).withoutLean())
}

func d365RetrieveWith(b *testing.B, hc *http.Client, base string, opts *ClientOptions) func(context.Context) error {
	return d365RetrieveOn(d365Client(b, hc, base, opts))
}

// withoutLean turns off the lean first try of c (before c sends anything).
func (c *Client) withoutLean() *Client {
	c.lean = nil
	return c
}

func d365RetrieveOn(c *Client) func(context.Context) error {
	ropts := &RetrieveOptions{Select: cpuSelect}
	return func(ctx context.Context) error {
		var out cpuContact
		if err := c.Retrieve(ctx, "contacts", cpuBenchID, &out, ropts); err != nil {
			return err
		}
		if out.ID != cpuBenchID {
			return fmt.Errorf("decoded id %s", out.ID)
		}
		return nil
	}
}

func d365List(b *testing.B, hc *http.Client, base string) func(context.Context) error {
	c := d365Client(b, hc, base, nil)
	opts := &ListOptions{Query: Query{Select: cpuSelect}}
	return func(ctx context.Context) error {
		page, err := c.List(ctx, "contacts", opts)
		if err != nil {
			return err
		}
		if len(page.Items) != canned.PageRows {
			return fmt.Errorf("page of %d rows", len(page.Items))
		}
		return nil
	}
}

// bareGet is a plain net/http GET with the headers the client sends,
// decoded into out.
func bareGet(ctx context.Context, hc *http.Client, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer static-token")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

func bareRetrieve(_ *testing.B, hc *http.Client, base string) func(context.Context) error {
	url := base + "/org/api/data/v9.2/contacts(" + cpuBenchID.String() + ")?$select=fullname%2Cemailaddress1"
	return func(ctx context.Context) error {
		var out cpuContact
		if err := bareGet(ctx, hc, url, &out); err != nil {
			return err
		}
		if out.ID != cpuBenchID {
			return fmt.Errorf("decoded id %s", out.ID)
		}
		return nil
	}
}

func bareList(_ *testing.B, hc *http.Client, base string) func(context.Context) error {
	url := base + "/org/api/data/v9.2/contacts?$select=fullname%2Cemailaddress1"
	return func(ctx context.Context) error {
		var page struct {
			Items    []map[string]any `json:"value"`
			NextLink string           `json:"@odata.nextLink"`
		}
		if err := bareGet(ctx, hc, url, &page); err != nil {
			return err
		}
		if len(page.Items) != canned.PageRows {
			return fmt.Errorf("page of %d rows", len(page.Items))
		}
		return nil
	}
}

var cpuCases = []cpuCase{
	{"d365-retrieve-h2", false, d365Retrieve},
	{"d365-retrieve-h2-nogov", false, d365RetrieveNoGovernor},
	{"d365-retrieve-h2-pipeline", false, d365RetrievePipeline},
	{"d365-list-h2", false, d365List},
	{"bare-retrieve-h2", false, bareRetrieve},
	{"bare-list-h2", false, bareList},
	{"d365-retrieve-h1", true, d365Retrieve},
	{"d365-retrieve-h1-pipeline", true, d365RetrievePipeline},
	{"d365-list-h1", true, d365List},
	{"bare-retrieve-h1", true, bareRetrieve},
	{"bare-list-h1", true, bareList},
}

// cpuConcurrency are the concurrent calls of the measurement.
var cpuConcurrency = []int{16, 64}

// BenchmarkCPUPerGET runs every client of cpuCases (or those whose name
// matches the regular expression in D365_CPU_CLIENTS) at each concurrency,
// interleaved; -benchtime Nx makes N calls per client.
func BenchmarkCPUPerGET(b *testing.B) {
	env := cannedServers(b)
	clear(cpuResults)
	only := regexp.MustCompile(os.Getenv("D365_CPU_CLIENTS"))
	for _, conc := range cpuConcurrency {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			var clients []*measuredClient
			for _, cc := range cpuCases {
				if !only.MatchString(cc.name) {
					continue
				}
				base := env.h2URL
				if cc.http1 {
					base = env.h1URL
				}
				hc := benchTransport(env.pool, cc.http1, conc)
				defer hc.CloseIdleConnections()
				clients = append(clients, &measuredClient{name: cc.name, call: cc.newCall(b, hc, base)})
			}
			measureInterleaved(b, conc, clients)
		})
	}
	printCPUTable(os.Stdout)
}

// printCPUTable prints the figures of one BenchmarkCPUPerGET run: a
// machine-readable CPUPERGET line per figure (bench/report.mjs reads them)
// and a table of d365 against bare net/http over the same protocol.
func printCPUTable(w io.Writer) {
	get := func(name string, conc int) float64 {
		return cpuResults[fmt.Sprintf("%s/conc=%d", name, conc)]
	}
	for _, conc := range cpuConcurrency {
		for _, cc := range cpuCases {
			if v := get(cc.name, conc); v > 0 {
				fmt.Fprintf(w, "CPUPERGET client=go-%s conc=%d cpu_us=%.2f\n", cc.name, conc, v)
			}
		}
	}
	fmt.Fprintf(w, "\n%-24s %10s %10s %10s %10s\n", "CPU µs per GET", "conc=16", "conc=64", "ratio 16", "ratio 64")
	for _, cc := range cpuCases {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.Replace(cc.name, "d365-", "bare-", 1), "-nogov"), "-pipeline")
		row := fmt.Sprintf("%-24s", cc.name)
		for _, conc := range cpuConcurrency {
			row += fmt.Sprintf(" %10.1f", get(cc.name, conc))
		}
		for _, conc := range cpuConcurrency {
			if base != cc.name && get(base, conc) > 0 {
				row += fmt.Sprintf(" %9.2fx", get(cc.name, conc)/get(base, conc))
			}
		}
		fmt.Fprintln(w, row)
	}
	fmt.Fprintln(w, "(ratio: d365 over bare net/http, same call and protocol)")
}
