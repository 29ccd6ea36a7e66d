package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"mime"
	"path/filepath"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// MaxFilePartBytes is the largest chunk or block one request may carry:
// the x-ms-chunk-size Dataverse advertises (4 MB) and the UploadBlock
// limit.
const MaxFilePartBytes = 4 << 20

// FileUpload is an upload session: a chunked PATCH, a block upload, or the
// body of a single PATCH being received.
type FileUpload struct {
	Token    string
	Target   FileTarget
	FileName string
	// Total is the file size announced by the first Content-Range of a
	// chunked upload; -1 until then and for block uploads.
	Total int64
	// Received is the byte count stored so far (for a chunked upload, the
	// offset the next chunk must start at).
	Received int64
}

// BeginFileUpload opens an upload session for target; p needs write access
// to the row. The token names the session in the later calls.
func (s *Store) BeginFileUpload(ctx context.Context, p *Principal, target FileTarget, fileName string) (string, error) {
	token := newFileToken()
	err := s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.checkFileWrite(ctx, p, target); err != nil {
			return err
		}
		if err := tx.expireFileSessions(ctx); err != nil {
			return err
		}
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO "_dv_file_upload" ("token", "entity", "objectid", "attribute", "filename", "total", "received", "createdon") VALUES (?, ?, ?, ?, ?, -1, 0, ?)`,
			token, target.Table.LogicalName, target.ID.String(), target.Column.LogicalName, fileName, s.nowUTC().Format(dateTimeLayout))
		return err
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// FileSessionLifetime is how long an upload session or a download token
// lives; older ones are dropped when the next upload starts [unverified:
// Dataverse documents no lifetime for session and continuation tokens].
const FileSessionLifetime = 24 * time.Hour

// expireFileSessions drops the upload sessions (and their parts) and the
// download tokens older than FileSessionLifetime, so that abandoned
// uploads do not keep their bytes in the store.
func (tx *Tx) expireFileSessions(ctx context.Context) error {
	cutoff := tx.s.nowUTC().Add(-FileSessionLifetime).Format(dateTimeLayout)
	for _, stmt := range []string{
		`DELETE FROM "_dv_file_upload_part" WHERE "token" IN (SELECT "token" FROM "_dv_file_upload" WHERE "createdon" < ?)`,
		`DELETE FROM "_dv_file_upload" WHERE "createdon" < ?`,
		`DELETE FROM "_dv_file_download" WHERE "createdon" < ?`,
	} {
		if _, err := tx.tx.ExecContext(ctx, stmt, cutoff); err != nil {
			return fmt.Errorf("store: expire file sessions: %w", err)
		}
	}
	return nil
}

// FileUploadSession returns the session of token.
func (s *Store) FileUploadSession(ctx context.Context, token string) (FileUpload, error) {
	return s.uploadSession(ctx, s.db, token)
}

func (s *Store) uploadSession(ctx context.Context, q querier, token string) (FileUpload, error) {
	u := FileUpload{Token: token}
	var entity, object, attr string
	err := q.QueryRowContext(ctx, `SELECT "entity", "objectid", "attribute", "filename", "total", "received" FROM "_dv_file_upload" WHERE "token" = ?`, token).
		Scan(&entity, &object, &attr, &u.FileName, &u.Total, &u.Received)
	if errors.Is(err, sql.ErrNoRows) {
		return FileUpload{}, fileErrorf(FileSessionUnknown, "The file continuation token is not valid or the upload it started has ended.")
	}
	if err != nil {
		return FileUpload{}, fmt.Errorf("store: read upload session: %w", err)
	}
	t, ok := s.schema.Table(entity)
	if !ok {
		return FileUpload{}, fmt.Errorf("store: upload session for unknown table %q", entity)
	}
	col, _ := t.Column(attr)
	id, _ := uuid.Parse(object)
	u.Target = FileTarget{Table: t, ID: id, Column: col}
	return u, nil
}

// TooLarge is the refusal of a file of size bytes, larger than column c
// allows.
func TooLarge(c *schema.Column, size int64) error { return tooLarge(c, size) }

// tooLarge is the refusal of a file larger than its column allows.
func tooLarge(c *schema.Column, size int64) *FileError {
	if c.Type == schema.TypeImage {
		return fileErrorf(FileImageTooLarge, "Error occured when processing image. Reason: File size is too big. MaxSize: %d MB, Uploaded filesize: %d MB.",
			c.File.MaxBytes()>>20, size>>20)
	}
	return fileErrorf(FileTooLarge, "Attachment file size is too big.")
}

// PutFileBlock stores one block of a block upload (UploadBlock); a block
// id sent again replaces its data. The blocks' total may not exceed the
// column's limit.
func (s *Store) PutFileBlock(ctx context.Context, token, blockID string, data []byte) error {
	if len(data) > MaxFilePartBytes {
		return fileErrorf(FileRangeInvalid, "Chunk range used in this call is either not valid or it is bigger than allowed %d MB.", MaxFilePartBytes>>20)
	}
	return s.Write(ctx, func(tx *Tx) error {
		u, err := s.uploadSession(ctx, tx.tx, token)
		if err != nil {
			return err
		}
		var others, idLength int64
		if err := tx.tx.QueryRowContext(ctx, `SELECT coalesce(sum(length("data")), 0), coalesce(max(length("blockid")), 0) FROM "_dv_file_upload_part" WHERE "token" = ? AND "blockid" <> ?`, token, blockID).Scan(&others, &idLength); err != nil {
			return err
		}
		if idLength != 0 && idLength != int64(len(blockID)) {
			// Azure block blob rule, which the block messages follow.
			return fileErrorf(FileBlockUnknown, "Block id '%s' has %d characters; every block id of one file must have the same length (%d here).", blockID, len(blockID), idLength)
		}
		if size := others + int64(len(data)); size > u.Target.Column.File.MaxBytes() {
			return tooLarge(u.Target.Column, size)
		}
		_, err = tx.tx.ExecContext(ctx, `INSERT INTO "_dv_file_upload_part" ("token", "blockid", "offset", "data") VALUES (?, ?, 0, ?)
			ON CONFLICT ("token", "blockid") DO UPDATE SET "data" = excluded."data"`, token, blockID, data)
		return err
	})
}

// AppendFileData adds the next slice of a single-request upload's body.
func (s *Store) AppendFileData(ctx context.Context, token string, data []byte) error {
	return s.Write(ctx, func(tx *Tx) error {
		u, err := s.uploadSession(ctx, tx.tx, token)
		if err != nil {
			return err
		}
		return tx.appendPart(ctx, u, data)
	})
}

func (tx *Tx) appendPart(ctx context.Context, u FileUpload, data []byte) error {
	if size := u.Received + int64(len(data)); size > u.Target.Column.File.MaxBytes() {
		return tooLarge(u.Target.Column, size)
	}
	if _, err := tx.tx.ExecContext(ctx, `INSERT INTO "_dv_file_upload_part" ("token", "blockid", "offset", "data") VALUES (?, ?, ?, ?)`,
		u.Token, fmt.Sprintf("%020d", u.Received), u.Received, data); err != nil {
		return fmt.Errorf("store: store upload part: %w", err)
	}
	_, err := tx.tx.ExecContext(ctx, `UPDATE "_dv_file_upload" SET "received" = ?, "total" = ? WHERE "token" = ?`, u.Received+int64(len(data)), u.Total, u.Token)
	return err
}

// AppendFileRange stores one chunk of a chunked upload: bytes start..end
// (inclusive) of total. Chunks must arrive in order, each at most
// MaxFilePartBytes; the total may not change between chunks nor exceed the
// column's limit. The chunk that reaches the total commits the file (done
// is true, and fi describes it).
func (s *Store) AppendFileRange(ctx context.Context, p *Principal, token string, start, end, total int64, data []byte, mimeType string) (done bool, fi FileInfo, err error) {
	err = s.Write(ctx, func(tx *Tx) error {
		u, err := s.uploadSession(ctx, tx.tx, token)
		if err != nil {
			return err
		}
		invalid := func() error {
			return fileErrorf(FileRangeInvalid, "Chunk range used in this call is either not valid or it is bigger than allowed %d MB. (Expected bytes %d-…/%d, got bytes %d-%d/%d with a body of %d bytes.)",
				MaxFilePartBytes>>20, u.Received, u.Total, start, end, total, len(data))
		}
		if u.Total == total && end < u.Received && end-start+1 == int64(len(data)) {
			// A chunk sent again after its answer was lost: already stored
			// [unverified: Dataverse documents no resend rule].
			return nil
		}
		if start != u.Received || end < start || end >= total || end-start+1 != int64(len(data)) || len(data) > MaxFilePartBytes || (u.Total >= 0 && total != u.Total) {
			if u.Total < 0 {
				u.Total = total
			}
			return invalid()
		}
		if total > u.Target.Column.File.MaxBytes() {
			return tooLarge(u.Target.Column, total)
		}
		u.Total = total
		if err := tx.appendPart(ctx, u, data); err != nil {
			return err
		}
		if end+1 < total {
			return nil
		}
		done = true
		fi, err = tx.commitUpload(ctx, p, u, u.FileName, mimeType, nil)
		return err
	})
	return done, fi, err
}

// CommitFileUpload ends an upload: the parts, in the order of blockList
// (block uploads) or of arrival (blockList nil), become the column's file,
// replacing any earlier one.
func (s *Store) CommitFileUpload(ctx context.Context, p *Principal, token, fileName, mimeType string, blockList []string) (FileInfo, error) {
	var fi FileInfo
	err := s.Write(ctx, func(tx *Tx) error {
		u, err := s.uploadSession(ctx, tx.tx, token)
		if err != nil {
			return err
		}
		fi, err = tx.commitUpload(ctx, p, u, fileName, mimeType, blockList)
		return err
	})
	return fi, err
}

// AbortFileUpload drops a session and its parts (a refused single-request
// upload leaves nothing behind).
func (s *Store) AbortFileUpload(ctx context.Context, token string) error {
	return s.Write(ctx, func(tx *Tx) error { return tx.dropUpload(ctx, token) })
}

func (tx *Tx) dropUpload(ctx context.Context, token string) error {
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM "_dv_file_upload_part" WHERE "token" = ?`, token); err != nil {
		return fmt.Errorf("store: drop upload parts: %w", err)
	}
	_, err := tx.tx.ExecContext(ctx, `DELETE FROM "_dv_file_upload" WHERE "token" = ?`, token)
	return err
}

// uploadPart is one part of a commit, in file order.
type uploadPart struct {
	blockID string
	size    int64
}

func (tx *Tx) commitParts(ctx context.Context, token string, blockList []string) ([]uploadPart, error) {
	var parts []uploadPart
	if blockList == nil {
		rows, err := tx.tx.QueryContext(ctx, `SELECT "blockid", length("data") FROM "_dv_file_upload_part" WHERE "token" = ? ORDER BY "offset"`, token)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var p uploadPart
			if err := rows.Scan(&p.blockID, &p.size); err != nil {
				return nil, err
			}
			parts = append(parts, p)
		}
		return parts, rows.Err()
	}
	for _, id := range blockList {
		p := uploadPart{blockID: id}
		err := tx.tx.QueryRowContext(ctx, `SELECT length("data") FROM "_dv_file_upload_part" WHERE "token" = ? AND "blockid" = ?`, token, id).Scan(&p.size)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fileErrorf(FileBlockUnknown, "The block list names block id '%s', which was not uploaded with this file continuation token.", id)
		}
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, nil
}

func (tx *Tx) commitUpload(ctx context.Context, p *Principal, u FileUpload, fileName, mimeType string, blockList []string) (FileInfo, error) {
	target := u.Target
	cur, err := tx.checkFileWrite(ctx, p, target)
	if err != nil {
		return FileInfo{}, err
	}
	parts, err := tx.commitParts(ctx, u.Token, blockList)
	if err != nil {
		return FileInfo{}, err
	}
	var size int64
	for _, part := range parts {
		size += part.size
	}
	if size == 0 {
		return FileInfo{}, fileErrorf(FileContentMissing, "File content can not be null.")
	}
	if size > target.Column.File.MaxBytes() {
		return FileInfo{}, tooLarge(target.Column, size)
	}
	if fileName == "" {
		fileName = u.FileName
	}
	fi := FileInfo{FileID: uuid.New(), Name: fileName, MimeType: mimeType, Size: size, HasContent: true, Created: tx.s.nowUTC(), Target: target}
	if target.Column.Type == schema.TypeImage {
		img, err := tx.imageOf(ctx, u.Token, parts)
		if err != nil {
			return FileInfo{}, err
		}
		fi.Thumbnail, fi.MimeType = img.thumbnail, img.mimeType
		if !target.Column.File.CanStoreFullImage {
			fi.HasContent, fi.Size = false, 0
		}
	}
	if fi.MimeType == "" {
		fi.MimeType = mime.TypeByExtension(filepath.Ext(fileName))
		if fi.MimeType == "" {
			fi.MimeType = "application/octet-stream"
		}
	}
	if fi.HasContent {
		var offset int64
		for _, part := range parts {
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO "_dv_file_chunk" ("fileid", "offset", "data") SELECT ?, ?, "data" FROM "_dv_file_upload_part" WHERE "token" = ? AND "blockid" = ?`,
				fi.FileID.String(), offset, u.Token, part.blockID); err != nil {
				return FileInfo{}, fmt.Errorf("store: store file chunk: %w", err)
			}
			offset += part.size
		}
	}
	if old, err := tx.s.fileByTarget(ctx, tx.tx, target); err == nil {
		if err := deleteFileRows(ctx, tx.tx, old.FileID.String()); err != nil {
			return FileInfo{}, err
		}
	}
	hasFull := 0
	if fi.HasContent {
		hasFull = 1
	}
	if _, err := tx.tx.ExecContext(ctx, `INSERT INTO "_dv_file" ("fileid", "entity", "objectid", "attribute", "filename", "mimetype", "size", "createdon", "thumbnail", "hasfull") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		fi.FileID.String(), target.Table.LogicalName, target.ID.String(), target.Column.LogicalName, fi.Name, fi.MimeType, fi.Size, fi.Created.Format(dateTimeLayout), fi.Thumbnail, hasFull); err != nil {
		return FileInfo{}, fmt.Errorf("store: record file: %w", err)
	}
	if err := tx.dropUpload(ctx, u.Token); err != nil {
		return FileInfo{}, err
	}
	if err := tx.setFileColumns(ctx, p, cur, target, &fi); err != nil {
		return FileInfo{}, err
	}
	return fi, nil
}

// SetImage stores data as the image of an Image column, as an update of
// the row that carries its base64 does; nil data deletes the image (a
// column without one is left as it is). It runs in the update's
// transaction.
func (tx *Tx) SetImage(ctx context.Context, p *Principal, target FileTarget, data []byte) error {
	if data == nil {
		cur, err := tx.checkFileWrite(ctx, p, target)
		if err != nil {
			return err
		}
		fi, err := tx.s.fileByTarget(ctx, tx.tx, target)
		if err != nil {
			return nil // nothing to delete
		}
		if err := deleteFileRows(ctx, tx.tx, fi.FileID.String()); err != nil {
			return err
		}
		return tx.setFileColumns(ctx, p, cur, target, nil)
	}
	if _, err := tx.checkFileWrite(ctx, p, target); err != nil {
		return err
	}
	if size := int64(len(data)); size > target.Column.File.MaxBytes() {
		return tooLarge(target.Column, size)
	}
	u := FileUpload{Token: newFileToken(), Target: target, FileName: target.Column.LogicalName, Total: -1}
	if _, err := tx.tx.ExecContext(ctx, `INSERT INTO "_dv_file_upload" ("token", "entity", "objectid", "attribute", "filename", "total", "received", "createdon") VALUES (?, ?, ?, ?, ?, -1, 0, ?)`,
		u.Token, target.Table.LogicalName, target.ID.String(), target.Column.LogicalName, u.FileName, tx.s.nowUTC().Format(dateTimeLayout)); err != nil {
		return fmt.Errorf("store: start image upload: %w", err)
	}
	for len(data) > 0 {
		n := min(len(data), MaxFilePartBytes)
		if err := tx.appendPart(ctx, u, data[:n]); err != nil {
			return err
		}
		u.Received += int64(n)
		data = data[n:]
	}
	_, err := tx.commitUpload(ctx, p, u, u.FileName, "", nil)
	return err
}
