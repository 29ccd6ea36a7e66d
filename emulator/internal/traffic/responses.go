package traffic

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Response headers of the service protection limits (webapi.md §1.5, §5.1).
const (
	headerBurstRemaining = "x-ms-ratelimit-burst-remaining-xrm-requests"
	headerTimeRemaining  = "x-ms-ratelimit-time-remaining-xrm-requests"
)

// headerDOPHint is the degree of parallelism the service recommends to the caller, sent on every
// Web API response (throughput.md §1).
const headerDOPHint = "x-ms-dop-hint"

// The same names in Go's canonical form, so that the header map can be written without
// canonicalising on every request and other handlers' Header().Get still finds them.
var (
	canonicalBurstRemaining = http.CanonicalHeaderKey(headerBurstRemaining)
	canonicalTimeRemaining  = http.CanonicalHeaderKey(headerTimeRemaining)
	canonicalDOPHint        = http.CanonicalHeaderKey(headerDOPHint)
)

// dopHintValue is the x-ms-dop-hint value last sent, kept so that a response costs no allocation
// for it. The slice has capacity 1: a handler that adds a value appends to a copy.
var dopHintValue atomic.Pointer[dopHintHeader]

type dopHintHeader struct {
	n int
	v []string
}

// setDOPHint adds x-ms-dop-hint when the limits in force have a DOPHint.
func (c *Controller) setDOPHint(h http.Header) {
	n := c.limiter.cfg.Load().DOPHint
	if n <= 0 {
		return
	}
	d := dopHintValue.Load()
	if d == nil || d.n != n {
		d = &dopHintHeader{n: n, v: []string{strconv.Itoa(n)}}
		dopHintValue.Store(d)
	}
	h[canonicalDOPHint] = d.v
}

// contentTypeOData is the Content-Type of Dataverse's JSON responses, errors included.
const contentTypeOData = "application/json; odata.metadata=minimal"

// setRateHeaders adds the x-ms-ratelimit-* headers for the limits that are on, both values in one
// backing array.
func setRateHeaders(h http.Header, v verdict) {
	if v.burstRemaining < 0 && v.timeRemaining < 0 {
		return
	}
	vals := make([]string, 2)
	if v.burstRemaining >= 0 {
		vals[0] = strconv.Itoa(v.burstRemaining)
		h[canonicalBurstRemaining] = vals[0:1:1]
	}
	if v.timeRemaining >= 0 {
		vals[1] = formatSecondsRemaining(v.timeRemaining)
		h[canonicalTimeRemaining] = vals[1:2:2]
	}
}

// formatSecondsRemaining formats execution time left the way Dataverse sends it: seconds with
// thousands separators and two decimals, e.g. "1,200.00" or "1,199.46" (public captures of real
// responses show this form).
func formatSecondsRemaining(nanos int64) string {
	hundredths := max(nanos/int64(10*time.Millisecond), 0)
	var digits, out [24]byte
	whole := strconv.AppendInt(digits[:0], hundredths/100, 10)
	b := out[:0]
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, d)
	}
	frac := hundredths % 100
	b = append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
	return string(b)
}

// dataverseError is Dataverse's error envelope (webapi.md §4.2).
type dataverseError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeDataverseError answers with Dataverse's envelope. retryAfter > 0 adds Retry-After.
func writeDataverseError(w http.ResponseWriter, status int, code, message string, retryAfter int) {
	var env dataverseError
	env.Error.Code, env.Error.Message = code, message
	body := marshalNoEscape(env)
	h := w.Header()
	h.Set("Content-Type", contentTypeOData)
	h.Set("OData-Version", "4.0")
	reqID := uuid.NewString()
	h.Set("REQ_ID", reqID)
	h.Set("x-ms-service-request-id", reqID)
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// marshalNoEscape encodes v without HTML escaping (messages contain quotes and '<' as is).
func marshalNoEscape(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // plain structs of strings and ints cannot fail
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
