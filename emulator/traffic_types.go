package emulator

import (
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/d365s2s/d365/emulator/internal/traffic"
)

// The service protection limits, fault rules and request log types. They are the emulator's own
// (go doc shows their fields); the traffic middleware has the same shapes, and the conversions
// below are the only place the two meet. JSON and YAML go through the middleware's codecs, so
// the wire forms and their error messages are the middleware's.

// Limits are the service protection limits, counted per application user (tenant and app). A
// zero Requests, ExecutionTime or Concurrent turns that limit off; a zero Window means the
// default window (300 s). The zero Limits value therefore has every limit off (LimitsOff).
// DOPHint is advice, not a limit: a positive DOPHint is sent as x-ms-dop-hint on every Web API response,
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
	// (Dataverse: 300 s). Zero means the default window (300 s).
	Window time.Duration
	// DOPHint is the degree of parallelism the emulator recommends in the x-ms-dop-hint header of
	// every Web API response, refusals included (Dataverse: varies by environment; see
	// DefaultDOPHint). Zero sends no header. It may exceed Concurrent, which makes a client that
	// follows the hint trip the concurrency limit, as a test of its back-off may want.
	//
	// See https://learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests
	DOPHint int
}

// FaultRule injects a failure into the requests it matches. A rule has three parts: Match (which
// requests), Trigger (which of the matching calls) and Action (what happens). Rules are checked in
// the order they were added; every rule counts the calls it matches, latency rules add up, and
// the first rule whose trigger selects the call with any other action answers it.
//
// Rules are JSON- and YAML-serialisable (the form of the admin API's /_emulator/faults); decoding validates them and
// names the field at fault.
type FaultRule struct {
	// ID names the rule in the request log and the admin API. Empty means AddFault assigns the
	// next "f<n>". It may hold letters, digits, '.', '_' and '-' (at most 64).
	ID string
	// Description says what the rule is for, in words (optional).
	Description string
	// Match selects requests; the zero Match selects every request (the admin API under
	// /_emulator/ is never faulted).
	Match FaultMatch
	// Trigger selects which of the matching calls fire; the zero Trigger fires on every one.
	Trigger FaultTrigger
	// Action is what a firing rule does.
	Action FaultAction
}

// FaultMatch selects requests. Every field that is set must match.
type FaultMatch struct {
	// PathPrefix matches the URL path (without the query), case-sensitively:
	// "/api/data/v9.2/contacts", "/{tenant}/oauth2/".
	PathPrefix string
	// Table matches Web API requests whose first resource segment is this entity set name
	// (case-sensitive, as Dataverse's are): "contacts" matches /api/data/v9.2/contacts,
	// /contacts(<id>) and /contacts(<id>)/parentcustomerid_account. A $batch is matched by
	// "$batch", not by the tables inside it; functions by their name ("WhoAmI").
	Table string
	// Methods matches any of these HTTP methods (upper case); empty means any method.
	Methods []string
	// TenantID matches the caller's tenant (case-insensitive): the token's tid on the Web API,
	// the tenant path segment on the token endpoint. A domain on either side is resolved to its
	// tenant's GUID first (the rule's when it is added).
	TenantID string
	// AppID matches the caller's application (client) id (case-insensitive): the token's appid
	// on the Web API, the client_id of a token request.
	AppID string
}

// FaultTrigger selects which matching calls fire. Calls are numbered from 1 per rule, counting
// every call that matches the rule and falls in the time window (including calls another rule
// answered):
//
//	{}                      every matching call
//	{Nth: 3}                only the 3rd
//	{Count: 2}              the next 2 (calls 1 and 2)
//	{Nth: 3, Count: 2}      the 3rd and 4th (2 calls after the first 2)
//	{Nth: 3, Count: -1}     the 3rd and every later one
//	{Probability: 0.25}     each call with probability 0.25 (seeded, replayable)
//	{From: t1, Until: t2}   calls in [t1, t2) on the emulator's clock
//
// Probability combines with the others: it decides, per selected call, whether it fires.
type FaultTrigger struct {
	// Nth is the number of the first call that may fire; 0 means 1. Nth alone selects one call.
	Nth int
	// Count is how many calls from Nth on are selected; 0 means one when Nth is set and all
	// otherwise, -1 means all from Nth on.
	Count int
	// Probability in (0, 1] fires each selected call with that probability; 0 means always. The
	// draw for call n of a rule depends only on the seed, the rule's ID and n, so the same seed
	// replays the same failures.
	Probability float64
	// From and Until bound a time window on the emulator's clock, [From, Until); zero means
	// unbounded on that side. Calls outside it neither fire nor count.
	From, Until time.Time
	// For, when set, makes Until = From + For (From defaulting to the time the rule is added);
	// AddFault resolves it and stores Until instead.
	For time.Duration
}

// ActionKind is what a fault does.
type ActionKind string

// The fault actions.
const (
	// ActionError answers with Status and an error body shaped like Dataverse's or Entra's.
	ActionError ActionKind = "error"
	// ActionThrottle answers 429 with Retry-After; on the Web API with the Dataverse envelope and
	// 0x80072322 unless Code says otherwise, on Entra endpoints with AADSTS90055.
	ActionThrottle ActionKind = "throttle"
	// ActionLatency waits Delay and then serves the request (a cancelled request stops waiting).
	// On a metered Web API request the wait comes after admission: it holds one of the caller's
	// concurrent slots and counts as execution time.
	ActionLatency ActionKind = "latency"
	// ActionDrop closes the connection without a response (HTTP/2: resets the stream).
	ActionDrop ActionKind = "drop"
	// ActionTokenEndpointDown makes /{tenant}/oauth2/... answer 503 temporarily_unavailable (or
	// drop the connection with Drop).
	ActionTokenEndpointDown ActionKind = "tokenEndpointDown"
	// ActionExpireDeltaToken answers change-tracking requests that carry a $deltatoken (a delta
	// link, <set>/$count?$deltatoken=…) with 0x80044352 "Version stamp associated with the client
	// has expired. Please perform a full sync.", as an expired token is answered; other requests
	// neither match nor count. It takes no other action field.
	ActionExpireDeltaToken ActionKind = "expireDeltaToken"
)

// BodyShape is the error body format of an error action.
type BodyShape string

// Error body shapes.
const (
	// ShapeAuto is Entra's shape on Entra endpoints or with an AADSTS code, Dataverse's
	// otherwise.
	ShapeAuto BodyShape = ""
	// ShapeDataverse is {"error":{"code":"0x…","message":"…"}} with OData headers.
	ShapeDataverse BodyShape = "dataverse"
	// ShapeEntra is Entra's OAuth error JSON (error, error_description "AADSTSnnnn: … Trace ID …
	// Correlation ID … Timestamp …", error_codes, timestamp, trace_id, correlation_id, error_uri).
	ShapeEntra BodyShape = "entra"
)

// FaultAction is what a firing rule does. Fields that do not apply to Kind must be empty.
type FaultAction struct {
	// Kind is the action; required.
	Kind ActionKind
	// Status is the HTTP status of an error action (400–599). Required for ActionError, unless
	// Code is an Entra code the token service knows: then its status (AADSTS7000222: 401).
	Status int
	// Shape is the body format of error and throttle actions; ShapeAuto picks by path and code.
	Shape BodyShape
	// Code is the Dataverse error code ("0x80040216", kept as written; Dataverse writes them in
	// lower case) or the Entra code ("AADSTS7000222"). An Entra code the token service knows
	// brings its OAuth error, wording and status. Empty means a default for the status (see
	// the fault documentation).
	Code string
	// Error is the OAuth error of an Entra-shaped body ("invalid_client"); empty means the
	// code's (AADSTS7000222: invalid_client), else a default for the status.
	Error string
	// Message is the error message (for Entra, without the "AADSTSnnnn: " prefix); empty means
	// the Entra code's wording, else a default.
	Message string
	// RetryAfter adds a Retry-After header, in seconds. ActionThrottle defaults to 1.
	RetryAfter int
	// Delay is how long ActionLatency waits (at most 10 minutes).
	Delay time.Duration
	// Drop makes ActionTokenEndpointDown drop the connection instead of answering 503.
	Drop bool
}

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
	// fault): from the handler, else from the error body, else from the fault or limit.
	Reason string
	// Code is the error code: Dataverse's ("0x80072322") or Entra's ("AADSTS7000215").
	Code string
	// Limit names the service protection limit that refused the request: "requests",
	// "executionTime" or "concurrent".
	Limit string
	// Faults lists the IDs of the fault rules that acted on the request.
	Faults []string
}

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

// FaultStatus is a fault rule with its counters.
type FaultStatus struct {
	FaultRule
	// Matched counts the calls the rule matched (in its time window).
	Matched int64
	// Fired counts the calls the rule acted on.
	Fired int64
}

// Validate reports the first field that is out of range, naming it.
func (l Limits) Validate() error { return traffic.Limits(l).Validate() }

// String describes the limits in words.
func (l Limits) String() string { return traffic.Limits(l).String() }

// MarshalJSON encodes l with every field present and durations as Go duration strings.
func (l Limits) MarshalJSON() ([]byte, error) { return traffic.Limits(l).MarshalJSON() }

// MarshalYAML encodes l like MarshalJSON.
func (l Limits) MarshalYAML() (any, error) { return traffic.Limits(l).MarshalYAML() }

// UnmarshalJSON decodes and validates limits: {"requests", "executionTime", "concurrent",
// "window", "dopHint"}, or {"preset": "default|off|strict", …overrides}. Unknown fields are
// errors.
func (l *Limits) UnmarshalJSON(data []byte) error {
	var t traffic.Limits
	if err := t.UnmarshalJSON(data); err != nil {
		return err
	}
	*l = Limits(t)
	return nil
}

// UnmarshalYAML decodes limits from a YAML scenario file with the rules of UnmarshalJSON.
func (l *Limits) UnmarshalYAML(node *yaml.Node) error {
	var t traffic.Limits
	if err := t.UnmarshalYAML(node); err != nil {
		return err
	}
	*l = Limits(t)
	return nil
}

// Validate reports the first field of the rule that is wrong, naming it.
func (r FaultRule) Validate() error { return r.toTraffic().Validate() }

// MarshalJSON encodes the rule in the admin API's form.
func (r FaultRule) MarshalJSON() ([]byte, error) { return r.toTraffic().MarshalJSON() }

// MarshalYAML encodes the rule in the same form as MarshalJSON.
func (r FaultRule) MarshalYAML() (any, error) { return r.toTraffic().MarshalYAML() }

// UnmarshalJSON decodes and validates a rule. Unknown fields are errors; every error names the
// field.
func (r *FaultRule) UnmarshalJSON(data []byte) error {
	var t traffic.FaultRule
	if err := t.UnmarshalJSON(data); err != nil {
		return err
	}
	*r = faultRuleFrom(t)
	return nil
}

// UnmarshalYAML decodes a rule from a YAML scenario file with the rules of UnmarshalJSON.
func (r *FaultRule) UnmarshalYAML(node *yaml.Node) error {
	var t traffic.FaultRule
	if err := t.UnmarshalYAML(node); err != nil {
		return err
	}
	*r = faultRuleFrom(t)
	return nil
}

// MarshalJSON encodes the rule's form with "matched" and "fired" added.
func (s FaultStatus) MarshalJSON() ([]byte, error) { return s.toTraffic().MarshalJSON() }

// UnmarshalJSON decodes what MarshalJSON writes.
func (s *FaultStatus) UnmarshalJSON(data []byte) error {
	var t traffic.FaultStatus
	if err := t.UnmarshalJSON(data); err != nil {
		return err
	}
	*s = faultStatusFrom(t)
	return nil
}

// Refused reports whether the entry is a refusal or failure: a status of 400 or more, no
// response at all, or a fault rule's doing.
func (e *LogEntry) Refused() bool { return e.Status >= 400 || e.Outcome != "" || len(e.Faults) > 0 }

// MarshalJSON encodes the entry with camelCase names and the duration in milliseconds.
func (e LogEntry) MarshalJSON() ([]byte, error) { return e.toTraffic().MarshalJSON() }

// UnmarshalJSON decodes the form MarshalJSON writes.
func (e *LogEntry) UnmarshalJSON(data []byte) error {
	var t traffic.LogEntry
	if err := t.UnmarshalJSON(data); err != nil {
		return err
	}
	*e = logEntryFrom(t)
	return nil
}

// Conversions to and from the traffic middleware's types.

func (a FaultAction) toTraffic() traffic.FaultAction {
	return traffic.FaultAction{
		Kind: traffic.ActionKind(a.Kind), Status: a.Status, Shape: traffic.BodyShape(a.Shape), Code: a.Code,
		Error: a.Error, Message: a.Message, RetryAfter: a.RetryAfter, Delay: a.Delay, Drop: a.Drop,
	}
}

func faultActionFrom(a traffic.FaultAction) FaultAction {
	return FaultAction{
		Kind: ActionKind(a.Kind), Status: a.Status, Shape: BodyShape(a.Shape), Code: a.Code,
		Error: a.Error, Message: a.Message, RetryAfter: a.RetryAfter, Delay: a.Delay, Drop: a.Drop,
	}
}

func (r FaultRule) toTraffic() traffic.FaultRule {
	return traffic.FaultRule{
		ID: r.ID, Description: r.Description, Match: traffic.FaultMatch(r.Match),
		Trigger: traffic.FaultTrigger(r.Trigger), Action: r.Action.toTraffic(),
	}
}

func faultRuleFrom(r traffic.FaultRule) FaultRule {
	return FaultRule{
		ID: r.ID, Description: r.Description, Match: FaultMatch(r.Match),
		Trigger: FaultTrigger(r.Trigger), Action: faultActionFrom(r.Action),
	}
}

func faultRulesToTraffic(rules []FaultRule) []traffic.FaultRule {
	if rules == nil {
		return nil
	}
	out := make([]traffic.FaultRule, len(rules))
	for i, r := range rules {
		out[i] = r.toTraffic()
	}
	return out
}

func (s FaultStatus) toTraffic() traffic.FaultStatus {
	return traffic.FaultStatus{FaultRule: s.FaultRule.toTraffic(), Matched: s.Matched, Fired: s.Fired}
}

func faultStatusFrom(s traffic.FaultStatus) FaultStatus {
	return FaultStatus{FaultRule: faultRuleFrom(s.FaultRule), Matched: s.Matched, Fired: s.Fired}
}

func faultStatusesFrom(list []traffic.FaultStatus) []FaultStatus {
	if list == nil {
		return nil
	}
	out := make([]FaultStatus, len(list))
	for i, s := range list {
		out[i] = faultStatusFrom(s)
	}
	return out
}

func (e LogEntry) toTraffic() traffic.LogEntry {
	return traffic.LogEntry{
		Seq: e.Seq, Time: e.Time, Method: e.Method, Path: e.Path, Status: e.Status, Outcome: e.Outcome,
		TenantID: e.TenantID, AppID: e.AppID, Duration: e.Duration, Reason: e.Reason, Code: e.Code,
		Limit: e.Limit, Faults: e.Faults,
	}
}

func logEntryFrom(e traffic.LogEntry) LogEntry {
	return LogEntry{
		Seq: e.Seq, Time: e.Time, Method: e.Method, Path: e.Path, Status: e.Status, Outcome: e.Outcome,
		TenantID: e.TenantID, AppID: e.AppID, Duration: e.Duration, Reason: e.Reason, Code: e.Code,
		Limit: e.Limit, Faults: e.Faults,
	}
}

func logEntriesFrom(list []traffic.LogEntry) []LogEntry {
	if list == nil {
		return nil
	}
	out := make([]LogEntry, len(list))
	for i, e := range list {
		out[i] = logEntryFrom(e)
	}
	return out
}
