package emulator_test

import (
	"context"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// A restart on a data directory hands out credentials the stored state accepts: the scenario's
// random tenant and client IDs were drawn on the first start and are not drawn again; without the
// scenario the app is still named, and the secret is left empty (it is stored hashed) rather than
// made up.
func TestRestartCredentialsAreTheStoredState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	sc := randomTenantScenario(t, "restart")
	first, err := emulator.New(&emulator.Options{DataDir: dir, Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	want := first.Credentials()
	first.Close()

	// Again with the scenario: the same IDs, and the scenario's secret, which still works.
	again, err := emulator.New(&emulator.Options{DataDir: dir, Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	got := again.Credentials()
	if got.TenantID != want.TenantID || got.ClientID != want.ClientID || got.ClientSecret != want.ClientSecret {
		t.Errorf("restart with the scenario: credentials %v, want %v (the stored state's)", got, want)
	}
	mustToken(t, again, secretCredential(t, again, got.TenantID, got.ClientID, got.ClientSecret))
	again.Close()

	// Without the scenario: the same app and tenant; no secret, since none is known.
	bare, err := emulator.New(&emulator.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	got = bare.Credentials()
	if got.TenantID != want.TenantID || got.ClientID != want.ClientID {
		t.Errorf("restart without the scenario: tenant %q client %q, want %q %q", got.TenantID, got.ClientID, want.TenantID, want.ClientID)
	}
	if got.ClientSecret != "" {
		t.Error("restart without the scenario printed a secret it cannot know")
	}
	// The way out the CLI prints: a new secret for that app works.
	_, value, err := bare.AddSecret(ctx, got.ClientID, emulator.NewSecret{})
	if err != nil {
		t.Fatal(err)
	}
	mustToken(t, bare, secretCredential(t, bare, got.TenantID, got.ClientID, value))
}

// A restart of the default seed whose secret was removed does not print the removed secret.
func TestRestartCredentialsDropARemovedDefaultSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	first, err := emulator.New(&emulator.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.RemoveSecret(ctx, emulator.DefaultClientID, emulator.DefaultClientSecretID); err != nil {
		t.Fatal(err)
	}
	first.Close()
	second := start(t, &emulator.Options{DataDir: dir})
	if got := second.Credentials(); got.ClientID != emulator.DefaultClientID || got.ClientSecret != "" {
		t.Errorf("credentials %v, want the default app without a secret", got)
	}
}
