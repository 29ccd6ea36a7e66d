package dataverse

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// FetchXML queries and their paging-cookie protocol.
//
// A page of a FetchXML query answers, when more rows follow, with
// @Microsoft.Dynamics.CRM.morerecords: true and
// @Microsoft.Dynamics.CRM.fetchxmlpagingcookie, an XML element such as
//
//	<cookie pagenumber="2" pagingcookie="%253ccookie%2520page…" istracking="False" />
//
// The next page is the same query with page="2" and paging-cookie set to
// the pagingcookie attribute URL-decoded twice (the XML encoder escapes it
// back into the attribute). Without a cookie (some queries have none) the
// page number alone advances. The last page has neither annotation.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/fetchxml/page-results

// fetchAnnotations are the annotations the paging protocol needs.
var fetchAnnotations = []string{"Microsoft.Dynamics.CRM.fetchxmlpagingcookie", "Microsoft.Dynamics.CRM.morerecords"}

// FetchOptions are the options of a FetchXML query.
type FetchOptions struct {
	RequestOptions
	// PageSize sets the fetch element's count attribute (rows per page,
	// at most 5,000); 0 keeps the query's own count or the default.
	PageSize int
	// Annotations are included in addition to the paging annotations,
	// e.g. AnnotationFormattedValue.
	Annotations []string
}

// fetchState is what a pager needs to compute a FetchXML query's next page.
type fetchState struct {
	path string // entity set
	xml  string // the query of the page being read
}

// NewFetchPager returns a pager over the rows of a FetchXML query on
// entitySet (whose table must be the query's <entity name>), decoded into
// T. Pages follow the paging-cookie protocol; each page's NextLink is a
// URL holding the next page's query, so it can be saved and resumed with
// ResumePager like any other.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/fetchxml/retrieve-data
func NewFetchPager[T any](c *Client, entitySet, fetchXML string, opts *FetchOptions) *Pager[T] {
	if opts == nil {
		opts = &FetchOptions{}
	}
	ro := opts.RequestOptions
	p := &Pager[T]{c: c, opts: &ro}
	path, err := entitySetPath(entitySet)
	if err != nil {
		p.err = err
		return p
	}
	if opts.PageSize < 0 || opts.PageSize > MaxPageSizeLimit {
		p.err = invalidf("dataverse: FetchXML PageSize %d is outside 1..%d", opts.PageSize, MaxPageSizeLimit)
		return p
	}
	x := fetchXML
	if opts.PageSize > 0 {
		if x, err = setFetchAttrs(x, map[string]string{"count": strconv.Itoa(opts.PageSize)}); err != nil {
			p.err = invalid(err)
			return p
		}
	} else if _, err := setFetchAttrs(x, nil); err != nil { // validate
		p.err = invalid(err)
		return p
	}
	if p.header, err = fetchPreferHeader(opts.Annotations); err != nil {
		p.err = err
		return p
	}
	p.fetch = &fetchState{path: path, xml: x}
	p.first = &request{method: http.MethodGet, path: path, query: "fetchXml=" + escapeComponent(x)}
	return p
}

// FetchXMLPager returns a pager over a FetchXML query whose rows are
// Records. It is NewFetchPager[Record].
func (c *Client) FetchXMLPager(entitySet, fetchXML string, opts *FetchOptions) *Pager[Record] {
	return NewFetchPager[Record](c, entitySet, fetchXML, opts)
}

// FetchXML returns the first page of a FetchXML query. Note that FetchXML
// results omit null columns.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/fetchxml/retrieve-data
func (c *Client) FetchXML(ctx context.Context, entitySet, fetchXML string, opts *FetchOptions) (*Page[Record], error) {
	return c.FetchXMLPager(entitySet, fetchXML, opts).NextPage(ctx)
}

func fetchPreferHeader(extra []string) (http.Header, error) {
	names := slices.Clone(fetchAnnotations)
	if slices.Contains(extra, AnnotationsAll) {
		names = []string{AnnotationsAll}
	} else {
		for _, n := range extra {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	p, err := includeAnnotations(names)
	if err != nil {
		return nil, err
	}
	return http.Header{"Prefer": {p}}, nil
}

// nextFetchLink returns the URL of the page after page, or "" if none.
func (c *Client) nextFetchLink(st *fetchState, morerecords bool, cookie string) (string, error) {
	if !morerecords {
		return "", nil
	}
	attrs := map[string]string{}
	next := fetchPage(st.xml) + 1
	if cookie != "" {
		num, inner, err := parsePagingCookie(cookie)
		if err != nil {
			return "", err
		}
		if num > 0 {
			next = num
		}
		if inner != "" {
			attrs["paging-cookie"] = inner
		}
	}
	attrs["page"] = strconv.Itoa(next)
	x, err := setFetchAttrs(st.xml, attrs)
	if err != nil {
		return "", err
	}
	st.xml = x
	return c.base + st.path + "?fetchXml=" + escapeComponent(x), nil
}

// parsePagingCookie reads the fetchxmlpagingcookie annotation.
func parsePagingCookie(cookie string) (page int, inner string, err error) {
	var c struct {
		PageNumber   string `xml:"pagenumber,attr"`
		PagingCookie string `xml:"pagingcookie,attr"`
	}
	if err := xml.Unmarshal([]byte(cookie), &c); err != nil {
		return 0, "", fmt.Errorf("dataverse: the FetchXML paging cookie is not XML: %w", err)
	}
	if c.PageNumber != "" {
		if page, err = strconv.Atoi(c.PageNumber); err != nil || page < 1 {
			return 0, "", fmt.Errorf("dataverse: the FetchXML paging cookie has page number %q", c.PageNumber)
		}
	}
	inner = c.PagingCookie
	for range 2 { // URL-encoded twice by the service
		if inner, err = url.PathUnescape(inner); err != nil {
			return 0, "", fmt.Errorf("dataverse: the FetchXML paging cookie is not URL-encoded: %w", err)
		}
	}
	return page, inner, nil
}

// fetchPage returns the page attribute of the fetch element, 1 if absent.
func fetchPage(fetchXML string) int {
	d := xml.NewDecoder(strings.NewReader(fetchXML))
	for {
		tok, err := d.RawToken()
		if err != nil {
			return 1
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "page" {
					if n, err := strconv.Atoi(a.Value); err == nil && n > 0 {
						return n
					}
				}
			}
			return 1
		}
	}
}

// setFetchAttrs returns fetchXML with the given attributes of its root
// <fetch> element set (replacing existing ones). The document is
// re-encoded token by token, so it stays equivalent XML.
func setFetchAttrs(fetchXML string, attrs map[string]string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(fetchXML))
	var out bytes.Buffer
	e := xml.NewEncoder(&out)
	seenRoot := false
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("dataverse: the FetchXML query is not well-formed XML: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && !seenRoot {
			seenRoot = true
			if se.Name.Local != "fetch" || se.Name.Space != "" {
				return "", fmt.Errorf("dataverse: the FetchXML query's root element is <%s>, not <fetch>", se.Name.Local)
			}
			se = se.Copy()
			keys := make([]string, 0, len(attrs))
			for k := range attrs {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				i := slices.IndexFunc(se.Attr, func(a xml.Attr) bool { return a.Name.Local == k && a.Name.Space == "" })
				if i >= 0 {
					se.Attr[i].Value = attrs[k]
				} else {
					se.Attr = append(se.Attr, xml.Attr{Name: xml.Name{Local: k}, Value: attrs[k]})
				}
			}
			tok = se
		}
		if err := e.EncodeToken(tok); err != nil {
			return "", fmt.Errorf("dataverse: re-encoding the FetchXML query: %w", err)
		}
	}
	if err := e.Flush(); err != nil {
		return "", err
	}
	if !seenRoot {
		return "", errors.New("dataverse: the FetchXML query has no <fetch> element")
	}
	if err := e.Close(); err != nil {
		return "", fmt.Errorf("dataverse: the FetchXML query is not well-formed XML: %w", err)
	}
	return out.String(), nil
}
