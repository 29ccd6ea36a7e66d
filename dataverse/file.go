package dataverse

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// File and image columns hold one file per row, outside the row's JSON
// (https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data,
// https://learn.microsoft.com/power-apps/developer/data-platform/image-column-data).
// UploadFile and DownloadFile stream them: the client holds at most one
// chunk (4 MB) of a file in memory, whatever its size.

// FileTransfer chooses how a file moves.
type FileTransfer uint8

// The file transfer modes.
const (
	// FileTransferAuto sends a file up to FileUploadOptions.ChunkThreshold
	// (and one of unknown size that turns out that small) in one request,
	// and larger ones in chunks; it downloads in ranged chunks.
	FileTransferAuto FileTransfer = iota
	// FileTransferSingle uploads in one PATCH request (files up to 128 MB)
	// or downloads with one GET of $value.
	FileTransferSingle
	// FileTransferChunked uploads with `x-ms-transfer-mode: chunked` and
	// Content-Range chunks (the size must be known), or downloads with
	// Range requests.
	FileTransferChunked
	// FileTransferBlocks uploads with InitializeFileBlocksUpload,
	// UploadBlock and CommitFileBlocksUpload (any size, known or not), or
	// downloads with InitializeFileBlocksDownload and DownloadBlock.
	FileTransferBlocks
)

// String returns the mode's name ("auto", "single", "chunked", "blocks").
func (m FileTransfer) String() string {
	switch m {
	case FileTransferAuto:
		return "auto"
	case FileTransferSingle:
		return "single"
	case FileTransferChunked:
		return "chunked"
	case FileTransferBlocks:
		return "blocks"
	}
	return fmt.Sprintf("FileTransfer(%d)", uint8(m))
}

// ParseFileTransfer reads a mode name as String writes it.
func ParseFileTransfer(s string) (FileTransfer, error) {
	for m := FileTransferAuto; m <= FileTransferBlocks; m++ {
		if strings.EqualFold(s, m.String()) {
			return m, nil
		}
	}
	return 0, invalidf("dataverse: file transfer mode %q is not one of auto, single, chunked, blocks", s)
}

// DefaultFileChunkSize is the chunk and block size used when the service
// does not say otherwise: 4 MB, Dataverse's x-ms-chunk-size and the
// largest UploadBlock.
const DefaultFileChunkSize = 4 << 20

// maxSingleFileUpload is the largest file one PATCH may carry (128 MB).
const maxSingleFileUpload = 128 << 20

// FileInfo describes a file that was uploaded or downloaded.
type FileInfo struct {
	// FileID is the file's id (the File column's value, CommitFileBlocksUpload's
	// FileId); uuid.Nil when the transfer did not report it.
	FileID uuid.UUID
	// Name is the file name (x-ms-file-name).
	Name string
	// Size is the file's size in bytes (x-ms-file-size).
	Size int64
	// MimeType is the service's mimetype header of a download.
	MimeType string
	// Transferred is the number of bytes this call moved (less than Size
	// when it resumed a transfer).
	Transferred int64
	// Mode is the transfer mode used.
	Mode FileTransfer
}

// FileTransferError is the failure of an UploadFile or DownloadFile after
// part of the file moved. Offset is the number of bytes the service has
// acknowledged (upload) or the writer received (download); pass the error
// in the options' Resume to carry on from there instead of starting over.
type FileTransferError struct {
	// Op is "upload" or "download".
	Op string
	// Offset is where a resumed transfer starts.
	Offset int64
	// Size is the file's size, when known; -1 otherwise.
	Size int64
	// Mode is the transfer mode that failed.
	Mode FileTransfer
	// Err is the cause.
	Err error

	// sessionURL is a chunked upload's Location; blockIDs the blocks a
	// block upload committed so far, with its token.
	sessionURL string
	token      string
	blockIDs   []string
}

// Error says what failed and where to resume.
func (e *FileTransferError) Error() string {
	size := "of unknown size"
	if e.Size >= 0 {
		size = fmt.Sprintf("of %d bytes", e.Size)
	}
	return fmt.Sprintf("dataverse: file %s (%s, %s) stopped after %d bytes; pass this error as Resume to continue from there: %v",
		e.Op, e.Mode, size, e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *FileTransferError) Unwrap() error { return e.Err }

// resumeFrom returns the FileTransferError to resume, checked against op.
func resumeFrom(err error, op string) (*FileTransferError, error) {
	if err == nil {
		return nil, nil
	}
	var fe *FileTransferError
	if !errors.As(err, &fe) || fe.Op != op {
		return nil, invalidf("dataverse: Resume must be the *FileTransferError of a failed %s", op)
	}
	return fe, nil
}

// filePath is the path of a file column of a row.
func filePath(entitySet string, id uuid.UUID, column string) (string, error) {
	p, err := recordPath(entitySet, id)
	if err != nil {
		return "", err
	}
	if !isName(column) {
		return "", invalidf("dataverse: %q is not a column name; pass the logical name of the file or image column (letters, digits, underscores)", column)
	}
	return p + "/" + column, nil
}
