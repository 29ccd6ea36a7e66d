package dataverse

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// TableMetadata describes a table as importers and exporters need it: its
// names, every column with its type and whether it can be written, its
// alternate keys and the navigation property of each lookup (the name a
// "<navigation>@odata.bind" annotation uses).
//
// Client.TableMetadata returns it; treat it as read-only, it is shared by
// every caller of the same Client.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
type TableMetadata struct {
	// LogicalName is the table's logical name, e.g. "account".
	LogicalName string
	// SchemaName is the table's schema name, e.g. "Account".
	SchemaName string
	// EntitySetName is the Web API collection, e.g. "accounts".
	EntitySetName string
	// PrimaryIDAttribute is the primary key column, e.g. "accountid".
	PrimaryIDAttribute string
	// PrimaryNameAttribute is the primary name column, e.g. "name" (may be "").
	PrimaryNameAttribute string
	// Columns lists every attribute, in the order the service returned them.
	Columns []ColumnMetadata
	// Keys lists the alternate keys. It is empty when the service lists
	// none, and also when it could not list them: see KeysKnown.
	Keys []KeyMetadata
	// KeysKnown reports that the service listed the table's alternate keys
	// (Dataverse and the emulator do, in the one EntityDefinitions request;
	// a service that refuses $expand=Keys is asked again for the attributes
	// alone, which leaves Keys empty and KeysKnown false).
	KeysKnown bool
	// Lookups lists the single-valued navigation properties, one per
	// lookup column and target (a polymorphic lookup has one per target).
	Lookups []LookupMetadata
	// LookupsDerived reports that the service did not list the table's
	// many-to-one relationships, so Lookups were derived from the lookup
	// columns with Dataverse's naming of system lookups (the column's
	// logical name, "<column>_<target>" for a polymorphic one). Custom
	// lookups are named after their schema name on Dataverse, so a derived
	// name may differ in case there.
	LookupsDerived bool

	columnIndex map[string]int
}

// Column returns the column with the logical name (case-insensitive).
// A TableMetadata built by hand (in a test) is searched column by column.
func (t *TableMetadata) Column(logicalName string) (*ColumnMetadata, bool) {
	if t.columnIndex == nil {
		for i := range t.Columns {
			if strings.EqualFold(t.Columns[i].LogicalName, logicalName) {
				return &t.Columns[i], true
			}
		}
		return nil, false
	}
	i, ok := t.columnIndex[strings.ToLower(logicalName)]
	if !ok {
		return nil, false
	}
	return &t.Columns[i], true
}

// Lookup returns the single-valued navigation property with the name.
// Navigation property names are case-sensitive in the Web API; an exact
// match is preferred and a case-insensitive one accepted.
func (t *TableMetadata) Lookup(navigationProperty string) (*LookupMetadata, bool) {
	for i := range t.Lookups {
		if t.Lookups[i].NavigationProperty == navigationProperty {
			return &t.Lookups[i], true
		}
	}
	for i := range t.Lookups {
		if strings.EqualFold(t.Lookups[i].NavigationProperty, navigationProperty) {
			return &t.Lookups[i], true
		}
	}
	return nil, false
}

// Key returns the alternate key whose columns are exactly columns (in any
// order, case-insensitive).
func (t *TableMetadata) Key(columns ...string) (*KeyMetadata, bool) {
	want := make([]string, len(columns))
	for i, c := range columns {
		want[i] = strings.ToLower(c)
	}
	slices.Sort(want)
	for i := range t.Keys {
		have := make([]string, len(t.Keys[i].KeyAttributes))
		for j, c := range t.Keys[i].KeyAttributes {
			have[j] = strings.ToLower(c)
		}
		slices.Sort(have)
		if slices.Equal(want, have) {
			return &t.Keys[i], true
		}
	}
	return nil, false
}

// ColumnMetadata describes one attribute of a table.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/attributemetadata
type ColumnMetadata struct {
	// LogicalName is the column's logical name, e.g. "revenue".
	LogicalName string
	// SchemaName is the column's schema name, e.g. "Revenue".
	SchemaName string
	// AttributeOf names the column this one belongs to ("parentcustomerid"
	// for "parentcustomeridname"): such a column is not a property of the
	// record in the Web API.
	AttributeOf string
	// AttributeType is the type as Dataverse names it: String, Memo,
	// Integer, BigInt, Decimal, Double, Money, Boolean, DateTime, Lookup,
	// Customer, Owner, Picklist, State, Status, Uniqueidentifier,
	// EntityName, Virtual, ...
	AttributeType string
	// AttributeTypeName is the finer type name, e.g. "MultiSelectPicklistType"
	// for a Virtual choices column, "" when the service did not send it.
	AttributeTypeName string
	// DisplayName is the column's label in the user's language ("" when
	// the service sent none).
	DisplayName string
	// RequiredLevel is RequiredLevel.Value: "None", "SystemRequired",
	// "ApplicationRequired" or "Recommended" ("" when the service did not
	// send it).
	//
	// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/attributerequiredlevel
	RequiredLevel string
	// IsPrimaryID and IsPrimaryName mark the primary key and name columns.
	IsPrimaryID, IsPrimaryName bool
	// IsValidForCreate, IsValidForUpdate and IsValidForRead say whether a
	// create, an update or a read may carry the column.
	IsValidForCreate, IsValidForUpdate, IsValidForRead bool
	// MaxLength is the longest text a String or Memo column holds (0 otherwise).
	MaxLength int
	// Targets are the tables a lookup column can point to (logical names).
	Targets []string
	// DateTimeFormat is "DateOnly" or "DateAndTime" for a DateTime column.
	DateTimeFormat string
	// DateTimeBehavior is "UserLocal", "DateOnly" or "TimeZoneIndependent"
	// for a DateTime column.
	DateTimeBehavior string
}

// IsLookup reports whether the column holds a reference (Lookup, Customer
// or Owner).
func (c *ColumnMetadata) IsLookup() bool {
	switch c.AttributeType {
	case "Lookup", "Customer", "Owner":
		return true
	}
	return false
}

// Property is the name under which a record in the Web API carries the
// column: "_<name>_value" for a lookup, the logical name otherwise, and ""
// for a column that is no property of its own (AttributeOf is set, or a
// Virtual column other than a multi-select choice) or that cannot be read.
func (c *ColumnMetadata) Property() string {
	switch {
	case !c.IsValidForRead || c.AttributeOf != "":
		return ""
	case c.AttributeType == "Virtual" && c.AttributeTypeName != "MultiSelectPicklistType":
		return ""
	case c.IsLookup():
		return "_" + c.LogicalName + "_value"
	}
	return c.LogicalName
}

// KeyMetadata is an alternate key of a table.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/define-alternate-keys-entity
type KeyMetadata struct {
	// Name is the key's schema name, e.g. "account_number".
	Name string
	// LogicalName is the key's logical name.
	LogicalName string
	// KeyAttributes are the logical names of the key's columns.
	KeyAttributes []string
	// IndexStatus is the state of the key's index (Pending, InProgress,
	// Active, Failed); only an Active key can address rows. "" when the
	// service did not say.
	IndexStatus string
}

// LookupMetadata is the single-valued navigation property of a lookup
// column towards one target table.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/web-api-navigation-properties
type LookupMetadata struct {
	// NavigationProperty is the name to bind with, e.g. "parentcustomerid_account"
	// in "parentcustomerid_account@odata.bind". Case-sensitive.
	NavigationProperty string
	// Attribute is the lookup column's logical name, e.g. "parentcustomerid".
	Attribute string
	// Targets are the tables this navigation property reaches (logical
	// names): one for a relationship read from the service.
	Targets []string
}

// tableMetadataSelect is the $select of the table itself.
const tableMetadataSelect = "LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute"

// tableMetadataExpandFull reads the attributes whole (their derived
// properties, such as MaxLength and Targets, cannot be named in a $select
// of the base type), the alternate keys and the many-to-one relationships
// in the same request.
//
// [unverified] Microsoft documents each of these expansions on
// EntityDefinitions, and $filter on the collection, but no published
// example combines the three expansions with a collection $filter in one
// request; a service that refuses Keys or ManyToOneRelationships gets the
// Attributes-only request instead (see refusedExpansion).
const tableMetadataExpandFull = "Attributes," +
	"Keys($select=LogicalName,SchemaName,KeyAttributes,EntityKeyIndexStatus)," +
	"ManyToOneRelationships($select=SchemaName,ReferencedEntity,ReferencingAttribute,ReferencingEntityNavigationPropertyName)"

// tableMetadataExpandAttributes is the fallback when the service refuses
// to expand Keys or ManyToOneRelationships.
const tableMetadataExpandAttributes = "Attributes"

// TableMetadata returns the metadata of the table named by its entity set
// name ("accounts") or its logical name ("account"), with its columns,
// alternate keys and lookups, read from EntityDefinitions in one request
// (two when the service refuses to expand keys and relationships). The
// result is cached by the Client for its lifetime; errors are not cached.
//
// An unknown table returns a *ResponseError for which IsNotFound is true.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
func (c *Client) TableMetadata(ctx context.Context, entitySetOrLogicalName string) (md *TableMetadata, err error) {
	name := strings.TrimSpace(entitySetOrLogicalName)
	if name == "" {
		return nil, invalidf("dataverse: TableMetadata: the table name is empty")
	}
	cache := metadataCacheOf(c)
	if md, ok := cache.get(name); ok {
		return md, nil
	}
	ctx, end := c.startSpan(ctx, "TableMetadata")
	defer func() { end(err) }()
	return cache.load(name, func() (*TableMetadata, error) { return c.readTableMetadata(ctx, name) })
}

// readTableMetadata asks the service for the table's definition.
func (c *Client) readTableMetadata(ctx context.Context, name string) (*TableMetadata, error) {
	lit := "'" + strings.ReplaceAll(name, "'", "''") + "'"
	filter := "EntitySetName eq " + lit + " or LogicalName eq " + lit
	get := func(expand string) (*entityDefinitionsResponse, error) {
		q := url.Values{}
		q.Set("$select", tableMetadataSelect)
		q.Set("$filter", filter)
		q.Set("$expand", expand)
		r := &request{method: http.MethodGet, path: "EntityDefinitions", query: encodeQuery(q), idempotent: true}
		var out entityDefinitionsResponse
		if _, err := c.sendJSON(ctx, r, &out); err != nil {
			return nil, err
		}
		return &out, nil
	}
	resp, err := get(tableMetadataExpandFull)
	full := true
	if err != nil && refusedExpansion(err) {
		full = false
		resp, err = get(tableMetadataExpandAttributes)
	}
	if err != nil {
		return nil, err
	}
	def := pickDefinition(resp.Value, name)
	if def == nil {
		return nil, &ResponseError{
			StatusCode: http.StatusNotFound,
			Code:       CodeObjectDoesNotExist,
			Message:    "no table has the entity set name or logical name '" + name + "'",
			Method:     http.MethodGet,
			Path:       "EntityDefinitions",
		}
	}
	return def.tableMetadata(full), nil
}

// refusedExpansion reports whether err is the service refusing to expand
// Keys or ManyToOneRelationships (a 400 naming the property).
func refusedExpansion(err error) bool {
	var re *ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest {
		return false
	}
	return strings.Contains(re.Message, "'Keys'") || strings.Contains(re.Message, "'ManyToOneRelationships'")
}

// pickDefinition prefers the table whose entity set name is name, then the
// one whose logical name is.
func pickDefinition(defs []entityDefinition, name string) *entityDefinition {
	for i := range defs {
		if defs[i].EntitySetName == name {
			return &defs[i]
		}
	}
	for i := range defs {
		if strings.EqualFold(defs[i].LogicalName, name) || strings.EqualFold(defs[i].EntitySetName, name) {
			return &defs[i]
		}
	}
	return nil
}

// encodeQuery encodes q with %20 for spaces (the Web API reads both, but
// %20 is what its documentation shows) and keeps "$" and "," readable.
func encodeQuery(q url.Values) string {
	s := q.Encode()
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "%24", "$")
	s = strings.ReplaceAll(s, "%2C", ",")
	return s
}

// PolymorphicLookups returns the record properties ("_parentcustomerid_value")
// of the table's lookup columns that can point into more than one table:
// customer (account or contact), owner (systemuser or team) and regarding
// lookups. Their id alone does not say which table it is in; the
// AnnotationLookupLogicalName annotation does.
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/multitable-lookup
func (md *TableMetadata) PolymorphicLookups() []string {
	var out []string
	for i := range md.Columns {
		c := &md.Columns[i]
		if c.IsLookup() && len(c.Targets) > 1 {
			if p := c.Property(); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
