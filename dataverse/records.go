package dataverse

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/google/uuid"
)

// ErrNotModified is returned by Retrieve when RetrieveOptions.IfNoneMatch
// names the record's current version (304 Not Modified); out is untouched.
var ErrNotModified = errors.New("dataverse: not modified")

// WriteResult describes the outcome of a create, update or upsert.
type WriteResult struct {
	// ID is the record's id: from the OData-EntityId header, or from the
	// returned representation. It is uuid.Nil when neither names it (an
	// upsert addressed by alternate key without representation).
	ID uuid.UUID
	// EntityID is the record's URL from the OData-EntityId header, if sent.
	EntityID string
	// Created is true when the write created the record: always for
	// Create; for Upsert only known with ReturnRepresentation (201 vs 200).
	Created bool
	// ETag is the new version, from the ETag header of a representation.
	ETag azcore.ETag
	// Record is the returned representation (ReturnRepresentation), or nil.
	Record Record
}

// CreateOptions are the options of Client.Create.
type CreateOptions struct {
	RequestOptions
	// ReturnRepresentation asks for the created record in the response
	// (Prefer: return=representation; 201 instead of 204).
	ReturnRepresentation bool
	// Select and Expand shape the returned representation.
	Select []string
	Expand []Expand
	// Annotations to include in the representation.
	Annotations []string
	// PrimaryKey names the primary key column used to find the id in a
	// representation ("contactid"). By default it is guessed from the
	// entity set name (contacts → contactid, opportunities → opportunityid).
	PrimaryKey string
}

// Create creates a record in entitySet ("contacts") from record (a struct,
// map or Record, encoded as JSON; bind lookups with "nav@odata.bind") and
// returns its id.
//
// A create is a POST and is never retried after a 5xx or a connection
// error, because it may have been executed; it is retried after 429.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-entity-web-api
func (c *Client) Create(ctx context.Context, entitySet string, record any, opts *CreateOptions) (res *WriteResult, err error) {
	ctx, end := c.startSpan(ctx, "Create")
	defer func() { end(err) }()
	if opts == nil {
		opts = &CreateOptions{}
	}
	path, err := entitySetPath(entitySet)
	if err != nil {
		return nil, err
	}
	body, err := marshalBody(record)
	if err != nil {
		return nil, err
	}
	r := &request{method: http.MethodPost, path: path, body: body, opts: &opts.RequestOptions}
	if err := r.representation(opts.ReturnRepresentation, opts.Select, opts.Expand, opts.Annotations); err != nil {
		return nil, err
	}
	res, err = c.write(ctx, r, opts.PrimaryKey, entitySet)
	if err != nil {
		return nil, err
	}
	res.Created = true
	return res, nil
}

// RetrieveOptions are the options of Client.Retrieve.
type RetrieveOptions struct {
	RequestOptions
	// Select lists the columns to return; all columns when empty (slow).
	Select []string
	// Expand joins related rows.
	Expand []Expand
	// Annotations to include, e.g. AnnotationFormattedValue.
	Annotations []string
	// IfNoneMatch makes the retrieve conditional: when the record's
	// version still equals this ETag, Retrieve returns ErrNotModified.
	IfNoneMatch azcore.ETag
}

// Retrieve reads the record with the given id from entitySet into out (a
// pointer to a struct, a map or a Record). A missing record is a 404
// *ResponseError with CodeObjectDoesNotExist (see IsNotFound).
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-entity-using-web-api
func (c *Client) Retrieve(ctx context.Context, entitySet string, id uuid.UUID, out any, opts *RetrieveOptions) (err error) {
	ctx, end := c.startSpan(ctx, "Retrieve")
	defer func() { end(err) }()
	path, err := recordPath(entitySet, id)
	if err != nil {
		return err
	}
	return c.retrieve(ctx, path, out, opts)
}

func (c *Client) retrieve(ctx context.Context, path string, out any, opts *RetrieveOptions) error {
	if opts == nil {
		opts = &RetrieveOptions{}
	}
	if out == nil {
		return invalidf("dataverse: Retrieve: out is nil; pass a pointer to a struct, map or Record")
	}
	q := Query{Select: opts.Select, Expand: opts.Expand, Annotations: opts.Annotations}
	query, err := q.encode()
	if err != nil {
		return err
	}
	r := &request{method: http.MethodGet, path: path, query: query, idempotent: true, opts: &opts.RequestOptions}
	if p, err := includeAnnotations(opts.Annotations); err != nil {
		return err
	} else if p != "" {
		r.setHeader("Prefer", p)
	}
	if opts.IfNoneMatch != "" {
		r.setHeader("If-None-Match", string(opts.IfNoneMatch))
		r.allow304 = true
	}
	resp, err := c.sendJSON(ctx, r, out)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotModified {
		return ErrNotModified
	}
	return nil
}

// UpdateOptions are the options of Client.Update.
type UpdateOptions struct {
	RequestOptions
	// IfMatch is the record version the update requires. Empty means "*":
	// the record must exist, so an update never creates one (use Upsert
	// for that). Set it to a Record.ETag for optimistic concurrency: a
	// stale version fails with 412 CodeConcurrencyVersionMismatch (see
	// IsPreconditionFailed).
	//
	// A PATCH is retried after a 502, 503 or 504. When the first try was
	// applied before the gateway failed, it gave the record a new version,
	// so the retry with this ETag fails with 412
	// CodeConcurrencyVersionMismatch although nobody else wrote: after a
	// 412 from a call that met a transient failure, read the record again
	// and check whether it already holds your change before reapplying it.
	// (With the default "*" the retry simply applies the same values again.)
	IfMatch azcore.ETag
	// ReturnRepresentation asks for the updated record (200 instead of 204).
	ReturnRepresentation bool
	// Select shapes the returned representation.
	Select []string
	// Annotations to include in the representation.
	Annotations []string
}

// Update changes the given columns of an existing record (PATCH with
// If-Match). A missing record is a 404 *ResponseError.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api#basic-update
func (c *Client) Update(ctx context.Context, entitySet string, id uuid.UUID, record any, opts *UpdateOptions) (res *WriteResult, err error) {
	ctx, end := c.startSpan(ctx, "Update")
	defer func() { end(err) }()
	path, err := recordPath(entitySet, id)
	if err != nil {
		return nil, err
	}
	res, err = c.update(ctx, path, entitySet, record, opts)
	if err != nil {
		return nil, err
	}
	if res.ID == uuid.Nil {
		res.ID = id
	}
	return res, nil
}

// update sends the PATCH of Update and UpdateByKey. entitySet lets write find
// the id in a representation, which carries no OData-EntityId header.
func (c *Client) update(ctx context.Context, path, entitySet string, record any, opts *UpdateOptions) (*WriteResult, error) {
	if opts == nil {
		opts = &UpdateOptions{}
	}
	body, err := marshalBody(record)
	if err != nil {
		return nil, err
	}
	ifMatch := opts.IfMatch
	if ifMatch == "" {
		ifMatch = azcore.ETagAny
	}
	r := &request{method: http.MethodPatch, path: path, body: body, idempotent: true, opts: &opts.RequestOptions}
	if err := r.representation(opts.ReturnRepresentation, opts.Select, nil, opts.Annotations); err != nil {
		return nil, err
	}
	r.header.Set("If-Match", string(ifMatch))
	return c.write(ctx, r, "", entitySet)
}

// DeleteOptions are the options of Client.Delete.
type DeleteOptions struct {
	RequestOptions
	// IfMatch makes the delete conditional on the record's version; a stale
	// ETag fails with 412 CodeConcurrencyVersionMismatch.
	IfMatch azcore.ETag
}

// Delete deletes the record with the given id. A missing record is a 404
// *ResponseError.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api#basic-delete
func (c *Client) Delete(ctx context.Context, entitySet string, id uuid.UUID, opts *DeleteOptions) (err error) {
	ctx, end := c.startSpan(ctx, "Delete")
	defer func() { end(err) }()
	path, err := recordPath(entitySet, id)
	if err != nil {
		return err
	}
	return c.delete(ctx, path, opts)
}

func (c *Client) delete(ctx context.Context, path string, opts *DeleteOptions) error {
	if opts == nil {
		opts = &DeleteOptions{}
	}
	r := &request{method: http.MethodDelete, path: path, idempotent: true, opts: &opts.RequestOptions}
	if opts.IfMatch != "" {
		r.setHeader("If-Match", string(opts.IfMatch))
	}
	_, err := c.sendJSON(ctx, r, nil)
	return err
}

// representation sets the Prefer header and query of a write that may
// return the record.
func (r *request) representation(want bool, sel []string, expand []Expand, annotations []string) error {
	if r.header == nil {
		r.header = http.Header{}
	}
	if !want {
		if len(sel) > 0 || len(expand) > 0 {
			return invalidf("dataverse: Select and Expand need ReturnRepresentation")
		}
		return nil
	}
	q := Query{Select: sel, Expand: expand}
	query, err := q.encode()
	if err != nil {
		return err
	}
	r.query = query
	prefs := []string{"return=representation"}
	if p, err := includeAnnotations(annotations); err != nil {
		return err
	} else if p != "" {
		prefs = append(prefs, p)
	}
	r.header.Set("Prefer", strings.Join(prefs, ","))
	return nil
}

// write sends a create, update or upsert and reads the result.
func (c *Client) write(ctx context.Context, r *request, primaryKey, entitySet string) (*WriteResult, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp)
	res := &WriteResult{
		EntityID: resp.Header.Get("OData-EntityId"),
		ETag:     azcore.ETag(resp.Header.Get("ETag")),
		Created:  resp.StatusCode == http.StatusCreated,
	}
	res.ID = idFromEntityURL(res.EntityID)
	if resp.StatusCode == http.StatusNoContent || resp.ContentLength == 0 {
		return res, nil
	}
	var rec Record
	if err := decodeBody(resp, &rec); err != nil {
		return nil, err
	}
	res.Record = rec
	if res.ETag == "" {
		res.ETag = rec.ETag()
	}
	if res.ID == uuid.Nil {
		res.ID = idFromRecord(rec, primaryKey, entitySet)
	}
	return res, nil
}

// idFromEntityURL extracts the GUID of ".../contacts(<guid>)". It returns
// uuid.Nil when the URL addresses the record by alternate key.
func idFromEntityURL(u string) uuid.UUID {
	open := strings.LastIndexByte(u, '(')
	if open < 0 || !strings.HasSuffix(u, ")") {
		return uuid.Nil
	}
	id, err := uuid.Parse(u[open+1 : len(u)-1])
	if err != nil {
		return uuid.Nil
	}
	return id
}

// idFromRecord finds the id in a representation: "@odata.id", the given
// primary key, or the key guessed from the entity set name.
func idFromRecord(rec Record, primaryKey, entitySet string) uuid.UUID {
	if s, ok := rec["@odata.id"].(string); ok {
		if id := idFromEntityURL(s); id != uuid.Nil {
			return id
		}
	}
	if primaryKey == "" {
		primaryKey = guessPrimaryKey(entitySet)
	}
	if primaryKey == "" {
		return uuid.Nil
	}
	id, _ := rec.GUID(primaryKey)
	return id
}

// guessPrimaryKey derives "contactid" from "contacts": the logical name is
// the entity set name without its plural ending, and the primary key is
// the logical name plus "id". Custom tables with irregular plurals need
// CreateOptions.PrimaryKey.
func guessPrimaryKey(entitySet string) string {
	switch {
	case entitySet == "":
		return ""
	case strings.HasSuffix(entitySet, "ies"):
		return strings.TrimSuffix(entitySet, "ies") + "yid"
	case strings.HasSuffix(entitySet, "sses"), strings.HasSuffix(entitySet, "xes"):
		return strings.TrimSuffix(entitySet, "es") + "id"
	case strings.HasSuffix(entitySet, "s"):
		return strings.TrimSuffix(entitySet, "s") + "id"
	}
	return entitySet + "id"
}

// startSpan starts a tracing span for a client method (a no-op unless
// ClientOptions.TracingProvider is set).
func (c *Client) startSpan(ctx context.Context, method string) (context.Context, func(error)) {
	if !c.tracer.Enabled() {
		return ctx, endNoSpan // and no "Client."+method string per call
	}
	return runtime.StartSpan(ctx, "Client."+method, c.tracer, nil)
}

// endNoSpan ends the span startSpan did not start.
func endNoSpan(error) {}
