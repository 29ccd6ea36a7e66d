package adminclient

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator"
)

// Limits returns the service protection limits in force: GET /_emulator/limits.
func (c *Client) Limits(ctx context.Context) (emulator.Limits, error) {
	var out emulator.Limits
	return out, c.call(ctx, http.MethodGet, "limits", nil, &out)
}

// SetLimits replaces the service protection limits: PUT /_emulator/limits.
func (c *Client) SetLimits(ctx context.Context, l emulator.Limits) error {
	return c.call(ctx, http.MethodPut, "limits", l, nil)
}

// AddFault adds a fault rule after the existing ones and returns it as the emulator holds it:
// its ID assigned ("f1", … unless the rule names one) and a "for" window resolved to an until.
// POST /_emulator/faults.
func (c *Client) AddFault(ctx context.Context, rule emulator.FaultRule) (emulator.FaultStatus, error) {
	var out emulator.FaultStatus
	return out, c.call(ctx, http.MethodPost, "faults", rule, &out)
}

// Fault returns one fault rule with its counters: GET /_emulator/faults/{id}.
func (c *Client) Fault(ctx context.Context, id string) (emulator.FaultStatus, error) {
	var out emulator.FaultStatus
	return out, c.call(ctx, http.MethodGet, "faults/"+esc(id), nil, &out)
}

// RemoveFault removes a fault rule: DELETE /_emulator/faults/{id}.
func (c *Client) RemoveFault(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, "faults/"+esc(id), nil, nil)
}

// ClearFaults removes every fault rule: DELETE /_emulator/faults.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.call(ctx, http.MethodDelete, "faults", nil, nil)
}

// FaultList is the answer to GET /_emulator/faults.
type FaultList struct {
	// Seed is the seed of the rules' random draws (probability triggers).
	Seed int64 `json:"seed"`
	// Faults are the rules in order with their counters.
	Faults []emulator.FaultStatus `json:"faults"`
}

// FaultList returns the fault rules with the seed of their random draws: GET /_emulator/faults.
func (c *Client) FaultList(ctx context.Context) (FaultList, error) {
	var out FaultList
	return out, c.call(ctx, http.MethodGet, "faults", nil, &out)
}

// Faults lists the fault rules in order, with how often each matched and fired.
func (c *Client) Faults(ctx context.Context) ([]emulator.FaultStatus, error) {
	l, err := c.FaultList(ctx)
	return l.Faults, err
}

// LogQuery selects request log entries as GET /_emulator/log's query does. It is
// emulator.LogFilter with the statuses in the server's own notation, so that a class such as
// 4xx travels as it was written and a typo is refused by the emulator in its words.
type LogQuery struct {
	emulator.LogFilter
	// Statuses is the status parameter: "429", "401,403" or "4xx". When set it replaces
	// LogFilter.Status.
	Statuses string
}

// values encodes q as the query of GET /_emulator/log.
func (q LogQuery) values() url.Values {
	v := url.Values{}
	f := q.LogFilter
	if f.After > 0 {
		v.Set("after", strconv.FormatUint(f.After, 10))
	}
	if !f.Since.IsZero() {
		v.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	switch {
	case q.Statuses != "":
		v.Set("status", q.Statuses)
	case len(f.Status) > 0:
		codes := make([]string, len(f.Status))
		for i, s := range f.Status {
			codes[i] = strconv.Itoa(s)
		}
		v.Set("status", strings.Join(codes, ","))
	}
	for _, p := range [][2]string{{"method", f.Method}, {"path", f.PathPrefix}, {"tenant", f.TenantID}, {"app", f.AppID}, {"fault", f.Fault}} {
		if p[1] != "" {
			v.Set(p[0], p[1])
		}
	}
	if f.Refused {
		v.Set("refused", "true")
	}
	if f.Max > 0 {
		v.Set("max", strconv.Itoa(f.Max))
	}
	return v
}

// Log returns the logged requests q selects, oldest first: GET /_emulator/log.
func (c *Client) Log(ctx context.Context, q LogQuery) ([]emulator.LogEntry, error) {
	path := "log"
	if v := q.values(); len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out struct {
		Entries []emulator.LogEntry `json:"entries"`
	}
	return out.Entries, c.call(ctx, http.MethodGet, path, nil, &out)
}

// RequestLog returns the logged requests f selects, oldest first: GET /_emulator/log.
func (c *Client) RequestLog(ctx context.Context, f emulator.LogFilter) ([]emulator.LogEntry, error) {
	return c.Log(ctx, LogQuery{LogFilter: f})
}

// ClearRequestLog empties the request log: DELETE /_emulator/log.
func (c *Client) ClearRequestLog(ctx context.Context) error {
	return c.call(ctx, http.MethodDelete, "log", nil, nil)
}
