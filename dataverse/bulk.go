package dataverse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"
)

// Bulk operations: CreateMultiple, UpdateMultiple and UpsertMultiple send
// many records of one table in one request each, which the service runs
// as one transaction per request on standard tables. Large inputs are
// sent in chunks, bounded by a number of records and by payload size; a
// failed chunk stops the operation, and earlier chunks stay committed.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/bulk-operations

const (
	// DefaultBulkChunkSize is the default number of records per request:
	// Microsoft suggests starting around 1,000 small records on standard
	// tables (about 100 on elastic tables).
	DefaultBulkChunkSize = 1000
	// DefaultBulkChunkBytes is the default payload bound per request, well
	// below the service's 116.85 MB message limit with plug-ins.
	DefaultBulkChunkBytes = 32 << 20
)

// BulkOptions are the options of CreateMultiple, UpdateMultiple and
// UpsertMultiple.
type BulkOptions struct {
	RequestOptions
	// ChunkSize is the most records per request (default DefaultBulkChunkSize).
	ChunkSize int
	// ChunkBytes is the most JSON bytes per request (default
	// DefaultBulkChunkBytes); a single larger record is sent alone.
	ChunkBytes int
}

// BulkError reports the chunk that failed.
type BulkError struct {
	// Operation is "CreateMultiple", "UpdateMultiple" or "UpsertMultiple".
	Operation string
	// First and Count locate the chunk's records in the input.
	First, Count int
	// Err is the failure, usually a *ResponseError.
	Err error
}

// Error implements error.
func (e *BulkError) Error() string {
	return fmt.Sprintf("dataverse: %s records %d to %d: %v", e.Operation, e.First, e.First+e.Count-1, e.Err)
}

// Unwrap returns Err, so errors.As finds the *ResponseError.
func (e *BulkError) Unwrap() error { return e.Err }

// CreateMultiple creates records in entitySet, whose table's logical name
// is logicalName ("contact"; each record gets "@odata.type":
// "Microsoft.Dynamics.CRM.contact" unless it has one), and returns the new
// ids in input order. On failure it returns the ids of the chunks that
// succeeded and a *BulkError. Not every table supports it.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/createmultiple
func CreateMultiple[T any](ctx context.Context, c *Client, entitySet, logicalName string, records []T, opts *BulkOptions) (ids []uuid.UUID, err error) {
	ctx, end := c.startSpan(ctx, "CreateMultiple")
	defer func() { end(err) }()
	ids = make([]uuid.UUID, 0, len(records))
	err = bulk(ctx, c, "CreateMultiple", entitySet, logicalName, records, opts, false, func(resp *http.Response, chunk int) error {
		var res struct {
			IDs []uuid.UUID `json:"Ids"`
		}
		if err := decodeBody(resp, &res); err != nil {
			return err
		}
		if len(res.IDs) != chunk {
			return fmt.Errorf("dataverse: CreateMultiple returned %d ids for %d records", len(res.IDs), chunk)
		}
		ids = append(ids, res.IDs...)
		return nil
	})
	return ids, err
}

// UpdateMultiple updates records of entitySet; each must hold its primary
// key. Repeating it is harmless, so it is retried like other idempotent
// requests.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/updatemultiple
func UpdateMultiple[T any](ctx context.Context, c *Client, entitySet, logicalName string, records []T, opts *BulkOptions) (err error) {
	ctx, end := c.startSpan(ctx, "UpdateMultiple")
	defer func() { end(err) }()
	return bulk(ctx, c, "UpdateMultiple", entitySet, logicalName, records, opts, true, nil)
}

// UpsertMultiple creates or updates records of entitySet, each identified
// by its primary key or by "@odata.id" with an alternate key
// ("sample_examples(sample_key='1')"). The Web API does not say which
// records were created.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/upsertmultiple
func UpsertMultiple[T any](ctx context.Context, c *Client, entitySet, logicalName string, records []T, opts *BulkOptions) (err error) {
	ctx, end := c.startSpan(ctx, "UpsertMultiple")
	defer func() { end(err) }()
	return bulk(ctx, c, "UpsertMultiple", entitySet, logicalName, records, opts, true, nil)
}

// bulk encodes records and sends them in chunks to set/Microsoft.Dynamics.CRM.<op>.
func bulk[T any](ctx context.Context, c *Client, op, entitySet, logicalName string, records []T, opts *BulkOptions, idempotent bool, onChunk func(*http.Response, int) error) error {
	if opts == nil {
		opts = &BulkOptions{}
	}
	path, err := entitySetPath(entitySet)
	if err != nil {
		return err
	}
	if !propertyNamePattern.MatchString(logicalName) {
		return invalidf("dataverse: %s: %q is not a table logical name such as \"contact\"", op, logicalName)
	}
	if len(records) == 0 {
		return nil
	}
	maxCount, maxBytes := opts.ChunkSize, opts.ChunkBytes
	if maxCount <= 0 {
		maxCount = DefaultBulkChunkSize
	}
	if maxBytes <= 0 {
		maxBytes = DefaultBulkChunkBytes
	}
	odataType := "Microsoft.Dynamics.CRM." + logicalName
	var body bytes.Buffer
	first, n := 0, 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		body.WriteString("]}")
		r := &request{method: http.MethodPost, path: path + "/Microsoft.Dynamics.CRM." + op, body: body.Bytes(), idempotent: idempotent, opts: &opts.RequestOptions}
		resp, err := c.send(ctx, r)
		if err == nil {
			if onChunk != nil {
				err = onChunk(resp, n)
			}
			closeBody(resp)
		}
		if err != nil {
			return &BulkError{Operation: op, First: first, Count: n, Err: err}
		}
		first += n
		n = 0
		body.Reset()
		return nil
	}
	for i := range records {
		rec, err := bulkTarget(records[i], odataType)
		if err != nil {
			if first == 0 {
				return invalidf("dataverse: %s record %d: %w", op, i, err) // nothing was sent
			}
			// Earlier chunks were written, so this is not an error of the
			// "nothing was sent" kind (ErrInvalidArgument).
			return fmt.Errorf("dataverse: %s record %d: %v (records 0 to %d were written; this record and those after it were not sent)", op, i, err, first-1)
		}
		// +3: the comma before it and the closing "]}".
		if n > 0 && (n == maxCount || body.Len()+len(rec)+3 > maxBytes) {
			if err := flush(); err != nil {
				return err
			}
		}
		if n == 0 {
			body.WriteString(`{"Targets":[`)
		} else {
			body.WriteByte(',')
		}
		body.Write(rec)
		n++
	}
	return flush()
}

// bulkTarget encodes a record with its "@odata.type".
func bulkTarget(record any, odataType string) ([]byte, error) {
	b, err := marshalBody(record)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' {
		return nil, errors.New("the record is not a JSON object")
	}
	existing, err := topLevelString(b, "@odata.type")
	if err != nil {
		return nil, err
	}
	switch {
	case existing == odataType:
		return b, nil
	case existing != "":
		return nil, fmt.Errorf("its @odata.type is %q, not %q: all records must be of one table", existing, odataType)
	}
	typ, _ := json.Marshal(odataType)
	out := make([]byte, 0, len(b)+len(typ)+16)
	out = append(out, `{"@odata.type":`...)
	out = append(out, typ...)
	if rest := bytes.TrimSpace(b[1:]); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, b[1:]...), nil
}

// topLevelString returns the string value of key in a JSON object, "" if
// the key is absent.
func topLevelString(obj []byte, key string) (string, error) {
	d := json.NewDecoder(bytes.NewReader(obj))
	if _, err := d.Token(); err != nil { // {
		return "", err
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return "", err
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return "", err
		}
		if k, _ := t.(string); k == key {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return "", fmt.Errorf("%s is not a string", key)
			}
			return s, nil
		}
	}
	return "", nil
}
