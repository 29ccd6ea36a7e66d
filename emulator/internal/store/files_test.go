package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// newFileStore opens a store with a new_doc table holding a File column (new_file, 1 KB) and a
// clock the test moves.
func newFileStore(t *testing.T) (*Store, *Principal, FileTarget, func(time.Duration)) {
	t.Helper()
	def, err := schema.Parse([]byte("tables:\n  - {logicalName: new_doc, columns: [{logicalName: new_file, type: File, maxSizeInKB: 1}]}\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sch, err := schema.WithBuiltin(def)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, p := newStore(t, &Options{Schema: sch, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	tb := table(t, s, "new_doc")
	w, err := s.Create(context.Background(), p, tb, nil)
	if err != nil {
		t.Fatal(err)
	}
	col, _ := tb.Column("new_file")
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	return s, p, FileTarget{Table: tb, ID: w.ID, Column: col}, advance
}

// TestFileSessionsExpire: an abandoned upload keeps its parts for FileSessionLifetime and is
// dropped, bytes included, when a later upload starts.
func TestFileSessionsExpire(t *testing.T) {
	ctx := context.Background()
	s, p, target, advance := newFileStore(t)
	old, err := s.BeginFileUpload(ctx, p, target, "a.bin")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutFileBlock(ctx, old, "QUFB", []byte("abc")); err != nil {
		t.Fatal(err)
	}
	advance(FileSessionLifetime - time.Minute)
	if _, err := s.BeginFileUpload(ctx, p, target, "b.bin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FileUploadSession(ctx, old); err != nil {
		t.Fatalf("a session younger than its lifetime was dropped: %v", err)
	}
	advance(2 * time.Minute)
	if _, err := s.BeginFileUpload(ctx, p, target, "c.bin"); err != nil {
		t.Fatal(err)
	}
	var fe *FileError
	if _, err := s.FileUploadSession(ctx, old); !errors.As(err, &fe) || fe.Failure != FileSessionUnknown {
		t.Fatalf("an expired session: %v, want FileSessionUnknown", err)
	}
	var parts int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM "_dv_file_upload_part" WHERE "token" = ?`, old).Scan(&parts); err != nil || parts != 0 {
		t.Errorf("the expired session keeps %d parts (%v)", parts, err)
	}
}

// TestFileUploadLimitsAndOrder: blocks over MaxSizeInKB are refused as they arrive, a commit
// follows the block list's order, and an out-of-order chunk leaves the session where it was.
func TestFileUploadLimitsAndOrder(t *testing.T) {
	ctx := context.Background()
	s, p, target, _ := newFileStore(t)
	tok, err := s.BeginFileUpload(ctx, p, target, "x.txt")
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 1025)
	var fe *FileError
	if err := s.PutFileBlock(ctx, tok, "QUFB", big); !errors.As(err, &fe) || fe.Failure != FileTooLarge {
		t.Fatalf("a 1025-byte block for a 1 KB column: %v", err)
	}
	for id, data := range map[string]string{"QUFB": "world", "QkJC": "hello "} {
		if err := s.PutFileBlock(ctx, tok, id, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := s.CommitFileUpload(ctx, p, tok, "x.txt", "", []string{"QkJC", "QUFB"})
	if err != nil {
		t.Fatal(err)
	}
	var got writerBuffer
	if err := s.ReadFile(ctx, fi.FileID, 0, -1, &got); err != nil || string(got) != "hello world" || fi.MimeType != "text/plain; charset=utf-8" {
		t.Errorf("committed %q (%v), mime %q", got, err, fi.MimeType)
	}

	tok, _ = s.BeginFileUpload(ctx, p, target, "y.bin")
	if _, _, err := s.AppendFileRange(ctx, p, tok, 5, 9, 10, []byte("56789"), ""); !errors.As(err, &fe) || fe.Failure != FileRangeInvalid {
		t.Fatalf("a chunk that skips bytes 0-4: %v", err)
	}
	if done, _, err := s.AppendFileRange(ctx, p, tok, 0, 4, 10, []byte("01234"), ""); err != nil || done {
		t.Fatalf("first chunk: done %v, %v", done, err)
	}
	// The same chunk again (its answer lost) is acknowledged without being stored twice.
	if done, _, err := s.AppendFileRange(ctx, p, tok, 0, 4, 10, []byte("01234"), ""); err != nil || done {
		t.Fatalf("first chunk again: done %v, %v", done, err)
	}
	done, fi, err := s.AppendFileRange(ctx, p, tok, 5, 9, 10, []byte("56789"), "")
	if err != nil || !done || fi.Size != 10 {
		t.Fatalf("last chunk: done %v, %+v, %v", done, fi, err)
	}
	got = got[:0]
	if err := s.ReadFile(ctx, fi.FileID, 3, 4, &got); err != nil || string(got) != "3456" {
		t.Errorf("bytes 3-6 = %q, %v", got, err)
	}
}

type writerBuffer []byte

func (w *writerBuffer) Write(p []byte) (int, error) { *w = append(*w, p...); return len(p), nil }
