package dataverse

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// Reading the multipart/mixed response of a $batch request. Each part is
// an HTTP response (Content-Type: application/http); a change set answers
// with a nested multipart/mixed part holding one response per operation,
// or, when it failed and was rolled back, with a single application/http
// part holding the error.

// DefaultMaxBatchResponseSize is the most bytes of a $batch response a
// Client reads when ClientOptions.MaxBatchResponseSize is zero. A $batch
// response is read whole before ExecuteBatch returns (each part's body is
// held in its BatchResponse), so this bounds the memory one call can take:
// a thousand write responses or a few pages of rows fit; a batch of
// thousands of large GETs does not, and is better sent as pages.
const DefaultMaxBatchResponseSize = 64 << 20

// errBatchTooLarge reports a $batch response over the client's limit.
type errBatchTooLarge struct{ limit int64 }

func (e *errBatchTooLarge) Error() string {
	return fmt.Sprintf("the response is larger than %d bytes (ClientOptions.MaxBatchResponseSize): send fewer or smaller operations per batch, or raise the limit", e.limit)
}

// cappedReader reads at most limit bytes of r; if r has more, the read
// fails with errBatchTooLarge instead of ending early, so a response cut
// at the limit is never taken for a complete one.
type cappedReader struct {
	r     io.Reader
	left  int64
	limit int64
}

// Read implements io.Reader.
func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var probe [1]byte
		if n, err := c.r.Read(probe[:]); n > 0 {
			return 0, &errBatchTooLarge{limit: c.limit}
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// readBatch parses a $batch response and maps its parts to the operations
// of items.
func (c *Client) readBatch(resp *http.Response, items []batchItem) ([]BatchResponse, error) {
	body := &cappedReader{r: resp.Body, left: c.maxBatchResponse, limit: c.maxBatchResponse}
	parts, err := parseBatchResponse(resp.Header.Get("Content-Type"), body)
	if err != nil {
		return nil, fmt.Errorf("dataverse: reading the $batch response: %w", err)
	}
	return c.matchBatchParts(parts, items), nil
}

// batchPart is one parsed response part; inner is set for a change set.
type batchPart struct {
	contentID  string
	statusCode int
	header     http.Header
	body       []byte
	inner      []batchPart
}

// parseBatchResponse reads a multipart/mixed body into parts.
func parseBatchResponse(contentType string, body io.Reader) ([]batchPart, error) {
	return parseMultipart(contentType, body, 0)
}

func parseMultipart(contentType string, body io.Reader, depth int) ([]batchPart, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("content type %q: %w", contentType, err)
	}
	if !strings.EqualFold(mediaType, "multipart/mixed") || params["boundary"] == "" {
		return nil, fmt.Errorf("content type %q is not multipart/mixed with a boundary", contentType)
	}
	mr := multipart.NewReader(body, params["boundary"])
	var parts []batchPart
	for {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return parts, nil
		}
		if err != nil {
			return parts, err
		}
		ct := p.Header.Get("Content-Type")
		mt, _, _ := mime.ParseMediaType(ct)
		switch {
		case strings.EqualFold(mt, "multipart/mixed"):
			if depth > 0 {
				return parts, errors.New("a change set inside a change set")
			}
			inner, err := parseMultipart(ct, p, depth+1)
			if err != nil {
				return parts, fmt.Errorf("change set: %w", err)
			}
			parts = append(parts, batchPart{contentID: p.Header.Get("Content-ID"), inner: inner})
		case strings.EqualFold(mt, "application/http"):
			bp, err := readEmbeddedResponse(p)
			if err != nil {
				return parts, err
			}
			bp.contentID = p.Header.Get("Content-ID")
			parts = append(parts, bp)
		default:
			return parts, fmt.Errorf("part with content type %q", ct)
		}
	}
}

// readEmbeddedResponse reads "HTTP/1.1 204 No Content\r\nheaders\r\n\r\nbody".
func readEmbeddedResponse(r io.Reader) (batchPart, error) {
	resp, err := http.ReadResponse(bufio.NewReader(r), nil)
	if err != nil {
		return batchPart{}, fmt.Errorf("embedded response: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return batchPart{}, fmt.Errorf("embedded response body: %w", err)
	}
	return batchPart{statusCode: resp.StatusCode, header: resp.Header, body: bytes.TrimRight(body, "\r\n")}, nil
}

// matchBatchParts assigns parts to operations. Top-level parts follow
// the order of items; change-set responses are matched by the Content-ID
// they echo, falling back to their position. The Content-ID match also
// places the lone error part that the service sends when it stops at a
// failed change-set operation.
func (c *Client) matchBatchParts(parts []batchPart, items []batchItem) []BatchResponse {
	var out []BatchResponse
	for i, p := range parts {
		var cs *ChangeSet
		if i < len(items) {
			cs = items[i].cs
		}
		if p.inner != nil {
			for j, ip := range p.inner {
				op := opByContentID(items, ip.contentID)
				if op == nil && cs != nil && j < len(cs.ops) {
					op = cs.ops[j]
				}
				if op != nil && ip.inner == nil {
					out = append(out, c.batchResponse(op, ip))
				}
			}
			continue
		}
		if i >= len(items) {
			break // more parts than operations: ignore the surplus
		}
		switch {
		case items[i].req != nil:
			out = append(out, c.batchResponse(items[i].req, p))
		case len(cs.ops) > 0:
			// The change set failed as a whole: one error response, for
			// the operation it names or else for the first one.
			op := opByContentID(items, p.contentID)
			if op == nil {
				op = cs.ops[0]
			}
			out = append(out, c.batchResponse(op, p))
		}
	}
	return out
}

// unnamedFailure handles the answer of a batch the service stopped at its
// first failure, which holds that operation's response alone (see
// webapi.md §6 and Microsoft's "Handling errors" example). The response
// names its operation only by a Content-ID; without one, and with more
// than one part in the request, the failed operation is unknown. The error
// then says so (BatchPart.Index -1) rather than being matched by position,
// which would blame the first operation, one that ran and succeeded.
// It returns nil when the parts can be matched as usual.
func (c *Client) unnamedFailure(parts []batchPart, items []batchItem) *ResponseError {
	if len(items) < 2 || len(parts) != 1 {
		return nil
	}
	p := parts[0]
	if p.inner != nil || strings.TrimSpace(p.contentID) != "" || (p.statusCode >= 200 && p.statusCode < 300) {
		return nil
	}
	op := &batchOp{BatchRequest: BatchRequest{Method: http.MethodPost, Path: "$batch"}, index: -1}
	return c.batchResponse(op, p).Err
}

// opByContentID returns the change-set operation with the given
// Content-ID, or nil.
func opByContentID(items []batchItem, id string) *batchOp {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil
	}
	for _, it := range items {
		if it.cs == nil {
			continue
		}
		for _, op := range it.cs.ops {
			if op.contentID == id {
				return op
			}
		}
	}
	return nil
}

// batchResponse turns a part into the caller's view of it.
func (c *Client) batchResponse(op *batchOp, p batchPart) BatchResponse {
	r := BatchResponse{
		Index:      op.index,
		ContentID:  op.contentID,
		StatusCode: p.statusCode,
		Header:     p.header,
		Body:       p.body,
	}
	if p.statusCode < 200 || p.statusCode >= 300 {
		path, _, _ := strings.Cut(op.Path, "?")
		e := &ResponseError{
			StatusCode: p.statusCode,
			RetryAfter: retryAfter(p.header),
			RequestID:  requestID(p.header),
			Method:     strings.ToUpper(op.Method),
			Path:       path,
			BatchPart:  &BatchPartRef{Index: op.index, ContentID: op.contentID},
			RawResponse: &http.Response{
				StatusCode: p.statusCode,
				Status:     fmt.Sprintf("%d %s", p.statusCode, http.StatusText(p.statusCode)),
				Header:     p.header,
				Body:       io.NopCloser(bytes.NewReader(p.body)),
			},
		}
		fillFromBody(e, p.body)
		r.Err = e
	}
	return r
}
