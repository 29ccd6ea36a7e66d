package store

import (
	"context"
	"database/sql"
	"errors"
)

// ModuleTables is a module's way into the store's database for the tables the module keeps
// there (the token service's entra_* tables): reads, write transactions serialised with the
// store's own writes, and word of a restore. It is the only way into the database besides the
// store's own methods: the store owns the database, and what a module may do with it is this
// narrow surface.
type ModuleTables struct{ s *Store }

// ModuleTables returns the access a module that keeps tables in the store's database needs.
func (s *Store) ModuleTables() ModuleTables { return ModuleTables{s} }

// QueryContext runs a read query.
func (m ModuleTables) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return m.s.db.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a read query that returns at most one row.
func (m ModuleTables) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return m.s.db.QueryRowContext(ctx, query, args...)
}

// WriteTx runs fn in one write transaction, serialised with the store's writers: fn's error
// rolls it back, else it commits. fn must not call back into the store's write methods.
func (m ModuleTables) WriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return m.s.writeTx(ctx, fn)
}

// OnRestore registers fn to run after each successful Restore, once the restored data is in
// place: a module that keeps database content in memory (the token service's signing keys)
// brings it in line there, so that no caller of Restore has to remember to.
func (m ModuleTables) OnRestore(fn func(ctx context.Context) error) {
	m.s.restoreMu.Lock()
	defer m.s.restoreMu.Unlock()
	m.s.onRestore = append(m.s.onRestore, fn)
}

// AfterRestoreError is Restore's error when the data was restored but a module registered with
// OnRestore failed to bring itself in line.
type AfterRestoreError struct{ Err error }

func (e *AfterRestoreError) Error() string { return "store: after the restore: " + e.Err.Error() }

// Unwrap returns the modules' errors.
func (e *AfterRestoreError) Unwrap() error { return e.Err }

// notifyRestored runs the OnRestore hooks in the order they were registered.
func (s *Store) notifyRestored(ctx context.Context) error {
	s.restoreMu.Lock()
	hooks := append([]func(context.Context) error(nil), s.onRestore...)
	s.restoreMu.Unlock()
	var errs []error
	for _, fn := range hooks {
		if err := fn(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return &AfterRestoreError{errors.Join(errs...)}
	}
	return nil
}
