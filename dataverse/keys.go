package dataverse

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// AlternateKey addresses a record by the values of an alternate key
// defined on its table: column names to values, for example
// AlternateKey{"accountnumber": "ABC123"} or, for a key on a lookup,
// AlternateKey{"_primarycontactid_value": id}. Values are written like
// filter values (FormatLiteral: strings quoted with quotes doubled,
// numbers and GUIDs bare) and percent-encoded, so any character is safe
// in the URL. Columns are written in name order.
//
// Whether the service accepts an encoded "/" (%2F) or "\" inside a key
// value has not been verified against a live environment [unverified];
// the emulator accepts it.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/use-alternate-key-reference-record
type AlternateKey map[string]any

// segment returns "(col1='v1',col2=2)" percent-encoded for a URL path.
func (k AlternateKey) segment() (string, error) {
	if len(k) == 0 {
		return "", invalidf("dataverse: the alternate key has no columns")
	}
	names := make([]string, 0, len(k))
	for name := range k {
		if !propertyNamePattern.MatchString(name) {
			return "", invalidf("dataverse: alternate key column %q is not a column name", name)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteByte('(')
	for i, name := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		lit, err := FormatLiteral(k[name])
		if err != nil {
			return "", invalidf("dataverse: alternate key column %s: %w", name, err)
		}
		if lit == "null" {
			return "", invalidf("dataverse: alternate key column %s is null; key values must be set", name)
		}
		if strings.HasPrefix(lit, "[") {
			return "", invalidf("dataverse: alternate key column %s: a list cannot be a key value", name)
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(escapeComponent(lit))
	}
	b.WriteByte(')')
	return b.String(), nil
}

// String returns the key as it appears in a URL, e.g.
// (accountnumber='ABC123'), or a description of why it is invalid.
func (k AlternateKey) String() string {
	s, err := k.segment()
	if err != nil {
		return "(invalid key: " + err.Error() + ")"
	}
	return s
}

// keyPath returns "set(col='v')".
func keyPath(entitySet string, key AlternateKey) (string, error) {
	p, err := entitySetPath(entitySet)
	if err != nil {
		return "", err
	}
	seg, err := key.segment()
	if err != nil {
		return "", err
	}
	return p + seg, nil
}

// Bind returns the value for a "nav@odata.bind" property that points at
// the record with id in entitySet: "/contacts(<id>)".
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api#associate-entity-records-on-create
func Bind(entitySet string, id uuid.UUID) (string, error) {
	p, err := recordPath(entitySet, id)
	if err != nil {
		return "", err
	}
	return "/" + p, nil
}

// BindKey returns the "nav@odata.bind" value for a record addressed by
// alternate key: "/accounts(accountnumber='ABC123')".
func BindKey(entitySet string, key AlternateKey) (string, error) {
	p, err := keyPath(entitySet, key)
	if err != nil {
		return "", err
	}
	return "/" + p, nil
}

// Bind sets r["navProperty@odata.bind"] to "/entitySet(id)", associating
// the record being written with that record, and returns r. navProperty
// is the single-valued navigation property, which for polymorphic lookups
// names the target ("parentcustomerid_account"), not the lookup column.
func (r Record) Bind(navProperty, entitySet string, id uuid.UUID) Record {
	v, err := Bind(entitySet, id)
	if err != nil {
		v = badMarker + "INVALID bind)" // refused by the service; never a valid bind
	}
	r[navProperty+"@odata.bind"] = v
	return r
}

// Unbind sets r["navProperty@odata.bind"] to null, which clears the lookup
// when the record is updated, and returns r.
func (r Record) Unbind(navProperty string) Record {
	r[navProperty+"@odata.bind"] = nil
	return r
}

// RetrieveByKey is Retrieve for a record addressed by alternate key.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-entity-using-web-api#retrieve-using-an-alternate-key
func (c *Client) RetrieveByKey(ctx context.Context, entitySet string, key AlternateKey, out any, opts *RetrieveOptions) (err error) {
	ctx, end := c.startSpan(ctx, "RetrieveByKey")
	defer func() { end(err) }()
	path, err := keyPath(entitySet, key)
	if err != nil {
		return err
	}
	return c.retrieve(ctx, path, out, opts)
}

// UpdateByKey is Update for a record addressed by alternate key (If-Match:
// *, so it never creates one). WriteResult.ID is set when the service
// returns the record's URL or representation.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api
func (c *Client) UpdateByKey(ctx context.Context, entitySet string, key AlternateKey, record any, opts *UpdateOptions) (res *WriteResult, err error) {
	ctx, end := c.startSpan(ctx, "UpdateByKey")
	defer func() { end(err) }()
	path, err := keyPath(entitySet, key)
	if err != nil {
		return nil, err
	}
	return c.update(ctx, path, entitySet, record, opts)
}

// DeleteByKey is Delete for a record addressed by alternate key.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api#basic-delete
func (c *Client) DeleteByKey(ctx context.Context, entitySet string, key AlternateKey, opts *DeleteOptions) (err error) {
	ctx, end := c.startSpan(ctx, "DeleteByKey")
	defer func() { end(err) }()
	path, err := keyPath(entitySet, key)
	if err != nil {
		return err
	}
	return c.delete(ctx, path, opts)
}
