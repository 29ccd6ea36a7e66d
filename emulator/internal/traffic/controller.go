package traffic

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/d365s2s/d365/emulator/internal/caller"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultSeed seeds fault probabilities when Options.Seed is 0.
const DefaultSeed int64 = 0x5eed_d365

// DefaultAdminPrefix is where the emulator mounts its admin API; requests under it are never
// metered, faulted or logged.
const DefaultAdminPrefix = "/_emulator/"

// apiPrefix is the Dataverse Web API's path prefix: only these requests are metered.
const apiPrefix = "/api/data/"

// Options configure a Controller. The zero value is usable: Dataverse's limits, no faults, the
// real clock, callers identified only on the token endpoint.
type Options struct {
	// Limits are the service protection limits; nil means LimitsDefault().
	Limits *Limits
	// Faults are rules added at start, in order.
	Faults []FaultRule
	// Seed seeds fault probabilities, so a failing test replays; 0 means DefaultSeed.
	Seed int64
	// Now is the emulator's clock (it may run at an offset). It places fault rules' time windows
	// (from, until, for) and stamps the request log; nil means time.Now. The service protection
	// limits and the durations in the log never read it: they run on the monotonic wall clock,
	// so moving the emulator's clock neither freezes a window nor charges execution time.
	Now func() time.Time
	// Identity is the caller-identity middleware (caller.Middleware): it puts the request's
	// caller in the request context. The controller runs it once per request (admin requests
	// excepted), after the body has arrived and before the fault rules and limits, and only
	// reads the caller it put there. A Web API request whose caller is not authenticated is not
	// metered (the Web API answers it 401). Nil means caller.Middleware(nil): token-endpoint
	// callers only, which meters nothing.
	Identity func(next http.Handler) http.Handler
	// ResolveTenant maps a tenant named by a domain ("contoso.onmicrosoft.com") to its GUID, and
	// returns anything it does not know as it is. The middleware applies it to a caller's tenant
	// that is not a GUID (the {tenant} of a token request as written) and to the match.tenantId
	// of a rule when the rule is added, so that a rule matches a tenant however either side
	// names it. Nil compares tenants as written.
	ResolveTenant func(tenant string) string
	// Challenge is the WWW-Authenticate value of the emulator's Web API ("Bearer
	// authorization_uri=…, resource_id=…/"), sent with injected Web API 401s that have no body.
	Challenge string
	// LogSize is how many requests the request log keeps; 0 means DefaultLogSize.
	LogSize int
	// AdminPrefix is the path prefix of the emulator's admin API (DefaultAdminPrefix when
	// empty). Requests under it pass straight through, and AdminHandler serves its routes there.
	AdminPrefix string
	// Logger receives one line per request at Info, served or refused. Nil discards.
	Logger *slog.Logger
	// BodyReadTimeout bounds how long a request's body may take to arrive once its headers
	// have; the middleware reads the body before metering the request, and answers 408 when it
	// runs out. Zero means DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
	// MaxBodyBytes is how much of a body the middleware reads ahead; a larger body is handed on
	// with the rest unread, for the handler to refuse. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// BodyMeter, when set, returns for a request a writer the middleware feeds its body to as it
	// arrives (nil: none). A write error that is a BodyRefusal ends the read: the request is
	// answered with it, unmetered, without reading the rest (a body far beyond what any request
	// needs costs no more than what arrived before it was recognised).
	BodyMeter func(r *http.Request) io.Writer
}

// Controller applies service protection limits and fault rules to the requests of the handler
// it wraps and keeps the request log. All methods are safe for concurrent use.
type Controller struct {
	now func() time.Time
	// since is the monotonic clock the limits and durations run on: time elapsed since the
	// Controller was made. Tests replace it to drive the windows.
	since         func() time.Duration
	identity      func(http.Handler) http.Handler
	resolveTenant func(string) string
	seed          int64
	challenge     string
	adminPrefix   string
	logger        *slog.Logger

	bodyReadTimeout time.Duration
	maxBody         int64
	bodyMeter       func(*http.Request) io.Writer

	limiter *limiter
	faults  faultSet
	log     requestLog
}

// New returns a Controller, or an error naming the option or rule that is invalid.
func New(opts Options) (*Controller, error) {
	c := &Controller{
		now:           opts.Now,
		identity:      opts.Identity,
		resolveTenant: opts.ResolveTenant,
		seed:          opts.Seed,
		challenge:     opts.Challenge,
		adminPrefix:   opts.AdminPrefix,
		logger:        opts.Logger,

		bodyReadTimeout: opts.BodyReadTimeout,
		maxBody:         opts.MaxBodyBytes,
		bodyMeter:       opts.BodyMeter,
	}
	if c.bodyReadTimeout <= 0 {
		c.bodyReadTimeout = DefaultBodyReadTimeout
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBodyBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	origin := time.Now()
	c.since = func() time.Duration { return time.Since(origin) }
	if c.identity == nil {
		c.identity = caller.Middleware(nil)
	}
	if c.seed == 0 {
		c.seed = DefaultSeed
	}
	if c.adminPrefix == "" {
		c.adminPrefix = DefaultAdminPrefix
	}
	if !strings.HasPrefix(c.adminPrefix, "/") {
		return nil, fmt.Errorf("traffic: Options.AdminPrefix %q must start with '/'", opts.AdminPrefix)
	}
	if !strings.HasSuffix(c.adminPrefix, "/") {
		c.adminPrefix += "/"
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case opts.LogSize < 0:
		return nil, fmt.Errorf("traffic: Options.LogSize %d is negative", opts.LogSize)
	case opts.LogSize == 0:
		c.log.size = DefaultLogSize
	default:
		c.log.size = opts.LogSize
	}
	limits := LimitsDefault()
	if opts.Limits != nil {
		if err := opts.Limits.Validate(); err != nil {
			return nil, fmt.Errorf("traffic: Options.Limits: %w", err)
		}
		limits = *opts.Limits
	}
	c.limiter = newLimiter(limits)
	for i, rule := range opts.Faults {
		if _, err := c.AddFault(rule); err != nil {
			return nil, fmt.Errorf("traffic: Options.Faults[%d]: %w", i, err)
		}
	}
	return c, nil
}

// SetLimits replaces the service protection limits. Every caller's windows start afresh;
// requests in flight stay counted against the concurrency limit.
func (c *Controller) SetLimits(l Limits) error {
	if err := l.Validate(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	c.limiter.set(l)
	c.logger.Info("traffic: service protection limits set", "limits", l.String())
	return nil
}

// Limits returns the service protection limits in force (Window filled in).
func (c *Controller) Limits() Limits { return c.limiter.cfg.Load().Limits }

// ErrFaultNotFound is returned by RemoveFault for an unknown rule ID.
var ErrFaultNotFound = errors.New("no fault rule with that id")

// AddFault validates rule and adds it after the existing rules. An empty ID is assigned
// ("f1", "f2", …); a Trigger.For is resolved to an Until on the emulator's clock. It returns the
// rule's ID.
func (c *Controller) AddFault(rule FaultRule) (string, error) {
	norm, err := rule.normalized(c.now())
	if err != nil {
		return "", fmt.Errorf("fault rule: %w", err)
	}
	fs := &c.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	old := fs.snapshot()
	if norm.ID == "" {
		for {
			fs.nextID++
			norm.ID = "f" + strconv.Itoa(fs.nextID)
			if !hasID(old, norm.ID) {
				break
			}
		}
	} else if hasID(old, norm.ID) {
		return "", fmt.Errorf("fault rule: %w", &ValidationError{Field: "id", Msg: fmt.Sprintf("%q is already in use; remove that rule first or pick another id", norm.ID)})
	}
	rules := make([]*faultState, len(old), len(old)+1)
	copy(rules, old)
	rules = append(rules, c.newFaultState(norm))
	fs.rules.Store(&rules)
	c.logger.Info("traffic: fault rule added", "id", norm.ID, "action", string(norm.Action.Kind))
	return norm.ID, nil
}

// newFaultState makes the live state of a normalized rule: fresh counters, and the rule's
// tenant resolved to a GUID for matching.
func (c *Controller) newFaultState(rule FaultRule) *faultState {
	fs := &faultState{rule: rule, idHash: hashID(rule.ID), tenant: rule.Match.TenantID}
	if fs.tenant != "" && c.resolveTenant != nil && !isGUID(fs.tenant) {
		fs.tenant = c.resolveTenant(fs.tenant)
	}
	return fs
}

func hasID(rules []*faultState, id string) bool {
	for _, r := range rules {
		if r.rule.ID == id {
			return true
		}
	}
	return false
}

// RemoveFault removes the rule with this ID, or returns an error wrapping ErrFaultNotFound.
func (c *Controller) RemoveFault(id string) error {
	fs := &c.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	old := fs.snapshot()
	rules := make([]*faultState, 0, len(old))
	for _, r := range old {
		if r.rule.ID != id {
			rules = append(rules, r)
		}
	}
	if len(rules) == len(old) {
		return fmt.Errorf("fault rule %q: %w", id, ErrFaultNotFound)
	}
	fs.rules.Store(&rules)
	c.logger.Info("traffic: fault rule removed", "id", id)
	return nil
}

// ReplaceFaults puts rules in place of every rule, in one step: a request sees either the old
// rules or the new ones, never none of them. Each rule is validated (a Trigger.For is resolved
// against the emulator's clock now; a rule whose Until is already set keeps it, so a time
// window does not restart); counters start from zero; empty IDs are assigned. On any error
// nothing changes.
func (c *Controller) ReplaceFaults(rules []FaultRule) error {
	now := c.now()
	fs := &c.faults
	fs.mu.Lock()
	defer fs.mu.Unlock()
	states := make([]*faultState, 0, len(rules))
	seen := make(map[string]bool, len(rules))
	nextID := fs.nextID
	for i, rule := range rules {
		norm, err := rule.normalized(now)
		if err != nil {
			return fmt.Errorf("fault rule %d: %w", i+1, err)
		}
		if norm.ID != "" {
			if seen[norm.ID] {
				return fmt.Errorf("fault rule %d: %w", i+1, &ValidationError{Field: "id", Msg: fmt.Sprintf("%q is used by an earlier rule", norm.ID)})
			}
			seen[norm.ID] = true
		}
		states = append(states, c.newFaultState(norm))
	}
	for _, st := range states {
		for st.rule.ID == "" {
			nextID++
			if id := "f" + strconv.Itoa(nextID); !seen[id] {
				st.rule.ID, st.idHash = id, hashID(id)
				seen[id] = true
			}
		}
	}
	fs.nextID = nextID
	fs.rules.Store(&states)
	c.logger.Info("traffic: fault rules replaced", "rules", len(states))
	return nil
}

// ClearFaults removes every rule. IDs keep counting, so log entries stay unambiguous.
func (c *Controller) ClearFaults() {
	fs := &c.faults
	fs.mu.Lock()
	fs.rules.Store(nil)
	fs.mu.Unlock()
}

// FaultStatus is a rule with its counters.
type FaultStatus struct {
	FaultRule
	// Matched counts the calls the rule matched (in its time window).
	Matched int64
	// Fired counts the calls the rule acted on.
	Fired int64
}

// MarshalJSON encodes the rule's wire form with "matched" and "fired" added.
func (s FaultStatus) MarshalJSON() ([]byte, error) {
	return marshalNoEscape(struct {
		ruleJSON
		Matched int64 `json:"matched"`
		Fired   int64 `json:"fired"`
	}{s.FaultRule.wire(), s.Matched, s.Fired}), nil
}

// UnmarshalJSON decodes what MarshalJSON writes (the counters are read, not validated).
func (s *FaultStatus) UnmarshalJSON(data []byte) error {
	var w struct {
		ruleJSON
		Matched int64 `json:"matched"`
		Fired   int64 `json:"fired"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("fault rule: %w", explainJSONError(err))
	}
	rule, err := w.ruleJSON.rule()
	if err != nil {
		return fmt.Errorf("fault rule: %w", err)
	}
	*s = FaultStatus{FaultRule: rule, Matched: w.Matched, Fired: w.Fired}
	return nil
}

// Faults returns the rules in order with their counters.
func (c *Controller) Faults() []FaultStatus {
	rules := c.faults.snapshot()
	out := make([]FaultStatus, len(rules))
	for i, r := range rules {
		out[i] = FaultStatus{FaultRule: r.rule, Matched: r.matched.Load(), Fired: r.fired.Load()}
	}
	return out
}

// Fault returns the rule with this ID and its counters.
func (c *Controller) Fault(id string) (FaultStatus, bool) {
	for _, r := range c.faults.snapshot() {
		if r.rule.ID == id {
			return FaultStatus{FaultRule: r.rule, Matched: r.matched.Load(), Fired: r.fired.Load()}, true
		}
	}
	return FaultStatus{}, false
}

// Log returns the logged requests selected by f, oldest first.
func (c *Controller) Log(f LogFilter) []LogEntry { return c.log.list(f) }

// ClearLog empties the request log. Sequence numbers keep counting.
func (c *Controller) ClearLog() { c.log.clear() }

// Seed returns the seed of fault probabilities.
func (c *Controller) Seed() int64 { return c.seed }
