package webapi

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

const (
	annotationTotalCount         = "Microsoft.Dynamics.CRM.totalrecordcount"
	annotationTotalCountExceeded = "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"
)

// list answers GET <set>: $select, $filter, $orderby, $top, $count and
// keyset paging through @odata.nextLink.
func (req *request) list(t *schema.Table) error {
	return req.listRows(t, nil, t.EntitySetName)
}

// listRows answers a collection GET over the rows of t matching base
// (nil: all), such as the rows of a collection-valued navigation
// property. linkPath is the resource path the nextLink repeats.
func (req *request) listRows(t *schema.Table, base store.Cond, linkPath string) error {
	q, err := req.parseQuery()
	if err != nil {
		return err
	}
	switch {
	case req.wantsChangeTracking(q):
		return req.trackChanges(t, q, base, linkPath)
	case q.Apply != nil:
		return req.applyQuery(t, q, base)
	case q.HasFetchXML:
		return req.fetchXMLQuery(t, q, base)
	case q.SavedQuery != "" || q.UserQuery != "":
		return errNotImplemented("savedQuery and userQuery")
	}
	plan, err := req.planRead(t, q)
	if err != nil {
		return err
	}
	b := &binder{req: req, q: q, table: t}
	where := base
	if q.Filter != nil && odata.CountConditions(q.Filter) > maxConditions {
		return errTooManyConditions()
	}
	if q.Filter != nil {
		f, err := b.bindFilter(q.Filter)
		if err != nil {
			return err
		}
		where = store.And(base, f)
	}
	orders, err := b.bindOrderBy(q.OrderBy)
	if err != nil {
		return err
	}
	cols := plan.fetch

	// Page size: odata.maxpagesize when sent (then $top is ignored),
	// otherwise $top, otherwise 5,000.
	limit, paging := maxPageSize, true
	if req.prefer.maxPageSize > 0 {
		limit = req.prefer.maxPageSize
	} else if q.Top != nil {
		limit, paging = int(min(*q.Top, maxPageSize)), false
	}
	pageNumber := 1
	var after *store.Cursor
	if q.SkipToken != "" {
		if after, pageNumber, err = decodeSkipToken(q.SkipToken); err != nil {
			return err
		}
	}
	page := &store.Page{Columns: cols}
	if limit > 0 {
		page, err = req.data().Query(req.ctx, req.p, store.Query{Table: t, Columns: cols, Where: where, Orders: orders, After: after, Limit: limit})
		if err != nil {
			if errors.Is(err, store.ErrCursorMismatch) {
				return errBadSkipToken()
			}
			return err
		}
	}
	total, exceeded := -1, false
	wantTotal := req.prefer.wantsAnnotation(annotationTotalCount) || req.prefer.wantsAnnotation(annotationTotalCountExceeded)
	if q.Count || wantTotal {
		n, err := req.data().Count(req.ctx, req.p, t, where, store.CountLimit+1)
		if err != nil {
			return err
		}
		total, exceeded = min(n, store.CountLimit), n > store.CountLimit
	}
	if err := req.loadExpansions(plan, page.Rows); err != nil {
		return err
	}
	ew, err := req.newEntityWriter(t, cols[:plan.out], page.Rows)
	if err != nil {
		return err
	}
	ew.plan = plan
	if req.prefer.maxPageSize > 0 {
		req.w.Header().Add("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(req.prefer.maxPageSize))
	}
	req.preferenceApplied()
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#" + t.EntitySetName + plan.context)
	if req.prefer.wantsAnnotation(annotationTotalCount) {
		jw.raw(`,"@` + annotationTotalCount + `":`)
		if q.Count {
			jw.int(int64(total))
		} else {
			jw.int(-1)
		}
	}
	if req.prefer.wantsAnnotation(annotationTotalCountExceeded) {
		jw.raw(`,"@` + annotationTotalCountExceeded + `":`)
		jw.raw(strconv.FormatBool(exceeded))
	}
	if q.Count {
		jw.raw(`,"@odata.count":`)
		jw.int(int64(total))
	}
	jw.raw(`,"value":[`)
	for i, row := range page.Rows {
		if i > 0 {
			jw.byte(',')
		}
		ew.write(jw, row, "")
	}
	jw.byte(']')
	if paging && page.More {
		token, err := encodeSkipToken(page.Cursor(), pageNumber+1)
		if err == nil {
			jw.raw(`,"@odata.nextLink":`)
			jw.str(req.base + "/" + linkPath + "?" + withSkipToken(req.r.URL.RawQuery, token))
		}
	}
	jw.byte('}')
	return req.endJSON(jw)
}

// The skip token looks like Dataverse's paging cookie; the emulator's
// cursor (the sort-key values of the last row) travels base64url-encoded
// in its pagingcookie attribute.
var skipTokenPattern = regexp.MustCompile(`^<cookie pagenumber="([0-9]{1,9})" pagingcookie="([A-Za-z0-9_-]*)" istracking="False" />$`)

func encodeSkipToken(c *store.Cursor, pageNumber int) (string, error) {
	text, err := c.MarshalText()
	if err != nil {
		return "", err
	}
	return `<cookie pagenumber="` + strconv.Itoa(pageNumber) + `" pagingcookie="` +
		base64.RawURLEncoding.EncodeToString(text) + `" istracking="False" />`, nil
}

func decodeSkipToken(token string) (*store.Cursor, int, error) {
	m := skipTokenPattern.FindStringSubmatch(token)
	if m == nil {
		return nil, 0, errBadSkipToken()
	}
	page, _ := strconv.Atoi(m[1])
	text, err := base64.RawURLEncoding.DecodeString(m[2])
	if err != nil {
		return nil, 0, errBadSkipToken()
	}
	var c store.Cursor
	if err := c.UnmarshalText(text); err != nil {
		return nil, 0, errBadSkipToken()
	}
	return &c, page, nil
}

// errBadSkipToken answers a $skiptoken that is not one of ours or does
// not fit the query [unverified message].
func errBadSkipToken() *apiError {
	return newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "The $skiptoken is not valid for this query. Use the @odata.nextLink of the previous page verbatim.")
}

// withSkipToken returns the raw query with $skiptoken set to token,
// keeping every other option as the client wrote it.
func withSkipToken(rawQuery, token string) string {
	var parts []string
	for _, part := range strings.Split(rawQuery, "&") {
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil && n == "$skiptoken" {
			continue
		}
		parts = append(parts, part)
	}
	parts = append(parts, "$skiptoken="+url.QueryEscape(token))
	return strings.Join(parts, "&")
}

// maxConditions is the most conditions a query may have.
const maxConditions = 500

// errTooManyConditions is Dataverse's refusal of a query with more than
// 500 conditions [unverified code].
func errTooManyConditions() *apiError {
	return newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "Number of conditions in query exceeded maximum limit.")
}
