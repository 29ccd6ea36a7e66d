package identity

import (
	"context"
	"database/sql"
)

// Storage is what the token service needs of the database it shares with the emulator's store
// (its tables are named entra_*): reads, write transactions serialised with the owner's other
// writers, and word when the database is replaced underneath the service (a restore), so the
// service brings its published signing keys in line itself. The emulator passes
// (*store.Store).ModuleTables().
type Storage interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	// WriteTx runs fn in one write transaction: fn's error rolls it back, else it commits.
	WriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error
	// OnRestore registers fn to run after the database has been replaced by a restore.
	OnRestore(fn func(ctx context.Context) error)
}

// exec runs one write statement in its own transaction.
func (s *Service) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
