// Package adminclient is a typed Go client of a running emulator's admin API (the JSON routes
// under /_emulator/ listed in the emulator package documentation).
//
// A Client has the admin methods of *emulator.Emulator, with a context and an error on each
// because every call crosses the network: what a test does in-process with an *emulator.Emulator,
// a script or another process does with a Client against `d365 emulator`. Values are the
// emulator package's own types, decoded from the same JSON the server writes.
//
// A failure the emulator answered is an *Error carrying the HTTP status and the admin API's
// code (NotFound, Conflict, Invalid, Forbidden, MethodNotAllowed, Internal); errors.Is matches
// it against emulator.ErrNotFound, emulator.ErrConflict and emulator.ErrInvalid as the
// in-process methods' errors do. A transport failure comes back as the *http.Client's error.
//
// The admin API answers loopback callers only and needs no credentials; the Client trusts the
// emulator's certificate authority through the *http.Client it is given (emulator.HTTPClient,
// or one built from the CA file the emulator writes).
package adminclient
