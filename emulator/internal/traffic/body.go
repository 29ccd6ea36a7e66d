package traffic

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/dverr"
)

// Defaults of Options.BodyReadTimeout and Options.MaxBodyBytes.
const (
	DefaultBodyReadTimeout = 60 * time.Second
	DefaultMaxBodyBytes    = 32 << 20
)

// Dataverse's answer to a request whose body did not arrive in time: 408 Request Timeout in the
// service's error envelope, with the generic code ([unverified]: see dverr.CodeBodyTimeout).
const (
	bodyTimeoutCode    = dverr.CodeBodyTimeout
	bodyTimeoutMessage = "The request body did not arrive in time: the server stopped waiting for it. Send the whole body promptly, or a smaller one."
)

// A BodyRefusal is the error of an Options.BodyMeter that refuses a body while it arrives; the
// middleware answers the request with Respond and reads no more of the body.
type BodyRefusal interface {
	error
	Respond(w http.ResponseWriter, r *http.Request)
}

// BufferedBody is a request body the middleware has already read in full (before metering the
// request, so that a slow sender holds no slot). Bytes returns it without a copy; handlers that
// read the body whole may use it instead of reading.
type BufferedBody struct {
	*bytes.Reader
	data []byte
}

// Bytes returns the whole body. The slice must not be modified.
func (b *BufferedBody) Bytes() []byte { return b.data }

// Close does nothing: the connection's body was read to its end.
func (b *BufferedBody) Close() error { return nil }

// bufferBody reads the request's body within the body read timeout, before the request is
// identified or metered, and puts back a BufferedBody. A body larger than the size limit is
// read only up to the limit and handed on with the rest still unread (the handler answers 413).
// It reports false when it has answered the request itself: 408 when the body stalled, 400 when
// it could not be read.
func (c *Controller) bufferBody(ex *exchange, w http.ResponseWriter, r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return true
	}
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(c.bodyReadTimeout)
	_ = rc.SetReadDeadline(deadline) // unsupported writers (tests' recorders) just read
	var meter io.Writer
	if c.bodyMeter != nil {
		meter = c.bodyMeter(r)
	}
	data, err := readBody(r.Body, r.ContentLength, c.maxBody+1, meter)
	if err != nil {
		ex.answered = true
		var refusal BodyRefusal
		switch {
		case errors.As(err, &refusal):
			// Refused while arriving: the rest is never read, so it costs nothing.
			ex.internal = refusal.Error()
			closeAfter(w, r)
			refusal.Respond(ex, r)
		case isTimeout(err):
			ex.internal = fmt.Sprintf("the request body did not arrive within %v (%d of %s bytes); waiting for it was neither metered nor execution time",
				c.bodyReadTimeout, len(data), declaredLength(r))
			ex.code = bodyTimeoutCode
			closeAfter(w, r)
			writeBodyError(ex, r, http.StatusRequestTimeout, bodyTimeoutMessage)
		default:
			ex.internal = fmt.Sprintf("the request body could not be read (%d of %s bytes arrived): %v", len(data), declaredLength(r), err)
			ex.code = bodyTimeoutCode
			closeAfter(w, r)
			writeBodyError(ex, r, http.StatusBadRequest, "The request body could not be read.")
		}
		return false
	}
	if int64(len(data)) > c.maxBody {
		r.Body = readCloser{io.MultiReader(bytes.NewReader(data), r.Body), r.Body}
		return true
	}
	_ = rc.SetReadDeadline(time.Time{})
	r.Body = &BufferedBody{Reader: bytes.NewReader(data), data: data}
	return true
}

// firstBodyChunk is how much readBody allocates before any of the body has arrived.
const firstBodyChunk = 64 << 10

// readBody reads at most limit bytes of body. Its buffer grows fourfold as the data arrives, up
// to the declared length when there is one: a large body costs about 1.3 times its size in
// allocations (io.ReadAll's gentler growth costs several times that), and a sender that declares
// a large body but sends little gets a buffer the size of what it sent, not of what it declared.
//
// meter, when not nil, is written every piece as it arrives; its error ends the read.
func readBody(body io.Reader, declared, limit int64, meter io.Writer) ([]byte, error) {
	ceiling := limit
	if declared >= 0 && declared < limit {
		ceiling = declared + 1 // one more byte reads the end of the body
	}
	buf := make([]byte, 0, min(ceiling, firstBodyChunk))
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) >= ceiling {
				if int64(len(buf)) >= limit {
					return buf, nil // over the limit: the caller hands on the rest
				}
				ceiling = limit // longer than declared: keep reading to the limit
			}
			grown := make([]byte, len(buf), min(ceiling, int64(4*cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		if meter != nil && n > 0 {
			if _, merr := meter.Write(buf[len(buf) : len(buf)+n]); merr != nil {
				return buf[:len(buf)+n], merr
			}
		}
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// closeAfter ends an HTTP/1 connection after the response: the rest of its body was never
// read. An HTTP/2 stream is reset by itself, and the connection's other streams carry on.
func closeAfter(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 1 {
		w.Header().Set("Connection", "close")
	}
}

// writeBodyError answers in the shape of the endpoint: Dataverse's envelope on the Web API,
// plain text elsewhere.
func writeBodyError(ex *exchange, r *http.Request, status int, msg string) {
	if strings.HasPrefix(r.URL.Path, apiPrefix) {
		writeDataverseError(ex, status, bodyTimeoutCode, msg, 0)
		return
	}
	http.Error(ex, msg, status)
}

func declaredLength(r *http.Request) string {
	if r.ContentLength < 0 {
		return "an undeclared number of"
	}
	return fmt.Sprint(r.ContentLength)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// readCloser reads from Reader and closes Closer: a body partly read ahead, then the rest.
type readCloser struct {
	io.Reader
	io.Closer
}
