package store

import (
	"context"
	"database/sql"
	"fmt"
)

// maxTxStatements bounds the statements a transaction keeps prepared; a
// transaction that writes more shapes of rows runs the others unprepared.
const maxTxStatements = 128

// prepared returns the statement for query, prepared once per
// transaction: a changeset or a bulk message that writes many rows of one
// shape parses its SQL once. The statements close with the transaction.
func (tx *Tx) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := tx.stmts[query]; ok {
		return st, nil
	}
	if len(tx.stmts) >= maxTxStatements {
		return nil, nil
	}
	st, err := tx.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if tx.stmts == nil {
		tx.stmts = map[string]*sql.Stmt{}
	}
	tx.stmts[query] = st
	return st, nil
}

// exec runs a statement through the transaction's prepared statements,
// after the inserts that wait (insertbatch.go).
func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := tx.flushInserts(ctx); err != nil {
		return nil, err
	}
	return tx.execPrepared(ctx, query, args...)
}

// execPrepared is exec without running the waiting inserts first.
func (tx *Tx) execPrepared(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := tx.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return tx.tx.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// queryRow runs a one-row query through the transaction's prepared
// statements, after the inserts that wait (so that it sees them). A
// preparation error, or the failure of those inserts, comes back from Scan.
func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) rowScanner {
	if err := tx.flushInserts(ctx); err != nil {
		return errRow{err}
	}
	st, err := tx.prepared(ctx, query)
	if err != nil {
		return errRow{err}
	}
	if st == nil {
		return tx.tx.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// rowScanner is *sql.Row, or the failure to prepare one.
type rowScanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// nextVersion returns a new version number, greater than any before it,
// from the store's sequence kept in memory (guarded by writeMu, which the
// transaction holds): no query per row. The sequence is read on first use
// and written back once, before the commit (saveVersion).
func (tx *Tx) nextVersion(ctx context.Context) (int64, error) {
	s := tx.s
	if !s.seqValid {
		if err := tx.tx.QueryRowContext(ctx, `SELECT "value" FROM "_dv_sequence" WHERE "name" = 'version'`).Scan(&s.seq); err != nil {
			return 0, fmt.Errorf("store: next version: %w", err)
		}
		s.seqValid = true
	}
	s.seq++
	tx.versioned = true
	return s.seq, nil
}

// saveVersion writes the sequence back when the transaction took version
// numbers.
// It is the last statement before the commit, so it inserts the rows
// CreateBatched left waiting first, should a caller not have.
func (tx *Tx) saveVersion(ctx context.Context) error {
	if err := tx.FlushCreates(ctx); err != nil {
		return err
	}
	if !tx.versioned {
		return nil
	}
	if _, err := tx.tx.ExecContext(ctx, `UPDATE "_dv_sequence" SET "value" = ? WHERE "name" = 'version'`, tx.s.seq); err != nil {
		return fmt.Errorf("store: save the version sequence: %w", err)
	}
	return nil
}
