package webapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// parseQuery parses the request's query options with Dataverse's rules
// ($skip, $search, $format and unknown $-options are refused).
func (req *request) parseQuery() (*odata.Query, error) {
	values, err := parseRawQuery(req.r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	return odata.ParseQuery(values)
}

// parseRawQuery splits a query string at '&' only (semicolons separate
// $expand options and must stay inside values, unlike in
// url.ParseQuery), decoding percent-escapes and '+' as a space.
func parseRawQuery(raw string) (url.Values, error) {
	values := url.Values{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		n, err1 := url.QueryUnescape(name)
		v, err2 := url.QueryUnescape(value)
		if err1 != nil || err2 != nil {
			return nil, newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "The query string is not valid: '%s' is not correctly percent-encoded.", part)
		}
		values[n] = append(values[n], v)
	}
	return values, nil
}

// selection is a bound $select: the columns to read, and the text of the
// @odata.context select list.
type selection struct {
	cols    []*schema.Column
	context string // "(firstname,lastname)" or ""
}

// bindSelect resolves $select. Without it every readable column is
// returned. The primary key is always returned; money columns bring the
// row's currency (_transactioncurrencyid_value) along, as in Dataverse.
func bindSelect(t *schema.Table, items []odata.SelectItem) (selection, error) {
	if items == nil {
		return selection{}, nil
	}
	var sel selection
	var names []string
	seen := map[*schema.Column]bool{}
	for _, it := range items {
		if it.Star {
			return selection{}, nil
		}
		if len(it.Path) != 1 {
			return selection{}, errPropertyNotFound(joinSegments(it.Path), t)
		}
		name := it.Path[0].Name
		c, ok := t.Property(name)
		if !ok || !c.ValidForRead {
			return selection{}, errPropertyNotFound(name, t)
		}
		names = append(names, name)
		if !seen[c] {
			seen[c] = true
			sel.cols = append(sel.cols, c)
		}
	}
	if cur, ok := t.Column("transactioncurrencyid"); ok && !seen[cur] {
		for _, c := range sel.cols {
			if c.Type == schema.TypeMoney {
				sel.cols = append(sel.cols, cur)
				seen[cur] = true
				break
			}
		}
	}
	if pk := t.PrimaryID(); !seen[pk] {
		sel.cols = append(sel.cols, pk)
	}
	sel.context = "(" + strings.Join(names, ",") + ")"
	return sel, nil
}

func joinSegments(segs []odata.Segment) string {
	names := make([]string, len(segs))
	for i, s := range segs {
		names[i] = s.Name
	}
	return strings.Join(names, "/")
}

// bindOrderBy resolves $orderby to sort keys on the table's own columns.
// A choice sorts by value (the reference, §3.3); a lookup by the primary
// name of the referenced row, which the store does for every lookup
// order.
func (b *binder) bindOrderBy(items []odata.OrderByItem) ([]store.Order, error) {
	var out []store.Order
	for _, it := range items {
		e, err := b.operand(it.Expr)
		if err != nil {
			return nil, err
		}
		pe, ok := e.(*odata.PathExpr)
		if !ok {
			return nil, errFilterUnsupported("The $orderby expression must be a property.")
		}
		p, err := b.path(pe)
		if err != nil {
			return nil, err
		}
		if p.navs > 0 {
			return nil, errFilterUnsupported("Ordering by a property of a related table ('%s') is not supported; order by a column of '%s'.", joinSegments(pe.Segments), b.table.EntitySetName)
		}
		if p.col.Type == schema.TypeMemo {
			return nil, errFilterUnsupported("Ordering by the multiple-line text column '%s' is not supported.", p.col.LogicalName)
		}
		out = append(out, store.Order{Column: p.col, Desc: it.Desc})
	}
	return out, nil
}
