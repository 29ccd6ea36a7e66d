package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"
)

// A cancelled request must leave its pooled connection as it found it.
//
// SQLite remembers, per connection, that the busy handler declined to wait for a lock (returned
// 0): from then on a lock the connection cannot take fails at once with SQLITE_BUSY, without
// asking the handler again, until its next sqlite3_prepare ends. modernc.org/sqlite's handler
// declines as soon as the context of the waiting call is done. In memory every reader waits
// while a write transaction is open, so a request cancelled while its read waited for the lock
// (a client killed with bulk writes in flight) left its connection with the handler switched
// off; the next request on that connection whose prepare had to read the schema while a writer
// held the lock failed at once with "database is locked", a 500 to a client that had done
// nothing wrong, instead of waiting busy_timeout.
//
// So a connection on which a call failed is reset before it is used again: PRAGMA busy_timeout
// installs the busy handler afresh (sqlite3_busy_timeout calls sqlite3_busy_handler, which
// clears the declined state; the driver installs its context-aware handler again on its next
// call with a context). Calls that succeed, the common case, cost nothing more.

// sqliteConn is what the store uses of a modernc.org/sqlite driver connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	backupConn
}

// resettingConn is a driver connection that resets its busy handler after a failed call, and
// passes an in-memory store's reads and write transactions through its gate (readgate.go).
type resettingConn struct {
	sqliteConn
	// reset is the PRAGMA that installs the busy handler with the store's timeout.
	reset string
	// gate is the in-memory store's read gate; nil with a data directory. inTx: a
	// transaction is open on the connection, which holds the gate's write side, and its
	// statements pass without it.
	gate *readGate
	inTx bool
	// failed records that a call failed since the last reset. database/sql uses a connection
	// from one goroutine at a time, and calls ResetSession between two users.
	failed bool
	// tx is the connection's transaction, reused: a connection has one at a time, and a
	// transaction per write then costs no allocation.
	tx resettingTx
}

// newResettingConn wraps c, or returns it as it is when it lacks a method the wrapper needs
// or busy is not positive. gate, when not nil, is the read gate of an in-memory store.
func newResettingConn(c driver.Conn, busy time.Duration, gate *readGate) driver.Conn {
	sc, ok := c.(sqliteConn)
	if !ok || busy <= 0 {
		return c
	}
	return &resettingConn{sqliteConn: sc, reset: fmt.Sprintf("PRAGMA busy_timeout = %d", busy.Milliseconds()), gate: gate}
}

// enterRead passes a statement outside a transaction through the read gate.
func (c *resettingConn) enterRead(ctx context.Context) (leave func(), err error) {
	if c.gate == nil || c.inTx {
		return func() {}, nil
	}
	return c.gate.enterRead(ctx)
}

func (c *resettingConn) note(err error) {
	if err != nil {
		c.failed = true
	}
}

func (c *resettingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	leave, err := c.enterRead(ctx)
	if err != nil {
		return nil, err
	}
	// The driver steps to the first row before it returns: the statement holds SHARED by then.
	rows, err := c.sqliteConn.QueryContext(ctx, query, args)
	leave()
	c.note(err)
	return rows, err
}

func (c *resettingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	leave, err := c.enterRead(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.sqliteConn.ExecContext(ctx, query, args)
	leave()
	c.note(err)
	return res, err
}

func (c *resettingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.sqliteConn.PrepareContext(ctx, query)
	c.note(err)
	return st, err
}

func (c *resettingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.gate != nil {
		if err := c.gate.enterWrite(ctx); err != nil {
			return nil, err
		}
	}
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	c.note(err)
	if err != nil {
		if c.gate != nil {
			c.gate.leaveWrite()
		}
		return nil, err
	}
	c.inTx = true
	c.tx = resettingTx{Tx: tx, c: c}
	return &c.tx, nil
}

// endTx gives back the gate's write side when the transaction ends, once.
func (c *resettingConn) endTx() {
	if c.inTx && c.gate != nil {
		c.gate.leaveWrite()
	}
	c.inTx = false
}

// ResetSession resets the busy handler of a connection on which a call failed; a connection
// whose reset fails is discarded rather than reused.
func (c *resettingConn) ResetSession(ctx context.Context) error {
	if err := c.sqliteConn.ResetSession(ctx); err != nil {
		return err
	}
	if !c.failed {
		return nil
	}
	c.failed = false
	if _, err := c.sqliteConn.ExecContext(context.Background(), c.reset, nil); err != nil {
		return driver.ErrBadConn
	}
	return nil
}

// resettingTx notes a transaction that did not commit: the statement that failed in it ran
// through a prepared statement the connection does not see.
type resettingTx struct {
	driver.Tx
	c *resettingConn
}

func (t *resettingTx) Commit() error {
	err := t.Tx.Commit()
	t.c.note(err)
	t.c.endTx()
	return err
}

func (t *resettingTx) Rollback() error {
	t.c.failed = true
	err := t.Tx.Rollback()
	t.c.endTx()
	return err
}
