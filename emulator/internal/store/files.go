package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// File and image column contents
// (https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data).
//
// The bytes never sit whole in memory: an upload is kept as parts (the
// chunks of a chunked PATCH, the blocks of UploadBlock, the 4 MB slices of
// a single PATCH) in _dv_file_upload_part, and a commit copies them, in
// order, into _dv_file_chunk inside SQLite (INSERT … SELECT). Downloads read
// one chunk row at a time. The row itself holds only the file id (File
// columns) or the base64 thumbnail (Image columns) and the companions.
var filesDDL = []string{
	`CREATE TABLE IF NOT EXISTS "_dv_file" (
		"fileid" TEXT NOT NULL PRIMARY KEY,
		"entity" TEXT NOT NULL,
		"objectid" TEXT NOT NULL,
		"attribute" TEXT NOT NULL,
		"filename" TEXT NOT NULL,
		"mimetype" TEXT NOT NULL,
		"size" INTEGER NOT NULL,
		"createdon" TEXT NOT NULL,
		"thumbnail" BLOB,
		"hasfull" INTEGER NOT NULL
	) STRICT`,
	`CREATE INDEX IF NOT EXISTS "_dv_file_object" ON "_dv_file" ("entity", "objectid", "attribute")`,
	`CREATE TABLE IF NOT EXISTS "_dv_file_chunk" (
		"fileid" TEXT NOT NULL,
		"offset" INTEGER NOT NULL,
		"data" BLOB NOT NULL
	) STRICT`,
	`CREATE UNIQUE INDEX IF NOT EXISTS "_dv_file_chunk_key" ON "_dv_file_chunk" ("fileid", "offset")`,
	`CREATE TABLE IF NOT EXISTS "_dv_file_upload" (
		"token" TEXT NOT NULL PRIMARY KEY,
		"entity" TEXT NOT NULL,
		"objectid" TEXT NOT NULL,
		"attribute" TEXT NOT NULL,
		"filename" TEXT NOT NULL,
		"total" INTEGER NOT NULL,
		"received" INTEGER NOT NULL,
		"createdon" TEXT NOT NULL
	) STRICT`,
	`CREATE TABLE IF NOT EXISTS "_dv_file_upload_part" (
		"token" TEXT NOT NULL,
		"blockid" TEXT NOT NULL,
		"offset" INTEGER NOT NULL,
		"data" BLOB NOT NULL
	) STRICT`,
	`CREATE UNIQUE INDEX IF NOT EXISTS "_dv_file_upload_part_key" ON "_dv_file_upload_part" ("token", "blockid")`,
	`CREATE TABLE IF NOT EXISTS "_dv_file_download" (
		"token" TEXT NOT NULL PRIMARY KEY,
		"fileid" TEXT NOT NULL,
		"createdon" TEXT NOT NULL
	) STRICT`,
}

func init() { internalDDL = append(internalDDL, filesDDL...) }

// FileFailure says why a file operation was refused; package webapi maps
// each to Dataverse's error code.
type FileFailure uint8

// The file failures.
const (
	FileTooLarge        FileFailure = iota + 1 // more bytes than the File column's MaxSizeInKB
	FileImageTooLarge                          // more bytes than the Image column's MaxSizeInKB
	FileRangeInvalid                           // a chunk out of order, of the wrong length, or too big
	FileBlockUnknown                           // a block list names a block never uploaded
	FileSessionUnknown                         // a continuation or session token the store does not know
	FileNotFound                               // no file (or no full image) for the column
	FileImageUnreadable                        // an image column given bytes that are not an image
	FileContentMissing                         // an empty upload
)

// FileError is a refused file operation.
type FileError struct {
	Failure FileFailure
	Message string
}

// Error returns the message Dataverse would put in the error envelope.
func (e *FileError) Error() string { return e.Message }

func fileErrorf(f FileFailure, format string, args ...any) *FileError {
	return &FileError{Failure: f, Message: fmt.Sprintf(format, args...)}
}

// FileTarget is a File or Image column of one row.
type FileTarget struct {
	Table  *schema.Table
	ID     uuid.UUID
	Column *schema.Column
}

func (t FileTarget) String() string {
	return fmt.Sprintf("%s(%s)/%s", t.Table.LogicalName, t.ID, t.Column.LogicalName)
}

// FileInfo describes a stored file.
type FileInfo struct {
	// FileID is the file's id: the File column's value, an Image column's
	// `<col>id`.
	FileID   uuid.UUID
	Name     string
	MimeType string
	// Size is the byte length of the stored content: the file, or the
	// full-size image (0 when the image column kept none).
	Size int64
	// HasContent is false for an image stored without its full-size copy.
	HasContent bool
	// Thumbnail is an Image column's thumbnail.
	Thumbnail []byte
	Created   time.Time
	Target    FileTarget
}

// newFileToken returns an opaque token for an upload or download session.
func newFileToken() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkFileWrite checks that p may write the row of target (the Write
// privilege at a depth that reaches the row), as an update of the column
// would need.
func (tx *Tx) checkFileWrite(ctx context.Context, p *Principal, target FileTarget) (*current, error) {
	if target.Column.File == nil || target.Column.Table != target.Table {
		return nil, fmt.Errorf("store: %s is not a file column of %s", target.Column, target.Table.LogicalName)
	}
	cur, err := tx.load(ctx, target.Table, target.ID)
	if err != nil {
		return nil, err
	}
	depth, err := tx.s.Require(p, VerbWrite, target.Table)
	if err != nil {
		return nil, err
	}
	if ok, err := tx.s.reaches(ctx, tx.tx, p, depth, cur.own); err != nil {
		return nil, err
	} else if !ok {
		return nil, recordAccessError(p, VerbWrite, target.Table, target.ID.String())
	}
	return cur, nil
}

// FileOf returns the file of target; p needs read access to the row. A
// column without a file is a FileError FileNotFound.
func (s *Store) FileOf(ctx context.Context, p *Principal, target FileTarget) (FileInfo, error) {
	if _, err := s.Retrieve(ctx, p, target.Table, target.ID, []*schema.Column{target.Table.PrimaryID()}); err != nil {
		return FileInfo{}, err
	}
	return s.fileByTarget(ctx, s.db, target)
}

func (s *Store) fileByTarget(ctx context.Context, q querier, target FileTarget) (FileInfo, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT "fileid" FROM "_dv_file" WHERE "entity" = ? AND "objectid" = ? AND "attribute" = ?`,
		target.Table.LogicalName, target.ID.String(), target.Column.LogicalName).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return FileInfo{}, fileErrorf(FileNotFound, "No file attachment found for attribute: %s EntityId: %s.", target.Column.LogicalName, target.ID)
	}
	if err != nil {
		return FileInfo{}, fmt.Errorf("store: read file of %s: %w", target, err)
	}
	return s.fileByID(ctx, q, id)
}

func (s *Store) fileByID(ctx context.Context, q querier, id string) (FileInfo, error) {
	var (
		fi                           FileInfo
		fileID, entity, object, attr string
		created                      string
		hasFull                      int64
	)
	err := q.QueryRowContext(ctx, `SELECT "fileid", "entity", "objectid", "attribute", "filename", "mimetype", "size", "createdon", "thumbnail", "hasfull" FROM "_dv_file" WHERE "fileid" = ?`, id).
		Scan(&fileID, &entity, &object, &attr, &fi.Name, &fi.MimeType, &fi.Size, &created, &fi.Thumbnail, &hasFull)
	if errors.Is(err, sql.ErrNoRows) {
		return FileInfo{}, fileErrorf(FileNotFound, "No FileAttachment records found with id %s.", id)
	}
	if err != nil {
		return FileInfo{}, fmt.Errorf("store: read file %s: %w", id, err)
	}
	fi.FileID, _ = uuid.Parse(fileID)
	fi.HasContent = hasFull != 0
	fi.Created, _ = time.Parse(dateTimeLayout, created)
	t, ok := s.schema.Table(entity)
	if !ok {
		return FileInfo{}, fmt.Errorf("store: file %s belongs to unknown table %q", id, entity)
	}
	col, _ := t.Column(attr)
	rowID, _ := uuid.Parse(object)
	fi.Target = FileTarget{Table: t, ID: rowID, Column: col}
	return fi, nil
}

// deleteFileRows removes a file and its chunks.
func deleteFileRows(ctx context.Context, q querier, fileID string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM "_dv_file_chunk" WHERE "fileid" = ?`, fileID); err != nil {
		return fmt.Errorf("store: delete file chunks: %w", err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM "_dv_file_download" WHERE "fileid" = ?`, fileID); err != nil {
		return fmt.Errorf("store: delete file downloads: %w", err)
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM "_dv_file" WHERE "fileid" = ?`, fileID); err != nil {
		return fmt.Errorf("store: delete file: %w", err)
	}
	return nil
}

// deleteRowFiles removes the files and upload sessions of a row being
// deleted (the delete cascade calls it).
func (tx *Tx) deleteRowFiles(ctx context.Context, t *schema.Table, id string) error {
	if !hasFileColumns(t) {
		return nil
	}
	rows, err := tx.tx.QueryContext(ctx, `SELECT "fileid" FROM "_dv_file" WHERE "entity" = ? AND "objectid" = ?`, t.LogicalName, id)
	if err != nil {
		return fmt.Errorf("store: read files of %s(%s): %w", t.LogicalName, id, err)
	}
	var ids []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, f := range ids {
		if err := deleteFileRows(ctx, tx.tx, f); err != nil {
			return err
		}
	}
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM "_dv_file_upload_part" WHERE "token" IN (SELECT "token" FROM "_dv_file_upload" WHERE "entity" = ? AND "objectid" = ?)`, t.LogicalName, id); err != nil {
		return fmt.Errorf("store: delete upload parts: %w", err)
	}
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM "_dv_file_upload" WHERE "entity" = ? AND "objectid" = ?`, t.LogicalName, id); err != nil {
		return fmt.Errorf("store: delete uploads: %w", err)
	}
	return nil
}

func hasFileColumns(t *schema.Table) bool {
	for _, c := range t.Columns {
		if c.File != nil {
			return true
		}
	}
	return false
}

// DeleteFile removes the file of target and clears the column; p needs
// write access to the row. A column without a file is a FileNotFound.
func (s *Store) DeleteFile(ctx context.Context, p *Principal, target FileTarget) error {
	return s.Write(ctx, func(tx *Tx) error {
		cur, err := tx.checkFileWrite(ctx, p, target)
		if err != nil {
			return err
		}
		fi, err := s.fileByTarget(ctx, tx.tx, target)
		if err != nil {
			return err
		}
		if err := deleteFileRows(ctx, tx.tx, fi.FileID.String()); err != nil {
			return err
		}
		return tx.setFileColumns(ctx, p, cur, target, nil)
	})
}

// DeleteFileByID is the DeleteFile message: it removes the file with the
// given id wherever it is, checking write access to its row.
func (s *Store) DeleteFileByID(ctx context.Context, p *Principal, fileID uuid.UUID) error {
	fi, err := s.fileByID(ctx, s.db, fileID.String())
	if err != nil {
		return err
	}
	return s.DeleteFile(ctx, p, fi.Target)
}

// setFileColumns writes the row's view of its file: the File column's id
// and `<col>_name`, or the Image column's thumbnail, `<col>id`,
// `<col>_timestamp` and `<col>_url`; fi nil clears them. The row's
// version and modifiedon/modifiedby change as with any update.
func (tx *Tx) setFileColumns(ctx context.Context, p *Principal, cur *current, target FileTarget, fi *FileInfo) error {
	t, col := target.Table, target.Column
	r := loadedRowState(t, cur.values)
	set := r.set // a column the table lacks (nil) is not set
	switch {
	case fi == nil:
		set(col, nil)
		set(col.File.NameColumn, nil)
		set(col.File.IDColumn, nil)
		set(col.File.TimestampColumn, nil)
		set(col.File.URLColumn, nil)
	case col.Type == schema.TypeFile:
		set(col, fi.FileID)
		set(col.File.NameColumn, fi.Name)
	default:
		ts := imageTimestamp(tx.s.now())
		set(col, base64.StdEncoding.EncodeToString(fi.Thumbnail))
		set(col.File.IDColumn, fi.FileID)
		set(col.File.TimestampColumn, ts)
		set(col.File.URLColumn, fmt.Sprintf("/Image/download.aspx?Entity=%s&Attribute=%s&Id=%s&Timestamp=%d", t.LogicalName, col.LogicalName, fi.FileID, ts))
	}
	_, stmt, args, err := tx.prepareUpdate(ctx, p, r, cur.id)
	if err != nil {
		return err
	}
	if _, err := tx.exec(ctx, stmt, args...); err != nil {
		return fmt.Errorf("store: update %s: %w", target, err)
	}
	return nil
}

// imageTimestamp is `<col>_timestamp`: .NET ticks of the change
// [unverified: the documented example 637388308718090885 looks like ticks].
func imageTimestamp(now time.Time) int64 {
	const ticksAtUnixEpoch = 621355968000000000
	return ticksAtUnixEpoch + now.UTC().UnixNano()/100
}
