package cli

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/adminclient"
)

// TestEmulatorFaultAddCmdFlags: "d365 emulator fault add" turns its flags (or --json) into the
// fault rule the run function sends, and refuses a bad rule with exit 2 before any call.
func TestEmulatorFaultAddCmdFlags(t *testing.T) {
	tests := []struct {
		args    string
		want    emulator.FaultRule
		wantErr string
	}{
		{"--table contacts --method get,Post --nth 2 --count 3 --action THROTTLE --retry-after 5 --id r1 --description slow",
			emulator.FaultRule{ID: "r1", Description: "slow",
				Match:   emulator.FaultMatch{Table: "contacts", Methods: []string{"GET", "POST"}},
				Trigger: emulator.FaultTrigger{Nth: 2, Count: 3},
				Action:  emulator.FaultAction{Kind: emulator.ActionThrottle, RetryAfter: 5}}, ""},
		{"--action error --status 503 --probability 0.2 --shape Entra --code AADSTS7000222 --oauth-error invalid_client --message m --path /x --tenant t --app 11111111-2222-3333-4444-555555555555",
			emulator.FaultRule{
				Match:   emulator.FaultMatch{PathPrefix: "/x", TenantID: "t", AppID: "11111111-2222-3333-4444-555555555555"},
				Trigger: emulator.FaultTrigger{Probability: 0.2},
				Action: emulator.FaultAction{Kind: emulator.ActionError, Status: 503, Shape: emulator.BodyShape("entra"),
					Code: "AADSTS7000222", Error: "invalid_client", Message: "m"}}, ""},
		{"--action latency --delay 2s --for 1m", emulator.FaultRule{
			Trigger: emulator.FaultTrigger{For: time.Minute},
			Action:  emulator.FaultAction{Kind: emulator.ActionLatency, Delay: 2 * time.Second}}, ""},
		{"--action token-endpoint-down --drop", emulator.FaultRule{Action: emulator.FaultAction{Kind: emulator.ActionTokenEndpointDown, Drop: true}}, ""},
		{`--json {"match":{"table":"accounts"},"action":{"kind":"drop"}}`, emulator.FaultRule{
			Match: emulator.FaultMatch{Table: "accounts"}, Action: emulator.FaultAction{Kind: emulator.ActionDrop}}, ""},
		{`--json {} --table x`, emulator.FaultRule{}, "--json gives the whole rule: drop --table"},
		{`--json {`, emulator.FaultRule{}, "--json: unexpected end of JSON input"},
		{"--json @/nonexistent/rule.json", emulator.FaultRule{}, "--json @/nonexistent/rule.json: open"},
		{"--action explode", emulator.FaultRule{}, `--action "explode": use error, throttle, latency, drop, token-endpoint-down or expire-delta-token`},
		{"--table accounts --action expire-delta-token --nth 2", emulator.FaultRule{
			Match: emulator.FaultMatch{Table: "accounts"}, Trigger: emulator.FaultTrigger{Nth: 2},
			Action: emulator.FaultAction{Kind: emulator.ActionExpireDeltaToken}}, ""},
		{"", emulator.FaultRule{}, `--action "": use error`},
		{"--action error --status 200", emulator.FaultRule{}, "fault rule: "},
		{"extra --action drop", emulator.FaultRule{}, "d365 emulator fault add needs no arguments (the rule goes in flags)"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			f, _ := testFactory(outputJSON)
			var got any
			err := executeCmd(newCmdFaultAdd(f, captureAdmin[faultAddOptions](t, f, &got)), "emulator fault", strings.Fields(tt.args)...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.(faultAddOptions).Rule, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("rule (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmulatorTrafficCmdFlags parses the other traffic commands' command lines (fault list,
// remove, clear; log; reset; snapshot save, restore, list) through a capturing runF.
func TestEmulatorTrafficCmdFlags(t *testing.T) {
	logQuery := func(o any) any { return o.(logOptions).Query }
	same := func(o any) any { return o }
	tests := []struct {
		path    string
		newCmd  func(f *Factory, got *any) *cobra.Command
		args    string
		view    func(any) any // the part of the options to compare
		want    any
		wantErr string
	}{
		{"emulator fault", func(f *Factory, got *any) *cobra.Command {
			return newCmdFaultList(f, captureAdmin[faultListOptions](t, f, got))
		}, "", same, faultListOptions{}, ""},
		{"emulator fault", func(f *Factory, got *any) *cobra.Command {
			return newCmdFaultRemove(f, captureAdmin[faultRemoveOptions](t, f, got))
		}, "f1", same, faultRemoveOptions{ID: "f1"}, ""},
		{"emulator fault", func(f *Factory, got *any) *cobra.Command {
			return newCmdFaultRemove(f, captureAdmin[faultRemoveOptions](t, f, got))
		}, "", same, nil, "d365 emulator fault remove needs the rule's ID"},
		{"emulator fault", func(f *Factory, got *any) *cobra.Command {
			return newCmdFaultClear(f, captureAdmin[faultClearOptions](t, f, got))
		}, "", same, faultClearOptions{}, ""},
		{"emulator", func(f *Factory, got *any) *cobra.Command {
			return newCmdLog(f, captureAdmin[logOptions](t, f, got))
		}, "--refused --status 4xx --app a --path /api --after 7 --max 20", logQuery, adminclient.LogQuery{
			LogFilter: emulator.LogFilter{Refused: true, AppID: "a", PathPrefix: "/api", After: 7, Max: 20}, Statuses: "4xx"}, ""},
		{"emulator", func(f *Factory, got *any) *cobra.Command {
			return newCmdLog(f, captureAdmin[logOptions](t, f, got))
		}, "--after -3 --max -1", logQuery, adminclient.LogQuery{}, ""}, // negative means none, as before
		{"emulator", func(f *Factory, got *any) *cobra.Command {
			return newCmdLog(f, captureAdmin[logOptions](t, f, got))
		}, "--max many", logQuery, nil, `invalid argument "many" for "--max"`},
		{"emulator", func(f *Factory, got *any) *cobra.Command {
			return newCmdReset(f, captureAdmin[resetOptions](t, f, got))
		}, "", same, resetOptions{}, ""},
		{"emulator", func(f *Factory, got *any) *cobra.Command {
			return newCmdReset(f, captureAdmin[resetOptions](t, f, got))
		}, "now", same, nil, "d365 emulator reset needs no arguments"},
		{"emulator snapshot", func(f *Factory, got *any) *cobra.Command {
			return newCmdSnapshotSave(f, captureAdmin[snapshotOptions](t, f, got))
		}, "before", same, snapshotOptions{Name: "before"}, ""},
		{"emulator snapshot", func(f *Factory, got *any) *cobra.Command {
			return newCmdSnapshotRestore(f, captureAdmin[snapshotOptions](t, f, got))
		}, "before", same, snapshotOptions{Name: "before"}, ""},
		{"emulator snapshot", func(f *Factory, got *any) *cobra.Command {
			return newCmdSnapshotRestore(f, captureAdmin[snapshotOptions](t, f, got))
		}, "a b", same, nil, "d365 emulator snapshot restore needs a snapshot name (got 2 argument(s))"},
		{"emulator snapshot", func(f *Factory, got *any) *cobra.Command {
			return newCmdSnapshotList(f, captureAdmin[snapshotListOptions](t, f, got))
		}, "", same, snapshotListOptions{}, ""},
	}
	for _, tt := range tests {
		f, _ := testFactory(outputTable)
		var got any
		cmd := tt.newCmd(f, &got)
		t.Run(tt.path+" "+cmd.Name()+" "+tt.args, func(t *testing.T) {
			err := executeCmd(cmd, tt.path, strings.Fields(tt.args)...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v := tt.view(got); !reflect.DeepEqual(v, tt.want) {
				t.Errorf("options:\n got %+v\nwant %+v", v, tt.want)
			}
		})
	}
}
