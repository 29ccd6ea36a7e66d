package emulator

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/store"
)

// The emulator's admin writes to Dataverse tables (business units, application users) go through
// the store's administrative methods, which write through its ordinary, validated write path as
// the organization's SYSTEM user (holding System Administrator, as in a real environment); the
// emulator itself writes rows as SYSTEM only when applying a scenario's seed rows.

// rememberSystemUser keeps the id of the SYSTEM user, which the store seeds with the System
// Administrator role.
func (e *Emulator) rememberSystemUser() error {
	id, err := uuid.Parse(e.store.Organization().SystemUserID)
	if err != nil {
		return fmt.Errorf("emulator: the organization has no SYSTEM user: %w", err)
	}
	e.systemUserID = id
	return nil
}

// system returns the SYSTEM user's principal for admin writes.
func (e *Emulator) system(ctx context.Context) (*store.Principal, error) {
	p, err := e.store.User(ctx, e.systemUserID)
	if err != nil {
		return nil, fmt.Errorf("emulator: load the SYSTEM user: %w", err)
	}
	return p, nil
}

// fromStore turns a store failure into an admin error: a validation failure is ErrInvalid, a
// missing row ErrNotFound, anything else stays as it is.
func fromStore(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "store: ")
	switch store.KindOf(err) {
	case store.KindValidation:
		return invalidf("%s", msg)
	case store.KindNotFound:
		return notFoundf("%s", msg)
	case store.KindDuplicate:
		return conflictf("%s", msg)
	}
	return fmt.Errorf("emulator: %w", err)
}
