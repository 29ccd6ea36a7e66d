// Package schema holds the table metadata of the emulated Dataverse
// environment: tables (logical name, entity set name, primary columns,
// ownership), columns with their types and limits, option sets,
// alternate keys, and 1:N and N:N relationships with the navigation
// properties the Web API exposes for them.
//
// Metadata is written as data, not code. The built-in tables (account,
// contact, systemuser, businessunit, team, role, task, organization and
// transactioncurrency) are described in builtin.yaml, in the same format a
// user schema file uses (see [Definition] and [Load]); [Compile] turns
// definitions into an immutable [Schema], adding the columns and
// relationships Dataverse adds to every table (primary key, createdon,
// modifiedon, createdby, modifiedby, the on-behalf-of lookups,
// versionnumber, statecode/statuscode, and ownerid with owninguser,
// owningteam and owningbusinessunit on user-owned tables).
//
// Everything downstream is driven by this metadata: the store generates one
// typed SQL table per [Table], validation checks values against [Column]
// limits, and the Web API resolves entity sets, properties and navigation
// properties through the lookup methods here. Lookups are case-sensitive,
// as in Dataverse: "Contacts" is not an entity set and "FirstName" is not a
// property of contact.
//
// A compiled Schema is read-only and safe for concurrent use.
package schema
