// Package odata parses the OData v4 system query options that the Dataverse
// Web API accepts ($filter, $select, $orderby, $top, $count, $expand, $apply,
// parameter aliases and the Dataverse extras fetchXml, $skiptoken,
// $deltatoken, tag and partitionId) into a syntax tree.
//
// The package is syntax only: it knows nothing about tables, columns or SQL.
// A binder in the emulator's webapi layer resolves property paths against
// table metadata, checks types, resolves parameter aliases and translates the
// tree to SQL with bound parameters. To make that easy:
//
//   - literal values are already decoded (strings unescaped, numbers parsed,
//     GUIDs as [uuid.UUID], DateTimeOffset as [time.Time]);
//   - property paths are split into segments, each with its position;
//   - every node reports the 0-based byte offset at which it starts in the
//     option value ([Expr.Pos]), for error messages.
//
// Entry points: [ParseQuery] for a whole query string (it checks option
// names as Dataverse does and parses each option), and [ParseFilter],
// [ParseOrderBy], [ParseSelect], [ParseExpand], [ParseApply] and
// [ParseAliasValue] for single options. [Query.Values], [FormatExpr],
// [FormatSelect], [FormatOrderBy], [FormatExpand] and [FormatApply] give
// canonical text back (for nextLinks). [Walk], [CountConditions],
// [CountExpands], [LookupFunction] and [QueryFunctionParams] help the binder.
//
// Callers pass option values that are already URL-decoded (as returned by
// net/url); turning '+' into a space is the URL layer's business, not ours.
//
// Every failure is a *[SyntaxError] whose message imitates the text Dataverse
// returns (it comes from Microsoft's ODataLib), for example
//
//	There is an unterminated literal at position 21 in 'lastname eq 'O'Bryan''.
//
// The position printed in a message counts UTF-16 code units, as ODataLib
// (a .NET library) does; [SyntaxError.Pos] is the byte offset into the Go
// string, for callers that want to point into the input.
//
// Precedence follows ODataLib and the OData ABNF, lowest first: or, and,
// comparison (eq ne gt ge lt le has), additive, multiplicative, unary (not,
// '-'). So "not" binds tighter than "eq": `not name eq 'x'` parses as
// `(not name) eq 'x'`, which Dataverse rejects during binding ("A unary
// operator with an incompatible type was detected…"); write
// `not (name eq 'x')` or `name ne 'x'`. Keywords are case-sensitive: `AND`
// is a property name, not an operator.
//
// The parser is hand-written (a small lexer and a recursive-descent parser),
// never panics, and limits nesting depth ([MaxDepth]) so hostile input cannot
// exhaust the stack. Every node formats back to canonical OData text with its
// String method, and parsing that text yields an equal tree; the fuzz tests
// hold the parser to this.
//
// What Dataverse rejects but OData allows is, where it is a matter of syntax,
// rejected here with Dataverse's message ($skip, $search, $format, unknown
// options, $levels inside $expand). Where it is a matter of meaning (a
// function Dataverse does not implement, such as tolower, or an arithmetic
// operator), the parser builds the node and marks it (see [LookupFunction]
// and [BinaryOp.Arithmetic]) so the binder can refuse it with the right error.
package odata
