package dataverse

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// CountOptions are the options of Count.
type CountOptions struct {
	RequestOptions
	// Filter limits the count to matching rows ($filter).
	Filter string
}

// Count returns the number of rows of entitySet matching opts.Filter
// (GET set/$count). The service caps the count at 5,000; use
// RetrieveTotalRecordCount for whole tables above that, or
// Query.Count with List for the count of a query alongside its first page.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/count-rows
func (c *Client) Count(ctx context.Context, entitySet string, opts *CountOptions) (n int64, err error) {
	ctx, end := c.startSpan(ctx, "Count")
	defer func() { end(err) }()
	if opts == nil {
		opts = &CountOptions{}
	}
	p, err := entitySetPath(entitySet)
	if err != nil {
		return 0, err
	}
	query, err := (&Query{Filter: opts.Filter}).encode()
	if err != nil {
		return 0, err
	}
	r := &request{method: http.MethodGet, path: p + "/$count", query: query, idempotent: true, opts: &opts.RequestOptions}
	resp, err := c.send(ctx, r)
	if err != nil {
		return 0, err
	}
	defer closeBody(resp)
	// The body is a bare number, preceded by a UTF-8 byte-order mark.
	b, err := io.ReadAll(io.LimitReader(skipBOM(resp.Body), 64))
	if err != nil {
		return 0, fmt.Errorf("dataverse: GET %s/$count: reading the response: %w", entitySet, err)
	}
	n, err = strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("dataverse: GET %s/$count: the response %q is not a number", entitySet, truncate(string(b), 40))
	}
	return n, nil
}
