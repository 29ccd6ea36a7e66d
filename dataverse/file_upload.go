package dataverse

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/google/uuid"
)

// FileUploadOptions are the options of UploadFile.
type FileUploadOptions struct {
	RequestOptions
	// Mode chooses the upload path; FileTransferAuto by default.
	Mode FileTransfer
	// Size is the content's length in bytes. Zero means: take it from the
	// reader when it can tell (a *bytes.Reader, *strings.Reader, *os.File
	// or other io.Seeker), else unknown. A chunked upload needs it.
	Size int64
	// ChunkThreshold is the size above which FileTransferAuto uploads in
	// chunks; DefaultFileChunkSize (4 MB) when zero.
	ChunkThreshold int64
	// MimeType is the file's MIME type for a block upload; by default the
	// type of the name's extension, or application/octet-stream.
	MimeType string
	// Resume continues the upload that failed with this error (a
	// *FileTransferError of UploadFile) from its last acknowledged chunk.
	// The reader must be the same content: an io.Seeker is positioned at
	// the error's Offset, any other reader must already be there.
	Resume error
	// Progress, when set, is called after each acknowledged chunk with the
	// number of bytes the service holds so far.
	Progress func(uploaded int64)
}

// UploadFile stores the content of r as the file of a File or Image
// column (column) of the row id in entitySet, named fileName, replacing
// any file there
// (https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data#upload-files).
//
// The content streams: the client holds at most one 4 MB chunk in memory.
// With FileTransferAuto a file up to ChunkThreshold goes in one PATCH; a
// larger one of known size goes in Content-Range chunks (`x-ms-transfer-mode:
// chunked`), one of unknown size in blocks (InitializeFileBlocksUpload,
// UploadBlock, CommitFileBlocksUpload). Every request goes through the
// client's pipeline (token, governor, retries); a chunk is retried like
// any idempotent request. When a chunk still fails, the error is a
// *FileTransferError: pass it as FileUploadOptions.Resume to continue
// after the last chunk the service acknowledged.
//
// A file larger than the column's MaxSizeInKB is refused by the service
// (ResponseError.Code 0x80044a02, or 0x80072553 for an image).
func (c *Client) UploadFile(ctx context.Context, entitySet string, id uuid.UUID, column, fileName string, r io.Reader, opts *FileUploadOptions) (info *FileInfo, err error) {
	ctx, end := c.startSpan(ctx, "UploadFile")
	defer func() { end(err) }()
	if opts == nil {
		opts = &FileUploadOptions{}
	}
	path, err := filePath(entitySet, id, column)
	if err != nil {
		return nil, err
	}
	if fileName == "" {
		return nil, invalidf("dataverse: UploadFile: the file name is empty; Dataverse stores a name with every file")
	}
	if r == nil {
		return nil, invalidf("dataverse: UploadFile: the reader is nil")
	}
	resume, err := resumeFrom(opts.Resume, "upload")
	if err != nil {
		return nil, err
	}
	u := &fileUpload{c: c, path: path, entitySet: entitySet, id: id, column: column, name: fileName, r: r, opts: opts, size: opts.Size}
	if u.size == 0 {
		u.size = readerSize(r)
	} else if u.size < 0 {
		u.size = -1
	}
	mode := opts.Mode
	if resume != nil {
		mode = resume.Mode
		if resume.Size >= 0 && opts.Size == 0 {
			u.size = resume.Size // the reader may already stand at the offset
		}
		if s, ok := r.(io.Seeker); ok {
			if _, err := s.Seek(resume.Offset, io.SeekCurrent); err != nil {
				return nil, fmt.Errorf("dataverse: UploadFile: positioning the reader at %d to resume: %w", resume.Offset, err)
			}
		}
	}
	threshold := opts.ChunkThreshold
	if threshold <= 0 {
		threshold = DefaultFileChunkSize
	}
	if mode == FileTransferAuto {
		switch {
		case u.size >= 0 && u.size <= threshold:
			mode = FileTransferSingle
		case u.size > threshold:
			mode = FileTransferChunked
		default:
			// Unknown size: read up to the threshold; a small file goes in
			// one request, a larger one in blocks.
			head := make([]byte, threshold+1)
			n, err := io.ReadFull(r, head)
			switch {
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
				u.r, u.size, mode = bytes.NewReader(head[:n]), int64(n), FileTransferSingle
			case err != nil:
				return nil, fmt.Errorf("dataverse: UploadFile: reading %s: %w", fileName, err)
			default:
				u.r, mode = io.MultiReader(bytes.NewReader(head[:n]), r), FileTransferBlocks
			}
		}
	}
	switch mode {
	case FileTransferSingle:
		return u.single(ctx)
	case FileTransferChunked:
		if u.size < 0 {
			return nil, invalidf("dataverse: UploadFile: a chunked upload needs the file size; set FileUploadOptions.Size or use FileTransferBlocks")
		}
		return u.chunked(ctx, resume)
	case FileTransferBlocks:
		return u.blocks(ctx, resume)
	}
	return nil, invalidf("dataverse: UploadFile: unknown transfer mode %v", mode)
}

// fileUpload is one UploadFile call.
type fileUpload struct {
	c                 *Client
	path              string
	entitySet, column string
	id                uuid.UUID
	name              string
	r                 io.Reader
	opts              *FileUploadOptions
	size              int64 // -1: unknown
}

// readerSize is the number of bytes left in r, or -1 when r cannot tell.
func readerSize(r io.Reader) int64 {
	switch x := r.(type) {
	case interface{ Len() int }:
		return int64(x.Len())
	case *os.File:
		st, err := x.Stat()
		if err != nil || !st.Mode().IsRegular() {
			return -1
		}
		pos, err := x.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		return st.Size() - pos
	case io.Seeker:
		pos, err := x.Seek(0, io.SeekCurrent)
		if err != nil {
			return -1
		}
		endPos, err := x.Seek(0, io.SeekEnd)
		if err != nil {
			return -1
		}
		if _, err := x.Seek(pos, io.SeekStart); err != nil {
			return -1
		}
		return endPos - pos
	}
	return -1
}

// nameQuery is the x-ms-file-name query parameter: the header is ASCII
// only, and the parameter carries any name.
func (u *fileUpload) nameQuery() string {
	return url.Values{"x-ms-file-name": {u.name}}.Encode()
}

// setNameHeader sends x-ms-file-name as a header when the name is ASCII
// (the header wins over the query parameter on the service).
func (u *fileUpload) setNameHeader(r *request) {
	for i := 0; i < len(u.name); i++ {
		if u.name[i] >= 0x80 || u.name[i] < 0x20 {
			return
		}
	}
	r.setHeader("x-ms-file-name", u.name)
}

func (u *fileUpload) progress(n int64) {
	if u.opts.Progress != nil {
		u.opts.Progress(n)
	}
}

// single sends the file in one PATCH.
func (u *fileUpload) single(ctx context.Context) (*FileInfo, error) {
	if u.size > maxSingleFileUpload {
		return nil, invalidf("dataverse: UploadFile: %s has %d bytes; one request carries at most 128 MB, use FileTransferChunked or FileTransferBlocks", u.name, u.size)
	}
	// A retry rewinds the body to its start (offset 0), so only a seeker
	// positioned there streams; anything else is read first.
	body, ok := u.r.(io.ReadSeeker)
	if ok {
		if pos, err := body.Seek(0, io.SeekCurrent); err != nil || pos != 0 {
			ok = false
		}
	}
	if !ok {
		// At most 128 MB; FileTransferAuto only does this below the chunk
		// threshold.
		data, err := io.ReadAll(io.LimitReader(u.r, maxSingleFileUpload+1))
		if err != nil {
			return nil, fmt.Errorf("dataverse: UploadFile: reading %s: %w", u.name, err)
		}
		if len(data) > maxSingleFileUpload {
			return nil, invalidf("dataverse: UploadFile: %s is larger than 128 MB, the most one request carries; use FileTransferChunked or FileTransferBlocks", u.name)
		}
		body, u.size = bytes.NewReader(data), int64(len(data))
	}
	r := &request{method: http.MethodPatch, path: u.path, query: u.nameQuery(), bodyReader: body,
		contentType: "application/octet-stream", idempotent: true, opts: &u.opts.RequestOptions}
	u.setNameHeader(r)
	if _, err := u.c.sendJSON(ctx, r, nil); err != nil {
		return nil, err
	}
	u.progress(u.size)
	return &FileInfo{Name: u.name, Size: u.size, Transferred: u.size, Mode: FileTransferSingle}, nil
}

// chunked sends the file in Content-Range chunks of the size the service
// asks for.
func (u *fileUpload) chunked(ctx context.Context, resume *FileTransferError) (*FileInfo, error) {
	session, offset := "", int64(0)
	chunkSize := int64(DefaultFileChunkSize)
	if resume != nil {
		session, offset = resume.sessionURL, resume.Offset
	} else {
		start := &request{method: http.MethodPatch, path: u.path, query: u.nameQuery(), idempotent: true, opts: &u.opts.RequestOptions}
		start.setHeader("x-ms-transfer-mode", "chunked")
		u.setNameHeader(start)
		resp, err := u.c.sendJSON(ctx, start, nil)
		if err != nil {
			return nil, err
		}
		session = resp.Header.Get("Location")
		if session == "" {
			return nil, fmt.Errorf("dataverse: UploadFile: the service started a chunked upload of %s without a Location header", u.name)
		}
		if n, err := strconv.ParseInt(resp.Header.Get("x-ms-chunk-size"), 10, 64); err == nil && n > 0 {
			chunkSize = n
		}
	}
	sessionURL, err := u.c.resolveLink(session)
	if err != nil {
		return nil, fmt.Errorf("dataverse: UploadFile: the chunked upload's Location %q: %w", session, err)
	}
	fail := func(at int64, err error) error {
		return &FileTransferError{Op: "upload", Offset: at, Size: u.size, Mode: FileTransferChunked, Err: err, sessionURL: session}
	}
	buf := make([]byte, min(chunkSize, max(u.size-offset, 1)))
	start := offset
	for offset < u.size {
		n, err := io.ReadFull(u.r, buf[:min(int64(len(buf)), u.size-offset)])
		if err != nil {
			return nil, fail(offset, fmt.Errorf("reading %s at byte %d (is the size %d right?): %w", u.name, offset, u.size, err))
		}
		r := &request{method: http.MethodPatch, absURL: sessionURL.String(), bodyReader: bytes.NewReader(buf[:n]),
			contentType: "application/octet-stream", idempotent: true, opts: &u.opts.RequestOptions}
		r.setHeader("Content-Range", fmt.Sprintf("bytes %d-%d/%d", offset, offset+int64(n)-1, u.size))
		u.setNameHeader(r)
		if _, err := u.c.sendJSON(ctx, r, nil); err != nil {
			return nil, fail(offset, err)
		}
		offset += int64(n)
		u.progress(offset)
	}
	return &FileInfo{Name: u.name, Size: u.size, Transferred: u.size - start, Mode: FileTransferChunked}, nil
}

// blocks sends the file with the block messages; the size need not be
// known.
func (u *fileUpload) blocks(ctx context.Context, resume *FileTransferError) (*FileInfo, error) {
	var token string
	var blockIDs []string
	var offset int64
	if resume != nil {
		token, blockIDs, offset = resume.token, append([]string(nil), resume.blockIDs...), resume.Offset
	} else {
		md, err := u.c.TableMetadata(ctx, u.entitySet)
		if err != nil {
			return nil, fmt.Errorf("dataverse: UploadFile: reading the metadata of %s for the block upload's Target: %w", u.entitySet, err)
		}
		in := map[string]any{
			"Target":            map[string]any{md.PrimaryIDAttribute: u.id, "@odata.type": "Microsoft.Dynamics.CRM." + md.LogicalName},
			"FileName":          u.name,
			"FileAttributeName": u.column,
		}
		var out struct{ FileContinuationToken string }
		if err := u.c.postAction(ctx, "InitializeFileBlocksUpload", in, &out, false, &u.opts.RequestOptions); err != nil {
			return nil, err
		}
		token = out.FileContinuationToken
	}
	fail := func(err error) error {
		return &FileTransferError{Op: "upload", Offset: offset, Size: u.size, Mode: FileTransferBlocks, Err: err, token: token, blockIDs: blockIDs}
	}
	start := offset
	buf := make([]byte, DefaultFileChunkSize)
	for {
		n, readErr := io.ReadFull(u.r, buf)
		if n > 0 {
			blockID := base64.StdEncoding.EncodeToString([]byte(uuid.NewString()))
			in := map[string]any{"BlockId": blockID, "BlockData": buf[:n], "FileContinuationToken": token}
			// A block sent again under its id replaces itself: safe to retry.
			if err := u.c.postAction(ctx, "UploadBlock", in, nil, true, &u.opts.RequestOptions); err != nil {
				return nil, fail(err)
			}
			blockIDs = append(blockIDs, blockID)
			offset += int64(n)
			u.progress(offset)
		}
		if errors.Is(readErr, io.EOF) || errors.Is(readErr, io.ErrUnexpectedEOF) {
			break
		}
		if readErr != nil {
			return nil, fail(fmt.Errorf("reading %s at byte %d: %w", u.name, offset, readErr))
		}
	}
	mimeType := u.opts.MimeType
	if mimeType == "" {
		if mimeType = mime.TypeByExtension(filepath.Ext(u.name)); mimeType == "" {
			mimeType = "application/octet-stream"
		}
	}
	in := map[string]any{"FileName": u.name, "MimeType": mimeType, "BlockList": blockIDs, "FileContinuationToken": token}
	var out struct {
		FileID          uuid.UUID `json:"FileId"`
		FileSizeInBytes int64
	}
	if err := u.c.postAction(ctx, "CommitFileBlocksUpload", in, &out, false, &u.opts.RequestOptions); err != nil {
		return nil, fail(err)
	}
	return &FileInfo{FileID: out.FileID, Name: u.name, Size: offset, Transferred: offset - start, Mode: FileTransferBlocks}, nil
}

// postAction POSTs an unbound action with a JSON body and decodes its
// answer into out (nil: none).
func (c *Client) postAction(ctx context.Context, name string, in, out any, idempotent bool, opts *RequestOptions) error {
	body, err := marshalBody(in)
	if err != nil {
		return err
	}
	r := &request{method: http.MethodPost, path: name, body: body, idempotent: idempotent, opts: opts}
	_, err = c.sendJSON(ctx, r, out)
	return err
}
