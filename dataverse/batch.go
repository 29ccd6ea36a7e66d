package dataverse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// MaxBatchOperations is the most operations one $batch request may hold.
// ExecuteBatch splits larger batches (between change sets, never inside
// one).
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api
const MaxBatchOperations = 1000

// BatchRequest is one operation of a $batch.
type BatchRequest struct {
	// Method is the HTTP method: GET, POST, PATCH, PUT or DELETE.
	Method string
	// Path is relative to the Web API base and URL-encoded
	// ("contacts(…)", "contacts?$select=fullname"), or, inside a change
	// set, a Content-ID reference to an earlier operation of the same
	// change set ("$1", "$1/lastname").
	Path string
	// Header holds the part's own headers, e.g. Prefer or If-Match.
	Header http.Header
	// Body is encoded as JSON (json.RawMessage and []byte are sent as
	// they are); nil means no body. A Content-ID reference such as "$1" can
	// be used as an "@odata.bind" value.
	Body any

	err error // from a constructor
}

// CreateRequest is a BatchRequest that creates record in entitySet.
func CreateRequest(entitySet string, record any) BatchRequest {
	p, err := entitySetPath(entitySet)
	return BatchRequest{Method: http.MethodPost, Path: p, Body: record, err: err}
}

// UpdateRequest is a BatchRequest that updates an existing record (If-Match: *).
func UpdateRequest(entitySet string, id uuid.UUID, record any) BatchRequest {
	p, err := recordPath(entitySet, id)
	return BatchRequest{Method: http.MethodPatch, Path: p, Body: record, Header: http.Header{"If-Match": {"*"}}, err: err}
}

// UpsertRequest is a BatchRequest that creates or updates the record with id.
func UpsertRequest(entitySet string, id uuid.UUID, record any) BatchRequest {
	p, err := recordPath(entitySet, id)
	return BatchRequest{Method: http.MethodPatch, Path: p, Body: record, err: err}
}

// UpsertByKeyRequest is a BatchRequest that creates or updates the record
// with the given alternate key.
func UpsertByKeyRequest(entitySet string, key AlternateKey, record any) BatchRequest {
	p, err := keyPath(entitySet, key)
	return BatchRequest{Method: http.MethodPatch, Path: p, Body: record, err: err}
}

// DeleteRequest is a BatchRequest that deletes the record with id.
func DeleteRequest(entitySet string, id uuid.UUID) BatchRequest {
	p, err := recordPath(entitySet, id)
	return BatchRequest{Method: http.MethodDelete, Path: p, err: err}
}

// RetrieveRequest is a BatchRequest that reads the record with id; sel
// lists the columns.
func RetrieveRequest(entitySet string, id uuid.UUID, sel ...string) BatchRequest {
	p, err := recordPath(entitySet, id)
	if err == nil && len(sel) > 0 {
		var q string
		q, err = (&Query{Select: sel}).encode()
		p += "?" + q
	}
	return BatchRequest{Method: http.MethodGet, Path: p, err: err}
}

// QueryRequest is a BatchRequest that reads the first page of a query.
// MaxPageSize and Annotations become the part's Prefer header.
func QueryRequest(entitySet string, q Query) BatchRequest {
	p, err := entitySetPath(entitySet)
	if err != nil {
		return BatchRequest{err: err}
	}
	qs, err := q.encode()
	if err != nil {
		return BatchRequest{err: err}
	}
	if qs != "" {
		p += "?" + qs
	}
	r := BatchRequest{Method: http.MethodGet, Path: p}
	prefs, err := q.preferences()
	if err != nil {
		return BatchRequest{err: err}
	}
	if len(prefs) > 0 {
		r.Header = http.Header{"Prefer": {strings.Join(prefs, ",")}}
	}
	return r
}

// Batch collects operations and change sets for ExecuteBatch. Operations
// run in the order they were added. A Batch is not safe for concurrent
// use; it can be executed more than once.
//
//	b := dataverse.NewBatch()
//	b.Add(dataverse.QueryRequest("accounts", dataverse.Query{Select: []string{"name"}, Top: 3}))
//	cs := b.ChangeSet()
//	ref := cs.Add(dataverse.CreateRequest("contacts", dataverse.Record{"firstname": "Ada"}))
//	cs.Add(dataverse.CreateRequest("tasks", dataverse.Record{"subject": "Call", "regardingobjectid_contact_task@odata.bind": ref}))
//	res, err := client.ExecuteBatch(ctx, b, nil)
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api
type Batch struct {
	items  []batchItem
	ops    int // operations, counting those inside change sets
	nextID int // last Content-ID handed out
	err    error
}

// batchItem is a top-level part: one request, or a change set.
type batchItem struct {
	req *batchOp
	cs  *ChangeSet
}

// batchOp is a request with its position in the batch.
type batchOp struct {
	BatchRequest
	index     int    // position among all operations
	contentID string // set inside change sets
}

// ChangeSet is a group of write operations that succeed or fail together
// (one transaction). Obtain one from Batch.ChangeSet.
type ChangeSet struct {
	b   *Batch
	ops []*batchOp
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{} }

// Len returns the number of operations, counting those in change sets.
func (b *Batch) Len() int { return b.ops }

// Add appends an operation outside any change set and returns its index
// (its position in BatchResult.Responses when every part answers).
func (b *Batch) Add(r BatchRequest) int {
	op := b.newOp(r)
	b.items = append(b.items, batchItem{req: op})
	return op.index
}

// ChangeSet appends a new, empty change set to the batch.
func (b *Batch) ChangeSet() *ChangeSet {
	cs := &ChangeSet{b: b}
	b.items = append(b.items, batchItem{cs: cs})
	return cs
}

// Add appends a write operation to the change set and returns its
// Content-ID reference ("$1"), usable in later operations of the same
// change set as a Path or an "@odata.bind" value.
func (cs *ChangeSet) Add(r BatchRequest) string {
	if strings.EqualFold(r.Method, http.MethodGet) && cs.b.err == nil {
		cs.b.err = invalidf("dataverse: a GET cannot be part of a change set; add it to the batch")
	}
	op := cs.b.newOp(r)
	cs.b.nextID++
	op.contentID = strconv.Itoa(cs.b.nextID)
	cs.ops = append(cs.ops, op)
	return "$" + op.contentID
}

// Len returns the number of operations in the change set.
func (cs *ChangeSet) Len() int { return len(cs.ops) }

func (b *Batch) newOp(r BatchRequest) *batchOp {
	if r.err != nil && b.err == nil {
		b.err = fmt.Errorf("dataverse: batch operation %d: %w", b.ops, r.err)
	}
	op := &batchOp{BatchRequest: r, index: b.ops}
	b.ops++
	return op
}

// BatchOptions are the options of ExecuteBatch. RequestOptions apply to
// the $batch request as a whole (impersonation and bypass headers).
type BatchOptions struct {
	RequestOptions
	// ContinueOnError keeps executing after a failed operation (Prefer:
	// odata.continue-on-error); each failure is reported in its
	// BatchResponse. Without it the service stops at the first failure.
	ContinueOnError bool
}

// BatchResult holds the responses of an executed batch.
type BatchResult struct {
	// Responses are in operation order. Operations the service did not
	// run (after a failure without ContinueOnError) have no response.
	Responses []BatchResponse
}

// Err returns the errors of the failed operations joined, or nil.
func (r *BatchResult) Err() error {
	var errs []error
	for i := range r.Responses {
		if e := r.Responses[i].Err; e != nil {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

// BatchResponse is the response to one operation of a batch.
type BatchResponse struct {
	// Index is the operation's position in the batch.
	Index int
	// ContentID is the operation's Content-ID (change sets only).
	ContentID string
	// StatusCode and Header are the operation's HTTP status and headers.
	StatusCode int
	Header     http.Header
	// Body is the operation's response body.
	Body []byte
	// Err is the failure of a non-2xx operation, or nil.
	Err *ResponseError
}

// Decode decodes the JSON body into v.
func (r *BatchResponse) Decode(v any) error {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return fmt.Errorf("dataverse: batch operation %d has no body", r.Index)
	}
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("dataverse: batch operation %d: decoding into %T: %w", r.Index, v, err)
	}
	return nil
}

// ID returns the id of the record a create or upsert wrote, from the
// OData-EntityId (or Location) header, or uuid.Nil.
func (r *BatchResponse) ID() uuid.UUID {
	if id := idFromEntityURL(r.Header.Get("OData-EntityId")); id != uuid.Nil {
		return id
	}
	return idFromEntityURL(r.Header.Get("Location"))
}

// ExecuteBatch sends the batch as one or more $batch requests (more when
// it has over MaxBatchOperations operations; a change set is never split)
// and returns a response per operation.
//
// The error is non-nil when a $batch request failed as a whole, or, without
// ContinueOnError, when an operation failed: it is then that operation's
// *ResponseError with BatchPart set, and the result holds the responses
// received before it. The service answers such a failure with the failed
// operation's response alone, so unless the operation is named by its
// Content-ID (in a change set) or the request held one operation,
// BatchPart.Index is -1: the operations before it ran, those after it did
// not, and which one failed is unknown. With ContinueOnError, failed
// operations are reported in their BatchResponse.Err (see BatchResult.Err)
// and the error is nil.
//
// A batch of GET requests only is retried like a GET; any other batch is
// not retried after a 5xx or a connection error.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api
func (c *Client) ExecuteBatch(ctx context.Context, b *Batch, opts *BatchOptions) (res *BatchResult, err error) {
	ctx, end := c.startSpan(ctx, "ExecuteBatch")
	defer func() { end(err) }()
	if opts == nil {
		opts = &BatchOptions{}
	}
	if b == nil || b.ops == 0 {
		return nil, invalidf("dataverse: ExecuteBatch: the batch is empty")
	}
	if b.err != nil {
		return nil, b.err
	}
	chunks, err := splitBatch(b.items, MaxBatchOperations)
	if err != nil {
		return nil, err
	}
	// Every request body is written before the first is sent, so that an
	// operation that cannot be encoded fails the batch with nothing sent.
	encoded := make([]*batchChunk, len(chunks))
	for i, chunk := range chunks {
		if encoded[i], err = c.encodeBatchChunk(chunk); err != nil {
			return nil, err
		}
	}
	res = &BatchResult{Responses: make([]BatchResponse, 0, b.ops)}
	for i, chunk := range encoded {
		encoded[i] = nil // let the body go once sent
		parts, err := c.sendBatchChunk(ctx, chunk, opts)
		res.Responses = append(res.Responses, parts...)
		if err != nil {
			return res, err
		}
		if !opts.ContinueOnError {
			if e := (&BatchResult{Responses: parts}).firstErr(); e != nil {
				return res, e
			}
		}
	}
	return res, nil
}

func (r *BatchResult) firstErr() *ResponseError {
	for i := range r.Responses {
		if e := r.Responses[i].Err; e != nil {
			return e
		}
	}
	return nil
}

// splitBatch cuts items into chunks of at most max operations, between
// items.
func splitBatch(items []batchItem, max int) ([][]batchItem, error) {
	var chunks [][]batchItem
	var cur []batchItem
	n := 0
	for _, it := range items {
		size := 1
		if it.cs != nil {
			size = len(it.cs.ops)
			if size == 0 {
				continue // an empty change set is not sent
			}
			if size > max {
				return nil, invalidf("dataverse: a change set has %d operations; the service allows at most %d per batch and a change set cannot be split", size, max)
			}
		}
		if n+size > max {
			chunks = append(chunks, cur)
			cur, n = nil, 0
		}
		cur = append(cur, it)
		n += size
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	return chunks, nil
}

// batchChunk is the encoded body of one $batch request.
type batchChunk struct {
	items    []batchItem
	body     []byte
	boundary string
}

// encodeBatchChunk writes the body of one $batch request.
func (c *Client) encodeBatchChunk(items []batchItem) (*batchChunk, error) {
	boundary := "batch_" + uuid.NewString()
	var body bytes.Buffer
	if err := c.encodeBatch(&body, items, boundary, func() string { return "changeset_" + uuid.NewString() }); err != nil {
		return nil, err
	}
	return &batchChunk{items: items, body: body.Bytes(), boundary: boundary}, nil
}

// executeBatchChunk encodes and sends one $batch request.
func (c *Client) executeBatchChunk(ctx context.Context, items []batchItem, opts *BatchOptions) ([]BatchResponse, error) {
	chunk, err := c.encodeBatchChunk(items)
	if err != nil {
		return nil, err
	}
	return c.sendBatchChunk(ctx, chunk, opts)
}

// sendBatchChunk sends one encoded $batch request and reads its parts.
func (c *Client) sendBatchChunk(ctx context.Context, chunk *batchChunk, opts *BatchOptions) ([]BatchResponse, error) {
	items := chunk.items
	r := &request{
		method:      http.MethodPost,
		path:        "$batch",
		body:        chunk.body,
		contentType: "multipart/mixed; boundary=" + chunk.boundary,
		idempotent:  onlyGets(items),
		opts:        &opts.RequestOptions,
		header:      http.Header{},
	}
	if opts.ContinueOnError {
		r.header.Set("Prefer", "odata.continue-on-error")
	}
	resp, err := c.send(ctx, r)
	if err != nil {
		// Without continue-on-error the service answers the first failure
		// with that operation's status; the body may still be multipart.
		var re *ResponseError
		if errors.As(err, &re) && re.RawResponse != nil {
			// The body was read up to maxErrorBody (errorBodyLimiter).
			raw, perr := parseBatchResponse(re.RawResponse.Header.Get("Content-Type"), re.RawResponse.Body)
			if perr == nil && len(raw) > 0 {
				if e := c.unnamedFailure(raw, items); e != nil {
					return nil, e
				}
				parts := c.matchBatchParts(raw, items)
				if e := (&BatchResult{Responses: parts}).firstErr(); e != nil {
					return parts, e
				}
			}
		}
		return nil, err
	}
	defer closeBody(resp)
	return c.readBatch(resp, items)
}

func onlyGets(items []batchItem) bool {
	for _, it := range items {
		if it.cs != nil || !strings.EqualFold(it.req.Method, http.MethodGet) {
			return false
		}
	}
	return true
}
