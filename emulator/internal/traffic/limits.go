package traffic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Dataverse's service protection defaults per user and web server (webapi.md §5.1).
const (
	// DefaultRequestLimit is the number of requests a caller may send in one window.
	DefaultRequestLimit = 6000
	// DefaultExecutionTimeLimit is the combined execution time a caller may use in one window
	// (20 minutes, 1,200,000 ms).
	DefaultExecutionTimeLimit = 1_200_000 * time.Millisecond
	// DefaultConcurrencyLimit is the number of requests a caller may have in flight at once.
	DefaultConcurrencyLimit = 52
	// DefaultWindow is the length of the sliding window of the two rate limits.
	DefaultWindow = 300 * time.Second
)

// DefaultDOPHint is the x-ms-dop-hint the emulator sends by default: the degree of parallelism
// it recommends to each application user. [unverified] Microsoft documents no fixed value: the
// header reflects the resources an environment has at the moment (Microsoft's parallel-requests
// sample printed 4 on a developer environment; third parties report values up to about 50 in
// large production environments). 16 lies between the two and well below the 52 concurrent
// requests of DefaultConcurrencyLimit, so a client that follows the hint never trips the
// concurrency limit and leaves room for a second job or process of the same application user.
const DefaultDOPHint = 16

// MaxDOPHint bounds Limits.DOPHint: a hint above it could not be followed by any client.
const MaxDOPHint = 10_000

// MaxRequestLimit bounds Limits.Requests. The request window keeps the arrival time of each
// admitted request (8 bytes each, allocated as they arrive), so the limit is also the memory one
// caller can pin.
const MaxRequestLimit = 1_000_000

// The Dataverse error codes of the three limits (webapi.md §5.1).
const (
	// CodeRequestsExceeded is "Number of requests exceeded the limit …" (-2147015902).
	CodeRequestsExceeded = "0x80072322"
	// CodeExecutionTimeExceeded is "Combined execution time of incoming requests exceeded limit …"
	// (-2147015903).
	CodeExecutionTimeExceeded = "0x80072321"
	// CodeConcurrencyExceeded is "Number of concurrent requests exceeded the limit …" (-2147015898).
	CodeConcurrencyExceeded = "0x80072326"
)

// Limits are the service protection limits, counted per application user (tenant and app). A
// zero Requests, ExecutionTime or Concurrent turns that limit off; a zero Window means
// DefaultWindow. The zero Limits value therefore has every limit off (LimitsOff). DOPHint is
// advice, not a limit: a positive DOPHint is sent as x-ms-dop-hint on every Web API response,
// whether or not the limits are on; zero sends no header.
//
// In JSON and YAML the durations are Go duration strings:
//
//	{"requests": 6000, "executionTime": "20m0s", "concurrent": 52, "window": "5m0s", "dopHint": 16}
//
// When decoding, "preset": "default" | "off" | "strict" starts from that preset and the other
// fields present override it; without a preset, absent limits are off.
type Limits struct {
	// Requests is the number of requests allowed in a sliding Window (Dataverse: 6,000).
	Requests int
	// ExecutionTime is the combined handler time allowed in a sliding Window (Dataverse: 20 min).
	ExecutionTime time.Duration
	// Concurrent is the number of requests allowed in flight at once (Dataverse: 52).
	Concurrent int
	// Window is the length of the sliding window of Requests and ExecutionTime
	// (Dataverse: 300 s). Zero means DefaultWindow.
	Window time.Duration
	// DOPHint is the degree of parallelism the emulator recommends in the x-ms-dop-hint header of
	// every Web API response, refusals included (Dataverse: varies by environment; see
	// DefaultDOPHint). Zero sends no header. It may exceed Concurrent, which makes a client that
	// follows the hint trip the concurrency limit, as a test of its back-off may want.
	//
	// See https://learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests
	DOPHint int
}

// LimitsDefault returns Dataverse's limits: 6,000 requests and 1,200,000 ms of execution time per
// 300-second window, 52 concurrent requests, and an x-ms-dop-hint of DefaultDOPHint.
func LimitsDefault() Limits {
	return Limits{
		Requests:      DefaultRequestLimit,
		ExecutionTime: DefaultExecutionTimeLimit,
		Concurrent:    DefaultConcurrencyLimit,
		Window:        DefaultWindow,
		DOPHint:       DefaultDOPHint,
	}
}

// LimitsOff returns limits with all three limits off: nothing is throttled and no
// x-ms-ratelimit-* headers are sent. It sends no x-ms-dop-hint either (the zero Limits is
// LimitsOff), so a client keeps its own default parallelism (the dataverse client's is 5); set
// DOPHint on top of it to advise one.
func LimitsOff() Limits { return Limits{Window: DefaultWindow} }

// LimitsStrict returns small limits that a demo or a hand-run loop reaches in seconds: 20 requests
// and 5 s of execution time per 10-second window, 4 concurrent requests, and an x-ms-dop-hint of
// 4 (the value Microsoft's sample printed on a developer environment).
func LimitsStrict() Limits {
	return Limits{Requests: 20, ExecutionTime: 5 * time.Second, Concurrent: 4, Window: 10 * time.Second, DOPHint: 4}
}

// LimitsPreset returns the preset named "default", "off" or "strict" (case-insensitive), the
// values of the CLI's --limits flag.
func LimitsPreset(name string) (Limits, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "default":
		return LimitsDefault(), nil
	case "off":
		return LimitsOff(), nil
	case "strict":
		return LimitsStrict(), nil
	}
	return Limits{}, &ValidationError{Field: "preset", Msg: fmt.Sprintf("%q is not a preset; use default, off or strict", name)}
}

// Validate reports the first field that is out of range.
func (l Limits) Validate() error {
	switch {
	case l.Requests < 0:
		return &ValidationError{Field: "requests", Msg: fmt.Sprintf("%d is negative; use 0 to turn the limit off", l.Requests)}
	case l.Requests > MaxRequestLimit:
		return &ValidationError{Field: "requests", Msg: fmt.Sprintf("%d is above the emulator's maximum of %d", l.Requests, MaxRequestLimit)}
	case l.ExecutionTime < 0:
		return &ValidationError{Field: "executionTime", Msg: fmt.Sprintf("%v is negative; use 0 to turn the limit off", l.ExecutionTime)}
	case l.ExecutionTime > 0 && l.ExecutionTime < time.Millisecond:
		return &ValidationError{Field: "executionTime", Msg: fmt.Sprintf("%v is below 1ms, the unit Dataverse counts in", l.ExecutionTime)}
	case l.Concurrent < 0:
		return &ValidationError{Field: "concurrent", Msg: fmt.Sprintf("%d is negative; use 0 to turn the limit off", l.Concurrent)}
	case l.Window < 0:
		return &ValidationError{Field: "window", Msg: fmt.Sprintf("%v is negative; use 0 for the default of %v", l.Window, DefaultWindow)}
	case l.Window > 0 && l.Window < time.Millisecond:
		return &ValidationError{Field: "window", Msg: fmt.Sprintf("%v is below the 1ms minimum", l.Window)}
	case l.Window > 24*time.Hour:
		return &ValidationError{Field: "window", Msg: fmt.Sprintf("%v is longer than the 24h maximum", l.Window)}
	case l.DOPHint < 0:
		return &ValidationError{Field: "dopHint", Msg: fmt.Sprintf("%d is negative; use 0 to send no x-ms-dop-hint", l.DOPHint)}
	case l.DOPHint > MaxDOPHint:
		return &ValidationError{Field: "dopHint", Msg: fmt.Sprintf("%d is above the emulator's maximum of %d", l.DOPHint, MaxDOPHint)}
	}
	return nil
}

// normalized returns l with the default window filled in.
func (l Limits) normalized() Limits {
	if l.Window == 0 {
		l.Window = DefaultWindow
	}
	return l
}

// off reports whether no limit is on.
func (l Limits) off() bool { return l.Requests == 0 && l.ExecutionTime == 0 && l.Concurrent == 0 }

// String describes the limits in words, for logs.
func (l Limits) String() string {
	l = l.normalized()
	if l.off() {
		if l.DOPHint > 0 {
			return "off, x-ms-dop-hint " + strconv.Itoa(l.DOPHint)
		}
		return "off"
	}
	var b strings.Builder
	part := func(s string) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	if l.Requests > 0 {
		part(strconv.Itoa(l.Requests) + " requests")
	}
	if l.ExecutionTime > 0 {
		part(l.ExecutionTime.String() + " execution time")
	}
	if l.Requests > 0 || l.ExecutionTime > 0 {
		b.WriteString(" per " + l.Window.String())
	}
	if l.Concurrent > 0 {
		part(strconv.Itoa(l.Concurrent) + " concurrent")
	}
	if l.DOPHint > 0 {
		part("x-ms-dop-hint " + strconv.Itoa(l.DOPHint))
	}
	return b.String()
}

// The three messages, with the configured numbers in Dataverse's formatting: the request count
// without digit grouping, the milliseconds with it (as Microsoft's documentation shows them).

func requestsMessage(l Limits) string {
	return "Number of requests exceeded the limit of " + strconv.Itoa(l.Requests) +
		" over time window of " + windowSeconds(l.Window) + " seconds."
}

func executionTimeMessage(l Limits) string {
	return "Combined execution time of incoming requests exceeded limit of " + groupDigits(l.ExecutionTime.Milliseconds()) +
		" milliseconds over time window of " + windowSeconds(l.Window) +
		" seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later."
}

func concurrencyMessage(l Limits) string {
	return "Number of concurrent requests exceeded the limit of " + strconv.Itoa(l.Concurrent) + "."
}

// windowSeconds is the window in seconds: "300", or "0.25" for a window shorter than a second.
func windowSeconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

// groupDigits formats n with comma thousands separators: 1200000 -> "1,200,000".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if len(s) <= 3 {
		if neg {
			return "-" + s
		}
		return s
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	first := len(s) % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(s[:first])
	for i := first; i < len(s); i += 3 {
		b.WriteByte(',')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// limitsJSON is the wire form of Limits.
type limitsJSON struct {
	Preset        string `json:"preset,omitempty" yaml:"preset,omitempty"`
	Requests      *int   `json:"requests,omitempty" yaml:"requests,omitempty"`
	ExecutionTime string `json:"executionTime,omitempty" yaml:"executionTime,omitempty"`
	Concurrent    *int   `json:"concurrent,omitempty" yaml:"concurrent,omitempty"`
	Window        string `json:"window,omitempty" yaml:"window,omitempty"`
	DOPHint       *int   `json:"dopHint,omitempty" yaml:"dopHint,omitempty"`
}

type limitsOut struct {
	Requests      int    `json:"requests" yaml:"requests"`
	ExecutionTime string `json:"executionTime" yaml:"executionTime"`
	Concurrent    int    `json:"concurrent" yaml:"concurrent"`
	Window        string `json:"window" yaml:"window"`
	DOPHint       int    `json:"dopHint" yaml:"dopHint"`
}

func (l Limits) wire() limitsOut {
	l = l.normalized()
	return limitsOut{Requests: l.Requests, ExecutionTime: l.ExecutionTime.String(), Concurrent: l.Concurrent, Window: l.Window.String(), DOPHint: l.DOPHint}
}

// MarshalJSON encodes l with every field present and durations as Go duration strings.
func (l Limits) MarshalJSON() ([]byte, error) { return json.Marshal(l.wire()) }

// MarshalYAML encodes l like MarshalJSON.
func (l Limits) MarshalYAML() (any, error) { return l.wire(), nil }

// UnmarshalJSON decodes and validates limits (see Limits for the form). Unknown fields are
// errors, so a misspelt limit is not silently left off.
func (l *Limits) UnmarshalJSON(data []byte) error { return l.unmarshal(data, formatJSON) }

func (l *Limits) unmarshal(data []byte, format string) error {
	var w limitsJSON
	if err := decodeStrict(data, &w, format); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	var out Limits
	if w.Preset != "" {
		p, err := LimitsPreset(w.Preset)
		if err != nil {
			return fmt.Errorf("limits: %w", err)
		}
		out = p
	}
	if w.Requests != nil {
		out.Requests = *w.Requests
	}
	if w.Concurrent != nil {
		out.Concurrent = *w.Concurrent
	}
	if w.DOPHint != nil {
		out.DOPHint = *w.DOPHint
	}
	if w.ExecutionTime != "" {
		d, err := parseDuration("executionTime", w.ExecutionTime)
		if err != nil {
			return fmt.Errorf("limits: %w", err)
		}
		out.ExecutionTime = d
	}
	if w.Window != "" {
		d, err := parseDuration("window", w.Window)
		if err != nil {
			return fmt.Errorf("limits: %w", err)
		}
		out.Window = d
	}
	if err := out.Validate(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	*l = out.normalized()
	return nil
}

// UnmarshalYAML decodes limits from a YAML scenario file with the rules of UnmarshalJSON.
func (l *Limits) UnmarshalYAML(node *yaml.Node) error {
	data, err := yamlNodeToJSON(node)
	if err == nil {
		err = l.unmarshal(data, formatYAML)
	} else {
		err = fmt.Errorf("limits: %w", err)
	}
	if err != nil {
		return fmt.Errorf("line %d: %w", node.Line, err)
	}
	return nil
}

// parseDuration parses a Go duration string and names field when it cannot.
func parseDuration(field, s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, &ValidationError{Field: field, Msg: fmt.Sprintf("%q is not a duration; write it like \"300s\", \"1500ms\" or \"20m\"", s)}
	}
	return d, nil
}

// yamlNodeToJSON re-encodes a YAML node as JSON so that YAML and JSON share one strict decoder.
func yamlNodeToJSON(node *yaml.Node) ([]byte, error) {
	var v any
	if err := node.Decode(&v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("%w (map keys must be strings)", err)
	}
	return buf.Bytes(), nil
}
