package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"modernc.org/sqlite"
)

// Snapshot is a consistent copy of the whole database (the store's tables
// and every other package's, such as the identity's entra_* tables), taken
// with SQLite's online backup. It lives in memory (an anonymous memdb
// database kept alive by one open connection) or in a file. Restore copies
// it back into a store in one step.
//
// A Snapshot is safe for concurrent use by Restore calls; Close releases
// an in-memory snapshot's memory (a file is left where it is).
type Snapshot struct {
	uri    string      // what NewRestore opens as the source
	holder driver.Conn // keeps an in-memory snapshot alive; nil for files
	path   string      // the file of a file snapshot
}

// Path returns the file of a file snapshot, or "" for one in memory.
func (sn *Snapshot) Path() string { return sn.path }

// Close releases an in-memory snapshot. It is a no-op for file snapshots
// (their file stays) and safe to call more than once.
func (sn *Snapshot) Close() error {
	if sn == nil || sn.holder == nil {
		return nil
	}
	err := sn.holder.Close()
	sn.holder = nil
	return err
}

// backupConn is what modernc.org/sqlite's driver connections offer for the
// online backup API.
type backupConn interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
	NewRestore(srcURI string) (*sqlite.Backup, error)
}

// SnapshotInMemory copies the database into a new in-memory snapshot.
func (s *Store) SnapshotInMemory(ctx context.Context) (*Snapshot, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	uri := "file:/d365-snapshot-" + hex.EncodeToString(b[:]) + "?vfs=memdb"
	var holder driver.Conn
	err := s.withBackupReading(ctx, func(c backupConn) error {
		bk, err := c.NewBackup(uri)
		if err != nil {
			return err
		}
		if err := stepAll(ctx, bk); err != nil {
			bk.Finish()
			return err
		}
		// Commit keeps the destination connection open: the memdb database
		// lives as long as one connection to it does.
		holder, err = bk.Commit()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	return &Snapshot{uri: uri, holder: holder}, nil
}

// SnapshotToFile copies the database into the file at path, replacing it
// atomically: a crash or failure leaves either the old file or the new
// one, never half of one. The directory is created (mode 0700) if needed.
func (s *Store) SnapshotToFile(ctx context.Context, path string) (*Snapshot, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer removeDatabaseFiles(tmpName) // no-op after the rename

	err = s.withBackupReading(ctx, func(c backupConn) error {
		bk, err := c.NewBackup(fileURI(tmpName))
		if err != nil {
			return err
		}
		if err := stepAll(ctx, bk); err != nil {
			bk.Finish()
			return err
		}
		// Finish closes the destination, which checkpoints and removes its
		// WAL, so the file is complete on its own.
		return bk.Finish()
	})
	if err != nil {
		return nil, fmt.Errorf("store: snapshot to %s: %w", path, err)
	}
	if err := os.Rename(tmpName, abs); err != nil {
		return nil, fmt.Errorf("store: snapshot to %s: %w", path, err)
	}
	return &Snapshot{uri: fileURI(abs), path: abs}, nil
}

// OpenSnapshotFile returns the snapshot kept in the file at path (written
// by SnapshotToFile, possibly by an earlier run).
func OpenSnapshotFile(path string) (*Snapshot, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("store: snapshot: %w", err)
	}
	return &Snapshot{uri: fileURI(abs), path: abs}, nil
}

// Restore replaces the whole database with the snapshot's content, in one
// SQLite transaction: concurrent readers see the old state or the new one,
// never a mix, and a failure changes nothing. The snapshot must come from
// this store's database (the same organization) and hold every privilege
// of the store's schema (taken with the same tables); otherwise Restore
// refuses before writing anything.
//
// The store drops its cached principals itself; modules that keep database
// content of their own in memory (the token service's signing keys) are
// told through the hooks they registered with [ModuleTables.OnRestore],
// which run once the data is in place. When one fails, Restore returns an
// [*AfterRestoreError]: the data was restored.
func (s *Store) Restore(ctx context.Context, sn *Snapshot) error {
	if err := s.restore(ctx, sn); err != nil {
		return err
	}
	return s.notifyRestored(ctx)
}

func (s *Store) restore(ctx context.Context, sn *Snapshot) error {
	if sn == nil || (sn.path == "" && sn.holder == nil) {
		return errors.New("store: restore: the snapshot was closed")
	}
	if err := s.checkSnapshot(ctx, sn); err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// Queries from here on read no name column the restored database may
	// lack (see namecolumn.go); resetCaches starts the next generation.
	s.sortIndexGen.Add(1)
	before, err := s.ChangeVersion(ctx)
	if err == nil {
		err = s.copyFrom(ctx, sn.uri)
	}
	if err == nil {
		err = s.expireChangePositions(ctx, before)
	}
	if err == nil {
		// A snapshot taken before the catalogue gained a global privilege
		// lacks it: create it again (with the id the store knows) and give
		// it to System Administrator, as Open does. One taken before the
		// tables had name columns gets them (see namecolumn.go).
		err = s.resyncPrivilegesLocked(ctx)
	}
	// Whatever happened, every cache of database content is stale now.
	s.resetCaches()
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	return nil
}

// resyncPrivilegesLocked runs syncPrivileges and migrateNameColumns in
// their own transaction; the caller holds writeMu.
func (s *Store) resyncPrivilegesLocked(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := s.syncPrivileges(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := migrateNameColumns(ctx, tx, s.schema); err != nil {
		tx.Rollback()
		return err
	}
	if err := migrateLegacyMeta(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// resetCaches drops everything the store keeps in memory about database
// content that a restore replaces: cached principals (and, through the
// security epoch, anything derived from them) and the version sequence.
// The caller holds writeMu.
func (s *Store) resetCaches() {
	s.securityEpoch.Add(1)
	s.principals.Clear()
	s.seqValid = false
	// The restored database has the sort indexes of its own time: create
	// them again on demand (CREATE INDEX IF NOT EXISTS). Not under
	// sortIndexMu, which is taken before writeMu.
	s.sortIndexGen.Add(1)
	s.sortIndexes.Clear()
}

// checkSnapshot refuses a snapshot of another database or of another
// schema: the store keeps the organization's ids and the privilege ids in
// memory, and those must stay true after the restore.
func (s *Store) checkSnapshot(ctx context.Context, sn *Snapshot) error {
	drv, ok := s.db.Driver().(*sqlite.Driver)
	if !ok {
		return errors.New("store: restore: unexpected database driver")
	}
	db := sql.OpenDB(connector{driver: drv, dsn: sn.uri})
	defer db.Close()
	var org string
	err := db.QueryRowContext(ctx, `SELECT "value" FROM "_dv_meta" WHERE "key" = ?`, metaOrganization).Scan(&org)
	if err != nil {
		return fmt.Errorf("store: restore: the snapshot is not an emulator database: %w", err)
	}
	if org != s.org.OrganizationID {
		return fmt.Errorf("store: restore: the snapshot belongs to organization %s, not %s; restore only snapshots of this emulator's own database", org, s.org.OrganizationID)
	}
	rows, err := db.QueryContext(ctx, `SELECT "name", "privilegeid" FROM "_dv_privilege"`)
	if err != nil {
		return fmt.Errorf("store: restore: read the snapshot's privileges: %w", err)
	}
	defer rows.Close()
	have := make(map[string]string, len(s.privileges))
	for rows.Next() {
		var name, id string
		if err := rows.Scan(&name, &id); err != nil {
			return fmt.Errorf("store: restore: read the snapshot's privileges: %w", err)
		}
		have[name] = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: restore: read the snapshot's privileges: %w", err)
	}
	var missing []string
	for name, id := range s.privileges {
		if have[name] != id && !(have[name] == "" && slices.Contains(globalPrivileges, name)) {
			// A global privilege the catalogue gained after the snapshot was
			// taken is created again after the restore, with the same id.
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		if len(missing) > 3 {
			missing = append(missing[:3], "…")
		}
		return fmt.Errorf("store: restore: the snapshot was taken with other tables (it lacks %s); restore it into an emulator with the same tables", strings.Join(missing, ", "))
	}
	return nil
}

// withBackupReading runs fn, a backup that reads the store's database, on a dedicated driver
// connection, holding the read gate of an in-memory store for the whole copy: the backup's
// read transaction is refused while a writer is open, and left to retry between writes that
// follow each other without a gap, it would miss the gaps (see readgate.go).
func (s *Store) withBackupReading(ctx context.Context, fn func(backupConn) error) error {
	if s.gate != nil {
		leave, err := s.gate.enterRead(ctx)
		if err != nil {
			return err
		}
		defer leave()
	}
	return s.withBackupConn(ctx, fn)
}

// withBackupConn runs fn on a dedicated driver connection of the store.
func (s *Store) withBackupConn(ctx context.Context, fn func(backupConn) error) error {
	conn := s.pin
	if conn == nil {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		conn = c
	}
	return conn.Raw(func(dc any) error {
		bc, ok := dc.(backupConn)
		if !ok {
			return errors.New("the SQLite driver offers no online backup")
		}
		return fn(bc)
	})
}

// stepAll copies every page in one step (one read transaction on the
// source, so the copy is consistent), retrying while another connection
// holds a lock, until ctx ends or half a minute has passed.
func stepAll(ctx context.Context, bk *sqlite.Backup) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		more, err := bk.Step(-1)
		if err == nil && !more {
			return nil
		}
		if err != nil && !isBusy(err) {
			return err
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("the copy did not finish")
			}
			return fmt.Errorf("the database stayed busy: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// isBusy reports whether err is SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		code := se.Code() & 0xff
		return code == 5 || code == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	return false
}

// fileURI is the SQLite URI of a database file.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// removeDatabaseFiles removes a database file and its WAL and shared
// memory files, ignoring the ones that do not exist.
func removeDatabaseFiles(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix)
	}
}

// copyFrom replaces the store's database with the one at uri (a snapshot or
// the template) through SQLite's backup API on the pinned connection.
func (s *Store) copyFrom(ctx context.Context, uri string) error {
	if s.gate != nil { // the copy writes: reads wait for it at the gate, not in SQLite
		if err := s.gate.enterWrite(ctx); err != nil {
			return err
		}
		defer s.gate.leaveWrite()
	}
	return s.withBackupConn(ctx, func(c backupConn) error {
		bk, err := c.NewRestore(uri)
		if err != nil {
			return err
		}
		if err := stepAll(ctx, bk); err != nil {
			bk.Finish()
			return err
		}
		return bk.Finish()
	})
}
