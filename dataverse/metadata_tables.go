package dataverse

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// TableSummary is one table as a list of tables shows it: its names and
// whether it is custom. Client.TableMetadata gives the columns.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/entitymetadata
type TableSummary struct {
	// LogicalName is the table's logical name, e.g. "account".
	LogicalName string
	// SchemaName is the table's schema name, e.g. "Account".
	SchemaName string
	// EntitySetName is the Web API collection, e.g. "accounts" ("" for a
	// table the Web API does not expose).
	EntitySetName string
	// DisplayName is the table's label in the user's language.
	DisplayName string
	// PrimaryIDAttribute and PrimaryNameAttribute are the primary key and
	// primary name columns.
	PrimaryIDAttribute   string
	PrimaryNameAttribute string
	// IsCustomEntity reports a table made by a customizer (not shipped by
	// Microsoft).
	IsCustomEntity bool
}

// ListTablesOptions narrows Client.ListTables.
type ListTablesOptions struct {
	// CustomOnly keeps the custom tables (IsCustomEntity eq true).
	CustomOnly bool
	// Filter is an OData $filter over EntityMetadata properties, e.g.
	// "IsActivity eq true"; it is combined with CustomOnly by "and".
	// EntityDefinitions supports fewer operators than tables do: see
	// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api#filter-metadata
	Filter string
}

// tableSummarySelect is the $select of ListTables.
const tableSummarySelect = "LogicalName,SchemaName,EntitySetName,DisplayName,PrimaryIdAttribute,PrimaryNameAttribute,IsCustomEntity"

// ListTables lists the tables of the environment, sorted by logical name,
// with one GET of EntityDefinitions.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
func (c *Client) ListTables(ctx context.Context, opts *ListTablesOptions) (tables []TableSummary, err error) {
	if opts == nil {
		opts = &ListTablesOptions{}
	}
	ctx, end := c.startSpan(ctx, "ListTables")
	defer func() { end(err) }()
	var filters []string
	if opts.CustomOnly {
		filters = append(filters, "IsCustomEntity eq true")
	}
	if f := strings.TrimSpace(opts.Filter); f != "" {
		if len(filters) > 0 {
			f = "(" + f + ")"
		}
		filters = append(filters, f)
	}
	q := url.Values{}
	q.Set("$select", tableSummarySelect)
	if len(filters) > 0 {
		q.Set("$filter", strings.Join(filters, " and "))
	}
	var out struct {
		Value []struct {
			LogicalName          string  `json:"LogicalName"`
			SchemaName           string  `json:"SchemaName"`
			EntitySetName        *string `json:"EntitySetName"`
			DisplayName          *label  `json:"DisplayName"`
			PrimaryIDAttribute   *string `json:"PrimaryIdAttribute"`
			PrimaryNameAttribute *string `json:"PrimaryNameAttribute"`
			IsCustomEntity       *bool   `json:"IsCustomEntity"`
		} `json:"value"`
	}
	r := &request{method: http.MethodGet, path: "EntityDefinitions", query: encodeQuery(q), idempotent: true}
	if _, err := c.sendJSON(ctx, r, &out); err != nil {
		return nil, err
	}
	tables = make([]TableSummary, 0, len(out.Value))
	for _, v := range out.Value {
		tables = append(tables, TableSummary{
			LogicalName:          v.LogicalName,
			SchemaName:           v.SchemaName,
			EntitySetName:        deref(v.EntitySetName),
			DisplayName:          v.DisplayName.text(),
			PrimaryIDAttribute:   deref(v.PrimaryIDAttribute),
			PrimaryNameAttribute: deref(v.PrimaryNameAttribute),
			IsCustomEntity:       deref(v.IsCustomEntity),
		})
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].LogicalName < tables[j].LogicalName })
	return tables, nil
}
