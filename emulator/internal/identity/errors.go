package identity

import (
	"errors"
)

// Errors returned by the admin methods. Test for them with errors.Is; the error text says which
// object was missing or in conflict.
var (
	// ErrNotFound means the tenant, app, secret or certificate named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the object exists with different identifying values.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means an argument is malformed (not a GUID, not a domain, empty, …).
	ErrInvalid = errors.New("invalid argument")
)

// Entra's error answers (status, OAuth error, AADSTS code, wording) and the JSON shape they are
// written in live in package aadsts, shared with the traffic middleware's injected faults.
