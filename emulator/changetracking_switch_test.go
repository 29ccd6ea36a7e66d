package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/adminclient"
)

func wantNotEnabled(t *testing.T, r ctResponse, what string) {
	t.Helper()
	code, msg := r.errorCode()
	const want = "Entity account isn't enabled for change tracking."
	if r.status != http.StatusBadRequest || code != "0x80072491" || msg != want {
		t.Errorf("%s: %d %s %q, want 400 0x80072491 %q", what, r.status, code, msg, want)
	}
}

func (a *ctAPI) changeTrackingEnabled(table string) bool {
	a.t.Helper()
	r := a.do(http.MethodGet, "EntityDefinitions(LogicalName='"+table+"')?$select=ChangeTrackingEnabled", "", "")
	on, ok := r.body["ChangeTrackingEnabled"].(bool)
	if r.status != http.StatusOK || !ok {
		a.t.Fatalf("EntityDefinitions(%s): %d %s", table, r.status, r.raw)
	}
	return on
}

// TestChangeTrackingSwitchedOffAndOn: switching a table's change tracking off refuses every
// change-tracking read of it, a saved delta link included, with 0x80072491; switching it on
// again expires the tokens taken before (the deletes made while it was off were not kept), and
// a new full load gives a delta link that returns the changes made after it.
func TestChangeTrackingSwitchedOffAndOn(t *testing.T) {
	a := newCTAPI(t, nil)
	emu := a.env.Emulator
	ctx := context.Background()
	keep := a.create("accounts", map[string]any{"name": "keep"})
	gone := a.create("accounts", map[string]any{"name": "gone"})
	old := a.deltaLinkOf("accounts", "?$select=name")

	if err := emu.SetChangeTracking(ctx, "account", false); err != nil {
		t.Fatal(err)
	}
	if on, err := emu.ChangeTracking("account"); err != nil || on {
		t.Fatalf("ChangeTracking(account) after switching off = %v, %v; want false", on, err)
	}
	if a.changeTrackingEnabled("account") {
		t.Error("EntityDefinitions(account) ChangeTrackingEnabled = true after switching off")
	}
	a.remove("accounts", gone) // not tracked: its delete is not kept
	wantNotEnabled(t, a.do(http.MethodGet, old, "", ""), "the saved delta link with tracking off")
	wantNotEnabled(t, a.do(http.MethodGet, countLink(old), "", ""), "$count with tracking off")
	wantNotEnabled(t, a.do(http.MethodGet, "accounts?$select=name", "odata.track-changes", ""), "a new tracked load with tracking off")
	if r := a.do(http.MethodGet, "accounts?$select=name", "", ""); r.status != http.StatusOK || len(r.value()) != 1 {
		t.Errorf("a plain read with tracking off: %d %s, want the one account left", r.status, r.raw)
	}

	if err := emu.SetChangeTracking(ctx, "account", true); err != nil {
		t.Fatal(err)
	}
	if !a.changeTrackingEnabled("account") {
		t.Error("EntityDefinitions(account) ChangeTrackingEnabled = false after switching on")
	}
	// The old token would miss the delete made while tracking was off: it is expired.
	wantExpired(t, a.do(http.MethodGet, old, "", ""), "a token taken before tracking was switched off and on")
	wantExpired(t, a.do(http.MethodGet, countLink(old), "", ""), "$count of that token")

	fresh := a.deltaLinkOf("accounts", "?$select=name")
	a.update("accounts", keep, map[string]any{"name": "kept"})
	added := a.create("accounts", map[string]any{"name": "added"})
	a.remove("accounts", added)
	entries, _, _ := a.readAll(a.do(http.MethodGet, fresh, "", ""), "accounts", "", nil)
	var got []string
	for _, e := range entries {
		op := "upsert "
		if e.deleted {
			op = "delete "
		}
		got = append(got, op+e.id)
	}
	want := []string{"upsert " + keep, "delete " + added}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("delta after switching on = %v, want %v", got, want)
	}

	// Switching to the state a table is in changes nothing: the fresh token stays valid.
	if err := emu.SetChangeTracking(ctx, "account", true); err != nil {
		t.Fatal(err)
	}
	if r := a.do(http.MethodGet, fresh, "", ""); r.status != http.StatusOK {
		t.Errorf("the fresh token after switching on twice: %d %s, want 200", r.status, r.raw)
	}

	// Reset returns every table to its schema's switch.
	if err := emu.SetChangeTracking(ctx, "account", false); err != nil {
		t.Fatal(err)
	}
	if err := emu.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if on, _ := emu.ChangeTracking("account"); !on {
		t.Error("after Reset account's change tracking is off; want the schema's on")
	}
}

// TestChangeTrackingSwitchThroughTheAdminAPI switches tracking with adminclient and checks the
// refusals of names that are not a trackable table.
func TestChangeTrackingSwitchThroughTheAdminAPI(t *testing.T) {
	a := newCTAPI(t, nil)
	ctx := context.Background()
	admin, err := adminclient.New(a.env.Emulator.URL(), a.env.Emulator.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.SetChangeTracking(ctx, "task", true); err != nil {
		t.Fatal(err)
	}
	if on, err := admin.ChangeTracking(ctx, "task"); err != nil || !on {
		t.Errorf("admin ChangeTracking(task) = %v, %v; want true after switching on", on, err)
	}
	if r := a.do(http.MethodGet, "tasks?$select=subject", "odata.track-changes", ""); r.status != http.StatusOK || r.header.Get("Preference-Applied") != "odata.track-changes" {
		t.Errorf("a tracked read of tasks after switching on: %d %s", r.status, r.raw)
	}
	if err := admin.SetChangeTracking(ctx, "account", false); err != nil {
		t.Fatal(err)
	}
	wantNotEnabled(t, a.do(http.MethodGet, "accounts?$select=name", "odata.track-changes", ""), "accounts switched off through the admin API")

	for _, tc := range []struct {
		table string
		kind  error
	}{
		{"accounts", emulator.ErrNotFound}, // the entity set, not the logical name
		{"Account", emulator.ErrNotFound},
		{"nosuchtable", emulator.ErrNotFound},
	} {
		err := a.env.Emulator.SetChangeTracking(ctx, tc.table, true)
		if !errors.Is(err, tc.kind) {
			t.Errorf("SetChangeTracking(%q) = %v, want %v", tc.table, err, tc.kind)
		}
		if err := admin.SetChangeTracking(ctx, tc.table, true); err == nil {
			t.Errorf("admin SetChangeTracking(%q) succeeded; want a refusal", tc.table)
		}
	}
}
