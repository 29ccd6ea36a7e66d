package traffic

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ruleJSON is the wire form of FaultRule: camelCase names, durations as Go duration strings,
// times as RFC 3339 strings.
type ruleJSON struct {
	ID          string      `json:"id,omitempty" yaml:"id,omitempty"`
	Description string      `json:"description,omitempty" yaml:"description,omitempty"`
	Match       matchJSON   `json:"match" yaml:"match"`
	Trigger     triggerJSON `json:"trigger" yaml:"trigger"`
	Action      actionJSON  `json:"action" yaml:"action"`
}

type matchJSON struct {
	PathPrefix string   `json:"pathPrefix,omitempty" yaml:"pathPrefix,omitempty"`
	Table      string   `json:"table,omitempty" yaml:"table,omitempty"`
	Methods    []string `json:"methods,omitempty" yaml:"methods,omitempty"`
	TenantID   string   `json:"tenantId,omitempty" yaml:"tenantId,omitempty"`
	AppID      string   `json:"appId,omitempty" yaml:"appId,omitempty"`
}

type triggerJSON struct {
	Nth         int     `json:"nth,omitempty" yaml:"nth,omitempty"`
	Count       int     `json:"count,omitempty" yaml:"count,omitempty"`
	Probability float64 `json:"probability,omitempty" yaml:"probability,omitempty"`
	From        string  `json:"from,omitempty" yaml:"from,omitempty"`
	Until       string  `json:"until,omitempty" yaml:"until,omitempty"`
	For         string  `json:"for,omitempty" yaml:"for,omitempty"`
}

type actionJSON struct {
	Kind       string `json:"kind" yaml:"kind"`
	Status     int    `json:"status,omitempty" yaml:"status,omitempty"`
	Shape      string `json:"shape,omitempty" yaml:"shape,omitempty"`
	Code       string `json:"code,omitempty" yaml:"code,omitempty"`
	Error      string `json:"error,omitempty" yaml:"error,omitempty"`
	Message    string `json:"message,omitempty" yaml:"message,omitempty"`
	RetryAfter int    `json:"retryAfter,omitempty" yaml:"retryAfter,omitempty"`
	Delay      string `json:"delay,omitempty" yaml:"delay,omitempty"`
	Drop       bool   `json:"drop,omitempty" yaml:"drop,omitempty"`
}

func (r FaultRule) wire() ruleJSON {
	w := ruleJSON{
		ID:          r.ID,
		Description: r.Description,
		Match:       matchJSON(r.Match),
		Trigger: triggerJSON{
			Nth: r.Trigger.Nth, Count: r.Trigger.Count, Probability: r.Trigger.Probability,
			From: formatTime(r.Trigger.From), Until: formatTime(r.Trigger.Until),
		},
		Action: actionJSON{
			Kind: string(r.Action.Kind), Status: r.Action.Status, Shape: string(r.Action.Shape),
			Code: r.Action.Code, Error: r.Action.Error, Message: r.Action.Message,
			RetryAfter: r.Action.RetryAfter, Drop: r.Action.Drop,
		},
	}
	if r.Trigger.For != 0 {
		w.Trigger.For = r.Trigger.For.String()
	}
	if r.Action.Delay != 0 {
		w.Action.Delay = r.Action.Delay.String()
	}
	return w
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// MarshalJSON encodes the rule in its wire form (see doc.go).
func (r FaultRule) MarshalJSON() ([]byte, error) { return json.Marshal(r.wire()) }

// MarshalYAML encodes the rule in the same form as MarshalJSON.
func (r FaultRule) MarshalYAML() (any, error) { return r.wire(), nil }

// UnmarshalJSON decodes and validates a rule. Unknown fields are errors; every error names the
// field.
func (r *FaultRule) UnmarshalJSON(data []byte) error {
	rule, err := ParseFaultRule(data)
	if err != nil {
		return err
	}
	*r = rule
	return nil
}

// UnmarshalYAML decodes a rule from a YAML scenario file with the rules of UnmarshalJSON.
func (r *FaultRule) UnmarshalYAML(node *yaml.Node) error {
	data, err := yamlNodeToJSON(node)
	var rule FaultRule
	if err == nil {
		rule, err = parseFaultRule(data, formatYAML)
	} else {
		err = fmt.Errorf("fault rule: %w", err)
	}
	if err != nil {
		return fmt.Errorf("line %d: %w", node.Line, err)
	}
	*r = rule
	return nil
}

// ParseFaultRule decodes one rule from JSON and validates it. Errors begin "fault rule: " and
// wrap a *ValidationError naming the field where one is at fault.
func ParseFaultRule(data []byte) (FaultRule, error) { return parseFaultRule(data, formatJSON) }

func parseFaultRule(data []byte, format string) (FaultRule, error) {
	var w ruleJSON
	if err := decodeStrict(data, &w, format); err != nil {
		return FaultRule{}, fmt.Errorf("fault rule: %w", err)
	}
	rule, err := w.rule()
	if err == nil {
		rule, err = rule.normalized(time.Time{})
	}
	if err != nil {
		return FaultRule{}, fmt.Errorf("fault rule: %w", err)
	}
	return rule, nil
}

func (w ruleJSON) rule() (FaultRule, error) {
	r := FaultRule{
		ID:          w.ID,
		Description: w.Description,
		Match:       FaultMatch(w.Match),
		Trigger:     FaultTrigger{Nth: w.Trigger.Nth, Count: w.Trigger.Count, Probability: w.Trigger.Probability},
		Action: FaultAction{
			Kind: ActionKind(w.Action.Kind), Status: w.Action.Status, Shape: BodyShape(w.Action.Shape),
			Code: w.Action.Code, Error: w.Action.Error, Message: w.Action.Message,
			RetryAfter: w.Action.RetryAfter, Drop: w.Action.Drop,
		},
	}
	var err error
	if r.Trigger.From, err = parseTime("trigger.from", w.Trigger.From); err != nil {
		return r, err
	}
	if r.Trigger.Until, err = parseTime("trigger.until", w.Trigger.Until); err != nil {
		return r, err
	}
	if w.Trigger.For != "" {
		if r.Trigger.For, err = parseDuration("trigger.for", w.Trigger.For); err != nil {
			return r, err
		}
	}
	if w.Action.Delay != "" {
		if r.Action.Delay, err = parseDuration("action.delay", w.Action.Delay); err != nil {
			return r, err
		}
	}
	return r, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, &ValidationError{Field: field, Msg: fmt.Sprintf("%q is not an RFC 3339 time such as 2025-01-31T09:00:00Z", s)}
	}
	return t, nil
}
