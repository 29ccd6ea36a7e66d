package emulator

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/store"
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
	parentBU := BusinessUnit{ID: e.store.Organization().BusinessUnitID}
	if strings.TrimSpace(parent) != "" {
		var err error
		if parentBU, err = e.BusinessUnit(ctx, parent); err != nil {
			return BusinessUnit{}, err
		}
	}
	sys, err := e.system(ctx)
	if err != nil {
		return BusinessUnit{}, err
	}
	t, _ := e.store.Schema().Table("businessunit")
	nameCol, _ := t.Column("name")
	parentCol, _ := t.Column("parentbusinessunitid")
	w, err := e.store.Create(ctx, sys, t, []store.Field{
		{Column: nameCol, Value: name},
		{Column: parentCol, Value: store.Ref{Table: "businessunit", ID: uuid.MustParse(parentBU.ID)}},
	})
	if err != nil {
		return BusinessUnit{}, fromStore(err)
	}
	return BusinessUnit{ID: w.ID.String(), Name: name, ParentID: parentBU.ID}, nil
}

// BusinessUnit returns the business unit with the given name or ID.
func (e *Emulator) BusinessUnit(ctx context.Context, nameOrID string) (BusinessUnit, error) {
	key := strings.TrimSpace(nameOrID)
	if id, err := uuid.Parse(key); err == nil {
		key = id.String()
	}
	var bu BusinessUnit
	var parent sql.NullString
	err := e.store.DB().QueryRowContext(ctx, `SELECT "businessunitid", "name", "parentbusinessunitid" FROM "businessunit"
		WHERE "businessunitid" = ?1 OR "name" = ?1 ORDER BY "businessunitid" = ?1 DESC LIMIT 1`, key).Scan(&bu.ID, &bu.Name, &parent)
	if isNoRows(err) {
		return BusinessUnit{}, notFoundf("no business unit is named or has the ID %q; list them with BusinessUnits (GET /_emulator/businessunits)", nameOrID)
	}
	if err != nil {
		return BusinessUnit{}, fmt.Errorf("emulator: look up business unit %q: %w", nameOrID, err)
	}
	bu.ParentID = parent.String
	return bu, nil
}

// BusinessUnits lists the business units, the root first, then by name.
func (e *Emulator) BusinessUnits(ctx context.Context) ([]BusinessUnit, error) {
	rows, err := e.store.DB().QueryContext(ctx, `SELECT "businessunitid", "name", "parentbusinessunitid" FROM "businessunit"
		ORDER BY "parentbusinessunitid" IS NOT NULL, "name"`)
	if err != nil {
		return nil, fmt.Errorf("emulator: list business units: %w", err)
	}
	defer rows.Close()
	var out []BusinessUnit
	for rows.Next() {
		var bu BusinessUnit
		var parent sql.NullString
		if err := rows.Scan(&bu.ID, &bu.Name, &parent); err != nil {
			return nil, fmt.Errorf("emulator: list business units: %w", err)
		}
		bu.ParentID = parent.String
		out = append(out, bu)
	}
	return out, rows.Err()
}
