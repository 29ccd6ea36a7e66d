package identity

import (
	"context"
	"crypto/x509"
	"database/sql"
	"fmt"
)

// reconcileSigningKeys runs when the storage tells the service its database was replaced
// underneath it (the emulator's reset and snapshot restore; see Storage.OnRestore). It makes the database hold every signing key the
// service publishes right now, keeps the key that signs new tokens the active one, and then
// publishes whatever the database holds (the union). Tokens signed before the replacement keep
// validating, tokens signed by keys of the restored state validate too, and new tokens keep the
// same signer, so a client's cached token survives a reset.
func (s *Service) reconcileSigningKeys(ctx context.Context) error {
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	current := s.keys.Load()
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		// Oldest first, so rowid order (which readKeySet uses, newest first) stays the creation order.
		for i := len(current.all) - 1; i >= 0; i-- {
			k := current.all[i]
			privDER, err := x509.MarshalPKCS8PrivateKey(k.priv)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO entra_signing_keys (kid, private_key, certificate, active, created_at)
				VALUES (?, ?, ?, 0, ?) ON CONFLICT (kid) DO NOTHING`, k.kid, privDER, k.cert.Raw, dbTime(k.created)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE entra_signing_keys SET active = (kid = ?)`, current.active.kid)
		return err
	})
	if err != nil {
		return fmt.Errorf("identity: reconcile signing keys: %w", err)
	}
	set, err := s.readKeySet(ctx)
	if err != nil {
		return err
	}
	s.keys.Store(set)
	return nil
}
