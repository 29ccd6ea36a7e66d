package identity

import (
	"context"
	"testing"
)

// TestReconcileSigningKeysAfterDatabaseReplaced simulates a restore of a snapshot taken before a
// rotation: the database loses the newer key and holds an older one the service never saw.
// Afterwards every key validates and the active key is unchanged.
func TestReconcileSigningKeysAfterDatabaseReplaced(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	before := e.issue(t, e.svc.Resource())
	_, err := e.svc.RotateSigningKey(ctx)
	must(t, err)
	active := e.svc.SigningKeys()[0]
	afterRotation := e.issue(t, e.svc.Resource())

	// A second service on the same database rotates once more: its key is "the snapshot's".
	other, err := New(ctx, openTestDB(t, e.dbPath), Options{BaseURL: e.svc.BaseURL(), Now: e.clock.Now})
	must(t, err)
	_, err = other.RotateSigningKey(ctx)
	must(t, err)
	fromSnapshot := other.SigningKeys()[0]
	snapshotToken, err := other.issueAccessToken(e.clock.Now(), Tenant{ID: testTenantID}, App{ClientID: testClientID, ObjectID: testObjectID}, e.svc.Resource(), "1")
	must(t, err)
	// The "restore" dropped the key e.svc made active.
	_, err = e.db.ExecContext(ctx, `DELETE FROM entra_signing_keys WHERE kid = ?`, active.KeyID)
	must(t, err)

	must(t, e.db.restored(ctx)) // the store tells the service of the restore

	keys := e.svc.SigningKeys()
	if len(keys) != 3 {
		t.Fatalf("%d published keys after reconciling, want 3 (two of the service, one of the database): %+v", len(keys), keys)
	}
	var activeKids []string
	for _, k := range keys {
		if k.Active {
			activeKids = append(activeKids, k.KeyID)
		}
	}
	if len(activeKids) != 1 || activeKids[0] != active.KeyID {
		t.Errorf("active keys %v, want only %s (the one signing before the restore)", activeKids, active.KeyID)
	}
	for name, raw := range map[string]string{"pre-rotation": before, "post-rotation": afterRotation, "snapshot": snapshotToken.raw} {
		if _, err := e.svc.ValidateAccessToken(raw); err != nil {
			t.Errorf("%s token after reconciling: %v", name, err)
		}
	}
	tok, err := e.svc.ValidateAccessToken(e.issue(t, e.svc.Resource()))
	must(t, err)
	if tok.KeyID != active.KeyID {
		t.Errorf("new tokens signed by %s, want %s", tok.KeyID, active.KeyID)
	}
	if tok.KeyID == fromSnapshot.KeyID {
		t.Error("new tokens are signed by the snapshot's key")
	}
	// The database agrees: a restart publishes the same keys.
	restarted, err := New(ctx, openTestDB(t, e.dbPath), Options{BaseURL: e.svc.BaseURL(), Now: e.clock.Now})
	must(t, err)
	if got := restarted.SigningKeys(); len(got) != 3 || got[0].KeyID != active.KeyID || !got[0].Active || got[1].Active || got[2].Active {
		t.Errorf("keys after restart = %+v, want three with only %s active", got, active.KeyID)
	}
}
