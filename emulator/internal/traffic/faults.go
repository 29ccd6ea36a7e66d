package traffic

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/aadsts"
)

// FaultRule injects a failure into the requests it matches. A rule has three parts: Match (which
// requests), Trigger (which of the matching calls) and Action (what happens). Rules are checked in
// the order they were added; every rule counts the calls it matches, latency rules add up, and
// the first rule whose trigger selects the call with any other action answers it.
//
// Rules are JSON- and YAML-serialisable (see doc.go for the form); decoding validates them and
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
	// tenant's GUID first (Options.ResolveTenant; the rule's when it is added).
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
	// doc.go).
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

// maxFaultDelay bounds ActionLatency: long enough for any timeout test, short enough that a
// mistyped unit does not hang a server.
const maxFaultDelay = 10 * time.Minute

var (
	ruleIDPattern    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	hresultPattern   = regexp.MustCompile(`^0[xX][0-9A-Fa-f]{1,8}$`)
	aadstsPattern    = regexp.MustCompile(`^(?:AADSTS)?([0-9]{1,9})$`)
	oauthErrPattern  = regexp.MustCompile(`^[a-z_]{1,64}$`)
	tenantIDPattern  = regexp.MustCompile(`^[A-Za-z0-9.-]{1,253}$`)
	entitySetPattern = regexp.MustCompile(`^\$?[A-Za-z_][A-Za-z0-9_.]{0,127}$`)
)

// knownMethods are the methods a rule may name.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// Validate checks the rule and names the first field that is wrong. It does not check that the
// ID is unique; AddFault does.
func (r FaultRule) Validate() error {
	_, err := r.normalized(time.Time{})
	return err
}

// normalized validates r and returns it with methods upper-cased, the AADSTS code in canonical
// form and For resolved against now (when now is zero, For is left as is).
func (r FaultRule) normalized(now time.Time) (FaultRule, error) {
	fail := func(field, format string, args ...any) (FaultRule, error) {
		return FaultRule{}, &ValidationError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if r.ID != "" && !ruleIDPattern.MatchString(r.ID) {
		return fail("id", "%q may hold only letters, digits, '.', '_' and '-' (1 to 64 of them)", r.ID)
	}
	if len(r.Description) > 1000 {
		return fail("description", "is %d characters long; keep it under 1000", len(r.Description))
	}

	m := &r.Match
	if m.PathPrefix != "" && !strings.HasPrefix(m.PathPrefix, "/") {
		return fail("match.pathPrefix", "%q must start with '/', e.g. \"/api/data/v9.2/contacts\"", m.PathPrefix)
	}
	if m.Table != "" && !entitySetPattern.MatchString(m.Table) {
		return fail("match.table", "%q is not an entity set name such as \"contacts\" (no slashes, keys or query)", m.Table)
	}
	if len(m.Methods) > 0 {
		methods := make([]string, len(m.Methods))
		for i, meth := range m.Methods {
			up := strings.ToUpper(strings.TrimSpace(meth))
			if !knownMethods[up] {
				return fail("match.methods["+strconv.Itoa(i)+"]", "%q is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS", meth)
			}
			methods[i] = up
		}
		m.Methods = methods
	}
	if m.TenantID != "" && !tenantIDPattern.MatchString(m.TenantID) {
		return fail("match.tenantId", "%q is neither a tenant GUID nor a domain name", m.TenantID)
	}
	if m.AppID != "" {
		id, err := uuid.Parse(m.AppID)
		if err != nil {
			return fail("match.appId", "%q is not an application (client) id; it is a GUID such as 51f81489-12ee-4a9e-aaae-a2591f45987d", m.AppID)
		}
		m.AppID = id.String()
	}

	t := &r.Trigger
	switch {
	case t.Nth < 0:
		return fail("trigger.nth", "%d is negative; calls are numbered from 1", t.Nth)
	case t.Count < -1:
		return fail("trigger.count", "%d is not allowed; give a number of calls, or -1 for every call from nth on", t.Count)
	case t.Probability < 0 || t.Probability > 1 || t.Probability != t.Probability:
		return fail("trigger.probability", "%v is not between 0 and 1 (0 or absent means always)", t.Probability)
	case t.For < 0:
		return fail("trigger.for", "%v is negative", t.For)
	case t.For > 0 && !t.Until.IsZero():
		return fail("trigger.for", "give either until or for, not both")
	case !t.From.IsZero() && !t.Until.IsZero() && !t.Until.After(t.From):
		return fail("trigger.until", "%s is not after from (%s)", t.Until.Format(time.RFC3339Nano), t.From.Format(time.RFC3339Nano))
	}
	if t.For > 0 && !now.IsZero() {
		from := t.From
		if from.IsZero() {
			from = now
		}
		t.Until, t.For = from.Add(t.For), 0
	}

	if err := r.Action.normalize(m); err != nil {
		return FaultRule{}, err
	}
	return r, nil
}

// normalize checks a against its kind (and the rule's match m) and puts its code in canonical
// form.
func (a *FaultAction) normalize(m *FaultMatch) error {
	fail := func(field, format string, args ...any) error {
		return &ValidationError{Field: "action." + field, Msg: fmt.Sprintf(format, args...)}
	}
	only := func(field string, set bool, kinds string) error {
		if set {
			return fail(field, "applies only to %s actions, not %q", kinds, a.Kind)
		}
		return nil
	}
	isError := a.Kind == ActionError || a.Kind == ActionThrottle
	isBody := isError || a.Kind == ActionTokenEndpointDown
	for _, err := range []error{
		only("status", a.Status != 0 && !isError, "error and throttle"),
		only("shape", a.Shape != ShapeAuto && !isError, "error and throttle"),
		only("code", a.Code != "" && !isBody, "error, throttle and tokenEndpointDown"),
		only("error", a.Error != "" && !isBody, "error, throttle and tokenEndpointDown"),
		only("message", a.Message != "" && !isBody, "error, throttle and tokenEndpointDown"),
		only("retryAfter", a.RetryAfter != 0 && !isBody, "error, throttle and tokenEndpointDown"),
		only("delay", a.Delay != 0 && a.Kind != ActionLatency, "latency"),
		only("drop", a.Drop && a.Kind != ActionTokenEndpointDown, "tokenEndpointDown"),
	} {
		if err != nil {
			return err
		}
	}
	if a.Kind == ActionError && a.Status == 0 && (a.Shape == ShapeEntra || strings.HasPrefix(a.Code, "AADSTS")) {
		// An Entra code the token service knows brings its status (7000222: 401).
		if m := aadstsPattern.FindStringSubmatch(a.Code); m != nil {
			n, _ := strconv.Atoi(m[1])
			if e, ok := aadsts.Lookup(n, aadsts.Params{}); ok {
				a.Status = e.Status
			}
		}
	}
	switch a.Kind {
	case ActionError:
		if a.Status == 0 {
			return fail("status", "is required: give 400–599 (an Entra code the emulator knows, such as AADSTS7000222, brings its own)")
		}
		if a.Status < 400 || a.Status > 599 {
			return fail("status", "%d is not an error status; give 400–599", a.Status)
		}
	case ActionThrottle:
		if a.Status != 0 && a.Status != http.StatusTooManyRequests {
			return fail("status", "a throttle action always answers 429; use kind \"error\" for status %d", a.Status)
		}
	case ActionLatency:
		if a.Delay <= 0 || a.Delay > maxFaultDelay {
			return fail("delay", "%v is not between 1ns and %v; write it like \"250ms\" or \"3s\"", a.Delay, maxFaultDelay)
		}
	case ActionDrop, ActionExpireDeltaToken:
	case ActionTokenEndpointDown:
		if m.Table != "" {
			return &ValidationError{Field: "match.table", Msg: "tables are Web API entity sets; a tokenEndpointDown rule matches /{tenant}/oauth2/ paths"}
		}
		if a.Drop && (a.Code != "" || a.Error != "" || a.Message != "" || a.RetryAfter != 0) {
			return fail("drop", "a dropped connection has no body; remove code, error, message and retryAfter")
		}
	case "":
		return fail("kind", "is required: one of error, throttle, latency, drop, tokenEndpointDown, expireDeltaToken")
	default:
		return fail("kind", "%q is not one of error, throttle, latency, drop, tokenEndpointDown, expireDeltaToken", a.Kind)
	}
	switch a.Shape {
	case ShapeAuto, ShapeDataverse, ShapeEntra:
	default:
		return fail("shape", "%q is not dataverse or entra", a.Shape)
	}
	if a.RetryAfter < 0 || a.RetryAfter > 86400 {
		return fail("retryAfter", "%d is not a number of seconds between 0 and 86400", a.RetryAfter)
	}
	if a.Code != "" {
		entra := a.Shape == ShapeEntra || a.Kind == ActionTokenEndpointDown
		switch {
		case aadstsPattern.MatchString(a.Code) && (entra || strings.HasPrefix(a.Code, "AADSTS")):
			if a.Shape == ShapeDataverse {
				return fail("code", "%q is an Entra code but shape is dataverse; give a Dataverse code such as 0x80040216", a.Code)
			}
			a.Code = "AADSTS" + aadstsPattern.FindStringSubmatch(a.Code)[1]
		case hresultPattern.MatchString(a.Code):
			if entra {
				return fail("code", "%q is a Dataverse code but the body is Entra-shaped; give an AADSTS code such as AADSTS7000222", a.Code)
			}
			// Kept as given (Dataverse writes its codes in lower case: 0x8006088a); only the
			// prefix is normalised.
			a.Code = "0x" + a.Code[2:]
		default:
			return fail("code", "%q is neither a Dataverse code (0x80040216) nor an Entra code (AADSTS7000222)", a.Code)
		}
	}
	if a.Error != "" && !oauthErrPattern.MatchString(a.Error) {
		return fail("error", "%q is not an OAuth error code such as invalid_client", a.Error)
	}
	if a.Error != "" && a.Shape == ShapeDataverse {
		return fail("error", "the OAuth error belongs to Entra-shaped bodies; remove it or set shape to entra")
	}
	if len(a.Message) > 4000 {
		return fail("message", "is %d characters long; keep it under 4000", len(a.Message))
	}
	return nil
}
