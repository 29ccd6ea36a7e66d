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

// faultAddOptions are the inputs of "d365 emulator fault add": the flags, and the rule they
// make (checked before runF).
type faultAddOptions struct {
	adminIO
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

	Rule emulator.FaultRule
}

// newCmdFault returns "d365 emulator fault", the group of its subcommands.
func newCmdFault(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fault",
		Short: "Fault rules of a running emulator: add, list, remove",
		Long: `Fault rules make a running emulator fail on purpose: an error status with a Dataverse- or
Entra-shaped body, a 429 with Retry-After, added latency, a dropped connection, or the token
endpoint down; on the nth matching call, for the next k calls, with a probability (seeded, so a
failure replays), or for a while.`,
		Args: exactArgs(0, "a subcommand (add, list, remove, clear)"),
	}
	cmd.AddCommand(newCmdFaultAdd(f, nil), newCmdFaultList(f, nil), newCmdFaultRemove(f, nil), newCmdFaultClear(f, nil))
	return cmd
}

// newCmdFaultAdd returns "d365 emulator fault add". runF, when not nil, replaces faultAddRun
// (tests).
func newCmdFaultAdd(f *Factory, runF func(*faultAddOptions) error) *cobra.Command {
	o := &faultAddOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, faultAddRun)
	add := &cobra.Command{
		Use:   "add --action KIND [match] [trigger]",
		Short: "Add a fault rule",
		Long: `Adds a fault rule. Match: --table (entity set, or WhoAmI, $batch), --path (URL path prefix),
--method, --tenant, --app. Trigger: --nth, --count, --probability, --for. Action: --action
error|throttle|latency|drop|token-endpoint-down|expire-delta-token with --status, --code, --message,
--retry-after, --delay. Or give the whole rule as JSON with --json (or --json @file), in the
form of the admin API (POST /_emulator/faults).`,
		Example: `  d365 emulator fault add --table contacts --method GET --nth 2 --count 3 --action throttle --retry-after 5
  d365 emulator fault add --table contacts --action error --status 503 --probability 0.2
  d365 emulator fault add --action latency --delay 2s --for 1m
  d365 emulator fault add --action token-endpoint-down
  d365 emulator fault add --table accounts --action expire-delta-token --nth 2
  d365 emulator fault add --json '{"match":{"table":"accounts"},"action":{"kind":"drop"}}'`,
		Args: exactArgs(0, "no arguments (the rule goes in flags)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			rule, err := o.rule(cmd)
			if err != nil {
				return err
			}
			o.Rule = rule
			o.start(cmd, f)
			return run(o)
		},
	}
	fs := add.Flags()
	fs.StringVar(&o.id, "id", "", "the rule's ID (default: f1, fs, …)")
	fs.StringVar(&o.description, "description", "", "what the rule is for")
	fs.StringVar(&o.table, "table", "", "match Web API requests on this entity set (contacts), function (WhoAmI) or $batch")
	fs.StringVar(&o.path, "path", "", "match requests whose URL path starts with this, e.g. /api/data/v9.2/ or /<tenant>/oauth2/")
	fs.StringSliceVar(&o.methods, "method", nil, "match these HTTP methods")
	fs.StringVar(&o.tenant, "tenant", "", "match the caller's tenant")
	fs.StringVar(&o.app, "app", "", "match the caller's app (client ID)")
	fs.IntVar(&o.nth, "nth", 0, "first matching call that fires (1-based)")
	fs.IntVar(&o.count, "count", 0, "how many calls fire from --nth on (-1: all)")
	fs.Float64Var(&o.probability, "probability", 0, "fire each selected call with this probability (0 < p ≤ 1)")
	fs.DurationVar(&o.forDuration, "for", 0, "fire only for this long from now")
	fs.StringVar(&o.action, "action", "", "error, throttle, latency, drop, token-endpoint-down or expire-delta-token")
	fs.IntVar(&o.status, "status", 0, "HTTP status of an error action (400-599)")
	fs.StringVar(&o.code, "code", "", "error code: Dataverse's (0x80040216) or Entra's (AADSTS7000222)")
	fs.StringVar(&o.errorCode, "oauth-error", "", "Entra's OAuth error of an Entra-shaped body (invalid_client)")
	fs.StringVar(&o.message, "message", "", "error message")
	fs.StringVar(&o.shape, "shape", "", "error body: dataverse or entra (default: by path and code)")
	fs.IntVar(&o.retryAfter, "retry-after", 0, "Retry-After seconds")
	fs.DurationVar(&o.delay, "delay", 0, "latency to add (on the Web API it holds the caller's concurrency slot and counts as execution time)")
	fs.BoolVar(&o.drop, "drop", false, "token-endpoint-down: drop the connection instead of answering 503")
	fs.StringVar(&o.ruleJSON, "json", "", "the whole rule as JSON, or @FILE")
	return add
}

// faultAddRun adds the rule and prints it.
func faultAddRun(opts *faultAddOptions) error {
	var added emulator.FaultStatus
	if err := opts.call(func(c adminClient) (err error) {
		added, err = c.AddFault(opts.Context, opts.Rule)
		return err
	}); err != nil {
		return err
	}
	return printAdminItem(opts.IO, opts.Output, added, faultColumns)
}

// faultListOptions are the inputs of "d365 emulator fault list".
type faultListOptions struct {
	adminIO
}

// newCmdFaultList returns "d365 emulator fault list". runF, when not nil, replaces
// faultListRun (tests).
func newCmdFaultList(f *Factory, runF func(*faultListOptions) error) *cobra.Command {
	opts := &faultListOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, faultListRun)
	return &cobra.Command{
		Use:   "list",
		Short: "List the fault rules with how often each matched and fired",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// faultListRun lists the fault rules.
func faultListRun(opts *faultListOptions) error {
	var list adminclient.FaultList
	if err := opts.call(func(c adminClient) (err error) {
		list, err = c.FaultList(opts.Context)
		return err
	}); err != nil {
		return err
	}
	if opts.Output == outputTable {
		return writeAdminTable(opts.IO, list.Faults, faultColumns)
	}
	return printAdminValue(opts.IO, opts.Output, list)
}

// faultRemoveOptions are the inputs of "d365 emulator fault remove".
type faultRemoveOptions struct {
	adminIO
	ID string
}

// newCmdFaultRemove returns "d365 emulator fault remove". runF, when not nil, replaces
// faultRemoveRun (tests).
func newCmdFaultRemove(f *Factory, runF func(*faultRemoveOptions) error) *cobra.Command {
	opts := &faultRemoveOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, faultRemoveRun)
	return &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a fault rule",
		Args:  exactArgs(1, "the rule's ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// faultRemoveRun removes the rule and says so on stderr.
func faultRemoveRun(opts *faultRemoveOptions) error {
	if err := opts.call(func(c adminClient) error { return c.RemoveFault(opts.Context, opts.ID) }); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "d365 emulator: removed fault rule %s\n", opts.ID)
	return nil
}

// faultClearOptions are the inputs of "d365 emulator fault clear".
type faultClearOptions struct {
	adminIO
}

// newCmdFaultClear returns "d365 emulator fault clear". runF, when not nil, replaces
// faultClearRun (tests).
func newCmdFaultClear(f *Factory, runF func(*faultClearOptions) error) *cobra.Command {
	opts := &faultClearOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, faultClearRun)
	return &cobra.Command{
		Use:   "clear",
		Short: "Remove every fault rule",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// faultClearRun removes every rule and says so on stderr.
func faultClearRun(opts *faultClearOptions) error {
	if err := opts.call(func(c adminClient) error { return c.ClearFaults(opts.Context) }); err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.ErrOut, "d365 emulator: removed every fault rule")
	return nil
}

// actionKinds maps the CLI's action names to the emulator's.
var actionKinds = map[string]emulator.ActionKind{
	"error": emulator.ActionError, "throttle": emulator.ActionThrottle, "latency": emulator.ActionLatency,
	"drop": emulator.ActionDrop, "token-endpoint-down": emulator.ActionTokenEndpointDown, "tokenendpointdown": emulator.ActionTokenEndpointDown,
	"expire-delta-token": emulator.ActionExpireDeltaToken, "expiredeltatoken": emulator.ActionExpireDeltaToken,
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
		return rule, usageError(fmt.Errorf("--action %q: use error, throttle, latency, drop, token-endpoint-down or expire-delta-token", o.action))
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

// logOptions are the inputs of "d365 emulator log": the flags, and the query they make.
type logOptions struct {
	adminIO
	refused           bool
	status            string
	app, path         string
	after, maxEntries int

	Query adminclient.LogQuery
}

// newCmdLog returns "d365 emulator log". runF, when not nil, replaces logRun (tests).
func newCmdLog(f *Factory, runF func(*logOptions) error) *cobra.Command {
	opts := &logOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, logRun)
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
			opts.Query = adminclient.LogQuery{
				LogFilter: emulator.LogFilter{Refused: opts.refused, AppID: opts.app, PathPrefix: opts.path, Max: max(opts.maxEntries, 0)},
				Statuses:  opts.status,
			}
			if opts.after > 0 {
				opts.Query.After = uint64(opts.after)
			}
			opts.start(cmd, f)
			return run(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.refused, "refused", false, "only refusals and failures (status >= 400, dropped, faulted)")
	cmd.Flags().StringVar(&opts.status, "status", "", "only these statuses: 429, 401,403 or 4xx")
	cmd.Flags().StringVar(&opts.app, "app", "", "only this app's requests (client ID)")
	cmd.Flags().StringVar(&opts.path, "path", "", "only paths starting with this")
	cmd.Flags().IntVar(&opts.after, "after", 0, "only entries after this sequence number")
	cmd.Flags().IntVar(&opts.maxEntries, "max", 0, "at most this many entries")
	return cmd
}

// logRun reads the log and prints it.
func logRun(opts *logOptions) error {
	var entries []emulator.LogEntry
	if err := opts.call(func(c adminClient) (err error) {
		entries, err = c.Log(opts.Context, opts.Query)
		return err
	}); err != nil {
		return err
	}
	if opts.Output == outputTable {
		return writeAdminTable(opts.IO, entries, logColumns)
	}
	return printAdminValue(opts.IO, opts.Output, struct {
		Entries []emulator.LogEntry `json:"entries"`
	}{entries})
}

// resetOptions are the inputs of "d365 emulator reset".
type resetOptions struct {
	adminIO
}

// newCmdReset returns "d365 emulator reset". runF, when not nil, replaces resetRun (tests).
func newCmdReset(f *Factory, runF func(*resetOptions) error) *cobra.Command {
	opts := &resetOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, resetRun)
	return &cobra.Command{
		Use:   "reset",
		Short: "Return a running emulator to its seeded state",
		Long: `Returns the emulator to the state right after its first start (the default seed or the
scenario): apps, users, roles and records made since are gone, the clock offset and token
lifetime are back, the limits and fault rules are the start's, the request log is empty.
Signing keys stay published, so tokens clients hold keep working.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// resetRun resets the emulator and says so on stderr.
func resetRun(opts *resetOptions) error {
	if err := opts.call(func(c adminClient) error { return c.Reset(opts.Context) }); err != nil {
		return err
	}
	fmt.Fprintln(opts.IO.ErrOut, "d365 emulator: reset to the seeded state")
	return nil
}

// newCmdSnapshot returns "d365 emulator snapshot", the group of its subcommands.
func newCmdSnapshot(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Save and restore the whole state of a running emulator by name",
		Args:  exactArgs(0, "a subcommand (save, restore, list)"),
	}
	cmd.AddCommand(newCmdSnapshotSave(f, nil), newCmdSnapshotRestore(f, nil), newCmdSnapshotList(f, nil))
	return cmd
}

// snapshotOptions are the inputs of "d365 emulator snapshot save" and "snapshot restore".
type snapshotOptions struct {
	adminIO
	Name string
}

// newCmdSnapshotSave returns "d365 emulator snapshot save". runF, when not nil, replaces
// snapshotSaveRun (tests).
func newCmdSnapshotSave(f *Factory, runF func(*snapshotOptions) error) *cobra.Command {
	opts := &snapshotOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, snapshotSaveRun)
	return &cobra.Command{
		Use:   "save NAME",
		Short: "Save the emulator's state under NAME (replacing a snapshot of that name)",
		Args:  exactArgs(1, "a snapshot name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// snapshotSaveRun saves the snapshot and says so on stderr.
func snapshotSaveRun(opts *snapshotOptions) error {
	if err := opts.call(func(c adminClient) error { return c.Snapshot(opts.Context, opts.Name) }); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "d365 emulator: saved snapshot %s\n", opts.Name)
	return nil
}

// newCmdSnapshotRestore returns "d365 emulator snapshot restore". runF, when not nil, replaces
// snapshotRestoreRun (tests).
func newCmdSnapshotRestore(f *Factory, runF func(*snapshotOptions) error) *cobra.Command {
	opts := &snapshotOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, snapshotRestoreRun)
	return &cobra.Command{
		Use:   "restore NAME",
		Short: "Replace the emulator's state with the snapshot NAME, all at once",
		Args:  exactArgs(1, "a snapshot name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// snapshotRestoreRun restores the snapshot and says so on stderr.
func snapshotRestoreRun(opts *snapshotOptions) error {
	if err := opts.call(func(c adminClient) error { return c.Restore(opts.Context, opts.Name) }); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "d365 emulator: restored snapshot %s\n", opts.Name)
	return nil
}

// snapshotListOptions are the inputs of "d365 emulator snapshot list".
type snapshotListOptions struct {
	adminIO
}

// newCmdSnapshotList returns "d365 emulator snapshot list". runF, when not nil, replaces
// snapshotListRun (tests).
func newCmdSnapshotList(f *Factory, runF func(*snapshotListOptions) error) *cobra.Command {
	opts := &snapshotListOptions{adminIO: newAdminIO(f)}
	run := runOrDefault(runF, snapshotListRun)
	return &cobra.Command{
		Use:   "list",
		Short: "List the saved snapshots",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.start(cmd, f)
			return run(opts)
		},
	}
}

// snapshotListRun lists the snapshots: JSON, or a name per line with -o table.
func snapshotListRun(opts *snapshotListOptions) error {
	var names []string
	if err := opts.call(func(c adminClient) (err error) {
		names, err = c.Snapshots(opts.Context)
		return err
	}); err != nil {
		return err
	}
	if opts.Output == outputTable {
		for _, n := range names {
			fmt.Fprintln(opts.IO.Out, n)
		}
		return nil
	}
	return printAdminValue(opts.IO, opts.Output, names)
}
