package webapi

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// File and image column paths
// (https://learn.microsoft.com/power-apps/developer/data-platform/file-column-data,
// https://learn.microsoft.com/power-apps/developer/data-platform/image-column-data):
//
//	PATCH  <set>(<id>)/<col>                      single upload (application/octet-stream, x-ms-file-name)
//	PATCH  <set>(<id>)/<col>  x-ms-transfer-mode: chunked      -> 200, Location …?sessiontoken=, x-ms-chunk-size
//	PATCH  <set>(<id>)/<col>?sessiontoken=…  Content-Range     -> 206 per chunk, 204 after the last
//	GET    <set>(<id>)/<col>/$value [Range] [?size=full]       download
//	DELETE <set>(<id>)/<col>                                   delete the file
//
// A GET of <set>(<id>)/<col> without $value answers the property (the file
// id, or an image's thumbnail) like any other column.

// fileChunkSize is the x-ms-chunk-size the emulator advertises (4 MB).
const fileChunkSize = store.MaxFilePartBytes

// fileContentType is the Content-Type of a download [unverified: the
// documentation shows only the x-ms-file-* and mimetype headers].
const fileContentType = "application/octet-stream"

// fileExposeHeaders is the Access-Control-Expose-Headers of a download.
const fileExposeHeaders = "x-ms-file-size; x-ms-file-name; x-ms-chunk-size; mimetype"

// fileColumnPath answers a request on a file or image column; rest are the
// path segments after the column.
func (req *request) fileColumnPath(t *schema.Table, key rowKey, c *schema.Column, rest []string) error {
	switch {
	case len(rest) == 1 && rest[0] == "$value":
		if req.r.Method != http.MethodGet && req.r.Method != http.MethodHead {
			return errMethodNotAllowed(req.r.Method)
		}
		return req.downloadFile(t, key, c)
	case len(rest) > 0:
		return errResourceNotFound(rest[0])
	}
	switch req.r.Method {
	case http.MethodGet:
		return req.property(t, key, c)
	case http.MethodPatch:
		return req.uploadFile(t, key, c)
	case http.MethodDelete:
		id, err := req.existing(t, key)
		if err != nil {
			return err
		}
		if err := req.h.store.DeleteFile(req.ctx, req.p, store.FileTarget{Table: t, ID: id, Column: c}); err != nil {
			return fileAPIError(err)
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethodNotAllowed(req.r.Method)
}

// uploadFileName is the file name of an upload: the x-ms-file-name header,
// which wins, or the query parameter (for names that are not ASCII).
func (req *request) uploadFileName() string {
	if n := req.r.Header.Get("x-ms-file-name"); n != "" {
		return n
	}
	return req.r.URL.Query().Get("x-ms-file-name")
}

func (req *request) uploadFile(t *schema.Table, key rowKey, c *schema.Column) error {
	if req.tx != nil {
		return newError(statusFileRefused, codeInvalidParameterForFileOperation, "File uploads cannot be part of a $batch change set; send them as their own requests.")
	}
	id, err := req.existing(t, key)
	if err != nil {
		return err
	}
	target := store.FileTarget{Table: t, ID: id, Column: c}
	if token := req.r.URL.Query().Get("sessiontoken"); token != "" {
		return req.uploadChunk(target, token)
	}
	name := req.uploadFileName()
	if name == "" {
		return newError(statusFileRefused, codeInvalidParameterForFileOperation,
			"Invalid parameter [x-ms-file-name] provided in request URL. Name the file in the x-ms-file-name header or query parameter.")
	}
	if strings.EqualFold(req.r.Header.Get("x-ms-transfer-mode"), "chunked") {
		token, err := req.h.store.BeginFileUpload(req.ctx, req.p, target, name)
		if err != nil {
			return fileAPIError(err)
		}
		q := url.Values{"sessiontoken": {token}}
		hdr := req.w.Header()
		hdr.Set("Location", req.base+"/"+t.EntitySetName+"("+id.String()+")/"+c.LogicalName+"?"+q.Encode())
		hdr.Set("Accept-Ranges", "bytes")
		hdr.Set("x-ms-chunk-size", strconv.Itoa(fileChunkSize))
		hdr.Set("Access-Control-Expose-Headers", "x-ms-chunk-size")
		req.w.WriteHeader(http.StatusOK)
		return nil
	}
	return req.uploadWhole(target, name)
}

// uploadWhole stores the body of a single-request upload, 4 MB at a time;
// a refused upload (too large, body cut short) leaves nothing behind.
func (req *request) uploadWhole(target store.FileTarget, name string) error {
	if n := req.r.ContentLength; n > maxSingleUploadBytes {
		return errSingleUploadTooLarge(n)
	}
	if n := req.r.ContentLength; n > target.Column.File.MaxBytes() {
		return fileAPIError(store.TooLarge(target.Column, n))
	}
	token, err := req.h.store.BeginFileUpload(req.ctx, req.p, target, name)
	if err != nil {
		return fileAPIError(err)
	}
	fail := func(err error) error {
		if abortErr := req.h.store.AbortFileUpload(req.ctx, token); abortErr != nil {
			req.h.log.Error("webapi: dropping a refused upload failed", "err", abortErr)
		}
		return fileAPIError(err)
	}
	buf := make([]byte, fileChunkSize)
	var received int64
	for {
		n, readErr := io.ReadFull(req.r.Body, buf)
		if n > 0 {
			received += int64(n)
			if received > maxSingleUploadBytes {
				return fail(errSingleUploadTooLarge(received))
			}
			if err := req.h.store.AppendFileData(req.ctx, token, buf[:n]); err != nil {
				return fail(err)
			}
		}
		if errors.Is(readErr, io.EOF) || errors.Is(readErr, io.ErrUnexpectedEOF) {
			break
		}
		if readErr != nil {
			return fail(newError(http.StatusBadRequest, codeFileContentIsNull, "The file body could not be read: %v", readErr))
		}
	}
	if _, err := req.h.store.CommitFileUpload(req.ctx, req.p, token, name, "", nil); err != nil {
		return fail(err)
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

func errSingleUploadTooLarge(n int64) error {
	return newError(statusFileRefused, codeFileSizeExceededForNonChunkedRequest,
		"Maximum file size supported for upload is [%d] MB. File of [%d MB] size may only be uploaded using staged chunk upload.", maxSingleUploadBytes>>20, n>>20)
}

// uploadChunk stores one chunk of a chunked upload: 206, or 204 after the
// chunk that completes the file.
func (req *request) uploadChunk(target store.FileTarget, token string) error {
	u, err := req.h.store.FileUploadSession(req.ctx, token)
	if err != nil {
		return fileAPIError(err)
	}
	if u.Target.Table != target.Table || u.Target.ID != target.ID || u.Target.Column != target.Column {
		return newError(statusFileRefused, codeInvalidParameterForFileOperation, "Invalid parameter [sessiontoken] provided in request URL: the session belongs to another column or row.")
	}
	cr, err := parseContentRange(req.r.Header.Get("Content-Range"))
	if err != nil {
		return newError(statusFileRefused, codeInvalidFileRange, "Chunk range used in this call is either not valid or it is bigger than allowed %d MB. %v", fileChunkSize>>20, err)
	}
	if n := cr.end - cr.start + 1; n > fileChunkSize {
		return newError(statusFileRefused, codeInvalidFileRange, "Chunk range used in this call is either not valid or it is bigger than allowed %d MB.", fileChunkSize>>20)
	}
	data, err := io.ReadAll(io.LimitReader(req.r.Body, fileChunkSize+1))
	if err != nil {
		return newError(statusFileRefused, codeInvalidFileRange, "The chunk body could not be read: %v", err)
	}
	done, _, err := req.h.store.AppendFileRange(req.ctx, req.p, token, cr.start, cr.end, cr.total, data, "")
	if err != nil {
		return fileAPIError(err)
	}
	if done {
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	req.w.WriteHeader(http.StatusPartialContent)
	return nil
}

// downloadFile answers GET <col>/$value: the whole file (200) or one Range
// (206), with x-ms-file-size and x-ms-file-name. An image column answers
// its thumbnail, or with ?size=full its full-size image (204 when it kept
// none).
func (req *request) downloadFile(t *schema.Table, key rowKey, c *schema.Column) error {
	id, err := req.existing(t, key)
	if err != nil {
		return err
	}
	fi, err := req.h.store.FileOf(req.ctx, req.p, store.FileTarget{Table: t, ID: id, Column: c})
	var fe *store.FileError
	if errors.As(err, &fe) && fe.Failure == store.FileNotFound && c.Type == schema.TypeImage {
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return fileAPIError(err)
	}
	full := c.Type == schema.TypeFile || strings.EqualFold(req.r.URL.Query().Get("size"), "full")
	if full && !fi.HasContent {
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	size, mimeType := fi.Size, fi.MimeType
	if !full {
		size, mimeType = int64(len(fi.Thumbnail)), http.DetectContentType(fi.Thumbnail)
	}
	hdr := req.w.Header()
	hdr.Set("x-ms-file-size", strconv.FormatInt(size, 10))
	hdr.Set("x-ms-file-name", fi.Name)
	hdr.Set("mimetype", mimeType)
	hdr.Set("Access-Control-Expose-Headers", fileExposeHeaders)
	hdr.Set("Content-Type", fileContentType)
	hdr.Set("Accept-Ranges", "bytes")
	start, end, status := int64(0), size-1, http.StatusOK
	if rangeText := req.r.Header.Get("Range"); rangeText != "" {
		var ok bool
		start, end, ok, err = parseRange(rangeText, size)
		if err != nil {
			return newError(statusFileRefused, codeInvalidFileRange, "%v", err)
		}
		if !ok {
			hdr.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			return newError(http.StatusRequestedRangeNotSatisfiable, codeInvalidFileRange, "The range %s starts past the end of the %d-byte file.", rangeText, size)
		}
		status = http.StatusPartialContent
		hdr.Set("x-ms-chunk-size", strconv.Itoa(fileChunkSize))
		hdr.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(size, 10))
	}
	hdr.Set("Content-Length", strconv.FormatInt(end-start+1, 10))
	req.w.WriteHeader(status)
	if req.r.Method == http.MethodHead {
		return nil
	}
	var werr error
	if full {
		werr = req.h.store.ReadFile(req.ctx, fi.FileID, start, end-start+1, req.w)
	} else {
		_, werr = req.w.Write(fi.Thumbnail[start : end+1])
	}
	if werr != nil {
		req.h.log.Debug("webapi: writing a file download failed", "path", req.r.URL.Path, "err", werr)
	}
	return nil
}
