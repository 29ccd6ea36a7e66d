package dataverse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A bulk job's checkpoint says which input positions are done (written,
// or handed to the error sink), so that a job killed at any moment and
// run again with the same checkpoint and the same input writes every row
// exactly once.
//
// Batches finish out of order, so the done positions are a low-water mark
// (every position below it is done) plus the done ranges above it. The
// checkpoint also holds the dispatch mark: no position at or above it was
// ever sent. A resumed create job sends the rows below that mark which are
// not done as upserts of their client-generated ids, because their first
// attempt may have been written while its answer was lost.
//
// The file is JSON, for example
//
//	{"format":"d365-bulk-checkpoint","version":1,"entitySet":"contacts",
//	 "mode":"create","done":2000,"ranges":[[3000,4000]],"dispatched":6000,
//	 "written":2990,"failed":10,"updated":"2026-12-07T01:02:03Z"}
//
// and is replaced atomically: written to a temporary file in the same
// directory, synced, renamed over the old one, and the directory synced.

// checkpointFormat and checkpointVersion identify the file.
const (
	checkpointFormat  = "d365-bulk-checkpoint"
	checkpointVersion = 1
)

// checkpointFile is the checkpoint as stored.
type checkpointFile struct {
	Format     string     `json:"format"`
	Version    int        `json:"version"`
	EntitySet  string     `json:"entitySet"`
	Mode       BulkMode   `json:"mode"`
	Key        []string   `json:"key,omitempty"`
	Done       int64      `json:"done"`
	Ranges     [][2]int64 `json:"ranges"`
	Dispatched int64      `json:"dispatched"`
	Written    int64      `json:"written"`
	Failed     int64      `json:"failed"`
	Updated    time.Time  `json:"updated"`
}

// CheckpointError reports a checkpoint file that cannot be used: it is
// corrupt, or it was written by a job of another table or mode.
type CheckpointError struct {
	// Path is the checkpoint file.
	Path string
	// Problem says what is wrong.
	Problem string
}

// Error implements error.
func (e *CheckpointError) Error() string {
	return fmt.Sprintf("dataverse: checkpoint %s: %s", e.Path, e.Problem)
}

// maxCheckpointSize bounds the file read: ranges above the low-water mark
// exist only for batches in flight, so a real checkpoint is small.
const maxCheckpointSize = 16 << 20

// parseCheckpoint decodes and validates a checkpoint. Every inconsistency
// is refused: a checkpoint that claimed too much would skip rows that
// were never written.
func parseCheckpoint(data []byte) (*checkpointFile, error) {
	var cp checkpointFile
	if err := decodeStateFile(data, maxCheckpointSize, "checkpoint", &cp); err != nil {
		return nil, err
	}
	if err := checkStateFileFormat(cp.Format, cp.Version, checkpointFormat, checkpointVersion); err != nil {
		return nil, err
	}
	switch {
	case cp.EntitySet == "":
		return nil, errors.New("it names no entity set")
	case !cp.Mode.valid():
		return nil, fmt.Errorf("its mode %q is not create, update or upsert", cp.Mode)
	case cp.Done < 0:
		return nil, fmt.Errorf("its low-water mark (done) is %d, below 0", cp.Done)
	case cp.Written < 0 || cp.Failed < 0:
		return nil, fmt.Errorf("its totals written %d, failed %d are negative", cp.Written, cp.Failed)
	}
	prev := cp.Done
	for i, r := range cp.Ranges {
		switch {
		case r[0] >= r[1]:
			return nil, fmt.Errorf("ranges[%d] [%d, %d) is empty or reversed", i, r[0], r[1])
		case r[0] <= prev:
			return nil, fmt.Errorf("ranges[%d] [%d, %d) does not start after position %d (the low-water mark or the previous range); ranges must be sorted, apart and above the mark", i, r[0], r[1], prev)
		}
		prev = r[1]
	}
	if cp.Dispatched < prev {
		return nil, fmt.Errorf("its dispatch mark %d is below done position %d", cp.Dispatched, prev)
	}
	return &cp, nil
}

// readCheckpoint reads the checkpoint at path; (nil, nil) when there is none.
func readCheckpoint(path string) (*checkpointFile, error) {
	data, found, err := readStateFile(path, maxCheckpointSize, "checkpoint")
	if !found || err != nil {
		return nil, err
	}
	cp, err := parseCheckpoint(data)
	if err != nil {
		return nil, &CheckpointError{Path: path, Problem: err.Error() + "; it is not usable: remove it to start the job over (rows written by the earlier run are then written again, as creates that fail on existing ids, or as upserts)"}
	}
	return cp, nil
}

// readAllLimit reads at most n bytes of f.
func readAllLimit(f *os.File, n int64) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(&limitedFile{f: f, left: n})
	return b.Bytes(), err
}

type limitedFile struct {
	f    *os.File
	left int64
}

func (l *limitedFile) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errors.New("the file is too large for a checkpoint")
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.f.Read(p)
	l.left -= int64(n)
	return n, err
}

// writeCheckpoint replaces the file at path with cp atomically: a reader
// (or a job started after a crash at any instant) sees the old checkpoint
// or the new one, never a mix.
func writeCheckpoint(path string, cp *checkpointFile) error {
	data, err := json.Marshal(cp)
	if err != nil {
		return fmt.Errorf("dataverse: encoding checkpoint: %w", err)
	}
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return fmt.Errorf("dataverse: writing checkpoint %s: %w", path, err)
	}
	return nil
}

// writeFileAtomic replaces the file at path with data: written to a
// temporary file in the same directory, synced, renamed over the old
// one, and the directory synced. A reader sees the old content or the
// new, never a mix, whenever the process or the machine stops.
func writeFileAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	// The rename is durable once the directory is synced; some systems
	// cannot sync a directory, and the data itself is already safe.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// doneSet is the set of done positions: [0, low) plus sorted, disjoint,
// non-adjacent half-open ranges above low.
type doneSet struct {
	low    int64
	ranges [][2]int64
}

// add marks [a, b) done.
func (s *doneSet) add(a, b int64) {
	if b <= a || b <= s.low {
		return
	}
	a = max(a, s.low)
	// The first range that ends at or after a (could merge with [a, b)).
	i, _ := slices.BinarySearchFunc(s.ranges, a, func(r [2]int64, a int64) int {
		switch {
		case r[1] < a:
			return -1
		case r[1] > a:
			return 1
		}
		return 0
	})
	j := i
	for j < len(s.ranges) && s.ranges[j][0] <= b {
		a = min(a, s.ranges[j][0])
		b = max(b, s.ranges[j][1])
		j++
	}
	s.ranges = slices.Replace(s.ranges, i, j, [2]int64{a, b})
	if len(s.ranges) > 0 && s.ranges[0][0] <= s.low {
		s.low = s.ranges[0][1]
		s.ranges = slices.Delete(s.ranges, 0, 1)
	}
}

// contains reports whether position p is done.
func (s *doneSet) contains(p int64) bool {
	if p < s.low {
		return true
	}
	_, found := slices.BinarySearchFunc(s.ranges, p, func(r [2]int64, p int64) int {
		switch {
		case r[1] <= p:
			return -1
		case r[0] > p:
			return 1
		}
		return 0
	})
	return found
}

// count is the number of done positions.
func (s *doneSet) count() int64 {
	n := s.low
	for _, r := range s.ranges {
		n += r[1] - r[0]
	}
	return n
}

// checkpointMismatch says why a checkpoint written by another job cannot
// be resumed by this one, or "" when it can.
func checkpointMismatch(cp *checkpointFile, entitySet string, mode BulkMode, key []string) string {
	switch {
	case cp.EntitySet != entitySet:
		return fmt.Sprintf("it was written by a job that writes %s, not %s", cp.EntitySet, entitySet)
	case cp.Mode != mode:
		return fmt.Sprintf("it was written by a job in %s mode, not %s", cp.Mode, mode)
	case !slices.Equal(cp.Key, key):
		return fmt.Sprintf("it was written by a job keyed on [%s], not [%s]", strings.Join(cp.Key, ","), strings.Join(key, ","))
	}
	return ""
}
