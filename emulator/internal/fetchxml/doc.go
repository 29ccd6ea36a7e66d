// Package fetchxml parses FetchXML, Dataverse's XML query language, into a syntax tree: syntax
// only, as package odata is for OData query options. It checks the document's shape (elements,
// their nesting, which attributes each element takes, and the syntax of their values) against
// what fetch.xsd allows, within bounds on depth and size so hostile input cannot exhaust memory
// or the stack. Binding the names in the tree to table metadata, and running the query, is
// package webapi's.
//
// Every failure is a *dverr.Error: 400 with the QueryBuilder code Dataverse answers with and a
// message naming what is wrong, or 501 for a well-formed query using a feature the emulator does
// not have (row aggregates, conditions on aggregates).
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/fetchxml/overview.
package fetchxml
