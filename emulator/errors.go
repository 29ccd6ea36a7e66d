package emulator

import (
	"errors"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/identity"
)

// Errors of the admin methods. Test for them with errors.Is; the error's text says which object
// and what to do. The admin HTTP API answers them with 404, 409 and 400.
var (
	// ErrNotFound means the tenant, app, secret, certificate, application user, role, business
	// unit or snapshot named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the object already exists (or exists with other identifying values).
	ErrConflict = errors.New("already exists")
	// ErrInvalid means an argument is malformed or out of range: not a GUID, an unknown
	// privilege, a negative lifetime, a bad snapshot name…
	ErrInvalid = errors.New("invalid argument")
)

// adminError is an admin failure of one of the kinds above, with a message for people.
type adminError struct {
	kind error
	msg  string
}

func (e *adminError) Error() string        { return "emulator: " + e.msg }
func (e *adminError) Is(target error) bool { return target == e.kind }

func notFoundf(format string, args ...any) error {
	return &adminError{kind: ErrNotFound, msg: fmt.Sprintf(format, args...)}
}

func conflictf(format string, args ...any) error {
	return &adminError{kind: ErrConflict, msg: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) error {
	return &adminError{kind: ErrInvalid, msg: fmt.Sprintf(format, args...)}
}

// fromIdentity turns an error of the token service into one of this package's: the identity
// package's sentinels become ours, its message stays (without the package prefix and the
// sentinel's own text).
func fromIdentity(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "identity: ")
	for _, m := range []struct{ theirs, ours error }{
		{identity.ErrNotFound, ErrNotFound},
		{identity.ErrConflict, ErrConflict},
		{identity.ErrInvalid, ErrInvalid},
	} {
		if errors.Is(err, m.theirs) {
			return &adminError{kind: m.ours, msg: strings.TrimSuffix(msg, ": "+m.theirs.Error())}
		}
	}
	return fmt.Errorf("emulator: %w", err)
}
