package identity

import (
	"context"
	"crypto/x509"
	"fmt"
)

// ReconcileSigningKeys is for callers that replace the database underneath a running service
// (the emulator's reset and snapshot restore). It makes the database hold every signing key the
// service publishes right now, keeps the key that signs new tokens the active one, and then
// publishes whatever the database holds (the union). Tokens signed before the replacement keep
// validating, tokens signed by keys of the restored state validate too, and new tokens keep the
// same signer, so a client's cached token survives a reset.
func (s *Service) ReconcileSigningKeys(ctx context.Context) error {
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	current := s.keys.Load()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("identity: reconcile signing keys: %w", err)
	}
	defer tx.Rollback()
	// Oldest first, so rowid order (which readKeySet uses, newest first) stays the creation order.
	for i := len(current.all) - 1; i >= 0; i-- {
		k := current.all[i]
		privDER, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			return fmt.Errorf("identity: reconcile signing keys: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO entra_signing_keys (kid, private_key, certificate, active, created_at)
			VALUES (?, ?, ?, 0, ?) ON CONFLICT (kid) DO NOTHING`, k.kid, privDER, k.cert.Raw, dbTime(k.created)); err != nil {
			return fmt.Errorf("identity: reconcile signing keys: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE entra_signing_keys SET active = (kid = ?)`, current.active.kid); err != nil {
		return fmt.Errorf("identity: reconcile signing keys: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("identity: reconcile signing keys: %w", err)
	}
	set, err := s.readKeySet(ctx)
	if err != nil {
		return err
	}
	s.keys.Store(set)
	return nil
}
