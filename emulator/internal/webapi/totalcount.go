package webapi

import (
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// retrieveTotalRecordCount answers the RetrieveTotalRecordCount function:
// GET RetrieveTotalRecordCount(EntityNames=@p1)?@p1=["account","contact"]
// returns the number of rows of each table, uncapped:
//
//	{"@odata.context":"…#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse",
//	 "EntityRecordCountCollection":{"Count":2,"IsReadOnly":false,"Keys":["account","contact"],"Values":[7,0]}}
//
// Dataverse answers from a snapshot refreshed about every 24 hours; the
// emulator counts the rows the caller may read now.
func (req *request) retrieveTotalRecordCount(params string, hasParams bool) error {
	if req.r.Method != http.MethodGet {
		return errNoHTTPResource(req.requestURL())
	}
	name, value, _ := strings.Cut(params, "=")
	if !hasParams || strings.TrimSpace(name) != "EntityNames" {
		return newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "The function RetrieveTotalRecordCount takes one parameter, EntityNames: RetrieveTotalRecordCount(EntityNames=@p1)?@p1=[\"account\"].")
	}
	value = strings.TrimSpace(value)
	if strings.HasPrefix(value, "@") {
		values, err := parseRawQuery(req.r.URL.RawQuery)
		if err != nil {
			return err
		}
		value = values.Get(value)
	}
	expr, err := odata.ParseAliasValue(value)
	if err != nil {
		return err
	}
	arr, ok := expr.(*odata.ArrayLiteral)
	if !ok || len(arr.Items) == 0 {
		return newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "The EntityNames parameter of RetrieveTotalRecordCount must be a JSON array of table logical names, such as [\"account\",\"contact\"].")
	}
	var names []string
	var counts []int64
	for _, it := range arr.Items {
		s, ok := it.(*odata.StringLiteral)
		if !ok {
			return newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "The EntityNames parameter of RetrieveTotalRecordCount must hold table logical names as strings.")
		}
		t, ok := req.h.schema.Table(s.Value)
		if !ok {
			// [unverified code]
			return newError(http.StatusBadRequest, dverr.CodeFetchNoEntity, "The entity with a name = '%s' with namemapping = 'Logical' was not found in the MetadataCache.", s.Value)
		}
		n, err := req.data().CountRows(req.ctx, req.p, store.Query{Table: t}, 0)
		if err != nil {
			return err
		}
		names, counts = append(names, t.LogicalName), append(counts, int64(n))
	}
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse")
	jw.raw(`,"EntityRecordCountCollection":{"Count":`)
	jw.int(int64(len(names)))
	jw.raw(`,"IsReadOnly":false,"Keys":[`)
	for i, n := range names {
		if i > 0 {
			jw.byte(',')
		}
		jw.str(n)
	}
	jw.raw(`],"Values":[`)
	for i, n := range counts {
		if i > 0 {
			jw.byte(',')
		}
		jw.int(n)
	}
	jw.raw("]}}")
	return req.endJSON(jw)
}
