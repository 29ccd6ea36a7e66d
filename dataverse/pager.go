package dataverse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strings"

	"github.com/d365s2s/d365/internal/jsonobj"
)

// ListOptions are the options of a collection query (List, Pager,
// NewPager): the OData query plus per-request options.
type ListOptions struct {
	Query
	RequestOptions
}

// Page is one page of a collection response.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results
type Page[T any] struct {
	// Items are the page's rows ("value").
	Items []T `json:"value"`
	// NextLink is the URL of the next page ("@odata.nextLink"), "" on the
	// last page. Save it to resume later with ResumePager.
	NextLink string `json:"@odata.nextLink,omitempty"`
	// Count is the number of matching rows when the query set Count
	// ("@odata.count", at most 5,000), else nil.
	Count *int64 `json:"@odata.count,omitempty"`
	// TotalRecordCount is "@Microsoft.Dynamics.CRM.totalrecordcount" when
	// the query asked for AnnotationTotalRecordCount, else nil.
	TotalRecordCount *int64 `json:"@Microsoft.Dynamics.CRM.totalrecordcount,omitempty"`
	// TotalRecordCountLimitExceeded reports whether that count hit its cap.
	TotalRecordCountLimitExceeded bool `json:"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded,omitempty"`
	// PagingCookie and MoreRecords are the FetchXML paging annotations.
	PagingCookie string `json:"@Microsoft.Dynamics.CRM.fetchxmlpagingcookie,omitempty"`
	MoreRecords  bool   `json:"@Microsoft.Dynamics.CRM.morerecords,omitempty"`
	// DeltaLink is "@odata.deltaLink" of a change-tracking query.
	DeltaLink string `json:"@odata.deltaLink,omitempty"`
	// Context is "@odata.context".
	Context string `json:"@odata.context,omitempty"`
}

// Pager reads a collection one page at a time, following @odata.nextLink
// (or, for a FetchXML query, the paging cookie). It holds one page at a
// time, so memory stays flat however many pages are read. A Pager is not
// safe for concurrent use.
//
//	p := dataverse.NewPager[Contact](client, "contacts", opts)
//	for p.More() {
//		page, err := p.NextPage(ctx)
//		if err != nil { … }           // calling NextPage again retries the same page
//		save(page.NextLink)           // checkpoint: resume with ResumePager
//	}
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results
type Pager[T any] struct {
	c      *Client
	first  *request // the first page's request; nil once it was read
	next   string   // the next page's URL; "" with first == nil: done
	header http.Header
	opts   *RequestOptions
	fetch  *fetchState // FetchXML query: pages follow the paging cookie
	err    error       // an error found when the pager was made
	// left is how many more rows Query.Top lets the pager return; 0
	// without a Top (once Top is reached the pager has no next page). The
	// service ignores $top when a page size is sent, so the pager enforces
	// it across pages.
	left int
}

// NewPager returns a pager over entitySet that decodes rows into T (a
// struct type or Record). Nothing is sent until NextPage.
//
// With Query.Top set the pager returns at most Top rows in all: the
// service ignores $top when MaxPageSize is also sent and pages through
// every row, so the pager cuts the page that reaches Top short and gives
// it no NextLink.
func NewPager[T any](c *Client, entitySet string, opts *ListOptions) *Pager[T] {
	p := &Pager[T]{c: c}
	if opts == nil {
		opts = &ListOptions{}
	}
	ro := opts.RequestOptions
	p.opts = &ro
	path, err := entitySetPath(entitySet)
	if err != nil {
		p.err = err
		return p
	}
	q := opts.Query.clone()
	query, err := q.encode()
	if err != nil {
		p.err = err
		return p
	}
	if p.header, err = preferHeader(&q); err != nil {
		p.err = err
		return p
	}
	p.first = &request{method: http.MethodGet, path: path, query: query}
	p.left = q.Top // encode refused a negative Top
	return p
}

// ResumePager returns a pager that continues at nextLink, a Page.NextLink
// saved earlier (by this or another process). opts must carry the same
// MaxPageSize and Annotations as the original query, because the service
// needs the same Prefer header on every page; its other query options are
// already part of the link and are ignored, except Top: when set, it is
// the number of rows the resumed pager may still return (the original Top
// minus the rows already read), since the service does not carry $top from
// page to page when a page size is sent. The link must lie below the
// client's Web API base.
func ResumePager[T any](c *Client, nextLink string, opts *ListOptions) (*Pager[T], error) {
	if opts == nil {
		opts = &ListOptions{}
	}
	u, err := c.resolveLink(nextLink)
	if err != nil {
		return nil, invalid(err)
	}
	ro := opts.RequestOptions
	if opts.Top < 0 {
		return nil, invalidf("dataverse: ResumePager: Top %d is negative", opts.Top)
	}
	p := &Pager[T]{c: c, next: u.String(), opts: &ro, left: opts.Top}
	if fx := u.Query().Get("fetchXml"); fx != "" {
		// A FetchXML page: later pages follow the paging cookie.
		set := strings.TrimPrefix(u.Path, c.baseURL.Path)
		if _, err := entitySetPath(set); err != nil {
			return nil, invalidf("dataverse: ResumePager: the FetchXML link does not address an entity set: %w", err)
		}
		p.fetch = &fetchState{path: set, xml: fx}
		if p.header, err = fetchPreferHeader(opts.Annotations); err != nil {
			return nil, err
		}
		return p, nil
	}
	q := opts.Query
	if p.header, err = preferHeader(&q); err != nil {
		return nil, err
	}
	return p, nil
}

// Pager returns a pager over entitySet whose rows are Records. It is
// NewPager[Record](c, entitySet, opts).
func (c *Client) Pager(entitySet string, opts *ListOptions) *Pager[Record] {
	return NewPager[Record](c, entitySet, opts)
}

// List returns the first page of entitySet's rows matching opts, with its
// NextLink. Use a Pager (Client.Pager, NewPager) to read further pages.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/overview
func (c *Client) List(ctx context.Context, entitySet string, opts *ListOptions) (*Page[Record], error) {
	return c.Pager(entitySet, opts).NextPage(ctx)
}

func preferHeader(q *Query) (http.Header, error) {
	prefs, err := q.preferences()
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	if len(prefs) > 0 {
		h.Set("Prefer", strings.Join(prefs, ","))
	}
	return h, nil
}

// More reports whether another page can be read: true before the first
// page and while the last page read had a next link.
func (p *Pager[T]) More() bool {
	return p.err != nil || p.first != nil || p.next != ""
}

// NextLink returns the URL NextPage will read next, "" before the first
// page and after the last one. It is the checkpoint to save for
// ResumePager.
func (p *Pager[T]) NextLink() string { return p.next }

// NextPage reads the next page. On error the pager does not move, so
// calling NextPage again retries the same page. After the last page it
// returns an error.
func (p *Pager[T]) NextPage(ctx context.Context) (page *Page[T], err error) {
	return p.nextPage(ctx, nil)
}

// nextPage is NextPage. With buf (for a Pager[json.RawMessage] only) the
// page is read into buf and its rows are slices of it, valid until buf is
// reused: Export reads every page into the same buffer, so the heap holds
// one page however many are read.
func (p *Pager[T]) nextPage(ctx context.Context, buf *pageBuffer) (page *Page[T], err error) {
	if p.err != nil {
		return nil, p.err
	}
	var r *request
	switch {
	case p.first != nil:
		cp := *p.first
		r = &cp
	case p.next != "":
		r = &request{method: http.MethodGet, absURL: p.next}
	default:
		return nil, invalidf("dataverse: NextPage called after the last page; check More first")
	}
	ctx, end := p.c.startSpan(ctx, "NextPage")
	defer func() { end(err) }()
	r.idempotent = true
	r.opts = p.opts
	r.header = p.header.Clone()
	if r.absURL != "" {
		// A saved link is checked again: it may come from anywhere.
		if _, err := p.c.resolveLink(r.absURL); err != nil {
			return nil, invalid(err)
		}
	}
	page = new(Page[T])
	if raw, ok := any(page).(*Page[json.RawMessage]); ok {
		err = p.c.sendRawPage(ctx, r, raw, buf)
	} else {
		_, err = p.c.sendJSON(ctx, r, page)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case p.fetch != nil:
		st := *p.fetch // advance a copy: on error the pager stays put
		if page.NextLink, err = p.c.nextFetchLink(&st, page.MoreRecords, page.PagingCookie); err != nil {
			return nil, err
		}
		*p.fetch = st
	case page.NextLink != "":
		u, err := p.c.resolveLink(page.NextLink)
		if err != nil {
			return nil, err
		}
		page.NextLink = u.String()
	}
	switch {
	case p.left == 0: // no Top
	case len(page.Items) >= p.left:
		// Top reached: the rest of this page and the pages after it are
		// rows the caller did not ask for.
		clear(page.Items[p.left:])
		page.Items = page.Items[:p.left]
		page.NextLink = ""
	default:
		p.left -= len(page.Items)
	}
	p.first = nil
	p.next = page.NextLink
	return page, nil
}

// All returns an iterator over every remaining row, reading pages as
// needed. It stops at the first error, which it yields with a zero T.
// Breaking out of the loop stops reading; calling All or NextPage again
// continues with the page after the one being iterated.
func (p *Pager[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for p.More() {
			page, err := p.NextPage(ctx)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for i := range page.Items {
				if !yield(page.Items[i], nil) {
					return
				}
			}
		}
	}
}

// sendRawPage sends r and reads the page into a Page[json.RawMessage], the
// read path of Export: the body is read whole, checked once
// (json.Valid), and its rows are slices of it, found by scanObject and
// valueEnd, instead of a json.Decoder pass that buffers the body, a second
// pass over each row and a copy of each row. The rows of one page share
// one allocation the size of the body.
func (c *Client) sendRawPage(ctx context.Context, r *request, page *Page[json.RawMessage], into *pageBuffer) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer closeBody(resp)
	buf := into
	if buf == nil {
		buf = pageBufferPool.Get().(*pageBuffer)
		defer func() {
			if cap(buf.b) <= maxPooledPageBuffer {
				pageBufferPool.Put(buf)
			}
		}()
	}
	if err := buf.read(resp.Body, resp.ContentLength); err != nil {
		return fmt.Errorf("dataverse: %s %s: reading the response: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	body := bytes.TrimPrefix(buf.bytes(), []byte("\xef\xbb\xbf"))
	if into == nil {
		// The rows outlive the pooled buffer.
		body = bytes.Clone(body)
	}
	if err := decodeRawPage(body, page); err != nil {
		return fmt.Errorf("dataverse: %s %s: decoding the response into %T: %w", resp.Request.Method, resp.Request.URL.Path, page, err)
	}
	return nil
}

// decodeRawPage decodes a collection response: its "value" rows as slices
// of body, its other members (next link, counts, paging cookie) as
// encoding/json decodes them into Page.
func decodeRawPage(body []byte, page *Page[json.RawMessage]) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("the response has no body to decode")
	}
	if !jsonobj.Valid(body) { // json.Valid, about four times faster on a page
		// encoding/json says where and why.
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		return fmt.Errorf("the response is not valid JSON")
	}
	var rest []byte // the members other than "value", as one object
	err := scanMembers(body, func(name []byte, i int) (int, error) {
		// encoding/json matches member names without regard to case.
		if bytes.EqualFold(name, []byte("value")) {
			// The rows are split where the array's end is looked for: one
			// pass over them after the validation, not two.
			rows, end, err := splitArray(body, i)
			if err != nil {
				return 0, fmt.Errorf("value: %w", err)
			}
			page.Items = rows
			return end, nil
		}
		end, err := valueEnd(body, i)
		if err != nil {
			return 0, err
		}
		if rest == nil {
			rest = append(rest, '{')
		} else {
			rest = append(rest, ',')
		}
		rest = appendMarshalString(rest, string(name))
		rest = append(rest, ':')
		rest = append(rest, body[i:end]...)
		return end, nil
	})
	if err != nil {
		return err
	}
	if rest != nil {
		rest = append(rest, '}')
		items := page.Items
		if err := json.Unmarshal(rest, page); err != nil {
			return err
		}
		page.Items = items
	}
	return nil
}

// splitArray returns the elements of the JSON array (already valid JSON)
// that starts at b[i], as slices of b, and the index after the array; a
// null there is no elements.
func splitArray(b []byte, i int) ([]json.RawMessage, int, error) {
	start := i
	if len(b)-i >= 4 && string(b[i:i+4]) == "null" {
		return nil, i + 4, nil
	}
	if i >= len(b) || b[i] != '[' {
		return nil, 0, fmt.Errorf("not an array")
	}
	out := []json.RawMessage{}
	i = jsonobj.SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return out, i + 1, nil
	}
	for i < len(b) {
		end, err := valueEnd(b, i)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, json.RawMessage(b[i:end:end]))
		i = jsonobj.SkipSpace(b, end)
		if i >= len(b) {
			break
		}
		switch b[i] {
		case ',':
			i = jsonobj.SkipSpace(b, i+1)
		case ']':
			return out, i + 1, nil
		default:
			return nil, 0, fmt.Errorf("',' or ']' was expected at byte %d", i)
		}
	}
	return nil, 0, fmt.Errorf("the array starting at byte %d does not end", start)
}
