package dataverse

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DoOptions are the options of Client.Do.
type DoOptions struct {
	RequestOptions
	// ContentType of the body; "application/json" when empty.
	ContentType string
	// Idempotent overrides the retry classification of the request. By
	// default GET, HEAD, PUT, DELETE and PATCH are idempotent (retried
	// after 502/503/504 and connection errors) and POST is not.
	Idempotent *bool
}

// Do sends any request relative to the Web API base, for example
// Do(ctx, "GET", "contacts?$select=fullname&$top=3", nil, nil) or
// Do(ctx, "POST", "WinOpportunity", body, nil), through the client's
// pipeline (token, retries, OData headers, logging). path must already be
// URL-encoded; a leading "/" is ignored, and an absolute URL is accepted
// only below the Web API base.
//
// The response is returned for 2xx and 304 statuses; the caller must close
// its body. Other statuses return a *ResponseError. The body is read into
// memory unless it is an io.ReadSeeker, because retries resend it.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
func (c *Client) Do(ctx context.Context, method, path string, body io.Reader, opts *DoOptions) (resp *http.Response, err error) {
	ctx, end := c.startSpan(ctx, "Do")
	defer func() { end(err) }()
	if opts == nil {
		opts = &DoOptions{}
	}
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		return nil, invalidf("dataverse: Do: the method is empty")
	}
	r := &request{method: method, opts: &opts.RequestOptions, contentType: opts.ContentType, allow304: true}
	switch {
	case strings.HasPrefix(path, "https://") || strings.HasPrefix(path, "http://"):
		u, err := c.resolveLink(path)
		if err != nil {
			return nil, invalid(err)
		}
		r.absURL = u.String()
	case strings.ContainsAny(path, " \r\n\t#"):
		return nil, invalidf("dataverse: Do: path %q must be URL-encoded (no spaces or #)", truncate(path, 120))
	default:
		u, err := c.resolveLink(strings.TrimLeft(path, "/"))
		if err != nil {
			return nil, invalidf("dataverse: Do: path %q leaves the Web API base", truncate(path, 120))
		}
		r.absURL = u.String()
	}
	r.idempotent = isIdempotentMethod(method)
	if opts.Idempotent != nil {
		r.idempotent = *opts.Idempotent
	}
	switch b := body.(type) {
	case nil:
	case io.ReadSeeker:
		r.bodyReader = b
	default:
		data, err := io.ReadAll(body)
		if err != nil {
			return nil, fmt.Errorf("dataverse: Do: reading the body: %w", err)
		}
		r.body = data
	}
	return c.send(ctx, r)
}
