package dataverse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// OneToManyRelationship is a OneToManyRelationshipMetadata: the referenced
// (one) table and the referencing (many) table with its lookup column. A
// table's many-to-one relationships are the one-to-many relationships in
// which it is the referencing table.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/onetomanyrelationshipmetadata
type OneToManyRelationship struct {
	// SchemaName is the relationship's name, e.g. "contact_customer_accounts".
	SchemaName string
	// ReferencedEntity and ReferencedAttribute are the "one" side: the
	// table and its primary key.
	ReferencedEntity, ReferencedAttribute string
	// ReferencingEntity and ReferencingAttribute are the "many" side: the
	// table and its lookup column.
	ReferencingEntity, ReferencingAttribute string
	// ReferencedEntityNavigationPropertyName is the collection-valued
	// navigation property on the referenced table (for $expand).
	ReferencedEntityNavigationPropertyName string
	// ReferencingEntityNavigationPropertyName is the single-valued
	// navigation property on the referencing table (for @odata.bind).
	ReferencingEntityNavigationPropertyName string
}

// ManyToManyRelationship is a ManyToManyRelationshipMetadata: two tables
// joined through an intersect table.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/manytomanyrelationshipmetadata
type ManyToManyRelationship struct {
	// SchemaName is the relationship's name, e.g. "teammembership_association".
	SchemaName string
	// Entity1LogicalName and Entity2LogicalName are the two tables.
	Entity1LogicalName, Entity2LogicalName string
	// IntersectEntityName is the table that holds the pairs.
	IntersectEntityName string
	// Entity1NavigationPropertyName and Entity2NavigationPropertyName are
	// the collection-valued navigation properties on each table.
	Entity1NavigationPropertyName, Entity2NavigationPropertyName string
}

// TableRelationships are the relationships of one table, seen from it.
type TableRelationships struct {
	// LogicalName is the table's logical name.
	LogicalName string
	// OneToMany are the relationships in which the table is referenced
	// (other tables' lookups point to it).
	OneToMany []OneToManyRelationship
	// ManyToOne are the relationships in which the table is referencing
	// (its own lookups).
	ManyToOne []OneToManyRelationship
	// ManyToMany are the table's many-to-many relationships.
	ManyToMany []ManyToManyRelationship
}

const (
	oneToManySelect  = "SchemaName,ReferencedEntity,ReferencedAttribute,ReferencingEntity,ReferencingAttribute,ReferencedEntityNavigationPropertyName,ReferencingEntityNavigationPropertyName"
	manyToManySelect = "SchemaName,Entity1LogicalName,Entity2LogicalName,IntersectEntityName,Entity1NavigationPropertyName,Entity2NavigationPropertyName"
	// relationshipsExpand reads the three kinds in one request.
	relationshipsExpand = "OneToManyRelationships($select=" + oneToManySelect + ")," +
		"ManyToOneRelationships($select=" + oneToManySelect + ")," +
		"ManyToManyRelationships($select=" + manyToManySelect + ")"
)

// ErrMetadataUnsupported is wrapped by the error of a metadata call that the
// service refused as a query it does not support (a 400 or 404 for the
// expansion or path), as a local emulator without that metadata may.
var ErrMetadataUnsupported = errors.New("the service does not serve this metadata")

// TableRelationships returns the one-to-many, many-to-one and many-to-many
// relationships of the table named by its entity set or logical name, with
// one GET of its EntityDefinition expanding the three collections. When
// the service refuses the expansion the error wraps ErrMetadataUnsupported
// (and the *ResponseError).
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api#retrieve-relationships
func (c *Client) TableRelationships(ctx context.Context, entitySetOrLogicalName string) (rels *TableRelationships, err error) {
	md, err := c.TableMetadata(ctx, entitySetOrLogicalName)
	if err != nil {
		return nil, err
	}
	ctx, end := c.startSpan(ctx, "TableRelationships")
	defer func() { end(err) }()
	q := url.Values{}
	q.Set("$select", "LogicalName")
	q.Set("$expand", relationshipsExpand)
	r := &request{method: http.MethodGet, path: entityDefinitionPath(md.LogicalName), query: encodeQuery(q), idempotent: true}
	var out struct {
		OneToManyRelationships  []OneToManyRelationship  `json:"OneToManyRelationships"`
		ManyToOneRelationships  []OneToManyRelationship  `json:"ManyToOneRelationships"`
		ManyToManyRelationships []ManyToManyRelationship `json:"ManyToManyRelationships"`
	}
	if _, err := c.sendJSON(ctx, r, &out); err != nil {
		if refusedMetadataQuery(err) {
			return nil, fmt.Errorf("dataverse: relationships of %s: %w: %w", md.LogicalName, ErrMetadataUnsupported, err)
		}
		return nil, err
	}
	return &TableRelationships{
		LogicalName: md.LogicalName,
		OneToMany:   out.OneToManyRelationships,
		ManyToOne:   out.ManyToOneRelationships,
		ManyToMany:  out.ManyToManyRelationships,
	}, nil
}
