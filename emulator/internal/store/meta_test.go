package store

import (
	"context"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// A module's metadata lives in the store's one metadata table under its namespace: it reads back
// what it wrote, never the store's own keys, and a restore brings back the snapshot's values.
func TestModuleMetaRoundTripsAndRestores(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := mustOpen(t, schema.Builtin())
	if got, err := s.Meta(ctx, "emulator"); err != nil || len(got) != 0 {
		t.Fatalf("Meta of a new store = %v, %v; want empty", got, err)
	}
	if err := s.SetMeta(ctx, "emulator", map[string]string{"seed": "in-progress"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "emulator", map[string]string{"seed": "scenario", "org_tenant_id": "t1"}); err != nil {
		t.Fatal(err)
	}
	sn, err := s.SnapshotInMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sn.Close() })
	if err := s.SetMeta(ctx, "emulator", map[string]string{"seed": "changed"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx, sn); err != nil {
		t.Fatal(err)
	}
	got, err := s.Meta(ctx, "emulator")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["seed"] != "scenario" || got["org_tenant_id"] != "t1" {
		t.Errorf("Meta after restore = %v, want the snapshot's seed=scenario org_tenant_id=t1", got)
	}
	for _, ns := range []string{"", "Emulator", "a.b"} {
		if _, err := s.Meta(ctx, ns); err == nil {
			t.Errorf("Meta(%q) accepted a namespace that could collide with the store's keys", ns)
		}
	}
}
