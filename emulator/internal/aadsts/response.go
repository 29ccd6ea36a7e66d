package aadsts

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// errorURIBase is where Entra's error_uri points (Microsoft's public error lookup page). The
// emulator keeps the real address: it documents the code; clients never fetch it.
const errorURIBase = "https://login.microsoftonline.com/error?code="

// timestampLayout is the layout of Entra's "timestamp" field and of the Timestamp line in
// error_description, e.g. "2023-06-11 13:40:19Z".
const timestampLayout = "2006-01-02 15:04:05Z"

// Body is Entra's error response, fields in Entra's order (entra.md §1.5).
type Body struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

// Trace is what ties an Entra response to its request: the time on the emulator's clock, a new
// trace id, and the correlation id (the caller's client-request-id when it is a GUID, as Entra
// echoes it, else a new one).
type Trace struct {
	Now           time.Time
	TraceID       string
	CorrelationID string
	// EchoRequestID is set when the caller sent return-client-request-id: true; the response
	// then carries client-request-id.
	EchoRequestID bool
}

// NewTrace starts the trace of a request answered at now.
func NewTrace(r *http.Request, now time.Time) Trace {
	t := Trace{Now: now, TraceID: uuid.NewString()}
	if id, err := uuid.Parse(r.Header.Get("client-request-id")); err == nil {
		t.CorrelationID = id.String()
	} else {
		t.CorrelationID = uuid.NewString()
	}
	t.EchoRequestID = strings.EqualFold(r.Header.Get("return-client-request-id"), "true")
	return t
}

// Body renders e for one request.
func (e *Error) Body(t Trace) Body {
	ts := t.Now.UTC().Format(timestampLayout)
	code := strconv.Itoa(e.Code)
	return Body{
		Error: e.OAuth,
		ErrorDescription: "AADSTS" + code + ": " + e.Message + "\r\nTrace ID: " + t.TraceID +
			"\r\nCorrelation ID: " + t.CorrelationID + "\r\nTimestamp: " + ts,
		ErrorCodes:    []int{e.Code},
		Timestamp:     ts,
		TraceID:       t.TraceID,
		CorrelationID: t.CorrelationID,
		ErrorURI:      errorURIBase + code,
	}
}

// SetHeaders sets the headers every Entra JSON response carries, uncached.
func SetHeaders(h http.Header, t Trace) {
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("x-ms-request-id", t.TraceID)
	if t.EchoRequestID {
		h.Set("client-request-id", t.CorrelationID)
	}
}

// Write answers with e: its status, Entra's headers and error JSON. retryAfter > 0 adds
// Retry-After (seconds).
func Write(w http.ResponseWriter, e *Error, t Trace, retryAfter int) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)  // messages hold quotes and URLs as Entra writes them
	_ = enc.Encode(e.Body(t)) // a struct of strings and ints cannot fail
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := w.Header()
	SetHeaders(h, t)
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
