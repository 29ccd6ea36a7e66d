package traffic

import (
	"context"
	"net/http"
	"sync/atomic"
)

// maxCapturedBody bounds how much of an error response is kept to find its reason. Dataverse's
// longest common message (PrivilegeDenied) and Entra's descriptions fit well inside it; success
// bodies are never kept.
const maxCapturedBody = 8 << 10

// exchange is one request going through the middleware. It is both the request's context
// (so SetReason can find it) and the ResponseWriter handed to the next handler (so it sees the
// status and the start of an error body): one allocation for both.
type exchange struct {
	context.Context
	transit
	w http.ResponseWriter

	status      int
	wroteHeader bool
	capture     bool
	body        []byte

	reason   atomic.Pointer[string] // from SetReason
	internal string                 // from the fault or limit that answered
}

type exchangeKey struct{}

// Value returns the exchange itself for exchangeKey and defers to the parent otherwise.
func (ex *exchange) Value(key any) any {
	if key == (exchangeKey{}) {
		return ex
	}
	return ex.Context.Value(key)
}

// SetReason records, for the request log, why the request in ctx is being refused: "the token
// has expired", "the application user is disabled". The emulator's authenticator and the Web API
// call it; the words must be safe to log (never a token or secret). The last call wins. It does
// nothing when ctx did not come through Controller.Wrap.
func SetReason(ctx context.Context, reason string) {
	if ex, ok := ctx.Value(exchangeKey{}).(*exchange); ok && reason != "" {
		ex.reason.Store(&reason)
	}
}

func (ex *exchange) setInternalReason(reason string) { ex.internal = reason }

// Header returns the response headers.
func (ex *exchange) Header() http.Header { return ex.w.Header() }

// WriteHeader records the status and whether to keep the start of the body.
func (ex *exchange) WriteHeader(code int) {
	if !ex.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		ex.wroteHeader = true
		ex.status = code
		ex.capture = code >= 400
	}
	ex.w.WriteHeader(code)
}

// Write passes p on, keeping a bounded prefix of error bodies.
func (ex *exchange) Write(p []byte) (int, error) {
	if !ex.wroteHeader {
		ex.WriteHeader(http.StatusOK)
	}
	if ex.capture && len(ex.body) < maxCapturedBody {
		ex.body = append(ex.body, p[:min(len(p), maxCapturedBody-len(ex.body))]...)
	}
	return ex.w.Write(p)
}

// Flush sends buffered data to the client.
func (ex *exchange) Flush() {
	if !ex.wroteHeader {
		ex.WriteHeader(http.StatusOK)
	}
	if f, ok := ex.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (ex *exchange) Unwrap() http.ResponseWriter { return ex.w }
