package dataverse

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/google/uuid"
)

// Associating records through navigation properties ($ref).
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api

// navPath returns "set(id)/nav" after checking the names.
func navPath(entitySet string, id uuid.UUID, navProperty string) (string, error) {
	p, err := recordPath(entitySet, id)
	if err != nil {
		return "", err
	}
	if !propertyNamePattern.MatchString(navProperty) {
		return "", invalidf("dataverse: %q is not a navigation property name", navProperty)
	}
	return p + "/" + navProperty, nil
}

// refBody returns {"@odata.id":"<base>/targetSet(targetID)"}.
func (c *Client) refBody(targetSet string, targetID uuid.UUID) ([]byte, error) {
	target, err := recordPath(targetSet, targetID)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]string{"@odata.id": c.base + target})
}

// Associate adds the record targetSet(targetID) to the collection-valued
// navigation property navProperty of entitySet(id), for one-to-many and
// many-to-many relationships (POST …/navProperty/$ref).
func (c *Client) Associate(ctx context.Context, entitySet string, id uuid.UUID, navProperty, targetSet string, targetID uuid.UUID, opts *RequestOptions) (err error) {
	ctx, end := c.startSpan(ctx, "Associate")
	defer func() { end(err) }()
	return c.sendRef(ctx, http.MethodPost, entitySet, id, navProperty, targetSet, targetID, opts)
}

// SetReference points the single-valued navigation property navProperty
// of entitySet(id) at targetSet(targetID) (PUT …/navProperty/$ref), the
// same as updating the lookup with "navProperty@odata.bind".
func (c *Client) SetReference(ctx context.Context, entitySet string, id uuid.UUID, navProperty, targetSet string, targetID uuid.UUID, opts *RequestOptions) (err error) {
	ctx, end := c.startSpan(ctx, "SetReference")
	defer func() { end(err) }()
	return c.sendRef(ctx, http.MethodPut, entitySet, id, navProperty, targetSet, targetID, opts)
}

func (c *Client) sendRef(ctx context.Context, method, entitySet string, id uuid.UUID, navProperty, targetSet string, targetID uuid.UUID, opts *RequestOptions) error {
	p, err := navPath(entitySet, id, navProperty)
	if err != nil {
		return err
	}
	body, err := c.refBody(targetSet, targetID)
	if err != nil {
		return err
	}
	r := &request{method: method, path: p + "/$ref", body: body, idempotent: method == http.MethodPut, opts: opts}
	_, err = c.sendJSON(ctx, r, nil)
	return err
}

// Disassociate removes targetID from the collection-valued navigation
// property navProperty of entitySet(id)
// (DELETE …/navProperty(targetID)/$ref).
func (c *Client) Disassociate(ctx context.Context, entitySet string, id uuid.UUID, navProperty string, targetID uuid.UUID, opts *RequestOptions) (err error) {
	ctx, end := c.startSpan(ctx, "Disassociate")
	defer func() { end(err) }()
	p, err := navPath(entitySet, id, navProperty)
	if err != nil {
		return err
	}
	if targetID == uuid.Nil {
		return invalidf("dataverse: Disassociate: the target id is the zero UUID; use ClearReference for a single-valued property")
	}
	r := &request{method: http.MethodDelete, path: p + "(" + targetID.String() + ")/$ref", idempotent: true, opts: opts}
	_, err = c.sendJSON(ctx, r, nil)
	return err
}

// ClearReference empties the single-valued navigation property
// navProperty of entitySet(id) (DELETE …/navProperty/$ref).
func (c *Client) ClearReference(ctx context.Context, entitySet string, id uuid.UUID, navProperty string, opts *RequestOptions) (err error) {
	ctx, end := c.startSpan(ctx, "ClearReference")
	defer func() { end(err) }()
	p, err := navPath(entitySet, id, navProperty)
	if err != nil {
		return err
	}
	r := &request{method: http.MethodDelete, path: p + "/$ref", idempotent: true, opts: opts}
	_, err = c.sendJSON(ctx, r, nil)
	return err
}
