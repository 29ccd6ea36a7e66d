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
}

// CreateBusinessUnit creates a business unit under parent (a business unit's name or ID; empty
// means the root business unit). Names are unique: a taken name is ErrConflict.
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
