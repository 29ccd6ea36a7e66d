package webapi

import (
	"errors"
	"net/http"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/fetchxml"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// FetchXML queries: GET <set>?fetchXml=<url-encoded <fetch>…</fetch>>.
//
// The query is parsed (package fetchxml: syntax only), bound to the schema
// (fetchxml_bind.go, fetchxml_conditions.go, fetchxml_aggregate.go) and
// run as one store query with joins for the link-entities. Results differ
// from OData ones as Dataverse's do: null columns are omitted, aliased and
// link-entity columns are named by alias ("contact.fullname"), and paging
// uses page numbers and paging cookies (fetchxml_paging.go) instead of
// @odata.nextLink.

// fetchError is a 400 with a QueryBuilder code: a query that parses but
// does not bind to the metadata.
func fetchError(code, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, code, format, args...)
}

// nameSet is a set of the names given.
func nameSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// fetchXMLQuery answers a collection GET with fetchXml.
func (req *request) fetchXMLQuery(t *schema.Table, q *odata.Query, base store.Cond) error {
	if base != nil {
		return fetchError(dverr.CodeQuerySyntax, "The fetchXml parameter can only be used on an entity set (%s), not on a navigation property.", t.EntitySetName)
	}
	if q.Select != nil || q.Filter != nil || q.OrderBy != nil || q.Top != nil || q.Expand != nil || q.Apply != nil || q.SkipToken != "" {
		return fetchError(dverr.CodeQuerySyntax, "The fetchXml parameter cannot be combined with $select, $filter, $orderby, $top, $expand, $apply or $skiptoken; express them in the FetchXML query.")
	}
	fq, err := fetchxml.Parse(q.FetchXML)
	if err != nil {
		return err
	}
	plan, err := bindFetch(req.h.schema, t, req.p, req.h.store.Now(), fq)
	if err != nil {
		return err
	}
	if plan.agg != nil {
		return req.runFetchAggregate(plan)
	}
	return req.runFetch(plan, q.Count)
}

// runFetch answers a non-aggregate FetchXML query.
func (req *request) runFetch(plan *fetchPlan, count bool) error {
	fq := plan.fq
	sq := plan.query
	keys := sq.SortKeys()
	size := fq.Count
	if fq.Top > 0 {
		size = fq.Top
	}
	if size == 0 {
		size = maxPageSize
	}
	page := max(fq.Page, 1)
	sq.Limit = size
	sq.Offset = (page - 1) * size
	if fq.HasCookie && page > 1 {
		cursor, cookiePage, err := plan.decodePagingCookie(fq.PagingCookie, keys)
		if err != nil {
			return err
		}
		// The cookie marks the end of page cookiePage: later pages
		// continue from it; earlier ones are counted from the start.
		if page > cookiePage {
			sq.After, sq.Offset = cursor, (page-cookiePage-1)*size
		}
	}
	result, err := req.data().Query(req.ctx, req.p, sq)
	if err != nil {
		if errors.Is(err, store.ErrCursorMismatch) {
			return errPagingCookie("The cookie's values do not fit the query's sort keys.")
		}
		return err
	}
	more := result.More && fq.Top == 0
	counted := count || fq.TotalCount
	total, exceeded := -1, false
	if counted || req.prefer.wantsAnnotation(annotationTotalCountExceeded) {
		n, err := req.data().CountRows(req.ctx, req.p, plan.query, store.CountLimit+1)
		if err != nil {
			return err
		}
		total, exceeded = min(n, store.CountLimit), n > store.CountLimit
	}
	ann := req.newAnnotator()
	for _, row := range result.Rows {
		for _, c := range plan.cols {
			ann.collect(row.Values[c.index])
		}
	}
	if err := ann.load(); err != nil {
		return err
	}
	req.preferenceApplied()
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#" + plan.table.EntitySetName + plan.context)
	if count {
		jw.raw(`,"@odata.count":`)
		jw.int(int64(total))
	}
	req.writeCounts(jw, counted, total, exceeded)
	if more {
		if req.prefer.wantsAnnotation(annotationPagingCookie) {
			if cookie := plan.encodePagingCookie(keys, result, page); cookie != "" {
				jw.raw(`,"@` + annotationPagingCookie + `":`)
				jw.str(cookie)
			}
		}
		if req.prefer.wantsAnnotation(annotationMoreRecords) {
			jw.raw(`,"@` + annotationMoreRecords + `":true`)
		}
	}
	jw.raw(`,"value":[`)
	for i, row := range result.Rows {
		if i > 0 {
			jw.byte(',')
		}
		plan.writeRow(jw, ann, row)
	}
	jw.raw("]}")
	return req.endJSON(jw)
}

// writeRow writes one row of a non-aggregate FetchXML result: null values
// are omitted.
func (plan *fetchPlan) writeRow(jw *jsonWriter, ann *annotator, row store.Row) {
	jw.byte('{')
	first := true
	if !plan.query.Distinct {
		jw.raw(`"@odata.etag":`)
		jw.etag(row.Version)
		first = false
	}
	for _, c := range plan.cols {
		v := row.Values[c.index]
		if v == nil {
			continue
		}
		var o annotateOptions
		if c.aliased {
			o.attributeName = c.col.LogicalName
		} else if r, ok := v.(store.Ref); ok {
			o.navigation = lookupNavigation(c.scope.table, c.col, r.Table)
		}
		ann.write(jw, c.key, first, c.col, v, o)
		first = false
	}
	jw.byte('}')
}
