package dataverse

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// probeLogging asks azcore, once per NewClient, what its pipeline would do
// to a request that a lean first try (lean.go) must do too or must not
// skip. It sends requests through a throwaway pipeline built with the
// Client's telemetry options, body logging on and retries off, to a
// transport that answers from memory (nothing reaches the network):
//
//   - first a POST with a JSON body that records being read, answered with
//     an error that records being formatted. azcore's log policy reads a
//     request body only for a listener that wants EventRequest, and
//     formats a transport's error only for one that wants EventResponse
//     or EventRetryPolicy (its retry policy's "error" line). Either means
//     logs: the Client then keeps every try in the pipeline, and the
//     listener sees this probe's request, to https://logging-probe.invalid.
//   - then, when nothing logs (so nothing shows), a POST answered 200 in a
//     context that records the keys asked of it: those the pipeline's
//     policies look up in a request's context (policy.WithHTTPHeader,
//     WithRetryOptions, WithCaptureResponse, a tracer). The User-Agent the
//     transport sees is the one azcore's telemetry policy sends.
//
// azcore has no getter for its log listener (azcore/log.SetListener only
// sets it), and its documentation asks callers to set the listener before
// clients are used; so a listener set after NewClient does not see the
// lean first tries of that Client. Asking the pipeline itself, rather than
// reimplementing its checks, keeps the answer right when azcore changes
// which events a policy logs or which context values it reads.
func probeLogging(telemetry policy.TelemetryOptions) (userAgent string, contextKeys []any, logs bool) {
	tr := probeTransport{fail: true}
	pl := runtime.NewPipeline(moduleName, moduleVersion, runtime.PipelineOptions{}, &policy.ClientOptions{
		Telemetry: telemetry,
		Logging:   policy.LogOptions{IncludeBody: true},
		Retry:     policy.RetryOptions{MaxRetries: -1},
		Transport: &tr,
	})
	send := func(ctx context.Context) (bodyRead bool) {
		body := &readRecorder{r: strings.NewReader(`{}`)}
		req, err := runtime.NewRequest(ctx, http.MethodPost, loggingProbeURL)
		if err != nil || req.SetBody(body, "application/json") != nil {
			return false
		}
		if resp, err := pl.Do(req); err == nil {
			closeBody(resp)
		}
		return body.read
	}
	if send(context.Background()) || tr.err.formatted || tr.tries != 1 {
		// (A probe that did not reach its transport tells nothing: count
		// it as logging, so every try stays in the pipeline.)
		return "", nil, true
	}
	tr.fail = false
	ctx := &keyRecorder{Context: context.Background()}
	if send(ctx) || tr.tries != 2 {
		return "", nil, true
	}
	return tr.userAgent, ctx.azcoreKeys(), false
}

// loggingProbeURL is where probeLogging's requests go; they never leave
// the process.
const loggingProbeURL = "https://logging-probe.invalid/api/data/v9.2/WhoAmI"

// probeTransport answers the probe's requests from memory.
type probeTransport struct {
	tries     int
	fail      bool
	userAgent string
	err       probeError
}

// Do implements policy.Transporter.
func (t *probeTransport) Do(req *http.Request) (*http.Response, error) {
	t.tries++
	if t.fail {
		return nil, &t.err
	}
	t.userAgent = req.Header.Get("User-Agent")
	return &http.Response{
		StatusCode: http.StatusOK,
		Status:     "200 OK",
		Header:     http.Header{"Content-Type": {"application/json"}},
		Body:       io.NopCloser(bytes.NewReader([]byte(`{}`))),
		Request:    req,
	}, nil
}

// probeError is the probe transport's failure; formatted records that
// something turned it into text (azcore's log policy or retry policy,
// for a listener).
type probeError struct{ formatted bool }

// Error implements error.
func (e *probeError) Error() string {
	e.formatted = true
	return "dataverse: logging-probe.invalid: NewClient's logging probe fails on purpose; no request left the process"
}

// readRecorder is a request body that records being read.
type readRecorder struct {
	r    *strings.Reader
	read bool
}

func (b *readRecorder) Read(p []byte) (int, error) {
	b.read = true
	return b.r.Read(p)
}

func (b *readRecorder) Seek(off int64, whence int) (int64, error) { return b.r.Seek(off, whence) }

func (b *readRecorder) Close() error { return nil }

var _ io.ReadSeekCloser = (*readRecorder)(nil)

// keyRecorder is a context that records the keys asked of it.
type keyRecorder struct {
	context.Context
	mu   sync.Mutex
	keys []any
}

// Value implements context.Context.
func (k *keyRecorder) Value(key any) any {
	k.mu.Lock()
	k.keys = append(k.keys, key)
	k.mu.Unlock()
	return k.Context.Value(key)
}

// azcoreKeys returns the distinct keys asked of k that azcore's packages
// define (not those of net/http or the context package).
func (k *keyRecorder) azcoreKeys() []any {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []any
	for _, key := range k.keys {
		t := reflect.TypeOf(key)
		if t == nil || !strings.HasPrefix(t.PkgPath(), "github.com/Azure/azure-sdk-for-go/") || !t.Comparable() {
			continue
		}
		if !slices.Contains(out, key) {
			out = append(out, key)
		}
	}
	return out
}
