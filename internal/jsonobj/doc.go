// Package jsonobj parses one JSON object into the map that encoding/json's
// Decoder with UseNumber builds, in one pass over the bytes and without a
// Decoder per object (Parse; ParseMembers gives the members in document
// order instead of the map), and checks JSON as json.Valid does, about
// four times faster (Valid): d365's export checks every page it passes
// through, and the emulator every bulk request body.
//
// d365 keeps numbers as json.Number wherever rows pass through untyped
// (dataverse.Record, the rows of a JSON Lines import), so that a decimal or
// a 64-bit whole number keeps every digit. encoding/json offers that only
// through a json.Decoder, whose reader and scanner cost more than the row's
// own decoding when made per row. Parse is deliberately strict: it accepts
// only what it is sure a UseNumber decoder accepts and decodes the same
// way, and gives up (ok false) on anything else, so callers decode with
// encoding/json then and keep its errors. Strings with escapes or invalid
// UTF-8 are handed to encoding/json too. FuzzParse holds it to the decoder,
// FuzzValid holds Valid to json.Valid.
package jsonobj
