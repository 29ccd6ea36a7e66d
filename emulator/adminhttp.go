package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// maxAdminBody bounds admin request bodies; a PEM certificate chain is far smaller.
const maxAdminBody = 1 << 20

// adminErrorBody is the JSON shape of every admin API failure.
type adminErrorBody struct {
	Error adminErrorDetail `json:"error"`
}

type adminErrorDetail struct {
	// Code is NotFound, Conflict, Invalid, Forbidden, MethodNotAllowed or Internal.
	Code    string `json:"code"`
	Message string `json:"message"`
}

// adminHandler serves the admin API under /_emulator/ (routes in doc.go). It refuses callers
// that are not on loopback: the API can mint credentials.
func (e *Emulator) adminHandler() http.Handler {
	mux := http.NewServeMux()
	e.registerAdminRoutes(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !fromLoopback(r) {
			writeAdminError(w, http.StatusForbidden, "Forbidden",
				"the emulator's admin API answers only on loopback (127.0.0.1, ::1); this request came from "+remoteHost(r))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
		if _, pattern := mux.Handler(r); pattern == "" {
			// No route, or a route without this method: answer in JSON, not ServeMux's text.
			probe := &statusProbe{header: http.Header{}}
			mux.ServeHTTP(probe, r)
			if probe.status == http.StatusMethodNotAllowed {
				w.Header().Set("Allow", probe.header.Get("Allow"))
				writeAdminError(w, http.StatusMethodNotAllowed, "MethodNotAllowed",
					fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, probe.header.Get("Allow")))
				return
			}
			writeAdminError(w, http.StatusNotFound, "NotFound", "no admin route "+r.Method+" "+r.URL.Path+"; the routes are listed in the emulator package documentation")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// fromLoopback reports whether the request's peer is a loopback address.
func fromLoopback(r *http.Request) bool {
	ip := net.ParseIP(remoteHost(r))
	return ip != nil && ip.IsLoopback()
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// statusProbe records what ServeMux's fallback handlers would answer.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(status int)      { p.status = status }

// writeJSONResponse writes v as JSON with status.
func writeJSONResponse(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeAdminError(w, http.StatusInternalServerError, "Internal", "encode the response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte("\n"))
}

func writeAdminError(w http.ResponseWriter, status int, code, message string) {
	body, _ := json.Marshal(adminErrorBody{Error: adminErrorDetail{Code: code, Message: message}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte("\n"))
}

// writeErr answers an admin method's error with its status: 404, 409, 400 or 500.
func writeErr(w http.ResponseWriter, err error) {
	msg := strings.TrimPrefix(err.Error(), "emulator: ")
	switch {
	case errors.Is(err, ErrNotFound):
		writeAdminError(w, http.StatusNotFound, "NotFound", msg)
	case errors.Is(err, ErrConflict):
		writeAdminError(w, http.StatusConflict, "Conflict", msg)
	case errors.Is(err, ErrInvalid):
		writeAdminError(w, http.StatusBadRequest, "Invalid", msg)
	default:
		writeAdminError(w, http.StatusInternalServerError, "Internal", msg)
	}
}

// decodeBody reads a JSON request body into v, strictly: unknown fields and trailing data are
// errors. An empty body leaves v as it is when allowEmpty.
func decodeBody(r *http.Request, v any, allowEmpty bool) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return invalidf("the request body is larger than %d bytes", maxAdminBody)
		}
		return invalidf("read the request body: %v", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		if allowEmpty {
			return nil
		}
		return invalidf("the request needs a JSON body")
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidf("the JSON body does not fit: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return invalidf("the JSON body has data after its value")
	}
	return nil
}
