package dataverse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// SyncState is a Sync's position: where the next run of Changes reads
// from. It is saved after each page (see Sync.Changes).
type SyncState struct {
	// EntitySet is the table's entity set, e.g. "contacts".
	EntitySet string `json:"entitySet"`
	// Select is the select the links were made with (nil: every column).
	Select []string `json:"select,omitempty"`
	// DeltaLink is the @odata.deltaLink of the last completed read: the
	// changes since then are read from it. "" while a read is unfinished.
	DeltaLink string `json:"deltaLink,omitempty"`
	// NextLink is the next page of an unfinished read (a full load when
	// FullLoad, else a delta), "" when the last read completed.
	NextLink string `json:"nextLink,omitempty"`
	// FullLoad reports that NextLink is a page of a full load.
	FullLoad bool `json:"fullLoad,omitempty"`
	// Untracked reports that the service refused change tracking for the
	// table (CodeChangeTrackingNotEnabled), so the last full load (or the
	// unfinished one at NextLink) was read without it and gave no delta
	// link: the next run starts over with a full load that asks for
	// change tracking again.
	Untracked bool `json:"untracked,omitempty"`
	// Updated is when the state was made (UTC).
	Updated time.Time `json:"updated"`
}

// validate refuses a state no Sync could have saved.
func (st *SyncState) validate() error {
	switch {
	case st.EntitySet == "":
		return errors.New("the sync state names no entity set")
	case st.DeltaLink == "" && st.NextLink == "" && !st.Untracked:
		return errors.New("the sync state has neither a delta link nor a next link")
	case st.Untracked && st.DeltaLink != "":
		return errors.New("the sync state is untracked but has a delta link")
	case st.Untracked && st.NextLink != "" && !st.FullLoad:
		return errors.New("the sync state is untracked but its next link is not a full load's")
	case st.DeltaLink != "" && st.NextLink != "":
		return errors.New("the sync state has both a delta link and a next link; a saved position has one")
	case st.FullLoad && st.NextLink == "":
		return errors.New("the sync state is a full load without a next link")
	}
	if _, err := entitySetPath(st.EntitySet); err != nil {
		return err
	}
	return nil
}

// SyncCheckpoint keeps a Sync's position between runs (and processes).
// FileSyncCheckpoint keeps it in a file; implement it to keep the
// position with the consumer's own data (in the same database
// transaction as the changes, say, for exactly-once). A checkpoint with a
// Path() string method is named by it in a *CheckpointError, else by its type.
type SyncCheckpoint interface {
	// Load returns the saved position, or (nil, nil) when none was saved.
	Load(ctx context.Context) (*SyncState, error)
	// Save replaces the saved position with st, durably, before it
	// returns: a position lost after Save returned makes the next run
	// read changes again (or a full load), a position saved too early
	// loses changes. A consumer that buffers its output flushes it here.
	Save(ctx context.Context, st *SyncState) error
}

// syncStateFormat and syncStateVersion identify a sync state file.
const (
	syncStateFormat  = "d365-sync-state"
	syncStateVersion = 1
)

// syncStateFile is a sync state file's JSON.
type syncStateFile struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	SyncState
}

// maxSyncStateSize bounds the file read: it holds two links.
const maxSyncStateSize = 1 << 20

// FileSyncCheckpoint keeps a Sync's position in a JSON file, for example
//
//	{"format":"d365-sync-state","version":1,"entitySet":"contacts",
//	 "select":["fullname"],"deltaLink":"https://…/contacts?$select=fullname&$deltatoken=…",
//	 "updated":"2026-12-07T01:02:03Z"}
//
// Save replaces the file atomically (a temporary file in the same
// directory, synced, renamed over the old one, the directory synced), so
// a crash at any instant leaves the old position or the new one. While
// open it holds a lock on "<path>.lock", so that two processes never sync
// with one file.
type FileSyncCheckpoint struct {
	path string
	lock *flock.Flock
}

// OpenFileSyncCheckpoint locks the state file at path (which need not
// exist yet: a missing file is no position, a first sync) and returns its
// checkpoint. Close it when the sync is done. It fails with a
// *CheckpointError when another process holds the file.
func OpenFileSyncCheckpoint(path string) (*FileSyncCheckpoint, error) {
	if path == "" {
		return nil, invalidf("dataverse: OpenFileSyncCheckpoint: the path is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("dataverse: sync state %s: %w", path, err)
	}
	lock := flock.New(abs + ".lock")
	ok, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("dataverse: locking sync state %s: %w", path, err)
	}
	if !ok {
		return nil, &CheckpointError{Path: path, Problem: "another sync is running with it (its lock file " + abs + ".lock is held); wait for it to end"}
	}
	return &FileSyncCheckpoint{path: abs, lock: lock}, nil
}

// Path returns the state file's absolute path.
func (f *FileSyncCheckpoint) Path() string { return f.path }

// Load reads the state file; (nil, nil) when it does not exist. A file
// that is not a sync state, or a state no Sync could have saved, is a
// *CheckpointError.
func (f *FileSyncCheckpoint) Load(context.Context) (*SyncState, error) {
	data, found, err := readStateFile(f.path, maxSyncStateSize, "sync state")
	if !found || err != nil {
		return nil, err
	}
	st, err := parseSyncState(data)
	if err != nil {
		return nil, &CheckpointError{Path: f.path, Problem: err.Error() + "; it is not usable: remove it to start over with a full load"}
	}
	return st, nil
}

// Save replaces the state file with st atomically.
func (f *FileSyncCheckpoint) Save(_ context.Context, st *SyncState) error {
	data, err := json.Marshal(syncStateFile{Format: syncStateFormat, Version: syncStateVersion, SyncState: *st})
	if err != nil {
		return fmt.Errorf("dataverse: encoding sync state: %w", err)
	}
	if err := writeFileAtomic(f.path, append(data, '\n')); err != nil {
		return fmt.Errorf("dataverse: writing sync state %s: %w", f.path, err)
	}
	return nil
}

// Close releases the lock.
func (f *FileSyncCheckpoint) Close() error { return f.lock.Unlock() }

// parseSyncState decodes and validates a state file's content.
func parseSyncState(data []byte) (*SyncState, error) {
	var sf syncStateFile
	if err := decodeStateFile(data, maxSyncStateSize, "sync state", &sf); err != nil {
		return nil, err
	}
	if err := checkStateFileFormat(sf.Format, sf.Version, syncStateFormat, syncStateVersion); err != nil {
		return nil, err
	}
	st := sf.SyncState
	if err := st.validate(); err != nil {
		return nil, err
	}
	return &st, nil
}

// checkpointName names cp in an error: its Path when it has one (a
// FileSyncCheckpoint, or a wrapper of one that keeps its Path), else its type.
func checkpointName(cp SyncCheckpoint) string {
	if f, ok := cp.(interface{ Path() string }); ok {
		return f.Path()
	}
	return fmt.Sprintf("%T", cp)
}
