package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/d365s2s/d365/emulator"
)

func contactCount(t *testing.T, emu *emulator.Emulator, token string) int {
	t.Helper()
	res := callAPI(t, emu, token, http.MethodGet, "contacts?$select=lastname", "")
	if res.status != http.StatusOK {
		t.Fatalf("GET contacts: %d %s", res.status, res.message)
	}
	return len(res.body["value"].([]any))
}

func TestResetReturnsToTheSeededState(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	creds := emu.Credentials()
	cred := secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret)
	token := mustToken(t, emu, cred)
	if res := callAPI(t, emu, token, http.MethodPost, "contacts", `{"lastname":"Gone after reset"}`); res.status != http.StatusNoContent {
		t.Fatalf("create: %d", res.status)
	}
	app, _ := newApp(t, emu, "gone after reset", emulator.DefaultRoleName)
	if _, err := emu.RotateSigningKey(ctx); err != nil {
		t.Fatal(err)
	}
	emu.SetClockOffset(time.Minute)
	if err := emu.SetTokenLifetime(30 * time.Second); err != nil {
		t.Fatal(err)
	}

	if err := emu.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := emu.App(ctx, app.ClientID); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("app created before the reset: %v, want ErrNotFound", err)
	}
	if emu.ClockOffset() != 0 || emu.TokenLifetime() != emulator.DefaultTokenLifetime {
		t.Errorf("after reset: offset %v, lifetime %v; want 0 and the default", emu.ClockOffset(), emu.TokenLifetime())
	}
	// The token obtained before the reset still works: signing keys survive it.
	if n := contactCount(t, emu, token); n != 0 {
		t.Errorf("%d contacts after reset, want 0", n)
	}
	if keys := emu.SigningKeys(); len(keys) != 2 {
		t.Errorf("%d signing keys after reset, want both keys still published", len(keys))
	}
	// The seeded app still gets new tokens.
	if _, err := getToken(emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret)); err != nil {
		t.Errorf("seeded credentials after reset: %v", err)
	}
}

func TestSnapshotAndRestoreInMemory(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	ctx := context.Background()
	creds := emu.Credentials()
	token := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
	callAPI(t, emu, token, http.MethodPost, "contacts", `{"lastname":"Kept"}`)
	if err := emu.Snapshot(ctx, "one-contact"); err != nil {
		t.Fatal(err)
	}
	callAPI(t, emu, token, http.MethodPost, "contacts", `{"lastname":"Dropped"}`)
	if err := emu.SetApplicationUserEnabled(ctx, creds.ClientID, false); err != nil {
		t.Fatal(err)
	}

	if err := emu.Restore(ctx, "one-contact"); err != nil {
		t.Fatal(err)
	}
	if n := contactCount(t, emu, token); n != 1 {
		t.Errorf("%d contacts after restore, want 1", n)
	}
	names, err := emu.Snapshots()
	if err != nil || len(names) != 1 || names[0] != "one-contact" {
		t.Errorf("Snapshots = %v, %v", names, err)
	}
	if err := emu.RemoveSnapshot("one-contact"); err != nil {
		t.Fatal(err)
	}
	if err := emu.Restore(ctx, "one-contact"); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("restore of a removed snapshot: %v, want ErrNotFound", err)
	}
}

func TestSnapshotsAndSeedStateSurviveARestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	first, err := emulator.New(&emulator.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	app, _ := newApp(t, first, "made before the snapshot")
	if err := first.Snapshot(ctx, "with-app"); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := start(t, &emulator.Options{DataDir: dir})
	if _, err := second.App(ctx, app.ClientID); err != nil {
		t.Fatalf("app after restart: %v", err)
	}
	// Reset returns to the first start's seed, not to the state at the restart.
	if err := second.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := second.App(ctx, app.ClientID); !errors.Is(err, emulator.ErrNotFound) {
		t.Errorf("app after reset: %v, want ErrNotFound", err)
	}
	if names, err := second.Snapshots(); err != nil || len(names) != 1 || names[0] != "with-app" {
		t.Errorf("Snapshots after restart = %v, %v", names, err)
	}
	if err := second.Restore(ctx, "with-app"); err != nil {
		t.Fatal(err)
	}
	if _, err := second.App(ctx, app.ClientID); err != nil {
		t.Errorf("app after restoring the snapshot: %v", err)
	}
}

func TestTokenLifetimeAndClockOffset(t *testing.T) {
	t.Parallel()
	emu := start(t, &emulator.Options{TokenLifetime: 10 * time.Minute})
	creds := emu.Credentials()
	if err := emu.SetTokenLifetime(90 * time.Second); err != nil {
		t.Fatal(err)
	}
	emu.SetClockOffset(-3 * time.Hour)
	token := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
	c := claims(t, token)
	exp := time.Unix(int64(c["exp"].(float64)), 0)
	want := time.Now().Add(-3*time.Hour + 90*time.Second)
	if d := exp.Sub(want); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("exp = %v, want about %v (offset clock plus 90 s)", exp, want)
	}
	// The token is valid on the emulator's clock; moving the clock past exp expires it.
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
		t.Errorf("WhoAmI = %d", res.status)
	}
	emu.SetClockOffset(-3*time.Hour + 2*time.Minute)
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusUnauthorized {
		t.Errorf("WhoAmI after the clock passed exp = %d, want 401", res.status)
	}
}

// Reset swaps the fault rules back in one step: requests running during a reset always see the
// start's rule, and its "for" window is the one resolved at the start, not restarted.
func TestResetKeepsTheStartsFaultsInForce(t *testing.T) {
	t.Parallel()
	emu := start(t, &emulator.Options{Faults: []emulator.FaultRule{{
		ID:      "whoami-down",
		Match:   emulator.FaultMatch{Table: "WhoAmI"},
		Trigger: emulator.FaultTrigger{For: time.Hour},
		Action:  emulator.FaultAction{Kind: emulator.ActionError, Status: http.StatusServiceUnavailable},
	}}})
	ctx := context.Background()
	before := emu.Faults()
	if len(before) != 1 || before[0].Trigger.Until.IsZero() {
		t.Fatalf("start's rules = %+v, want one with its for resolved to an until", before)
	}
	creds := emu.Credentials()
	token := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))

	done := make(chan struct{})
	statuses := make(chan int, 1)
	go func() {
		defer close(statuses)
		for {
			select {
			case <-done:
				return
			default:
			}
			if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusServiceUnavailable {
				statuses <- res.status
				return
			}
		}
	}()
	for range 10 {
		if err := emu.Reset(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	if st, ok := <-statuses; ok {
		t.Errorf("a request during Reset got %d, want the start's fault (503) throughout", st)
	}
	after := emu.Faults()
	if len(after) != 1 || after[0].ID != "whoami-down" || !after[0].Trigger.Until.Equal(before[0].Trigger.Until) {
		t.Errorf("rules after Reset = %+v, want the start's rule with until %v", after, before[0].Trigger.Until)
	}
}

// Close waits for a snapshot being taken, instead of racing it over the snapshot map.
func TestCloseDuringSnapshot(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	snapped := make(chan error, 1)
	go func() { snapped <- emu.Snapshot(context.Background(), "during-close") }()
	if err := emu.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	<-snapped // succeeded before Close, or failed on the closed store; the race detector judges the rest
}
