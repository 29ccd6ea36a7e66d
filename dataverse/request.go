package dataverse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unsafe"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/google/uuid"
)

// request describes one Web API call before it enters the pipeline.
type request struct {
	method string
	// path is relative to the Web API base and already escaped, e.g.
	// "contacts(1b9…)". Ignored when absURL is set.
	path string
	// absURL is a full URL below the Web API base (a next link).
	absURL string
	// query is the encoded query string without "?".
	query       string
	header      http.Header
	body        []byte
	bodyReader  io.ReadSeeker // instead of body, for streamed uploads
	contentType string
	// idempotent marks requests that may be repeated after a 5xx or a
	// connection error (see retry.go).
	idempotent bool
	// allow304 accepts 304 Not Modified as a success (conditional GET).
	allow304 bool
	opts     *RequestOptions
}

// setHeader sets a header of r, creating r.header on first use so a
// request without extra headers allocates no map for them.
func (r *request) setHeader(key, value string) {
	if r.header == nil {
		r.header = make(http.Header, 2)
	}
	r.header.Set(key, value)
}

// URL length limits of the service: a GET URL may be 32 KB; a GET inside
// a $batch body may be 64 KB. Longer queries (big filters, FetchXML) are
// sent inside a $batch automatically.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/overview#maximum-url-length
const (
	maxURLLength      = 32 * 1024
	maxBatchURLLength = 64 * 1024
)

// sendGetViaBatch sends a GET whose URL is too long as the only operation
// of a $batch, and returns the operation's response as an *http.Response.
// Unlike a direct GET, whose page is decoded from the stream, the page is
// read whole (a $batch response is parsed before its parts are known),
// within ClientOptions.MaxBatchResponseSize.
func (c *Client) sendGetViaBatch(ctx context.Context, r *request, fullURL string) (*http.Response, error) {
	u, err := c.resolveLink(fullURL)
	if err != nil {
		return nil, err
	}
	if n := len(u.RequestURI()); n > maxBatchURLLength {
		return nil, invalidf("dataverse: GET %s: the query is %d bytes long; the service accepts at most %d even inside $batch: split the filter or use FetchXML with fewer conditions", c.displayPath(u.Path), n, maxBatchURLLength)
	}
	op := &batchOp{BatchRequest: BatchRequest{Method: http.MethodGet, Path: fullURL, Header: r.header}}
	var ro RequestOptions
	if r.opts != nil {
		ro = *r.opts
		ro.Tag = "" // already part of fullURL
	}
	parts, err := c.executeBatchChunk(ctx, []batchItem{{req: op}}, &BatchOptions{RequestOptions: ro})
	if err != nil {
		return nil, err
	}
	if len(parts) != 1 {
		return nil, fmt.Errorf("dataverse: GET %s sent through $batch: the response has %d parts, want 1", c.displayPath(u.Path), len(parts))
	}
	p := parts[0]
	if p.Err != nil && !(r.allow304 && p.StatusCode == http.StatusNotModified) {
		p.Err.BatchPart = nil // the caller sent no batch
		p.Err.Path = c.displayPath(u.Path)
		return nil, p.Err
	}
	return &http.Response{
		StatusCode:    p.StatusCode,
		Status:        fmt.Sprintf("%d %s", p.StatusCode, http.StatusText(p.StatusCode)),
		Header:        p.Header,
		Body:          io.NopCloser(bytes.NewReader(p.Body)),
		ContentLength: int64(len(p.Body)),
		Request:       &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}},
	}, nil
}

// requestURL returns the full request URL with extraQuery appended. The
// common case (a path, a query and no extra query) costs one allocation.
func (c *Client) requestURL(r *request, extraQuery string) string {
	if r.absURL == "" && extraQuery == "" {
		if r.query == "" {
			return c.base + r.path
		}
		return c.base + r.path + "?" + r.query
	}
	u := r.absURL
	if u == "" {
		u = c.base + r.path
	}
	q := r.query
	if extraQuery != "" {
		if q != "" {
			q += "&"
		}
		q += extraQuery
	}
	if q != "" {
		if strings.Contains(u, "?") {
			u += "&" + q
		} else {
			u += "?" + q
		}
	}
	return u
}

// Values of the headers every request carries. They are shared by all
// requests and must never be modified in place: http.Header's Set and Add
// replace or reallocate a value slice (its capacity is its length), and
// cloning a header copies the values.
var (
	acceptJSONValues = []string{"application/json"}
	odataV4Values    = []string{"4.0"}
)

// newRequestHeader returns the headers of a Web API request: Accept and
// the OData versions, then extra (r.header) over them. Keys are written in
// canonical form, so no key is canonicalised per call.
func newRequestHeader(extra http.Header) http.Header {
	h := make(http.Header, 4+len(extra))
	h["Accept"] = acceptJSONValues
	h["Odata-Maxversion"] = odataV4Values
	h["Odata-Version"] = odataV4Values
	for k, v := range extra {
		h[k] = v
	}
	return h
}

// send runs r through the pipeline. It returns the response for a 2xx
// status (and 304 when r.allow304), with the body unread: the caller must
// close it. Any other status becomes a *ResponseError.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, error) {
	h := newRequestHeader(r.header)
	extraQuery, err := r.opts.apply(h)
	if err != nil {
		return nil, err
	}
	u := c.requestURL(r, extraQuery)
	if r.method == http.MethodGet && len(u) > maxURLLength {
		return c.sendGetViaBatch(ctx, r, u)
	}
	var st *callState
	if c.lean != nil && (r.method == http.MethodGet || r.method == http.MethodHead) && r.body == nil && r.bodyReader == nil {
		var resp *http.Response
		if resp, st = c.leanTry(ctx, r, h, u); st == nil && resp != nil {
			return resp, nil
		}
	}
	if st != nil {
		// The lean first try failed: the pipeline goes on from it.
		ctx, h = st.ctx, st.header
		defer st.dropReplay()
	} else {
		ctx = withCallState(ctx, r.idempotent)
	}
	req, err := runtime.NewRequest(ctx, r.method, u)
	if err != nil {
		return nil, invalidf("dataverse: %s %s: %w", r.method, c.displayPath(r.path), err)
	}
	req.Raw().Header = h
	if r.body != nil || r.bodyReader != nil {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		body := r.bodyReader
		if body == nil {
			body = bytes.NewReader(r.body)
		}
		if err := req.SetBody(streaming.NopCloser(body), ct); err != nil {
			return nil, fmt.Errorf("dataverse: %s %s: setting the body: %w", r.method, c.displayPath(r.path), err)
		}
	}
	// Success bodies are decoded from the stream by the caller; azcore
	// still downloads error bodies (bounded by errorBodyLimiter).
	runtime.SkipBodyDownload(req)
	resp, err := c.pl.Do(req)
	if err != nil {
		return nil, fmt.Errorf("dataverse: %s %s: %w", r.method, c.displayPath(req.Raw().URL.Path), err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 || (r.allow304 && resp.StatusCode == http.StatusNotModified) {
		return resp, nil
	}
	if resp.Request == nil {
		resp.Request = req.Raw()
	}
	return nil, c.newResponseError(resp)
}

// sendJSON sends r and decodes a JSON response body into out (skipped when
// out is nil or the response has no body).
func (c *Client) sendJSON(ctx context.Context, r *request, out any) (*http.Response, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp)
	if out == nil || resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		return resp, nil
	}
	if err := decodeBody(resp, out); err != nil {
		return resp, err
	}
	return resp, nil
}

// decodeBody decodes the JSON body of resp into out. The body is read
// whole into a pooled buffer and decoded with json.Unmarshal: a
// json.Decoder also holds the whole value before decoding it, and
// allocates its buffer (and grows it) on every call.
func decodeBody(resp *http.Response, out any) error {
	buf := getBodyBuffer(resp.ContentLength)
	defer putBodyBuffer(buf)
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("dataverse: %s %s: reading the response: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	data := bytes.TrimPrefix(buf.Bytes(), utf8BOM)
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("dataverse: %s %s: the response has no body to decode", resp.Request.Method, resp.Request.URL.Path)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("dataverse: %s %s: decoding the response into %T: %w", resp.Request.Method, resp.Request.URL.Path, out, err)
	}
	return nil
}

// utf8BOM is the byte-order mark the service puts before some bodies.
var utf8BOM = []byte("\xef\xbb\xbf")

// Response bodies are read into buffers from bodyBuffers. A buffer that
// grew past maxPooledBodyBuffer (a big page) is left to the garbage
// collector rather than kept for the next small record.
const (
	minBodyBuffer       = 4 << 10
	maxPooledBodyBuffer = 256 << 10
)

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// getBodyBuffer returns an empty buffer with room for a body of the given
// length (-1 when unknown).
func getBodyBuffer(length int64) *bytes.Buffer {
	buf := bodyBuffers.Get().(*bytes.Buffer)
	switch {
	case length > 0 && length < 1<<30:
		buf.Grow(int(length) + bytes.MinRead) // ReadFrom wants MinRead spare bytes before it sees EOF
	default:
		buf.Grow(minBodyBuffer)
	}
	return buf
}

func putBodyBuffer(buf *bytes.Buffer) {
	if buf.Cap() > maxPooledBodyBuffer {
		return
	}
	buf.Reset()
	bodyBuffers.Put(buf)
}

// drainBuffers hold the bytes closeBody reads and throws away.
var drainBuffers = sync.Pool{New: func() any { return new([4 << 10]byte) }}

// closeBody drains a little of what is left (so the connection can be
// reused) and closes the body.
func closeBody(resp *http.Response) {
	if resp == nil || resp.Body == nil {
		return
	}
	buf := drainBuffers.Get().(*[4 << 10]byte)
	for left := len(buf); left > 0; {
		n, err := resp.Body.Read(buf[:left])
		left -= n
		if err != nil {
			break
		}
	}
	drainBuffers.Put(buf)
	_ = resp.Body.Close()
}

// skipBOM returns r without a leading UTF-8 byte-order mark (the service
// sends one before plain $count numbers).
func skipBOM(r io.Reader) io.Reader {
	br := &bomReader{r: r}
	return br
}

type bomReader struct {
	r       io.Reader
	checked bool
	pending []byte
}

// Read implements io.Reader, dropping a leading byte-order mark.
func (b *bomReader) Read(p []byte) (int, error) {
	if !b.checked {
		b.checked = true
		var head [3]byte
		n, err := io.ReadFull(b.r, head[:])
		if n == 3 && bytes.Equal(head[:], []byte("\xef\xbb\xbf")) {
			// dropped
		} else {
			b.pending = append(b.pending, head[:n]...)
		}
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return 0, err
		}
	}
	if len(b.pending) > 0 {
		n := copy(p, b.pending)
		b.pending = b.pending[n:]
		return n, nil
	}
	return b.r.Read(p)
}

// entitySetPath validates an entity set name and returns it as a path.
func entitySetPath(entitySet string) (string, error) {
	if !entitySetPattern.MatchString(entitySet) {
		if entitySet == "" {
			return "", invalidf("dataverse: the entity set name is empty; pass the table's EntitySetName such as \"contacts\"")
		}
		return "", invalidf("dataverse: %q is not an entity set name; pass the table's EntitySetName such as \"contacts\" (letters, digits, underscores)", entitySet)
	}
	return entitySet, nil
}

// recordPath returns "set(id)", built in one allocation.
func recordPath(entitySet string, id uuid.UUID) (string, error) {
	p, err := entitySetPath(entitySet)
	if err != nil {
		return "", err
	}
	if id == uuid.Nil {
		return "", invalidf("dataverse: the %s record id is the zero UUID; pass the id returned by Create or read from the record", entitySet)
	}
	b := make([]byte, 0, len(p)+2+36)
	b = append(b, p...)
	b = append(b, '(')
	b = appendUUID(b, id)
	b = append(b, ')')
	return unsafeString(b), nil
}

// appendUUID appends id in its canonical form (as id.String() writes it,
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in lower case) to b.
func appendUUID(b []byte, id uuid.UUID) []byte {
	const hex = "0123456789abcdef"
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&15])
	}
	return b
}

// unsafeString returns b as a string without copying; b must never be
// modified afterwards.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// marshalBody encodes a record for a request body. json.RawMessage and
// []byte are sent as they are (after a validity check).
func marshalBody(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, invalidf("dataverse: the record is nil")
	case json.RawMessage:
		if !json.Valid(x) {
			return nil, invalidf("dataverse: the record is not valid JSON")
		}
		return x, nil
	case []byte:
		if !json.Valid(x) {
			return nil, invalidf("dataverse: the record is not valid JSON")
		}
		return x, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, invalidf("dataverse: encoding the record as JSON: %w", err)
	}
	return b, nil
}

// resolveLink turns a link returned by the service (@odata.nextLink,
// OData-EntityId, @odata.id) into an absolute URL and checks that it lies
// below the client's Web API base, so the access token is never sent to
// another host or path. Its errors are not marked invalid: callers that
// check a caller's link (Do, ResumePager) mark them, while a bad link from
// the service is the service's failure.
func (c *Client) resolveLink(link string) (*url.URL, error) {
	if link == "" {
		return nil, errors.New("dataverse: the link is empty")
	}
	if strings.ContainsAny(link, " \t\r\n") {
		return nil, fmt.Errorf("dataverse: link %q contains white space", truncate(link, 120))
	}
	u, err := c.baseURL.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("dataverse: link %q is not a URL: %w", truncate(link, 120), err)
	}
	if u.User != nil || u.Fragment != "" || !strings.EqualFold(u.Scheme, c.baseURL.Scheme) || !strings.EqualFold(u.Host, c.baseURL.Host) {
		return nil, fmt.Errorf("dataverse: link %q points outside %s; refusing to send the access token there", truncate(link, 120), c.base)
	}
	// Check the escaped and the decoded path, so neither %2F nor %2e%2e
	// can lead out of the base on a server that decodes before routing.
	if !strings.HasPrefix(u.EscapedPath()+"/", c.baseURL.EscapedPath()) || !strings.HasPrefix(u.Path+"/", c.baseURL.Path) || hasDotSegment(u.Path) {
		return nil, fmt.Errorf("dataverse: link %q points outside %s; refusing to send the access token there", truncate(link, 120), c.base)
	}
	u.Scheme = c.baseURL.Scheme
	u.Host = c.baseURL.Host
	return u, nil
}

// hasDotSegment reports whether the path has a "." or ".." segment.
func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
