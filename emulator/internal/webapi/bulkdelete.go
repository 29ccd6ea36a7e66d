package webapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// BulkDelete is an unbound action that submits an asynchronous job deleting the rows its
// queries match: POST BulkDelete {"QuerySet":[QueryExpression…],"JobName":…,…} answers
// {"JobId":…} at once, and the job's system job row (asyncoperations(<JobId>)) goes from
// Waiting For Resources through In Progress to Succeeded or Failed while the rows are deleted in
// the background.
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/bulkdelete
// https://learn.microsoft.com/power-apps/developer/data-platform/delete-data-bulk
const actionBulkDelete = "BulkDelete"

// The system job's states and statuses (asyncoperation statecode/statuscode) and its type.
const (
	asyncStateReady     = 0
	asyncStateLocked    = 2
	asyncStateCompleted = 3

	asyncStatusWaitingForResources = 0
	asyncStatusInProgress          = 20
	asyncStatusSucceeded           = 30
	asyncStatusFailed              = 31

	asyncOperationTypeBulkDelete = 13
)

// bulkDeleteCSDL describes the action in $metadata (the QueryExpression types are described as
// far as the emulator reads them).
const bulkDeleteCSDL = `<ComplexType Name="BulkDeleteResponse"><Property Name="JobId" Type="Edm.Guid" Nullable="false"/></ComplexType>
<ComplexType Name="QueryExpression"><Property Name="EntityName" Type="Edm.String" Unicode="false"/><Property Name="Criteria" Type="mscrm.FilterExpression"/></ComplexType>
<ComplexType Name="FilterExpression"><Property Name="FilterOperator" Type="Edm.String" Unicode="false"/><Property Name="Conditions" Type="Collection(mscrm.ConditionExpression)"/><Property Name="Filters" Type="Collection(mscrm.FilterExpression)"/></ComplexType>
<ComplexType Name="ConditionExpression"><Property Name="AttributeName" Type="Edm.String" Unicode="false"/><Property Name="Operator" Type="Edm.String" Unicode="false"/><Property Name="Values" Type="Collection(Edm.Untyped)"/></ComplexType>
<Action Name="BulkDelete"><Parameter Name="QuerySet" Type="Collection(mscrm.QueryExpression)" Nullable="false"/><Parameter Name="JobName" Type="Edm.String" Nullable="false" Unicode="false"/><Parameter Name="SendEmailNotification" Type="Edm.Boolean" Nullable="false"/><Parameter Name="ToRecipients" Type="Collection(Edm.Guid)" Nullable="false"/><Parameter Name="CCRecipients" Type="Collection(Edm.Guid)" Nullable="false"/><Parameter Name="RecurrencePattern" Type="Edm.String" Nullable="false" Unicode="false"/><Parameter Name="StartDateTime" Type="Edm.DateTimeOffset" Nullable="false"/><Parameter Name="SourceImportId" Type="Edm.Guid"/><Parameter Name="RunNow" Type="Edm.Boolean"/><ReturnType Type="mscrm.BulkDeleteResponse" Nullable="false"/></Action>
`

// bulkDeleteImportCSDL is the action's import in the entity container.
const bulkDeleteImportCSDL = `<ActionImport Name="BulkDelete" Action="Microsoft.Dynamics.CRM.BulkDelete"/>
`

// bulkDeleteRequest is the action's body.
type bulkDeleteRequest struct {
	QuerySet              []json.RawMessage `json:"QuerySet"`
	JobName               *string           `json:"JobName"`
	SendEmailNotification *bool             `json:"SendEmailNotification"`
	ToRecipients          []json.RawMessage `json:"ToRecipients"`
	CCRecipients          []json.RawMessage `json:"CCRecipients"`
	RecurrencePattern     *string           `json:"RecurrencePattern"`
	StartDateTime         *string           `json:"StartDateTime"`
	SourceImportID        *string           `json:"SourceImportId"`
	RunNow                *bool             `json:"RunNow"`
}

// deleteQuery is one bound query of the QuerySet: a table and the rows to delete.
type deleteQuery struct {
	table *schema.Table
	where store.Cond
}

// bulkDelete answers POST BulkDelete.
func (req *request) bulkDelete() error {
	if req.r.Method != http.MethodPost {
		return errNoHTTPResource(req.requestURL())
	}
	jobs, ok := req.h.schema.Table("asyncoperation")
	if !ok {
		return errNotImplemented("BulkDelete without the asyncoperation table")
	}
	body, err := req.readBody(jobs)
	if err != nil {
		return err
	}
	in, err := decodeBulkDelete(body)
	if err != nil {
		return err
	}
	queries := make([]deleteQuery, 0, len(in.QuerySet))
	for i, raw := range in.QuerySet {
		q, err := req.bindQueryExpression(raw, i)
		if err != nil {
			return err
		}
		queries = append(queries, q)
	}
	col := func(name string) *schema.Column { c, _ := jobs.Column(name); return c }
	fields := []store.Field{
		{Column: col("name"), Value: *in.JobName},
		{Column: col("operationtype"), Value: int64(asyncOperationTypeBulkDelete)},
		{Column: col("messagename"), Value: actionBulkDelete},
		{Column: col("statecode"), Value: int64(asyncStateReady)},
		{Column: col("statuscode"), Value: int64(asyncStatusWaitingForResources)},
	}
	var jobID uuid.UUID
	if err := req.write(func(tx *store.Tx) error {
		w, err := tx.Create(req.ctx, req.p, jobs, fields)
		jobID = w.ID
		return err
	}); err != nil {
		return err
	}
	req.h.jobs.start(func(ctx context.Context) { req.h.runBulkDelete(ctx, req.p, jobs, jobID, queries) })
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Microsoft.Dynamics.CRM.BulkDeleteResponse")
	jw.raw(`,"JobId":`)
	jw.guid(jobID)
	jw.byte('}')
	return req.endJSON(jw)
}

// bulkDeleteMaxStartDelay is how far in the future StartDateTime may be for the job to run now:
// clients set it to "now" by their own clock.
const bulkDeleteMaxStartDelay = time.Minute

// decodeBulkDelete reads the parameters, refusing unknown ones and those the emulator does not
// implement (recurrence, a later start, e-mail, an import's rows) with 400 or 501.
func decodeBulkDelete(body []byte) (*bulkDeleteRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var in bulkDeleteRequest
	if err := dec.Decode(&in); err != nil {
		return nil, newError(http.StatusBadRequest, dverr.CodePayload,
			"The BulkDelete parameters could not be read: %v. Send QuerySet, JobName, SendEmailNotification, ToRecipients, CCRecipients, RecurrencePattern and StartDateTime.", err)
	}
	switch {
	case len(in.QuerySet) == 0:
		return nil, newError(http.StatusBadRequest, dverr.CodePayload, "BulkDelete needs QuerySet: at least one QueryExpression naming the rows to delete.")
	case in.JobName == nil || strings.TrimSpace(*in.JobName) == "":
		return nil, newError(http.StatusBadRequest, dverr.CodePayload, "BulkDelete needs JobName, the name of the system job.")
	case in.RecurrencePattern != nil && *in.RecurrencePattern != "":
		return nil, errNotImplemented("recurring BulkDelete jobs (RecurrencePattern '" + *in.RecurrencePattern + "'); send an empty RecurrencePattern to run the job once")
	case in.SendEmailNotification != nil && *in.SendEmailNotification:
		return nil, errNotImplemented("e-mail notifications of BulkDelete jobs; send SendEmailNotification false")
	case in.SourceImportID != nil && *in.SourceImportID != "" && *in.SourceImportID != uuid.Nil.String():
		return nil, errNotImplemented("BulkDelete of an import's rows (SourceImportId)")
	}
	if in.StartDateTime != nil && *in.StartDateTime != "" {
		start, err := time.Parse(time.RFC3339, *in.StartDateTime)
		if err != nil {
			return nil, newError(http.StatusBadRequest, dverr.CodePayload, "StartDateTime '%s' is not a date and time such as 2024-05-01T09:00:00Z.", *in.StartDateTime)
		}
		if time.Until(start) > bulkDeleteMaxStartDelay {
			return nil, errNotImplemented("BulkDelete jobs that start later (StartDateTime " + *in.StartDateTime + "); send the current time")
		}
	}
	return &in, nil
}

// bindQueryExpression reads QuerySet[i], a QueryExpression, and binds its criteria to the table:
// EntityName and Criteria (FilterExpression: FilterOperator And/Or, Conditions, nested Filters).
// ColumnSet, Orders, PageInfo, TopCount, Distinct and NoLock do not change what is deleted and
// are ignored; LinkEntities are refused with 501.
func (req *request) bindQueryExpression(raw json.RawMessage, i int) (deleteQuery, error) {
	where := fmt.Sprintf("QuerySet[%d]", i)
	var qe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &qe); err != nil {
		return deleteQuery{}, newError(http.StatusBadRequest, dverr.CodePayload, "%s is not a QueryExpression object: %v", where, err)
	}
	var entity string
	if err := json.Unmarshal(qe["EntityName"], &entity); err != nil || entity == "" {
		return deleteQuery{}, newError(http.StatusBadRequest, dverr.CodePayload, "%s needs EntityName, the logical name of the table whose rows to delete.", where)
	}
	t, ok := req.h.schema.Table(entity)
	if !ok {
		return deleteQuery{}, newError(http.StatusBadRequest, dverr.CodeObjectDoesNotExist, "%s: the entity '%s' does not exist.", where, entity)
	}
	for name, v := range qe {
		switch name {
		case "EntityName", "Criteria", "ColumnSet", "Orders", "PageInfo", "TopCount", "Distinct", "NoLock", "QueryHints":
		case "LinkEntities":
			if !isEmptyJSONArray(v) {
				return deleteQuery{}, errNotImplemented(where + ".LinkEntities in BulkDelete; filter on the table's own columns")
			}
		default:
			if !strings.HasPrefix(name, "@") {
				return deleteQuery{}, newError(http.StatusBadRequest, dverr.CodePayload, "%s: '%s' is not a property of QueryExpression.", where, name)
			}
		}
	}
	q := deleteQuery{table: t}
	if crit, ok := qe["Criteria"]; ok && !isJSONNull(crit) {
		text, err := filterExpressionText(t, crit, where+".Criteria")
		if err != nil {
			return deleteQuery{}, err
		}
		if text != "" {
			expr, err := odata.ParseFilter(text)
			if err != nil {
				return deleteQuery{}, err
			}
			b := &binder{req: req, table: t}
			if q.where, err = b.bindFilter(expr); err != nil {
				return deleteQuery{}, err
			}
		}
	}
	return q, nil
}

func isJSONNull(v json.RawMessage) bool {
	return len(bytes.TrimSpace(v)) == 0 || string(bytes.TrimSpace(v)) == "null"
}

func isEmptyJSONArray(v json.RawMessage) bool {
	var a []json.RawMessage
	return isJSONNull(v) || (json.Unmarshal(v, &a) == nil && len(a) == 0)
}

// filterExpression and conditionExpression are the Web API's FilterExpression and
// ConditionExpression complex types.
type filterExpression struct {
	FilterOperator    json.RawMessage       `json:"FilterOperator"`
	Conditions        []conditionExpression `json:"Conditions"`
	Filters           []json.RawMessage     `json:"Filters"`
	IsQuickFindFilter bool                  `json:"IsQuickFindFilter"`
}

type conditionExpression struct {
	AttributeName  string            `json:"AttributeName"`
	EntityName     string            `json:"EntityName"`
	Operator       json.RawMessage   `json:"Operator"`
	Values         []json.RawMessage `json:"Values"`
	CompareColumns bool              `json:"CompareColumns"`
}

// maxFilterDepth bounds nested Filters.
const maxFilterDepth = 32

// filterExpressionText turns a FilterExpression into $filter text ("" for no condition), so the
// one binder of the Web API checks columns and types.
func filterExpressionText(t *schema.Table, raw json.RawMessage, where string) (string, error) {
	return filterText(t, raw, where, 0)
}

func filterText(t *schema.Table, raw json.RawMessage, where string, depth int) (string, error) {
	if depth > maxFilterDepth {
		return "", newError(http.StatusBadRequest, dverr.CodePayload, "%s: filters are nested more than %d deep.", where, maxFilterDepth)
	}
	var f filterExpression
	if err := json.Unmarshal(raw, &f); err != nil {
		return "", newError(http.StatusBadRequest, dverr.CodePayload, "%s is not a FilterExpression: %v", where, err)
	}
	join := " and "
	switch op := enumName(f.FilterOperator); op {
	case "", "And", "0":
	case "Or", "1":
		join = " or "
	default:
		return "", newError(http.StatusBadRequest, dverr.CodePayload, "%s.FilterOperator '%s' is not And or Or.", where, op)
	}
	var parts []string
	for i, c := range f.Conditions {
		text, err := conditionText(t, c, fmt.Sprintf("%s.Conditions[%d]", where, i))
		if err != nil {
			return "", err
		}
		parts = append(parts, text)
	}
	for i, sub := range f.Filters {
		text, err := filterText(t, sub, fmt.Sprintf("%s.Filters[%d]", where, i), depth+1)
		if err != nil {
			return "", err
		}
		if text != "" {
			parts = append(parts, text)
		}
	}
	switch len(parts) {
	case 0:
		return "", nil
	case 1:
		return parts[0], nil
	}
	return "(" + strings.Join(parts, join) + ")", nil
}

// enumName reads an enum member sent as its name ("Equal") or its value (0).
func enumName(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return strings.TrimSpace(string(raw))
}

// conditionOperators maps the ConditionOperator members the emulator implements (by name and
// value) to $filter comparison operators.
var conditionOperators = map[string]string{
	"Equal": "eq", "0": "eq", "NotEqual": "ne", "1": "ne",
	"GreaterThan": "gt", "2": "gt", "LessThan": "lt", "3": "lt",
	"GreaterEqual": "ge", "4": "ge", "LessEqual": "le", "5": "le",
}

func conditionText(t *schema.Table, c conditionExpression, where string) (string, error) {
	if c.EntityName != "" && c.EntityName != t.LogicalName {
		return "", errNotImplemented(where + ".EntityName (conditions on linked tables) in BulkDelete")
	}
	if c.CompareColumns {
		return "", errNotImplemented(where + ".CompareColumns in BulkDelete")
	}
	col, ok := t.Column(c.AttributeName)
	if !ok || col.Internal {
		return "", newError(http.StatusBadRequest, dverr.CodeODataError, "%s: '%s' is not a column of the table '%s'.", where, c.AttributeName, t.LogicalName)
	}
	property := col.LogicalName
	if col.IsLookup() {
		property = "_" + col.LogicalName + "_value"
	}
	op := enumName(c.Operator)
	values := make([]string, len(c.Values))
	for i, v := range c.Values {
		lit, err := conditionLiteral(col, v)
		if err != nil {
			return "", newError(http.StatusBadRequest, dverr.CodePayload, "%s.Values[%d]: %v", where, i, err)
		}
		values[i] = lit
	}
	need := func(n int) error {
		if len(values) != n {
			return newError(http.StatusBadRequest, dverr.CodePayload, "%s: the operator %s takes %d value(s), not %d.", where, op, n, len(values))
		}
		return nil
	}
	if cmp, ok := conditionOperators[op]; ok {
		if err := need(1); err != nil {
			return "", err
		}
		return property + " " + cmp + " " + values[0], nil
	}
	switch op {
	case "Null", "12":
		return property + " eq null", need(0)
	case "NotNull", "13":
		return property + " ne null", need(0)
	case "In", "8", "NotIn", "9":
		if len(values) == 0 {
			return "", newError(http.StatusBadRequest, dverr.CodePayload, "%s: the operator %s needs at least one value.", where, op)
		}
		ors := make([]string, len(values))
		for i, v := range values {
			ors[i] = property + " eq " + v
		}
		text := "(" + strings.Join(ors, " or ") + ")"
		if op == "NotIn" || op == "9" {
			text = "not " + text
		}
		return text, nil
	case "BeginsWith", "54", "EndsWith", "56", "Like", "6", "Contains", "49":
		if !col.Type.IsText() {
			return "", newError(http.StatusBadRequest, dverr.CodePayload, "%s: the operator %s applies to text columns, not '%s'.", where, op, col.LogicalName)
		}
		if err := need(1); err != nil {
			return "", err
		}
		fn := map[string]string{"BeginsWith": "startswith", "54": "startswith", "EndsWith": "endswith", "56": "endswith"}[op]
		lit := values[0]
		if fn == "" {
			// Like: the pattern's own % wildcards; contains() honours them as Dataverse does.
			fn = "contains"
			lit = "'" + strings.Trim(strings.TrimSuffix(strings.TrimPrefix(lit, "'"), "'"), "%") + "'"
		}
		return fn + "(" + property + "," + lit + ")", nil
	}
	return "", errNotImplemented(fmt.Sprintf("the condition operator %s in BulkDelete (%s); use Equal, NotEqual, GreaterThan, GreaterEqual, LessThan, LessEqual, Null, NotNull, In, NotIn, BeginsWith, EndsWith or Like", op, where))
}

// conditionLiteral writes one value of a condition as a $filter literal of the column's type. A
// value is a bare JSON value or an Object {"Value":…,"Type":"System.String"} as the Web API's
// Collection(Object) carries it.
func conditionLiteral(col *schema.Column, raw json.RawMessage) (string, error) {
	var wrapped struct {
		Value json.RawMessage `json:"Value"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		if err := json.Unmarshal(raw, &wrapped); err != nil || wrapped.Value == nil {
			return "", fmt.Errorf("a value object needs a Value")
		}
		raw = wrapped.Value
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("not a JSON value")
	}
	switch x := v.(type) {
	case string:
		switch {
		case col.Type.IsText():
			return "'" + strings.ReplaceAll(x, "'", "''") + "'", nil
		case col.IsLookup() || col.Type == schema.TypeUniqueidentifier:
			id, err := uuid.Parse(x)
			if err != nil {
				return "", fmt.Errorf("'%s' is not a GUID", x)
			}
			return id.String(), nil
		case col.Type == schema.TypeDateTime:
			if _, err := time.Parse(time.RFC3339, x); err != nil {
				if _, err := time.Parse("2006-01-02", x); err != nil {
					return "", fmt.Errorf("'%s' is not a date", x)
				}
			}
			return x, nil
		}
		// A number or boolean sent as text ("1", "true").
		if jsonNumber.MatchString(x) {
			return x, nil
		}
		if b, err := strconv.ParseBool(x); err == nil && col.Type == schema.TypeBoolean {
			return strconv.FormatBool(b), nil
		}
		return "", fmt.Errorf("'%s' does not fit the %s column '%s'", x, col.Type, col.LogicalName)
	case json.Number:
		if col.Type == schema.TypeBoolean {
			return strconv.FormatBool(x.String() != "0"), nil
		}
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case nil:
		return "null", nil
	}
	return "", fmt.Errorf("a %T is not a condition value", v)
}

// jsonNumber is the shape of a JSON number, the only text taken as a number literal.
var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// bulkDeletePage is how many rows the job reads at a time.
const bulkDeletePage = 100

// runBulkDelete is the job: In Progress, then each query's rows deleted a page per transaction
// (each row with its cascades, as a DELETE would; a page with a row that cannot go is deleted
// again row by row), then Succeeded, or Failed with the count of rows it could not delete and
// the first reason.
func (h *Handler) runBulkDelete(ctx context.Context, p *store.Principal, jobs *schema.Table, jobID uuid.UUID, queries []deleteQuery) {
	col := func(name string) *schema.Column { c, _ := jobs.Column(name); return c }
	now := func() time.Time { return time.Now().UTC().Truncate(time.Second) }
	set := func(fields ...store.Field) {
		if _, err := h.store.Update(ctx, p, jobs, jobID, fields, store.Match{}); err != nil && ctx.Err() == nil {
			h.log.Error("webapi: BulkDelete job status", "job", jobID, "err", err)
		}
	}
	set(store.Field{Column: col("statecode"), Value: int64(asyncStateLocked)},
		store.Field{Column: col("statuscode"), Value: int64(asyncStatusInProgress)},
		store.Field{Column: col("startedon"), Value: now()})
	deleted, failed := 0, 0
	firstFailure := ""
	for _, q := range queries {
		var after *store.Cursor
		for ctx.Err() == nil {
			page, err := h.store.Query(ctx, p, store.Query{Table: q.table, Columns: []*schema.Column{q.table.PrimaryID()}, Where: q.where, After: after, Limit: bulkDeletePage})
			if err != nil {
				failed++
				if firstFailure == "" {
					firstFailure = err.Error()
				}
				break
			}
			// A page in one transaction; when a row of it cannot go, the page again row by row,
			// so the others still go and each failure is counted.
			err = h.store.Write(ctx, func(tx *store.Tx) error {
				for _, row := range page.Rows {
					if err := tx.Delete(ctx, p, q.table, row.ID, store.Match{}); err != nil {
						return err
					}
				}
				return nil
			})
			if err == nil {
				deleted += len(page.Rows)
			} else {
				for _, row := range page.Rows {
					if ctx.Err() != nil {
						break
					}
					if err := h.store.Delete(ctx, p, q.table, row.ID, store.Match{}); err != nil {
						failed++
						if firstFailure == "" {
							firstFailure = fmt.Sprintf("%s(%s): %v", q.table.EntitySetName, row.ID, err)
						}
						continue
					}
					deleted++
				}
			}
			if !page.More {
				break
			}
			after = page.Cursor()
		}
	}
	if ctx.Err() != nil {
		return // the emulator is closing
	}
	status := int64(asyncStatusSucceeded)
	message := fmt.Sprintf("Deleted %d row(s).", deleted)
	if failed > 0 {
		status = asyncStatusFailed
		message = fmt.Sprintf("Deleted %d row(s); %d could not be deleted. First failure: %s", deleted, failed, firstFailure)
	}
	set(store.Field{Column: col("statecode"), Value: int64(asyncStateCompleted)},
		store.Field{Column: col("statuscode"), Value: status},
		store.Field{Column: col("message"), Value: message},
		store.Field{Column: col("friendlymessage"), Value: message},
		store.Field{Column: col("completedon"), Value: now()})
}

// backgroundJobs runs the Handler's asynchronous jobs and lets Close wait for them.
type backgroundJobs struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (b *backgroundJobs) init() {
	b.once.Do(func() { b.ctx, b.cancel = context.WithCancel(context.Background()) })
}

// start runs job in the background.
func (b *backgroundJobs) start(job func(ctx context.Context)) {
	b.init()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		job(b.ctx)
	}()
}

// Close stops the jobs still running (a job stops between two rows) and waits for them. Call it
// before closing the store.
func (h *Handler) Close() {
	h.jobs.init()
	h.jobs.cancel()
	h.jobs.wg.Wait()
}
