package webapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// contentRange is a chunk's `Content-Range: bytes <start>-<end>/<total>`
// (end inclusive), as a chunked upload sends it.
type contentRange struct{ start, end, total int64 }

// parseContentRange reads a Content-Range header of a chunked upload. The
// total must be known (no "*") and the range must lie within it.
func parseContentRange(s string) (contentRange, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return contentRange{}, fmt.Errorf("header Content-Range %q does not start with \"bytes \"; send \"bytes <first>-<last>/<total>\"", s)
	}
	span, totalText, ok := strings.Cut(rest, "/")
	if !ok {
		return contentRange{}, fmt.Errorf("header Content-Range %q has no \"/<total>\"", s)
	}
	startText, endText, ok := strings.Cut(span, "-")
	if !ok {
		return contentRange{}, fmt.Errorf("header Content-Range %q has no \"<first>-<last>\" range", s)
	}
	start, err1 := parseOffset(startText)
	end, err2 := parseOffset(endText)
	total, err3 := parseOffset(totalText)
	if err := errors.Join(err1, err2, err3); err != nil {
		return contentRange{}, fmt.Errorf("header Content-Range %q: %w", s, err)
	}
	if end < start || end >= total {
		return contentRange{}, fmt.Errorf("header Content-Range %q: the range must satisfy first <= last < total", s)
	}
	return contentRange{start, end, total}, nil
}

// parseOffset reads a non-negative decimal byte offset.
func parseOffset(s string) (int64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a byte offset", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a byte offset", s)
	}
	return n, nil
}

// parseRange reads a download's `Range: bytes=<first>-[<last>]` or
// `bytes=-<suffix>` for a file of size bytes (RFC 9110 §14.1.2; one range
// only). It returns the inclusive span clamped to the file, and
// satisfiable false when the range starts past the end.
func parseRange(s string, size int64) (start, end int64, satisfiable bool, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes=")
	if !ok {
		return 0, 0, false, fmt.Errorf("header Range %q does not start with \"bytes=\"; send \"bytes=<first>-<last>\"", s)
	}
	if strings.Contains(spec, ",") {
		return 0, 0, false, fmt.Errorf("header Range %q asks for several ranges; ask for one", s)
	}
	firstText, lastText, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, 0, false, fmt.Errorf("header Range %q has no \"-\"", s)
	}
	if firstText == "" {
		n, err := parseOffset(lastText)
		if err != nil {
			return 0, 0, false, fmt.Errorf("header Range %q: %w", s, err)
		}
		if n == 0 || size == 0 {
			return 0, 0, false, nil
		}
		return max(size-n, 0), size - 1, true, nil
	}
	start, err = parseOffset(firstText)
	if err != nil {
		return 0, 0, false, fmt.Errorf("header Range %q: %w", s, err)
	}
	end = size - 1
	if lastText != "" {
		if end, err = parseOffset(lastText); err != nil {
			return 0, 0, false, fmt.Errorf("header Range %q: %w", s, err)
		}
		if end < start {
			return 0, 0, false, fmt.Errorf("header Range %q: the last byte comes before the first", s)
		}
		end = min(end, size-1)
	}
	if start >= size {
		return 0, 0, false, nil
	}
	return start, end, true, nil
}

// maxBlockIDBytes is the longest block id before base64 encoding (Azure
// block blob rules, which UploadBlock follows).
const maxBlockIDBytes = 64

// checkBlockID checks an UploadBlock or CommitFileBlocksUpload block id:
// standard base64 of 1 to 64 bytes.
func checkBlockID(id string) error {
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil {
		return fmt.Errorf("block id %q is not base64 (standard alphabet, padded); encode each id, e.g. base64 of a GUID's text", id)
	}
	if len(raw) == 0 || len(raw) > maxBlockIDBytes {
		return fmt.Errorf("block id %q decodes to %d bytes; a block id must be 1 to %d bytes before encoding", id, len(raw), maxBlockIDBytes)
	}
	return nil
}
