package webapi

import (
	"errors"
	"net/http"

	"github.com/d365s2s/d365/emulator/internal/store"
)

// Error codes of file and image columns
// (https://learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes,
// https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data,
// https://learn.microsoft.com/power-apps/developer/data-platform/image-column-data).
// Their HTTP statuses are not documented; 400 is the status of Dataverse's
// other validation failures [unverified].
const (
	// codeFileTooLarge is unManagedidsattachmentinvalidfilesize: a file
	// larger than the column's MaxSizeInKB ("Attachment file size is too
	// big.").
	codeFileTooLarge = "0x80044a02"
	// codeProcessImageFailure is ProcessImageFailure: an image larger
	// than its column's MaxSizeInKB, or bytes that are not an image.
	codeProcessImageFailure = "0x80072553"
	// codeInvalidFileRange is InvalidFileRangeRequested: a chunk out of
	// order, of the wrong length, or larger than x-ms-chunk-size.
	codeInvalidFileRange = "0x80090000"
	// codeFileSizeExceededForNonChunkedRequest is a single-request upload
	// over 128 MB.
	codeFileSizeExceededForNonChunkedRequest = "0x80090001"
	// codeInvalidParameterForFileOperation is
	// InvalidParameterForFileOperation ("Invalid parameter [{0}] provided
	// in request URL."); the emulator also answers an unknown session or
	// continuation token with it [unverified: the code for a stale token
	// is not documented].
	codeInvalidParameterForFileOperation = "0x80090003"
	// codeFileContentIsNull is FileContentIsNull: an empty upload.
	codeFileContentIsNull = "0x80090004"
	// codeInvalidFileAttributeName is InvalidFileAttributeName: a
	// FileAttributeName (or column path) that is not a file or image
	// column.
	codeInvalidFileAttributeName = "0x80090007"
	// codeInvalidBlock answers a block id that is not base64 of at most 64
	// bytes, or a block list naming a block never uploaded [unverified:
	// Dataverse documents no code; this is InvalidArgument].
	codeInvalidBlock = "0x80040203"
	// codeFileNotFound is ObjectDoesNotExist: no file in the column, or no
	// full-size copy of an image.
	codeFileNotFound = "0x80040217"
)

// statusFileRefused is the HTTP status of the refusals above [unverified:
// Microsoft documents the codes, not their statuses].
const statusFileRefused = http.StatusBadRequest

// statusNoFile answers a download of a File column that holds no file
// [unverified: undocumented for files; an Image column answers 204 No
// Content, as documented].
const statusNoFile = http.StatusNotFound

// maxSingleUploadBytes is the largest single-request upload (128 MB);
// larger files go in chunks.
const maxSingleUploadBytes = 128 << 20

// fileAPIError converts a store.FileError into Dataverse's answer; other
// errors pass through unchanged.
func fileAPIError(err error) error {
	var fe *store.FileError
	if !errors.As(err, &fe) {
		return err
	}
	switch fe.Failure {
	case store.FileTooLarge:
		return newError(statusFileRefused, codeFileTooLarge, "%s", fe.Message)
	case store.FileImageTooLarge, store.FileImageUnreadable:
		return newError(statusFileRefused, codeProcessImageFailure, "%s", fe.Message)
	case store.FileRangeInvalid:
		return newError(statusFileRefused, codeInvalidFileRange, "%s", fe.Message)
	case store.FileBlockUnknown:
		return newError(statusFileRefused, codeInvalidBlock, "%s", fe.Message)
	case store.FileSessionUnknown:
		return newError(statusFileRefused, codeInvalidParameterForFileOperation, "%s", fe.Message)
	case store.FileContentMissing:
		return newError(statusFileRefused, codeFileContentIsNull, "%s", fe.Message)
	case store.FileNotFound:
		return newError(statusNoFile, codeFileNotFound, "%s", fe.Message)
	}
	return newError(statusFileRefused, codeInvalidParameterForFileOperation, "%s", fe.Message)
}
