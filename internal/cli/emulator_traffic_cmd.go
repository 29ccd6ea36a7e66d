package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/adminclient"
)

var (
	faultColumns = []adminColumn[emulator.FaultStatus]{
		{"ID", func(f emulator.FaultStatus) any { return f.ID }},
		{"ACTION", func(f emulator.FaultStatus) any { return f.Action.Kind }},
		{"STATUS", func(f emulator.FaultStatus) any { return orNil(f.Action.Status) }},
		{"TABLE", func(f emulator.FaultStatus) any { return f.Match.Table }},
		{"PATH", func(f emulator.FaultStatus) any { return f.Match.PathPrefix }},
		{"METHODS", func(f emulator.FaultStatus) any { return joined(f.Match.Methods) }},
		{"MATCHED", func(f emulator.FaultStatus) any { return f.Matched }},
		{"FIRED", func(f emulator.FaultStatus) any { return f.Fired }},
	}
	logColumns = []adminColumn[emulator.LogEntry]{
		{"SEQ", func(e emulator.LogEntry) any { return e.Seq }},
		{"METHOD", func(e emulator.LogEntry) any { return e.Method }},
		{"PATH", func(e emulator.LogEntry) any { return e.Path }},
		{"STATUS", func(e emulator.LogEntry) any { return e.Status }},
		{"APP", func(e emulator.LogEntry) any { return e.AppID }},
		// As the admin API writes durationMs.
		{"MS", func(e emulator.LogEntry) any { return float64(e.Duration) / float64(time.Millisecond) }},
		{"CODE", func(e emulator.LogEntry) any { return e.Code }},
		{"REASON", func(e emulator.LogEntry) any { return e.Reason }},
	}
)

type faultAddOptions struct {
	id, description          string
	table, path, tenant, app string
	methods                  []string
	nth, count               int
	probability              float64
	forDuration              time.Duration
	action                   string
	status, retryAfter       int
	code, errorCode, message string
	shape                    string
	delay                    time.Duration
	drop                     bool
	ruleJSON                 string
}

func newEmulatorFaultCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fault",
		Short: "Fault rules of a running emulator: add, list, remove",
		Long: `Fault rules make a running emulator fail on purpose: an error status with a Dataverse- or
Entra-shaped body, a 429 with Retry-After, added latency, a dropped connection, or the token
endpoint down; on the nth matching call, for the next k calls, with a probability (seeded, so a
failure replays), or for a while.`,
		Args: exactArgs(0, "a subcommand (add, list, remove, clear)"),
	}
	o := &faultAddOptions{}
	add := &cobra.Command{
		Use:   "add --action KIND [match] [trigger]",
		Short: "Add a fault rule",
		Long: `Adds a fault rule. Match: --table (entity set, or WhoAmI, $batch), --path (URL path prefix),
--method, --tenant, --app. Trigger: --nth, --count, --probability, --for. Action: --action
error|throttle|latency|drop|token-endpoint-down with --status, --code, --message,
--retry-after, --delay. Or give the whole rule as JSON with --json (or --json @file), in the
form of the admin API (POST /_emulator/faults).`,
		Example: `  d365 emulator fault add --table contacts --method GET --nth 2 --count 3 --action throttle --retry-after 5
  d365 emulator fault add --table contacts --action error --status 503 --probability 0.2
  d365 emulator fault add --action latency --delay 2s --for 1m
  d365 emulator fault add --action token-endpoint-down
  d365 emulator fault add --json '{"match":{"table":"accounts"},"action":{"kind":"drop"}}'`,
		Args: exactArgs(0, "no arguments (the rule goes in flags)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			rule, err := o.rule(cmd)
			if err != nil {
				return err
			}
			var added emulator.FaultStatus
			if err := g.withAdmin(func(c adminClient) (err error) {
				added, err = c.AddFault(cmd.Context(), rule)
				return err
			}); err != nil {
				return err
			}
			return printAdminItem(g.streams, g.output, added, faultColumns)
		},
	}
	f := add.Flags()
	f.StringVar(&o.id, "id", "", "the rule's ID (default: f1, f2, …)")
	f.StringVar(&o.description, "description", "", "what the rule is for")
	f.StringVar(&o.table, "table", "", "match Web API requests on this entity set (contacts), function (WhoAmI) or $batch")
	f.StringVar(&o.path, "path", "", "match requests whose URL path starts with this, e.g. /api/data/v9.2/ or /<tenant>/oauth2/")
	f.StringSliceVar(&o.methods, "method", nil, "match these HTTP methods")
	f.StringVar(&o.tenant, "tenant", "", "match the caller's tenant")
	f.StringVar(&o.app, "app", "", "match the caller's app (client ID)")
	f.IntVar(&o.nth, "nth", 0, "first matching call that fires (1-based)")
	f.IntVar(&o.count, "count", 0, "how many calls fire from --nth on (-1: all)")
	f.Float64Var(&o.probability, "probability", 0, "fire each selected call with this probability (0 < p ≤ 1)")
	f.DurationVar(&o.forDuration, "for", 0, "fire only for this long from now")
	f.StringVar(&o.action, "action", "", "error, throttle, latency, drop or token-endpoint-down")
	f.IntVar(&o.status, "status", 0, "HTTP status of an error action (400-599)")
	f.StringVar(&o.code, "code", "", "error code: Dataverse's (0x80040216) or Entra's (AADSTS7000222)")
	f.StringVar(&o.errorCode, "oauth-error", "", "Entra's OAuth error of an Entra-shaped body (invalid_client)")
	f.StringVar(&o.message, "message", "", "error message")
	f.StringVar(&o.shape, "shape", "", "error body: dataverse or entra (default: by path and code)")
	f.IntVar(&o.retryAfter, "retry-after", 0, "Retry-After seconds")
	f.DurationVar(&o.delay, "delay", 0, "latency to add (on the Web API it holds the caller's concurrency slot and counts as execution time)")
	f.BoolVar(&o.drop, "drop", false, "token-endpoint-down: drop the connection instead of answering 503")
	f.StringVar(&o.ruleJSON, "json", "", "the whole rule as JSON, or @FILE")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the fault rules with how often each matched and fired",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var list adminclient.FaultList
			if err := g.withAdmin(func(c adminClient) (err error) {
				list, err = c.FaultList(cmd.Context())
				return err
			}); err != nil {
				return err
			}
			if g.output == outputTable {
				return writeAdminTable(g.streams, list.Faults, faultColumns)
			}
			return printAdminJSON(g.streams, list)
		},
	}
	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a fault rule",
		Args:  exactArgs(1, "the rule's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.withAdmin(func(c adminClient) error { return c.RemoveFault(cmd.Context(), args[0]) }); err != nil {
				return err
			}
			fmt.Fprintf(g.streams.ErrOut, "d365 emulator: removed fault rule %s\n", args[0])
			return nil
		},
	}
	clear := &cobra.Command{
		Use:   "clear",
		Short: "Remove every fault rule",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.withAdmin(func(c adminClient) error { return c.ClearFaults(cmd.Context()) }); err != nil {
				return err
			}
			fmt.Fprintln(g.streams.ErrOut, "d365 emulator: removed every fault rule")
			return nil
		},
	}
	cmd.AddCommand(add, list, remove, clear)
	return cmd
}

// actionKinds maps the CLI's action names to the emulator's.
var actionKinds = map[string]emulator.ActionKind{
	"error": emulator.ActionError, "throttle": emulator.ActionThrottle, "latency": emulator.ActionLatency,
	"drop": emulator.ActionDrop, "token-endpoint-down": emulator.ActionTokenEndpointDown, "tokenendpointdown": emulator.ActionTokenEndpointDown,
}

// rule builds the fault rule from the flags (or --json) and checks it before sending it.
func (o *faultAddOptions) rule(cmd *cobra.Command) (emulator.FaultRule, error) {
	var rule emulator.FaultRule
	if o.ruleJSON != "" {
		for _, name := range []string{"id", "description", "table", "path", "method", "tenant", "app", "nth", "count", "probability", "for",
			"action", "status", "code", "oauth-error", "message", "shape", "retry-after", "delay", "drop"} {
			if cmd.Flags().Changed(name) {
				return rule, usageError(fmt.Errorf("--json gives the whole rule: drop --%s", name))
			}
		}
		data := []byte(o.ruleJSON)
		if path, ok := strings.CutPrefix(o.ruleJSON, "@"); ok {
			var err error
			if data, err = os.ReadFile(path); err != nil {
				return rule, usageError(fmt.Errorf("--json %s: %w", o.ruleJSON, err))
			}
		}
		if err := json.Unmarshal(data, &rule); err != nil {
			return rule, usageError(fmt.Errorf("--json: %w", err))
		}
		return rule, nil
	}
	kind, ok := actionKinds[strings.ToLower(o.action)]
	if !ok {
		return rule, usageError(fmt.Errorf("--action %q: use error, throttle, latency, drop or token-endpoint-down", o.action))
	}
	methods := make([]string, len(o.methods))
	for i, m := range o.methods {
		methods[i] = strings.ToUpper(m)
	}
	rule = emulator.FaultRule{
		ID:          o.id,
		Description: o.description,
		Match:       emulator.FaultMatch{PathPrefix: o.path, Table: o.table, Methods: methods, TenantID: o.tenant, AppID: o.app},
		Trigger:     emulator.FaultTrigger{Nth: o.nth, Count: o.count, Probability: o.probability, For: o.forDuration},
		Action: emulator.FaultAction{
			Kind: kind, Status: o.status, Shape: emulator.BodyShape(strings.ToLower(o.shape)), Code: o.code, Error: o.errorCode,
			Message: o.message, RetryAfter: o.retryAfter, Delay: o.delay, Drop: o.drop,
		},
	}
	if err := rule.Validate(); err != nil {
		return rule, usageError(fmt.Errorf("fault rule: %w", err))
	}
	return rule, nil
}

func newEmulatorLogCmd(g *globalOptions) *cobra.Command {
	var (
		refused           bool
		status            string
		app, path         string
		after, maxEntries int
	)
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the request log: every request, and why each refused one was refused",
		Long: `Prints the emulator's request log, oldest first: method, path, status, app, duration, and for every
401, 403, 429 and injected fault the reason in words and the error code. Tokens, secrets and
bodies are never logged.`,
		Example: `  d365 emulator log --refused -o table
  d365 emulator log --status 429 --app $AZURE_CLIENT_ID`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := adminclient.LogQuery{
				LogFilter: emulator.LogFilter{Refused: refused, AppID: app, PathPrefix: path, Max: max(maxEntries, 0)},
				Statuses:  status,
			}
			if after > 0 {
				q.After = uint64(after)
			}
			var entries []emulator.LogEntry
			if err := g.withAdmin(func(c adminClient) (err error) {
				entries, err = c.Log(cmd.Context(), q)
				return err
			}); err != nil {
				return err
			}
			if g.output == outputTable {
				return writeAdminTable(g.streams, entries, logColumns)
			}
			return printAdminJSON(g.streams, struct {
				Entries []emulator.LogEntry `json:"entries"`
			}{entries})
		},
	}
	cmd.Flags().BoolVar(&refused, "refused", false, "only refusals and failures (status >= 400, dropped, faulted)")
	cmd.Flags().StringVar(&status, "status", "", "only these statuses: 429, 401,403 or 4xx")
	cmd.Flags().StringVar(&app, "app", "", "only this app's requests (client ID)")
	cmd.Flags().StringVar(&path, "path", "", "only paths starting with this")
	cmd.Flags().IntVar(&after, "after", 0, "only entries after this sequence number")
	cmd.Flags().IntVar(&maxEntries, "max", 0, "at most this many entries")
	return cmd
}

func newEmulatorResetCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "reset",
		Short: "Return a running emulator to its seeded state",
		Long: `Returns the emulator to the state right after its first start (the default seed or the
scenario): apps, users, roles and records made since are gone, the clock offset and token
lifetime are back, the limits and fault rules are the start's, the request log is empty.
Signing keys stay published, so tokens clients hold keep working.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.withAdmin(func(c adminClient) error { return c.Reset(cmd.Context()) }); err != nil {
				return err
			}
			fmt.Fprintln(g.streams.ErrOut, "d365 emulator: reset to the seeded state")
			return nil
		},
	}
}

func newEmulatorSnapshotCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Save and restore the whole state of a running emulator by name",
		Args:  exactArgs(0, "a subcommand (save, restore, list)"),
	}
	save := &cobra.Command{
		Use:   "save NAME",
		Short: "Save the emulator's state under NAME (replacing a snapshot of that name)",
		Args:  exactArgs(1, "a snapshot name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.withAdmin(func(c adminClient) error { return c.Snapshot(cmd.Context(), args[0]) }); err != nil {
				return err
			}
			fmt.Fprintf(g.streams.ErrOut, "d365 emulator: saved snapshot %s\n", args[0])
			return nil
		},
	}
	restore := &cobra.Command{
		Use:   "restore NAME",
		Short: "Replace the emulator's state with the snapshot NAME, all at once",
		Args:  exactArgs(1, "a snapshot name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.withAdmin(func(c adminClient) error { return c.Restore(cmd.Context(), args[0]) }); err != nil {
				return err
			}
			fmt.Fprintf(g.streams.ErrOut, "d365 emulator: restored snapshot %s\n", args[0])
			return nil
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the saved snapshots",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var names []string
			if err := g.withAdmin(func(c adminClient) (err error) {
				names, err = c.Snapshots(cmd.Context())
				return err
			}); err != nil {
				return err
			}
			if g.output == outputTable {
				for _, n := range names {
					fmt.Fprintln(g.streams.Out, n)
				}
				return nil
			}
			return printAdminJSON(g.streams, names)
		},
	}
	cmd.AddCommand(save, restore, list)
	return cmd
}
