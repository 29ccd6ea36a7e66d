package dataverse

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// sendOutcome is what one request did with its rows.
type sendOutcome struct {
	// err is the failure of the request as a whole; the other fields
	// are then empty.
	err error
	// written rows were written; failed rows were refused, each with its
	// error; again rows must be sent again (a $batch part that failed
	// for a transient reason, or that the service did not answer).
	written  []*bulkRow
	failed   []rowFailure
	again    []*bulkRow
	againErr error // why the again rows failed
}

// rowFailure is a row the service refused.
type rowFailure struct {
	row *bulkRow
	err *ResponseError
}

// bulkMessage is the bulk message for the job's mode; upsert turns a
// create into an upsert of the same ids.
func (r *bulkRun) bulkMessage(upsert bool) string {
	switch {
	case r.opts.Mode == BulkUpdate:
		return "UpdateMultiple"
	case r.opts.Mode == BulkUpsert || upsert:
		return "UpsertMultiple"
	}
	return "CreateMultiple"
}

// sendMultiple sends rows as one bulk message.
func (r *bulkRun) sendMultiple(ctx context.Context, c *Client, rows []*bulkRow, upsert bool) sendOutcome {
	op := r.bulkMessage(upsert)
	size := 16
	for _, row := range rows {
		size += len(row.fields) + len(row.key) + 128
	}
	body := make([]byte, 0, size)
	body = append(body, `{"Targets":[`...)
	for i, row := range rows {
		if i > 0 {
			body = append(body, ',')
		}
		body = r.appendTarget(body, row)
	}
	body = append(body, "]}"...)
	req := &request{
		method: http.MethodPost,
		path:   r.table.entitySet + "/Microsoft.Dynamics.CRM." + op,
		body:   body,
		// UpdateMultiple and UpsertMultiple converge when repeated; a
		// CreateMultiple is repeated by the job, as an upsert.
		idempotent: op != "CreateMultiple",
		opts:       &r.opts.RequestOptions,
	}
	resp, err := c.send(ctx, req)
	if err != nil {
		return sendOutcome{err: err}
	}
	closeBody(resp)
	return sendOutcome{written: rows}
}

// sendBatch sends rows as a $batch of single operations with
// continue-on-error, so each row gets its own answer.
func (r *bulkRun) sendBatch(ctx context.Context, c *Client, rows []*bulkRow, upsert bool) sendOutcome {
	b := NewBatch()
	set := r.table.entitySet
	for _, row := range rows {
		var br BatchRequest
		switch {
		case row.key != "":
			br = BatchRequest{Method: http.MethodPatch, Path: set + row.key, Body: r.singleBody(row, false)}
			if r.opts.Mode == BulkUpdate {
				br.Header = http.Header{"If-Match": {"*"}}
			}
		case r.opts.Mode == BulkUpdate:
			br = UpdateRequest(set, row.id, r.singleBody(row, false))
		case r.opts.Mode == BulkUpsert || upsert:
			br = UpsertRequest(set, row.id, r.singleBody(row, false))
		default:
			br = CreateRequest(set, r.singleBody(row, true))
		}
		b.Add(br)
	}
	res, err := c.ExecuteBatch(ctx, b, &BatchOptions{RequestOptions: r.opts.RequestOptions, ContinueOnError: true})
	if err != nil {
		return sendOutcome{err: err}
	}
	var out sendOutcome
	for i, row := range rows {
		if i >= len(res.Responses) {
			out.again = append(out.again, row)
			if out.againErr == nil {
				out.againErr = errors.New("dataverse: the $batch response has no answer for some operations")
			}
			continue
		}
		p := &res.Responses[i]
		if p.Err == nil {
			out.written = append(out.written, row)
			continue
		}
		switch r.classify(ctx, p.Err) {
		case failRow:
			out.failed = append(out.failed, rowFailure{row: row, err: p.Err})
		case failFatal:
			return sendOutcome{err: p.Err}
		default:
			out.again = append(out.again, row)
			if out.againErr == nil {
				out.againErr = p.Err
			}
		}
	}
	return out
}

// failKind is how the job treats a failed request.
type failKind int

const (
	// failRow: the rows' data (a 4xx): split the request to isolate them.
	failRow failKind = iota
	// failTransient: send again (5xx, connection errors).
	failTransient
	// failTimeout: the request took longer than CallTimeout: send again
	// with fewer rows.
	failTimeout
	// failUnsupported: the table does not support the bulk message: fall
	// back to $batch.
	failUnsupported
	// failThrottled: the service's protection limits refused the request
	// (a 429 the client did not wait out) or the governor holds every
	// request back past the request's deadline: wait, then send it again;
	// it is not an attempt that failed.
	failThrottled
	// failFatal: nothing the job sends can succeed (authentication, no
	// application user, an unknown table): stop.
	failFatal
	// failCanceled: the job's context is done.
	failCanceled
)

// classify says how to treat err, the failure of a request sent with a
// context derived from the job's (ctx).
func (r *bulkRun) classify(ctx context.Context, err error) failKind {
	if r.ctx.Err() != nil {
		return failCanceled
	}
	var re *ResponseError
	var pe *pauseError
	if errors.As(err, &pe) {
		return failThrottled
	}
	if !errors.As(err, &re) {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return failTimeout
		}
		if errors.Is(err, ErrInvalidArgument) {
			return failFatal
		}
		return failTransient // connection errors, truncated responses
	}
	switch {
	case re.StatusCode == http.StatusTooManyRequests:
		return failThrottled
	case re.StatusCode == http.StatusRequestTimeout:
		return failTimeout
	case re.StatusCode >= 500 && re.StatusCode != http.StatusNotImplemented:
		return failTransient
	case re.StatusCode == http.StatusUnauthorized,
		re.Code == CodeUserNotMemberOfOrg, re.Code == CodeUserNotAssignedRoles:
		return failFatal
	case re.BatchPart == nil && isBulkUnsupported(re):
		return failUnsupported
	case re.Code == CodeResourceNotFound:
		return failFatal // an unknown entity set: every row would fail
	}
	return failRow
}

// isBulkUnsupported reports whether a bulk message was refused because the
// table does not support it. Microsoft documents how to find which tables
// support the messages (sdkmessagefilters) but not the answer to a table
// that does not; this reads a 400, 404, 405 or 501 whose code is
// "resource not found" (the action is not bound to the table) or whose
// message says the message is not supported or implemented [unverified].
func isBulkUnsupported(re *ResponseError) bool {
	switch re.StatusCode {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
	default:
		return false
	}
	if re.Code == CodeResourceNotFound {
		return true
	}
	m := strings.ToLower(re.Message)
	return strings.Contains(m, "multiple") &&
		(strings.Contains(m, "not supported") || strings.Contains(m, "not implemented") || strings.Contains(m, "is not enabled") || strings.Contains(m, "not available"))
}
