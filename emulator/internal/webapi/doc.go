// Package webapi serves the Dataverse Web API (OData v4) of the emulator
// under /api/data/v9.0/, v9.1/ and v9.2/.
//
// The caller-identity middleware (package caller) validates every request's
// bearer token and puts the caller in the request context; the handler only
// reads it, and answers a request without an authenticated caller 401 with
// Dataverse's WWW-Authenticate challenge. A genuine token of
// a tenant other than the organization's ([Options].TenantID) is a caller
// that is not a member of the organization (403 0x80072560). The token's
// app is mapped to its application user in the store, whose security
// roles decide what it may do, with Dataverse's 403 errors otherwise; the
// bypass headers (MSCRM.BypassCustomPluginExecution,
// MSCRM.BypassBusinessLogicExecution) need their privileges.
//
// Functions and actions come from one catalogue (operations.go) that
// routes them, refuses a bound operation without its namespace or with the
// wrong method as Dataverse does, and describes them in $metadata: WhoAmI,
// RetrieveVersion, RetrieveTotalRecordCount, the bulk messages
// (CreateMultiple, UpdateMultiple, UpsertMultiple; DeleteMultiple refused
// on standard tables), RetrieveUserPrivileges on systemusers, and
// AddMembersTeam and RemoveMembersTeam on teams.
//
// Tables, properties and navigation properties come from the schema
// metadata, so every table is served the same way: create (POST),
// retrieve (GET with $select), update and upsert (PATCH with If-Match /
// If-None-Match), delete, single-property GET/PUT/DELETE, and collection
// queries with $select, $filter (bound from the odata package's syntax
// tree to store conditions with bound parameters), $orderby (a lookup by
// the primary name of the referenced row, a choice by value), $top,
// $count, Prefer: odata.maxpagesize and keyset paging through
// @odata.nextLink, $expand, and $apply (filter, groupby and aggregate,
// also over the columns of related rows). A condition or order on related
// rows (a lookup path, any/all) needs the Read privilege on their table,
// as $expand does. Bodies support @odata.bind and deep insert;
// SystemRequired columns cannot be nulled.
//
// FetchXML queries (GET <set>?fetchXml=…) are parsed (package fetchxml)
// and bound to the same metadata (fetchxml_*.go) and run as one store query, with a join
// per link-entity: attributes and aliases, filters and conditions with
// Dataverse's operators, orders (a lookup by name, a choice by label
// unless useraworderby is set), inner and outer link-entities named
// "<alias>.<column>" in results, distinct, top, aggregates with groupby
// and dategrouping, and paging by page number or by paging cookie
// (keyset-stable: the cookie carries the last row's sort keys). As in
// Dataverse, FetchXML results omit null columns, and errors carry the
// QueryBuilder codes (0x80041103 "'Contact' entity doesn't contain
// attribute…", 0x80041128 for an entity that does not match the set…).
// Responses are streamed with Dataverse's shapes, annotations on request
// (Prefer: odata.include-annotations), and errors in the
// {"error":{"code","message"}} envelope with Dataverse's codes (package
// dverr; store failures are kinds, mapped to codes in errors.go).
//
// Change tracking (changetracking*.go) serves tables whose schema turns it
// on (the built-in account and contact; ChangeTrackingEnabled in
// EntityDefinitions): GET <set>?$select=… with Prefer: odata.track-changes
// pages the rows by primary key and ends with @odata.deltaLink, whose
// $deltatoken is Dataverse's <version>!<MM/dd/yyyy HH:mm:ss>; GET of a
// delta link answers the $delta context with the rows changed since the
// token (by version, full records with ETags), then $deletedEntity
// tombstones, paged, then a new delta link; <set>/$count?$deltatoken=…
// counts the changes. The position a read ends at is the store's committed
// version taken before its first page and kept in the skip token
// (istracking="True"), so writes made while it is paged come in the next
// delta. Refused: tables without change tracking (0x80072491), $filter,
// $orderby, $expand and $top (the documented message), callers without
// organization-level Read, and tokens older than the organization's
// ExpireChangeTrackingInDays or taken before a restore of the state
// (0x80044352).
//
// The handler never panics: a panic is answered 500 in the error envelope
// and logged.
package webapi
