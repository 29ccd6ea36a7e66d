package dataverse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/google/uuid"
)

// ErrNoFile is returned by DownloadFile when the column holds no file (or
// an image column kept no full-size copy and FullImage was asked for).
var ErrNoFile = errors.New("dataverse: the column holds no file")

// FileDownloadOptions are the options of DownloadFile.
type FileDownloadOptions struct {
	RequestOptions
	// Mode chooses the download path: FileTransferAuto and
	// FileTransferChunked use Range requests of ChunkSize, FileTransferSingle
	// one GET of $value, FileTransferBlocks InitializeFileBlocksDownload and
	// DownloadBlock.
	Mode FileTransfer
	// ChunkSize is the length of each ranged request or block;
	// DefaultFileChunkSize (4 MB) when zero.
	ChunkSize int64
	// FullImage downloads an image column's full-size image instead of its
	// thumbnail (`?size=full`). Block downloads of images are always full
	// size.
	FullImage bool
	// Resume continues the download that failed with this error (a
	// *FileTransferError of DownloadFile) at its Offset: the writer must
	// already hold the bytes before it (for example a file opened for
	// appending).
	Resume error
	// Progress, when set, is called after each chunk with the number of
	// bytes written so far.
	Progress func(downloaded int64)
}

// DownloadFile writes the file of a File or Image column (column) of the
// row id in entitySet to w
// (https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data#download-files).
// An image column gives its thumbnail unless FullImage is set.
//
// The content streams to w: the client holds at most one chunk in memory.
// With FileTransferAuto the file comes in Range requests of 4 MB, each
// retried through the client's pipeline like any GET; when one still
// fails, the error is a *FileTransferError whose Offset is the number of
// bytes w received: pass it as FileDownloadOptions.Resume (with w still
// holding them) to carry on. A column without a file returns ErrNoFile.
func (c *Client) DownloadFile(ctx context.Context, entitySet string, id uuid.UUID, column string, w io.Writer, opts *FileDownloadOptions) (info *FileInfo, err error) {
	ctx, end := c.startSpan(ctx, "DownloadFile")
	defer func() { end(err) }()
	if opts == nil {
		opts = &FileDownloadOptions{}
	}
	path, err := filePath(entitySet, id, column)
	if err != nil {
		return nil, err
	}
	if w == nil {
		return nil, invalidf("dataverse: DownloadFile: the writer is nil")
	}
	resume, err := resumeFrom(opts.Resume, "download")
	if err != nil {
		return nil, err
	}
	d := &fileDownload{c: c, path: path + "/$value", entitySet: entitySet, id: id, column: column, w: w, opts: opts, size: -1}
	if opts.FullImage {
		d.query = "size=full"
	}
	d.chunk = opts.ChunkSize
	if d.chunk <= 0 {
		d.chunk = DefaultFileChunkSize
	}
	mode := opts.Mode
	if resume != nil {
		mode, d.offset, d.start, d.size, d.token = resume.Mode, resume.Offset, resume.Offset, resume.Size, resume.token
	}
	switch mode {
	case FileTransferAuto, FileTransferChunked:
		d.mode = FileTransferChunked
		return d.ranged(ctx)
	case FileTransferSingle:
		if resume != nil {
			d.mode = FileTransferChunked // resuming a whole GET takes the rest by Range
			return d.ranged(ctx)
		}
		d.mode = FileTransferSingle
		return d.whole(ctx)
	case FileTransferBlocks:
		d.mode = FileTransferBlocks
		return d.blocks(ctx)
	}
	return nil, invalidf("dataverse: DownloadFile: unknown transfer mode %v", mode)
}

// fileDownload is one DownloadFile call.
type fileDownload struct {
	c                 *Client
	path, query       string
	entitySet, column string
	id                uuid.UUID
	w                 io.Writer
	opts              *FileDownloadOptions
	mode              FileTransfer
	chunk             int64
	size              int64 // -1 until known
	offset, start     int64
	token             string
	info              FileInfo
}

func (d *fileDownload) fail(err error) error {
	if errors.Is(err, ErrNoFile) || (d.offset == 0 && d.token == "") {
		return err
	}
	return &FileTransferError{Op: "download", Offset: d.offset, Size: d.size, Mode: d.mode, Err: err, token: d.token}
}

func (d *fileDownload) done() *FileInfo {
	d.info.Size, d.info.Transferred, d.info.Mode = d.size, d.offset-d.start, d.mode
	return &d.info
}

// readHeaders reads x-ms-file-size, x-ms-file-name and mimetype.
func (d *fileDownload) readHeaders(resp *http.Response) {
	if n, err := strconv.ParseInt(resp.Header.Get("x-ms-file-size"), 10, 64); err == nil && n >= 0 {
		d.size = n
	}
	if v := resp.Header.Get("x-ms-file-name"); v != "" {
		d.info.Name = v
	}
	if v := resp.Header.Get("mimetype"); v != "" {
		d.info.MimeType = v
	}
}

// copyBody streams resp's body to w, counting what arrived.
func (d *fileDownload) copyBody(resp *http.Response) error {
	defer closeBody(resp)
	n, err := io.Copy(d.w, resp.Body)
	d.offset += n
	if d.opts.Progress != nil && n > 0 {
		d.opts.Progress(d.offset)
	}
	if err != nil {
		return fmt.Errorf("dataverse: DownloadFile: receiving %s: %w", d.c.displayPath(d.path), err)
	}
	return nil
}

func (d *fileDownload) get(ctx context.Context, rangeHeader string) (*http.Response, error) {
	r := &request{method: http.MethodGet, path: d.path, query: d.query, idempotent: true, opts: &d.opts.RequestOptions}
	if rangeHeader != "" {
		r.setHeader("Range", rangeHeader)
	}
	resp, err := d.c.send(ctx, r)
	if err != nil {
		if IsNotFound(err) {
			return nil, fmt.Errorf("%w: %w", ErrNoFile, err)
		}
		return nil, err
	}
	if resp.StatusCode == http.StatusNoContent {
		closeBody(resp)
		return nil, ErrNoFile
	}
	return resp, nil
}

// whole downloads the file with one GET.
func (d *fileDownload) whole(ctx context.Context) (*FileInfo, error) {
	resp, err := d.get(ctx, "")
	if err != nil {
		return nil, err
	}
	d.readHeaders(resp)
	if err := d.copyBody(resp); err != nil {
		return nil, d.fail(err)
	}
	if d.size >= 0 && d.offset != d.size {
		return nil, d.fail(fmt.Errorf("dataverse: DownloadFile: received %d bytes of a %d-byte file", d.offset, d.size))
	}
	d.size = d.offset
	return d.done(), nil
}

// ranged downloads the file in Range requests; the first answer's
// x-ms-file-size says when to stop.
func (d *fileDownload) ranged(ctx context.Context) (*FileInfo, error) {
	for d.size < 0 || d.offset < d.size {
		resp, err := d.get(ctx, fmt.Sprintf("bytes=%d-%d", d.offset, d.offset+d.chunk-1))
		if err != nil {
			var re *ResponseError
			if errors.As(err, &re) && re.StatusCode == http.StatusRequestedRangeNotSatisfiable && d.offset > 0 {
				break // the file ended exactly at a chunk boundary of an unknown size
			}
			return nil, d.fail(err)
		}
		d.readHeaders(resp)
		before := d.offset
		if err := d.copyBody(resp); err != nil {
			return nil, d.fail(err)
		}
		if resp.StatusCode == http.StatusOK {
			// The service ignored Range and sent the whole file.
			d.size = d.offset
			break
		}
		if d.offset == before {
			return nil, d.fail(fmt.Errorf("dataverse: DownloadFile: the service answered bytes=%d- with no data", before))
		}
	}
	if d.size < 0 {
		d.size = d.offset
	}
	return d.done(), nil
}

// blocks downloads the file with InitializeFileBlocksDownload and
// DownloadBlock.
func (d *fileDownload) blocks(ctx context.Context) (*FileInfo, error) {
	if d.token == "" {
		md, err := d.c.TableMetadata(ctx, d.entitySet)
		if err != nil {
			return nil, fmt.Errorf("dataverse: DownloadFile: reading the metadata of %s for the block download's Target: %w", d.entitySet, err)
		}
		in := map[string]any{
			"Target":            map[string]any{md.PrimaryIDAttribute: d.id, "@odata.type": "Microsoft.Dynamics.CRM." + md.LogicalName},
			"FileAttributeName": d.column,
		}
		var out struct {
			FileContinuationToken string
			FileSizeInBytes       int64
			FileName              string
			IsChunkingSupported   bool
		}
		if err := d.c.postAction(ctx, "InitializeFileBlocksDownload", in, &out, true, &d.opts.RequestOptions); err != nil {
			if IsNotFound(err) {
				return nil, fmt.Errorf("%w: %w", ErrNoFile, err)
			}
			return nil, err
		}
		d.token, d.size, d.info.Name = out.FileContinuationToken, out.FileSizeInBytes, out.FileName
		if !out.IsChunkingSupported {
			d.chunk = max(d.size, 1) // the service wants the file in one block
		}
	}
	for d.offset < d.size {
		in := map[string]any{"Offset": d.offset, "BlockLength": d.chunk, "FileContinuationToken": d.token}
		var out struct{ Data []byte }
		if err := d.c.postAction(ctx, "DownloadBlock", in, &out, true, &d.opts.RequestOptions); err != nil {
			return nil, d.fail(err)
		}
		if len(out.Data) == 0 {
			return nil, d.fail(fmt.Errorf("dataverse: DownloadFile: DownloadBlock at offset %d returned no data", d.offset))
		}
		if _, err := d.w.Write(out.Data); err != nil {
			return nil, d.fail(fmt.Errorf("dataverse: DownloadFile: writing: %w", err))
		}
		d.offset += int64(len(out.Data))
		if d.opts.Progress != nil {
			d.opts.Progress(d.offset)
		}
	}
	return d.done(), nil
}
