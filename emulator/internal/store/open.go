package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
	"modernc.org/sqlite"
)

// Options configure a Store. The zero value is valid.
type Options struct {
	// Schema is the table metadata; nil means [schema.Builtin]. Opening an
	// existing database with a schema that adds columns or tables adds
	// them; a column whose type changed is an error.
	Schema *schema.Schema
	// OrganizationName names the organization and its root business unit
	// when the store is first created; default "emulator".
	OrganizationName string
	// Now returns the current time; nil means time.Now. The emulator uses
	// it to apply a clock offset.
	Now func() time.Time
	// BusyTimeout bounds how long a statement waits for a lock held by a
	// connection outside the store's own write serialisation; default 10s.
	BusyTimeout time.Duration
	// Logger receives store events; nil discards them.
	Logger *slog.Logger
	// MaxAggregateRows lowers the most rows an aggregation may read below
	// [AggregateRowLimit], so that tests reach the limit with a few rows;
	// 0 (or a larger value) keeps the service's 50,000.
	MaxAggregateRows int
}

// FileName is the database file's name inside the data directory.
const FileName = "emulator.db"

// Store is the emulator's database. It is safe for concurrent use.
type Store struct {
	db  *sql.DB
	pin *sql.Conn // keeps an in-memory database alive
	// gate makes an in-memory store's reads and write transactions take turns (readgate.go);
	// nil with a data directory.
	gate   *readGate
	schema *schema.Schema
	now    func() time.Time
	log    *slog.Logger

	// writeMu serialises the store's write transactions.
	writeMu sync.Mutex
	// seq is the last version number handed out, valid when seqValid;
	// both are guarded by writeMu. Transactions take version numbers from
	// it and write the sequence back once at commit; a failed write, a raw
	// write and a restore invalidate it, so it is read again.
	seq      int64
	seqValid bool

	org orgInfo
	// ctExpire is the organization's ExpireChangeTrackingInDays (changes.go).
	ctExpire expireDays
	// ctSwitch are the tables whose change tracking was switched at runtime (changes_switch.go).
	ctSwitch trackingSwitches
	// aggregateLimit is the most rows an aggregation reads
	// (Options.MaxAggregateRows, at most AggregateRowLimit).
	aggregateLimit int
	// privileges maps privilege names to their ids, for error messages.
	privileges map[string]string
	closeOnce  sync.Once
	closeErr   error

	// securityEpoch changes whenever users, roles, teams, business units
	// or role privileges change; cached principals of an older epoch are
	// reloaded.
	securityEpoch atomic.Uint64
	principals    sync.Map // application id -> *cachedPrincipal

	// sortIndexes holds the sort indexes created (see sortindex.go) as
	// sortIndexKey values, of generation sortIndexGen, which a restore
	// bumps. sortIndexMu (taken before writeMu, never after) serialises
	// their creation and guards sortIndexCount, the number created per
	// table in generation sortIndexCountGen.
	sortIndexes       sync.Map
	sortIndexGen      atomic.Uint64
	sortIndexMu       sync.Mutex
	sortIndexCount    map[string]int
	sortIndexCountGen uint64

	// onRestore are the modules' hooks run after a restore (see
	// ModuleTables.OnRestore), guarded by restoreMu.
	restoreMu sync.Mutex
	onRestore []func(ctx context.Context) error
}

type cachedPrincipal struct {
	epoch uint64
	p     *Principal
}

// securityTables are the tables whose changes invalidate cached
// principals.
var securityTables = map[string]bool{
	"systemuser": true, "role": true, "team": true, "businessunit": true,
	"systemuserroles": true, "teamroles": true, "teammembership": true,
}

// orgInfo is what the store keeps in memory about the seeded organization.
type orgInfo struct {
	OrganizationID string
	BusinessUnitID string // the root business unit
	CurrencyID     string // the base currency
	// currency is CurrencyID parsed (uuid.Nil when it is not a GUID): a
	// create that sets money takes it for every row.
	currency     uuid.UUID
	AdminRoleID  string // System Administrator in the root business unit
	SystemUserID string // the SYSTEM user
}

// Open opens the store. With dataDir "" the database lives in memory and
// disappears on Close; otherwise it is <dataDir>/emulator.db, and dataDir
// is created (mode 0700) when missing. On first open the organization,
// the root business unit, the base currency and the System Administrator
// role (every privilege at organization depth) are created.
func Open(ctx context.Context, dataDir string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	s := &Store{schema: opts.Schema, now: opts.Now, log: opts.Logger, aggregateLimit: AggregateRowLimit}
	if n := opts.MaxAggregateRows; n > 0 && n < AggregateRowLimit {
		s.aggregateLimit = n
	}
	if s.schema == nil {
		s.schema = schema.Builtin()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	drv, err := newDriver()
	if err != nil {
		return nil, fmt.Errorf("store: register SQLite functions: %w", err)
	}
	dsn, err := dataSourceName(dataDir, busy)
	if err != nil {
		return nil, err
	}
	var gate *readGate
	if dataDir == "" {
		gate = newReadGate(busy)
	}
	s.gate = gate
	s.db = sql.OpenDB(connector{driver: drv, dsn: dsn, busy: busy, gate: gate})
	if dataDir == "" {
		// memdb frees the database when its last connection closes: keep
		// one open for the store's lifetime, and never let the pool retire
		// idle connections it would have to reopen.
		s.db.SetConnMaxIdleTime(0)
		s.db.SetConnMaxLifetime(0)
		s.pin, err = s.db.Conn(ctx)
		if err != nil {
			s.db.Close()
			return nil, fmt.Errorf("store: open in-memory database: %w", err)
		}
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open %s: %w", dsnForHumans(dataDir), err)
	}
	if err := s.createTables(ctx, dataDir == ""); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.seed(ctx, opts.OrganizationName); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// createTables gives the database the schema's tables: a new in-memory
// database gets a copy of the schema's template (see template), a file
// database is migrated in place (it may hold an older schema). When the
// template cannot be had, the tables are created one by one.
func (s *Store) createTables(ctx context.Context, inMemory bool) error {
	if inMemory {
		t, err := templateFor(s.schema)
		if err == nil {
			if err = t.copyInto(ctx, s); err == nil {
				return nil
			}
		}
		s.log.Warn("store: no template database; creating the tables one by one", "err", err)
	}
	return s.migrate(ctx)
}

func dsnForHumans(dataDir string) string {
	if dataDir == "" {
		return "in-memory database"
	}
	return filepath.Join(dataDir, FileName)
}

// dataSourceName builds the DSN: memdb under a unique name for memory,
// WAL for files; both with foreign keys off (the store checks references
// itself, as Dataverse reports them), IMMEDIATE transactions and a busy
// timeout.
func dataSourceName(dataDir string, busy time.Duration) (string, error) {
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	if dataDir == "" {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		q.Set("vfs", "memdb")
		return "file:/d365-" + hex.EncodeToString(b[:]) + "?" + q.Encode(), nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("store: create data directory: %w", err)
	}
	abs, err := filepath.Abs(filepath.Join(dataDir, FileName))
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	if err := restrictDatabaseFiles(abs); err != nil {
		return "", err
	}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	return (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String(), nil
}

// restrictDatabaseFiles makes the database file (and any WAL and shared-memory files left
// beside it) readable by the owner only before SQLite opens it. The database holds the token
// signing key and the app secrets' hashes: in a data directory that already existed with wider
// permissions, a file created with the default umask would let any local user mint tokens the
// emulator accepts. SQLite gives the WAL and SHM files the database file's mode.
func restrictDatabaseFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store: create %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("store: restrict %s to its owner (chmod 600): %w", p, err)
		}
	}
	return nil
}

// connector opens connections with the store's private driver.
type connector struct {
	driver *sqlite.Driver
	dsn    string
	// busy is the DSN's busy timeout: a connection on which a call failed
	// gets its busy handler back before it is reused (see busyreset.go).
	// Zero leaves the connections as the driver makes them.
	busy time.Duration
	// gate is an in-memory store's read gate (readgate.go); nil with a data directory.
	gate *readGate
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	conn, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newResettingConn(conn, c.busy, c.gate), nil
}

func (c connector) Driver() driver.Driver { return c.driver }

// Schema returns the table metadata the store was opened with.
func (s *Store) Schema() *schema.Schema { return s.schema }

// Close closes the database. An in-memory store's data is gone after it.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.pin != nil {
			errs = append(errs, s.pin.Close())
		}
		errs = append(errs, s.db.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// write runs fn in one write transaction, serialised with the store's
// other writers. fn's error rolls everything back. Writes made this way
// outside Tx (seeding and the admin methods) may change security, so they
// invalidate cached principals.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	defer s.securityEpoch.Add(1)
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		// Raw writes may take version numbers in SQL.
		s.seqValid = false
		return fn(tx)
	})
}

func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.writeTxLocked(ctx, fn)
}

// writeTxLocked is writeTx for a caller that holds writeMu.
func (s *Store) writeTxLocked(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		s.seqValid = false // the version numbers taken are rolled back
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			if rolledBack(rbErr) {
				s.log.Info("store: the failed transaction was rolled back by SQLite already", "err", err)
			} else {
				s.log.Error("store: rollback failed", "err", rbErr, "failure", err)
			}
		}
		return withCancellation(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		s.seqValid = false
		return withCancellation(ctx, fmt.Errorf("store: commit: %w", err))
	}
	return nil
}

// withCancellation makes the failure of a transaction whose context is
// done say so: database/sql rolls such a transaction back as soon as the
// context ends, concurrently with it, and the statements after fail with
// "sql: statement is closed" or sql.ErrTxDone, which do not say why. The
// Web API answers a request whose client went away by no answer rather
// than a 500 (see webapi.Handler.ServeHTTP).
func withCancellation(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", err, cerr)
	}
	return err
}

// rolledBack reports whether a ROLLBACK failed because SQLite had already
// rolled the transaction back itself: an interrupted write statement (a
// cancelled request's, see sqlite3_interrupt) rolls back the whole explicit
// transaction, as do some I/O and lock failures. The ROLLBACK then finds no
// transaction, which is the outcome it was run for.
func rolledBack(rbErr error) bool {
	return strings.Contains(rbErr.Error(), "no transaction is active")
}

// Tx is a write transaction handed to [Store.Write] callbacks; a $batch
// changeset runs all its operations in one. Reads through a Tx see its
// uncommitted writes.
type Tx struct {
	s        *Store
	tx       *sql.Tx
	security bool // a security table was written
	// versioned is true once the transaction took a version number: the
	// sequence is written back before the commit.
	versioned bool
	// stmts are the statements prepared in the transaction, by SQL text,
	// so that a bulk write parses each statement once.
	stmts map[string]*sql.Stmt
	// ins holds the rows a bulk create has not inserted yet, and the
	// shape of the last row (insertbatch.go).
	ins insertBatch
}

// Write runs fn in one write transaction: every operation on tx commits
// together, and an error from fn rolls them all back.
func (s *Store) Write(ctx context.Context, fn func(tx *Tx) error) error {
	t := &Tx{s: s}
	err := s.writeTx(ctx, func(sqlTx *sql.Tx) error {
		t.tx = sqlTx
		if err := fn(t); err != nil {
			return err
		}
		return t.saveVersion(ctx)
	})
	if err == nil && t.security {
		s.securityEpoch.Add(1)
	}
	return err
}

// touch records that the transaction wrote table.
func (tx *Tx) touch(table string) {
	if securityTables[table] {
		tx.security = true
	}
}

// nowUTC is the store's clock, truncated to whole seconds as Dataverse
// returns times.
func (s *Store) nowUTC() time.Time { return s.now().UTC().Truncate(time.Second) }

// Now returns the store's current time (the emulator's clock, which may
// be offset), truncated to whole seconds.
func (s *Store) Now() time.Time { return s.nowUTC() }
