// Package webapi serves the Dataverse Web API (OData v4) of the emulator
// under /api/data/v9.0/, v9.1/ and v9.2/.
//
// Every request's bearer token goes through an [Authenticator]; failures
// get 401 with Dataverse's WWW-Authenticate challenge. The token's app is
// mapped to its application user in the store, whose security roles
// decide what it may do, with Dataverse's 403 errors otherwise.
//
// Tables, properties and navigation properties come from the schema
// metadata, so every table is served the same way: create (POST),
// retrieve (GET with $select), update and upsert (PATCH with If-Match /
// If-None-Match), delete, single-property GET/PUT/DELETE, and collection
// queries with $select, $filter (bound from the odata package's syntax
// tree to store conditions with bound parameters), $orderby, $top,
// $count, Prefer: odata.maxpagesize and keyset paging through
// @odata.nextLink. Bodies support @odata.bind and deep insert.
// Responses are streamed with Dataverse's shapes, annotations on request
// (Prefer: odata.include-annotations), and errors in the
// {"error":{"code","message"}} envelope with Dataverse's codes.
//
// The handler never panics: a panic is answered 500 in the error envelope
// and logged.
package webapi
