package emulator

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// BusinessUnit is a Dataverse business unit. Privilege depths (user, business unit, parent-child,
// organization) are measured along the business unit tree.
type BusinessUnit struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// ParentID is the parent business unit's ID; empty for the root (the organization's own).
	ParentID string `json:"parentId,omitempty"`
	// Disabled business units lock their users out: every Web API request of an application
	// user in one (or in one under it) gets 403, as a disabled user's does. See
	// SetBusinessUnitEnabled.
	Disabled bool `json:"disabled"`
}

// CreateBusinessUnit creates a business unit under parent (a business unit's name or ID; empty
// means the root business unit). Names are unique: a taken name is ErrConflict. A disabled parent
// is ErrInvalid: enable it first.
func (e *Emulator) CreateBusinessUnit(ctx context.Context, name, parent string) (BusinessUnit, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return BusinessUnit{}, invalidf("a business unit needs a name")
	}
	if _, err := e.BusinessUnit(ctx, name); err == nil {
		return BusinessUnit{}, conflictf("business unit %q already exists", name)
	}
	parentID := ""
	if strings.TrimSpace(parent) != "" {
		p, err := e.BusinessUnit(ctx, parent)
		if err != nil {
			return BusinessUnit{}, err
		}
		if p.Disabled {
			return BusinessUnit{}, invalidf("parent business unit %q is disabled; enable it first (SetBusinessUnitEnabled) or choose another parent", p.Name)
		}
		parentID = p.ID
	}
	bu, err := e.store.CreateBusinessUnit(ctx, name, parentID)
	if err != nil {
		return BusinessUnit{}, fromStore(err)
	}
	return BusinessUnit(bu), nil
}

// BusinessUnit returns the business unit with the given name or ID.
func (e *Emulator) BusinessUnit(ctx context.Context, nameOrID string) (BusinessUnit, error) {
	key := strings.TrimSpace(nameOrID)
	if id, err := uuid.Parse(key); err == nil {
		key = id.String()
	}
	units, err := e.store.BusinessUnits(ctx)
	if err != nil {
		return BusinessUnit{}, fmt.Errorf("emulator: %w", err)
	}
	// An ID wins over a name that happens to look like one.
	for _, bu := range units {
		if bu.ID == key {
			return BusinessUnit(bu), nil
		}
	}
	for _, bu := range units {
		if strings.EqualFold(bu.Name, key) {
			return BusinessUnit(bu), nil
		}
	}
	return BusinessUnit{}, notFoundf("no business unit is named or has the ID %q; list them with BusinessUnits (GET /_emulator/businessunits)", nameOrID)
}

// BusinessUnits lists the business units, the root first, then by name.
func (e *Emulator) BusinessUnits(ctx context.Context) ([]BusinessUnit, error) {
	units, err := e.store.BusinessUnits(ctx)
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	out := make([]BusinessUnit, 0, len(units))
	for _, bu := range units {
		out = append(out, BusinessUnit(bu))
	}
	return out, nil
}

// SetBusinessUnitEnabled disables or enables a business unit, by name or ID, as "Disable" and
// "Enable" on a business unit in the Power Platform admin center do.
//
// Disabling also disables every business unit under it, at any depth, as Dataverse documents;
// the users of all of them can no longer use the service: each Web API request of their
// application users gets 403 0x80040225, the disabled-user answer, whose message (and the
// request log's reason) says "the business unit '<name>' … is disabled". Impersonating such a
// user fails the same way. Enabling enables the business unit and everything under it again
// [unverified: CRM documented this for its Enable method; Dataverse's documentation is silent],
// and their users' next requests succeed; enabling an enabled business unit changes nothing
// (the units under it stay as they are).
//
// The root business unit (the organization's own) cannot be disabled, and a business unit under
// a disabled parent cannot be enabled on its own (enable the parent): both are ErrInvalid. An
// unknown business unit is ErrNotFound. Reset returns every business unit to its seeded state.
func (e *Emulator) SetBusinessUnitEnabled(ctx context.Context, nameOrID string, enabled bool) error {
	bu, err := e.BusinessUnit(ctx, nameOrID)
	if err != nil {
		return err
	}
	if !enabled && bu.ParentID == "" {
		return invalidf("business unit %q is the root business unit, the organization's own, which cannot be disabled (Dataverse: \"Root Business unit cannot be disabled.\"); disable a business unit under it, or the application user itself (SetApplicationUserEnabled)", bu.Name)
	}
	if enabled && bu.ParentID != "" {
		parent, err := e.BusinessUnit(ctx, bu.ParentID)
		if err != nil {
			return err
		}
		if parent.Disabled {
			return invalidf("business unit %q is under %q, which is disabled: enable %q instead (that enables the business units under it too)", bu.Name, parent.Name, parent.Name)
		}
	}
	return fromStore(e.store.SetBusinessUnitDisabled(ctx, bu.ID, !enabled))
}
