package traffic

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultLogSize is how many requests the log keeps unless Options.LogSize says otherwise.
const DefaultLogSize = 10_000

// Outcomes of requests that got no ordinary response.
const (
	// OutcomeDropped: a fault rule closed the connection (or reset the HTTP/2 stream).
	OutcomeDropped = "dropped"
	// OutcomeCancelled: the client went away during an injected delay.
	OutcomeCancelled = "cancelled"
	// OutcomeAborted: the handler panicked (http.ErrAbortHandler or another panic).
	OutcomeAborted = "aborted"
)

// LogEntry is one request in the request log. It never holds a token, a secret or a request
// body: the path carries the query string only for Web API URLs, with token-like parameters
// redacted.
type LogEntry struct {
	// Seq numbers entries from 1 in arrival order; pass the last one seen as LogFilter.After to
	// read only newer entries.
	Seq uint64
	// Time is when the request arrived, on the emulator's clock.
	Time time.Time
	// Method and Path are the request's ("/api/data/v9.2/contacts?$top=5",
	// "/<tenant>/oauth2/v2.0/token").
	Method, Path string
	// Status is the response status; 0 when no response was sent (see Outcome).
	Status int
	// Outcome is empty for an ordinary response, else OutcomeDropped, OutcomeCancelled or
	// OutcomeAborted.
	Outcome string
	// TenantID and AppID identify the caller when known.
	TenantID, AppID string
	// Duration is the time from arrival to the end of the response, injected delays included.
	Duration time.Duration
	// Reason says in words why the request was refused or failed (every status >= 400, every
	// fault): from SetReason, else from the error body, else from the fault or limit.
	Reason string
	// Code is the error code: Dataverse's ("0x80072322") or Entra's ("AADSTS7000215").
	Code string
	// Limit names the service protection limit that refused the request: "requests",
	// "executionTime" or "concurrent".
	Limit string
	// Faults lists the IDs of the fault rules that acted on the request.
	Faults []string

	// query is a Web API request's raw query string, joined to Path (redacted) when the entry
	// is read, so that logging a request does not build the string.
	query string
}

// withQuery returns e with its query string (redacted) joined to Path.
func (e LogEntry) withQuery() LogEntry {
	if e.query != "" {
		e.Path += "?" + redactQuery(e.query)
		e.query = ""
	}
	return e
}

// logEntryJSON is the wire form of LogEntry.
type logEntryJSON struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Status     int       `json:"status"`
	Outcome    string    `json:"outcome,omitempty"`
	TenantID   string    `json:"tenantId,omitempty"`
	AppID      string    `json:"appId,omitempty"`
	DurationMs float64   `json:"durationMs"`
	Reason     string    `json:"reason,omitempty"`
	Code       string    `json:"code,omitempty"`
	Limit      string    `json:"limit,omitempty"`
	Faults     []string  `json:"faults,omitempty"`
}

// MarshalJSON encodes the entry with camelCase names and the duration in milliseconds.
func (e LogEntry) MarshalJSON() ([]byte, error) {
	return json.Marshal(logEntryJSON{
		Seq: e.Seq, Time: e.Time, Method: e.Method, Path: e.Path, Status: e.Status, Outcome: e.Outcome,
		TenantID: e.TenantID, AppID: e.AppID, DurationMs: float64(e.Duration) / float64(time.Millisecond),
		Reason: e.Reason, Code: e.Code, Limit: e.Limit, Faults: e.Faults,
	})
}

// UnmarshalJSON decodes the form MarshalJSON writes.
func (e *LogEntry) UnmarshalJSON(data []byte) error {
	var w logEntryJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*e = LogEntry{
		Seq: w.Seq, Time: w.Time, Method: w.Method, Path: w.Path, Status: w.Status, Outcome: w.Outcome,
		// Rounded, not truncated: float64(d)/1e6*1e6 can fall just below d, and the entry must
		// encode again to the same durationMs (the CLI prints what the admin client decoded).
		TenantID: w.TenantID, AppID: w.AppID, Duration: time.Duration(math.Round(w.DurationMs * float64(time.Millisecond))),
		Reason: w.Reason, Code: w.Code, Limit: w.Limit, Faults: w.Faults,
	}
	return nil
}

// Refused reports whether the entry is a refusal or failure: a status of 400 or more, no
// response at all, or a fault rule's doing.
func (e *LogEntry) Refused() bool { return e.Status >= 400 || e.Outcome != "" || len(e.Faults) > 0 }

// LogFilter selects log entries; zero fields select everything.
type LogFilter struct {
	// After keeps entries with Seq > After (for polling).
	After uint64
	// Since keeps entries that arrived at or after Since.
	Since time.Time
	// Status keeps entries with one of these statuses.
	Status []int
	// Method keeps entries with this method (case-insensitive).
	Method string
	// PathPrefix keeps entries whose path starts with it.
	PathPrefix string
	// TenantID and AppID keep entries of this caller (case-insensitive).
	TenantID, AppID string
	// Fault keeps entries this fault rule acted on.
	Fault string
	// Refused keeps only refusals and failures (see LogEntry.Refused).
	Refused bool
	// Max keeps at most this many of the selected entries, the oldest first; 0 means all.
	Max int
}

// keep reports whether f selects e (whose Path already carries its query).
func (f *LogFilter) keep(e *LogEntry) bool {
	if e.Seq <= f.After || (!f.Since.IsZero() && e.Time.Before(f.Since)) {
		return false
	}
	if len(f.Status) > 0 {
		ok := false
		for _, s := range f.Status {
			if s == e.Status {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	switch {
	case f.Method != "" && !strings.EqualFold(f.Method, e.Method),
		f.PathPrefix != "" && !strings.HasPrefix(e.Path, f.PathPrefix),
		f.TenantID != "" && !strings.EqualFold(f.TenantID, e.TenantID),
		f.AppID != "" && !strings.EqualFold(f.AppID, e.AppID),
		f.Refused && !e.Refused(),
		f.Fault != "" && !slices.Contains(e.Faults, f.Fault):
		return false
	}
	return true
}

// requestLog is a ring of the latest entries.
type requestLog struct {
	mu      sync.Mutex
	size    int
	entries []LogEntry // grows to size, then wraps
	lastSeq uint64
}

func (l *requestLog) add(e LogEntry) LogEntry {
	l.mu.Lock()
	l.lastSeq++
	e.Seq = l.lastSeq
	if len(l.entries) < l.size {
		l.entries = append(l.entries, e)
	} else {
		l.entries[int((e.Seq-1)%uint64(l.size))] = e
	}
	l.mu.Unlock()
	return e
}

func (l *requestLog) list(f LogFilter) []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.entries)
	out := []LogEntry{}
	start := 0
	if n == l.size {
		start = int(l.lastSeq % uint64(l.size)) // index of the oldest
	}
	for i := range n {
		e := &l.entries[(start+i)%n]
		if e.Seq <= f.After {
			continue
		}
		c := e.withQuery()
		if !f.keep(&c) {
			continue
		}
		c.Faults = append([]string(nil), e.Faults...)
		out = append(out, c)
		if f.Max > 0 && len(out) == f.Max {
			break
		}
	}
	return out
}

func (l *requestLog) clear() {
	l.mu.Lock()
	clear(l.entries)
	l.entries = l.entries[:0]
	l.mu.Unlock()
}
