package traffic

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxAdminBody bounds admin request bodies.
const maxAdminBody = 1 << 20

// AdminRoute is one admin route: the method and path pattern http.ServeMux matches, and its
// handler.
type AdminRoute struct {
	Method, Path string
	Handler      http.HandlerFunc
}

// AdminRoutes returns the admin routes for limits, fault rules and the request log (listed in
// the package documentation) under Options.AdminPrefix, for an emulator whose admin mux answers
// unknown routes and methods itself. They do not check who is calling: the emulator refuses
// admin requests from non-loopback addresses before they get here.
func (c *Controller) AdminRoutes() []AdminRoute {
	p := c.adminPrefix
	faultByID := func(w http.ResponseWriter, r *http.Request) { c.adminFault(w, r, r.PathValue("id")) }
	return []AdminRoute{
		{"GET", p + "limits", c.adminLimits},
		{"PUT", p + "limits", c.adminLimits},
		{"GET", p + "faults", c.adminFaults},
		{"POST", p + "faults", c.adminFaults},
		{"DELETE", p + "faults", c.adminFaults},
		{"GET", p + "faults/{id}", faultByID},
		{"DELETE", p + "faults/{id}", faultByID},
		{"GET", p + "log", c.adminLog},
		{"DELETE", p + "log", c.adminLog},
	}
}

// RegisterAdmin adds AdminRoutes to mux.
func (c *Controller) RegisterAdmin(mux *http.ServeMux) {
	for _, route := range c.AdminRoutes() {
		mux.HandleFunc(route.Method+" "+route.Path, route.Handler)
	}
}

func (c *Controller) adminLimits(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		adminJSON(w, http.StatusOK, c.Limits())
	case http.MethodPut:
		body, ok := readAdminBody(w, r)
		if !ok {
			return
		}
		var l Limits
		if err := l.UnmarshalJSON(body); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := c.SetLimits(l); err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		adminJSON(w, http.StatusOK, c.Limits())
	default:
		methodNotAllowed(w, "GET, HEAD, PUT")
	}
}

func (c *Controller) adminFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		adminJSON(w, http.StatusOK, struct {
			Seed   int64         `json:"seed"`
			Faults []FaultStatus `json:"faults"`
		}{c.seed, c.Faults()})
	case http.MethodPost:
		body, ok := readAdminBody(w, r)
		if !ok {
			return
		}
		if trimmed := strings.TrimSpace(string(body)); strings.HasPrefix(trimmed, "[") {
			adminError(w, http.StatusBadRequest, "fault rule: send one rule object per request, not an array")
			return
		}
		rule, err := ParseFaultRule(body)
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		id, err := c.AddFault(rule)
		if err != nil {
			adminError(w, http.StatusConflict, err.Error())
			return
		}
		st, _ := c.Fault(id)
		w.Header().Set("Location", c.adminPrefix+"faults/"+id)
		adminJSON(w, http.StatusCreated, st)
	case http.MethodDelete:
		c.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, "GET, HEAD, POST, DELETE")
	}
}

func (c *Controller) adminFault(w http.ResponseWriter, r *http.Request, id string) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		st, ok := c.Fault(id)
		if !ok {
			adminError(w, http.StatusNotFound, fmt.Sprintf("no fault rule with id %q", id))
			return
		}
		adminJSON(w, http.StatusOK, st)
	case http.MethodDelete:
		if err := c.RemoveFault(id); err != nil {
			adminError(w, http.StatusNotFound, fmt.Sprintf("no fault rule with id %q", id))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, "GET, HEAD, DELETE")
	}
}

func (c *Controller) adminLog(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		f, err := parseLogFilter(r.URL.Query())
		if err != nil {
			adminError(w, http.StatusBadRequest, err.Error())
			return
		}
		adminJSON(w, http.StatusOK, struct {
			Entries []LogEntry `json:"entries"`
		}{c.Log(f)})
	case http.MethodDelete:
		c.ClearLog()
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, "GET, HEAD, DELETE")
	}
}

// parseLogFilter reads GET /log's query: after, since, status, method, path, tenant, app,
// fault, refused, max.
func parseLogFilter(q map[string][]string) (LogFilter, error) {
	var f LogFilter
	bad := func(param, value, want string) error {
		return fmt.Errorf("query parameter %s=%q: %s", param, value, want)
	}
	for param, values := range q {
		v := values[len(values)-1]
		switch param {
		case "after":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return f, bad(param, v, "want the seq number of the last entry seen")
			}
			f.After = n
		case "since":
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, bad(param, v, "want an RFC 3339 time such as 2025-01-31T09:00:00Z")
			}
			f.Since = t
		case "status":
			for s := range strings.SplitSeq(v, ",") {
				s = strings.TrimSpace(s)
				if len(s) == 3 && s[0] >= '1' && s[0] <= '5' && strings.EqualFold(s[1:], "xx") {
					base := int(s[0]-'0') * 100
					for code := base; code < base+100; code++ {
						f.Status = append(f.Status, code)
					}
					continue
				}
				n, err := strconv.Atoi(s)
				if err != nil || n < 100 || n > 599 {
					return f, bad(param, v, "want statuses such as 429 or 401,403, or a class such as 4xx")
				}
				f.Status = append(f.Status, n)
			}
		case "method":
			f.Method = v
		case "path":
			f.PathPrefix = v
		case "tenant":
			f.TenantID = v
		case "app":
			f.AppID = v
		case "fault":
			f.Fault = v
		case "refused":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return f, bad(param, v, "want true or false")
			}
			f.Refused = b
		case "max":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, bad(param, v, "want a number of entries")
			}
			f.Max = n
		default:
			return f, fmt.Errorf("unknown query parameter %q; use after, since, status, method, path, tenant, app, fault, refused or max", param)
		}
	}
	return f, nil
}

func readAdminBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			adminError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxAdminBody))
		} else {
			adminError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		}
		return nil, false
	}
	return body, true
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		adminError(w, http.StatusInternalServerError, "encoding the response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// adminError answers {"error":{"code":"<Invalid|NotFound|Conflict|MethodNotAllowed|Internal>",
// "message":"<what is wrong and how to fix it>"}}, the shape of the emulator's whole admin API.
func adminError(w http.ResponseWriter, status int, msg string) {
	code := "Invalid"
	switch status {
	case http.StatusNotFound:
		code = "NotFound"
	case http.StatusConflict:
		code = "Conflict"
	case http.StatusMethodNotAllowed:
		code = "MethodNotAllowed"
	case http.StatusInternalServerError:
		code = "Internal"
	}
	w.Header().Del("Location")
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Message = code, msg
	adminJSON(w, status, body)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	adminError(w, http.StatusMethodNotAllowed, "method not allowed; use "+allow)
}
