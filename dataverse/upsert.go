package dataverse

import (
	"context"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/google/uuid"
)

// UpsertMode selects what an upsert may do.
type UpsertMode int

const (
	// UpsertCreateOrUpdate creates the record if it is missing and updates
	// it otherwise (PATCH without conditions).
	UpsertCreateOrUpdate UpsertMode = iota
	// UpsertCreateOnly only creates (If-None-Match: *); an existing record
	// fails with 412 CodeDuplicateRecord.
	//
	// A PATCH is retried after a 502, 503 or 504 (see the package
	// documentation). When the first try did create the record before the
	// gateway failed, the retry finds it and the call returns that 412: a
	// CodeDuplicateRecord from a call that met a transient failure may mean
	// "already created by this very call". Read the record back (Retrieve,
	// RetrieveByKey) and compare it with what you sent before treating the
	// 412 as a conflict with someone else.
	UpsertCreateOnly
	// UpsertUpdateOnly only updates (If-Match: *); a missing record fails
	// with 404 CodeObjectDoesNotExist. It is what Update does.
	UpsertUpdateOnly
)

// UpsertOptions are the options of Upsert and UpsertByKey.
type UpsertOptions struct {
	RequestOptions
	// Mode restricts the upsert to create-only or update-only.
	Mode UpsertMode
	// IfMatch requires the existing record to have this version (implies
	// update-only); a stale ETag fails with 412.
	//
	// As with UpdateOptions.IfMatch, a PATCH retried after a 502, 503 or
	// 504 whose first try was applied fails with 412
	// CodeConcurrencyVersionMismatch: the first try changed the version.
	IfMatch azcore.ETag
	// ReturnRepresentation returns the record; WriteResult.Created then
	// tells whether it was created (201) or updated (200).
	ReturnRepresentation bool
	// Select shapes the returned representation.
	Select []string
	// Annotations to include in the representation.
	Annotations []string
	// PrimaryKey names the primary key column used to find the id in a
	// representation; guessed from the entity set name by default.
	PrimaryKey string
}

// Upsert creates or updates the record with the given id (PATCH
// set(id)): the documented way to create a record with an id of your
// choosing. Without ReturnRepresentation the service does not say which
// happened.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/use-upsert-insert-update-record
func (c *Client) Upsert(ctx context.Context, entitySet string, id uuid.UUID, record any, opts *UpsertOptions) (res *WriteResult, err error) {
	ctx, end := c.startSpan(ctx, "Upsert")
	defer func() { end(err) }()
	path, err := recordPath(entitySet, id)
	if err != nil {
		return nil, err
	}
	res, err = c.upsert(ctx, path, entitySet, record, opts)
	if err != nil {
		return nil, err
	}
	if res.ID == uuid.Nil {
		res.ID = id
	}
	return res, nil
}

// UpsertByKey creates or updates the record with the given alternate key.
// When it creates, key columns missing from record are taken from key.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/use-upsert-insert-update-record
func (c *Client) UpsertByKey(ctx context.Context, entitySet string, key AlternateKey, record any, opts *UpsertOptions) (res *WriteResult, err error) {
	ctx, end := c.startSpan(ctx, "UpsertByKey")
	defer func() { end(err) }()
	path, err := keyPath(entitySet, key)
	if err != nil {
		return nil, err
	}
	return c.upsert(ctx, path, entitySet, record, opts)
}

func (c *Client) upsert(ctx context.Context, path, entitySet string, record any, opts *UpsertOptions) (*WriteResult, error) {
	if opts == nil {
		opts = &UpsertOptions{}
	}
	body, err := marshalBody(record)
	if err != nil {
		return nil, err
	}
	r := &request{method: http.MethodPatch, path: path, body: body, idempotent: true, opts: &opts.RequestOptions}
	if err := r.representation(opts.ReturnRepresentation, opts.Select, nil, opts.Annotations); err != nil {
		return nil, err
	}
	if err := setUpsertConditions(r.header, opts.Mode, opts.IfMatch); err != nil {
		return nil, err
	}
	return c.write(ctx, r, opts.PrimaryKey, entitySet)
}

// setUpsertConditions writes the If-Match / If-None-Match guards.
func setUpsertConditions(h http.Header, mode UpsertMode, ifMatch azcore.ETag) error {
	switch {
	case ifMatch != "" && mode == UpsertCreateOnly:
		return invalidf("dataverse: an upsert cannot be create-only and require version %s", ifMatch)
	case ifMatch != "":
		h.Set("If-Match", string(ifMatch))
	case mode == UpsertCreateOnly:
		h.Set("If-None-Match", "*")
	case mode == UpsertUpdateOnly:
		h.Set("If-Match", "*")
	case mode != UpsertCreateOrUpdate:
		return invalidf("dataverse: unknown UpsertMode %d", mode)
	}
	return nil
}
