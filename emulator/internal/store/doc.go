// Package store is the emulator's SQLite store (modernc.org/sqlite): one
// typed SQL table per Dataverse table, generated from the schema
// metadata, N:N intersect tables, the security model (organization,
// business units, roles, role privileges with depths, user and team role
// assignments, application users) and the operations the Web API needs
// (create, retrieve, update, upsert, delete, keyset-paged queries with
// joins for FetchXML link-entities, counts, and grouped aggregations).
//
// # Layout
//
// Every Dataverse table is a STRICT SQL table named by its logical name,
// with one column per metadata column, named by its logical name:
// text as TEXT with a Unicode case-insensitive collation (Dataverse
// compares strings case-insensitively), whole numbers, choices and
// booleans as INTEGER, doubles as REAL, decimal and money as exact
// fixed-point TEXT with a numeric collation, date-times as
// "2006-01-02T15:04:05Z" TEXT (dates as "2006-01-02"), GUIDs and lookups
// as lowercase TEXT, multi-select choices as "1,2,3". Polymorphic lookups
// keep the referenced table's logical name in their EntityName companion
// column (owneridtype, parentcustomeridtype…). Internal bookkeeping lives
// in tables whose names start with "_dv_", which no Dataverse logical name
// can. Other packages may keep their own tables in the same database
// ([Store.DB]); the identity package uses "entra_*".
//
// # Concurrency
//
// An in-memory store uses SQLite's memdb VFS under a unique name
// ("file:/d365-<random>?vfs=memdb"), which every connection of the pool
// shares, unlike ":memory:" (one database per connection); one connection
// stays open for the store's lifetime, since memdb frees the database with
// its last connection. A new in-memory store is a copy (SQLite's online
// backup) of a template database with its schema's tables, indexes and
// privilege catalogue, built once per process per schema, since creating
// the tables statement by statement is most of the cost of opening a
// store; a file store is migrated in place instead. A file store uses WAL.
// Writers are serialised by a
// mutex inside the store and every transaction begins IMMEDIATE, with a
// busy timeout as a backstop for writers outside the store, so concurrent
// requests wait rather than fail with SQLITE_BUSY. Reads run outside
// transactions and read a page into memory before the caller writes it
// out, so a slow client never holds a read lock. In memory, where SQLite
// makes a read wait for the write transaction in progress, reads and write
// transactions take turns through a gate (readgate.go), so that a read is
// not kept waiting behind writes that follow each other without a gap.
//
// # Queries
//
// Queries take their conditions as [Cond] values built from metadata
// ([Compare], [Like], [In], [Related], [InJoin]…) and their joins as
// [Join] values; a [Cursor] resumes a query after a row (keyset paging),
// and can travel as JSON text or as one text value per sort key. The
// first query ordered by a table's own columns creates an index on them
// (then the primary key) with their collations, so that every later page
// seeks to its cursor instead of sorting the rest of the table: a scan's
// work and garbage per page do not grow with the table. Indexes are made
// only for the orders clients use, a few per table at most, since each
// costs the table's writes. An order by a lookup sorts by the primary
// name of the referenced row and an order by a choice may sort by its
// labels ([Order.Label]), as Dataverse sorts them; those keys are SQL
// expressions that no index serves, so each of their pages sorts the rows
// after its cursor (see sortkey.go).
//
// # Failures
//
// Every write is one transaction; a failure rolls it back and leaves
// nothing behind. Failures the Web API reports are *[Error] values
// carrying a [Kind] (refined by a [Reason]), the missing privilege's name
// where there is one, and Dataverse's message; the Web API maps the kind
// to the status and error code (package dverr). All SQL uses bound
// parameters; identifiers come only from validated metadata and are
// quoted.
package store
