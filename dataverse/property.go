package dataverse

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/google/uuid"
)

// Single-property operations.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api#update-a-single-property-value

// propertyPath returns "set(id)/property".
func propertyPath(entitySet string, id uuid.UUID, property string) (string, error) {
	p, err := recordPath(entitySet, id)
	if err != nil {
		return "", err
	}
	if !propertyNamePattern.MatchString(property) {
		return "", invalidf("dataverse: %q is not a column name", property)
	}
	return p + "/" + property, nil
}

// GetProperty reads one column of a record (GET set(id)/property) into
// out, which receives the "value" of the response.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-entity-using-web-api#retrieve-a-single-property-value
func (c *Client) GetProperty(ctx context.Context, entitySet string, id uuid.UUID, property string, out any, opts *RequestOptions) (err error) {
	ctx, end := c.startSpan(ctx, "GetProperty")
	defer func() { end(err) }()
	if out == nil {
		return invalidf("dataverse: GetProperty: out is nil")
	}
	p, err := propertyPath(entitySet, id, property)
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	resp, err := c.sendJSON(ctx, &request{method: http.MethodGet, path: p, idempotent: true, opts: opts}, &env)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNoContent {
		// OData answers a null property with 204 No Content: decode it as null.
		env.Value = json.RawMessage("null")
	}
	if len(env.Value) == 0 {
		return fmt.Errorf("dataverse: GetProperty %s: the response has no value", p)
	}
	if err := json.Unmarshal(env.Value, out); err != nil {
		return fmt.Errorf("dataverse: GetProperty %s: decoding into %T: %w", p, out, err)
	}
	return nil
}

// SetProperty sets one column of a record (PUT set(id)/property with
// {"value": value}).
func (c *Client) SetProperty(ctx context.Context, entitySet string, id uuid.UUID, property string, value any, opts *RequestOptions) (err error) {
	ctx, end := c.startSpan(ctx, "SetProperty")
	defer func() { end(err) }()
	p, err := propertyPath(entitySet, id, property)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"value": value})
	if err != nil {
		return invalidf("dataverse: SetProperty %s: encoding the value: %w", property, err)
	}
	_, err = c.sendJSON(ctx, &request{method: http.MethodPut, path: p, body: body, idempotent: true, opts: opts}, nil)
	return err
}

// ClearProperty sets one column of a record to null (DELETE
// set(id)/property). It does not work for lookups: use ClearReference.
func (c *Client) ClearProperty(ctx context.Context, entitySet string, id uuid.UUID, property string, opts *RequestOptions) (err error) {
	ctx, end := c.startSpan(ctx, "ClearProperty")
	defer func() { end(err) }()
	p, err := propertyPath(entitySet, id, property)
	if err != nil {
		return err
	}
	_, err = c.sendJSON(ctx, &request{method: http.MethodDelete, path: p, idempotent: true, opts: opts}, nil)
	return err
}
