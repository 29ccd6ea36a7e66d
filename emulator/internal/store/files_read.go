package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
)

// ReadFile writes bytes offset..offset+length-1 of a file's content to w
// (length < 0: to the end), reading one stored chunk at a time so that a
// download never holds the file in memory. The range must lie within the
// file; callers clamp it.
func (s *Store) ReadFile(ctx context.Context, fileID uuid.UUID, offset, length int64, w io.Writer) error {
	var size int64
	if err := s.db.QueryRowContext(ctx, `SELECT "size" FROM "_dv_file" WHERE "fileid" = ?`, fileID.String()).Scan(&size); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fileErrorf(FileNotFound, "No FileAttachment records found with id %s.", fileID)
		}
		return fmt.Errorf("store: read file %s: %w", fileID, err)
	}
	end := size
	if length >= 0 && offset+length < size {
		end = offset + length
	}
	for pos := offset; pos < end; {
		var start int64
		var data []byte
		err := s.db.QueryRowContext(ctx, `SELECT "offset", "data" FROM "_dv_file_chunk" WHERE "fileid" = ? AND "offset" <= ? ORDER BY "offset" DESC LIMIT 1`,
			fileID.String(), pos).Scan(&start, &data)
		if err != nil {
			return fmt.Errorf("store: read file %s at %d: %w", fileID, pos, err)
		}
		data = data[pos-start:]
		if n := end - pos; int64(len(data)) > n {
			data = data[:n]
		}
		if len(data) == 0 {
			return fmt.Errorf("store: file %s has no chunk at offset %d", fileID, pos)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		pos += int64(len(data))
	}
	return nil
}

// BeginFileDownload opens a block download of target's content
// (InitializeFileBlocksDownload); p needs read access to the row. An
// image column answers with its full-size image, and refuses when it kept
// none.
func (s *Store) BeginFileDownload(ctx context.Context, p *Principal, target FileTarget) (string, FileInfo, error) {
	fi, err := s.FileOf(ctx, p, target)
	if err != nil {
		return "", FileInfo{}, err
	}
	if !fi.HasContent {
		return "", FileInfo{}, fileErrorf(FileNotFound, "No FileAttachment records found for imagedescriptorId: %s for image attribute: %s of %s record with id %s.",
			fi.FileID, target.Column.LogicalName, target.Table.LogicalName, target.ID)
	}
	token := newFileToken()
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO "_dv_file_download" ("token", "fileid", "createdon") VALUES (?, ?, ?)`,
			token, fi.FileID.String(), s.nowUTC().Format(dateTimeLayout))
		return err
	})
	if err != nil {
		return "", FileInfo{}, fmt.Errorf("store: open download: %w", err)
	}
	return token, fi, nil
}

// FileDownload returns the file a download token was issued for.
func (s *Store) FileDownload(ctx context.Context, token string) (FileInfo, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT "fileid" FROM "_dv_file_download" WHERE "token" = ?`, token).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return FileInfo{}, fileErrorf(FileSessionUnknown, "The file continuation token is not valid or its file was deleted.")
	}
	if err != nil {
		return FileInfo{}, fmt.Errorf("store: read download: %w", err)
	}
	return s.fileByID(ctx, s.db, id)
}
