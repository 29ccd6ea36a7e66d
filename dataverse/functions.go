package dataverse

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// WhoAmIResponse is the result of the WhoAmI function. For a
// server-to-server client UserID is the application user's systemuserid.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/whoamiresponse
type WhoAmIResponse struct {
	UserID         uuid.UUID `json:"UserId"`
	BusinessUnitID uuid.UUID `json:"BusinessUnitId"`
	OrganizationID uuid.UUID `json:"OrganizationId"`
}

// WhoAmI returns the caller's systemuser, business unit and organization.
// It is the cheapest way to check that authentication and the application
// user work.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/whoami
func (c *Client) WhoAmI(ctx context.Context) (res *WhoAmIResponse, err error) {
	ctx, end := c.startSpan(ctx, "WhoAmI")
	defer func() { end(err) }()
	res = new(WhoAmIResponse)
	r := &request{method: http.MethodGet, path: "WhoAmI", idempotent: true}
	if _, err := c.sendJSON(ctx, r, res); err != nil {
		return nil, err
	}
	return res, nil
}

// RetrieveVersion returns the version of the Dataverse server, e.g.
// "9.2.24044.196".
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrieveversion
func (c *Client) RetrieveVersion(ctx context.Context) (version string, err error) {
	ctx, end := c.startSpan(ctx, "RetrieveVersion")
	defer func() { end(err) }()
	var res struct {
		Version string `json:"Version"`
	}
	if err := c.callFunction(ctx, "RetrieveVersion", nil, &res, nil); err != nil {
		return "", err
	}
	return res.Version, nil
}

// Params are the parameters of a function: names to values. Values are
// written as OData literals (see FormatLiteral); an EntityRef passes a
// record.
type Params map[string]any

// EntityRef is a record passed as a function parameter, written as
// {'@odata.id':'contacts(<id>)'}.
type EntityRef struct {
	EntitySet string
	ID        uuid.UUID
}

// OperationOptions are the options of CallFunction and CallAction. Set
// EntitySet to bind the operation to that collection, and ID as well to
// bind it to one record; the operation name is then qualified with the
// Microsoft.Dynamics.CRM namespace unless it already has a namespace.
type OperationOptions struct {
	RequestOptions
	EntitySet string
	ID        uuid.UUID
}

var operationNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// operationPath returns the path of an unbound or bound operation.
func operationPath(name string, opts *OperationOptions) (string, error) {
	if !operationNamePattern.MatchString(name) {
		return "", invalidf("dataverse: %q is not a function or action name", name)
	}
	if opts == nil || opts.EntitySet == "" {
		if opts != nil && opts.ID != uuid.Nil {
			return "", invalidf("dataverse: %s: OperationOptions.ID needs EntitySet", name)
		}
		return name, nil
	}
	var p string
	var err error
	if opts.ID != uuid.Nil {
		p, err = recordPath(opts.EntitySet, opts.ID)
	} else {
		p, err = entitySetPath(opts.EntitySet)
	}
	if err != nil {
		return "", err
	}
	if !strings.Contains(name, ".") {
		name = "Microsoft.Dynamics.CRM." + name
	}
	return p + "/" + name, nil
}

// CallFunction calls a function (a GET without side effects), unbound
// ("RetrieveTotalRecordCount") or bound through opts
// ("RetrieveUserPrivileges" on systemusers(id)), and decodes its result
// into out (nil to ignore it). Parameters are passed as aliases:
// Fn(A=@p1,B=@p2)?@p1=…&@p2=…, in name order.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/use-web-api-functions
func (c *Client) CallFunction(ctx context.Context, name string, params Params, out any, opts *OperationOptions) (err error) {
	ctx, end := c.startSpan(ctx, "CallFunction")
	defer func() { end(err) }()
	return c.callFunction(ctx, name, params, out, opts)
}

func (c *Client) callFunction(ctx context.Context, name string, params Params, out any, opts *OperationOptions) error {
	p, err := operationPath(name, opts)
	if err != nil {
		return err
	}
	call, query, err := functionCall(params)
	if err != nil {
		return fmt.Errorf("dataverse: %s: %w", name, err)
	}
	var ro *RequestOptions
	if opts != nil {
		ro = &opts.RequestOptions
	}
	r := &request{method: http.MethodGet, path: p + call, query: query, idempotent: true, opts: ro}
	_, err = c.sendJSON(ctx, r, out)
	return err
}

// functionCall returns "(A=@p1,B=@p2)" and "@p1=…&@p2=…".
func functionCall(params Params) (call, query string, err error) {
	names := make([]string, 0, len(params))
	for n := range params {
		if !propertyNamePattern.MatchString(n) {
			return "", "", invalidf("parameter name %q is not valid", n)
		}
		names = append(names, n)
	}
	slices.Sort(names)
	var cb, qb strings.Builder
	cb.WriteByte('(')
	for i, n := range names {
		alias := "@p" + strconv.Itoa(i+1)
		lit, err := parameterLiteral(params[n])
		if err != nil {
			return "", "", fmt.Errorf("parameter %s: %w", n, err)
		}
		if i > 0 {
			cb.WriteByte(',')
			qb.WriteByte('&')
		}
		cb.WriteString(n + "=" + alias)
		qb.WriteString(alias + "=" + escapeComponent(lit))
	}
	cb.WriteByte(')')
	return cb.String(), qb.String(), nil
}

func parameterLiteral(v any) (string, error) {
	switch x := v.(type) {
	case EntityRef:
		p, err := recordPath(x.EntitySet, x.ID)
		if err != nil {
			return "", err
		}
		return "{'@odata.id':'" + p + "'}", nil
	case *EntityRef:
		if x == nil {
			return "null", nil
		}
		return parameterLiteral(*x)
	}
	return FormatLiteral(v)
}

// CallAction calls an action (a POST, which may change data), unbound
// ("WinOpportunity") or bound through opts ("AddToQueue" on queues(id)),
// with params encoded as the JSON body (nil sends {}), and decodes its
// result into out when it returns one. Actions are not retried after a
// 5xx or a connection error, since they may have run.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/use-web-api-actions
func (c *Client) CallAction(ctx context.Context, name string, params, out any, opts *OperationOptions) (err error) {
	ctx, end := c.startSpan(ctx, "CallAction")
	defer func() { end(err) }()
	p, err := operationPath(name, opts)
	if err != nil {
		return err
	}
	body := []byte("{}")
	if params != nil {
		if body, err = marshalBody(params); err != nil {
			return fmt.Errorf("dataverse: %s: %w", name, err)
		}
	}
	var ro *RequestOptions
	if opts != nil {
		ro = &opts.RequestOptions
	}
	r := &request{method: http.MethodPost, path: p, body: body, opts: ro}
	_, err = c.sendJSON(ctx, r, out)
	return err
}

// RetrieveTotalRecordCount returns the number of rows of each table
// (logical names such as "account"), from a snapshot refreshed about
// every 24 hours. Unlike $count it is not capped at 5,000.
//
// The response shape (EntityRecordCountCollection with parallel Keys and
// Values) follows Microsoft's reference [unverified against a live
// environment].
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrievetotalrecordcount
func (c *Client) RetrieveTotalRecordCount(ctx context.Context, logicalNames ...string) (counts map[string]int64, err error) {
	ctx, end := c.startSpan(ctx, "RetrieveTotalRecordCount")
	defer func() { end(err) }()
	if len(logicalNames) == 0 {
		return nil, invalidf("dataverse: RetrieveTotalRecordCount: no table names")
	}
	var res struct {
		Collection struct {
			Keys   []string          `json:"Keys"`
			Values []json.RawMessage `json:"Values"`
		} `json:"EntityRecordCountCollection"`
	}
	if err := c.callFunction(ctx, "RetrieveTotalRecordCount", Params{"EntityNames": logicalNames}, &res, nil); err != nil {
		return nil, err
	}
	keys, values := res.Collection.Keys, res.Collection.Values
	if len(keys) != len(values) {
		return nil, fmt.Errorf("dataverse: RetrieveTotalRecordCount: %d names but %d counts in the response", len(keys), len(values))
	}
	counts = make(map[string]int64, len(keys))
	for i, k := range keys {
		n, err := strconv.ParseInt(strings.Trim(string(values[i]), `"`), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("dataverse: RetrieveTotalRecordCount: count of %s is %s", k, values[i])
		}
		counts[k] = n
	}
	return counts, nil
}
