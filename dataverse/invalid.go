package dataverse

import (
	"errors"
	"fmt"
)

// ErrInvalidArgument is wrapped by every error the client returns, before
// sending anything, because an argument or option is invalid: an entity
// set, column, property or function name that cannot be one, a zero id, a
// value that cannot be written as a literal or key, a malformed $select,
// $orderby, $expand or filter, out-of-range options, a record that cannot
// be encoded as JSON, a link outside the Web API base, a batch that cannot
// be sent. The error's text says what is wrong and how to fix it; nothing
// reached the service, and trying again unchanged cannot succeed:
//
//	if errors.Is(err, dataverse.ErrInvalidArgument) {
//		// fix the input; nothing was sent
//	}
//
// Failures of the service, of the network or of decoding a response never
// wrap it.
var ErrInvalidArgument = errors.New("dataverse: invalid argument")

// argumentError is an input error: its text is the cause's, and errors.Is
// finds both ErrInvalidArgument and whatever the cause wraps.
type argumentError struct{ err error }

// Error implements error.
func (e *argumentError) Error() string { return e.err.Error() }

// Unwrap returns ErrInvalidArgument and the cause.
func (e *argumentError) Unwrap() []error { return []error{ErrInvalidArgument, e.err} }

// invalidf formats an input error that wraps ErrInvalidArgument.
func invalidf(format string, args ...any) error {
	return &argumentError{err: fmt.Errorf(format, args...)}
}

// invalid marks err (if not nil) as an input error.
func invalid(err error) error {
	if err == nil || errors.Is(err, ErrInvalidArgument) {
		return err
	}
	return &argumentError{err: err}
}
