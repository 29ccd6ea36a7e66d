package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// BusinessUnit is a business unit of the organization.
type BusinessUnit struct {
	ID, Name string
	// ParentID is the parent business unit; "" for the root business unit.
	ParentID string
}

// BusinessUnits lists the business units, the root first, then by name.
func (s *Store) BusinessUnits(ctx context.Context) ([]BusinessUnit, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT "businessunitid", "name", "parentbusinessunitid" FROM "businessunit"
		ORDER BY "parentbusinessunitid" IS NOT NULL, "name", "businessunitid"`)
	if err != nil {
		return nil, fmt.Errorf("store: list business units: %w", err)
	}
	defer rows.Close()
	var out []BusinessUnit
	for rows.Next() {
		var bu BusinessUnit
		var parent sql.NullString
		if err := rows.Scan(&bu.ID, &bu.Name, &parent); err != nil {
			return nil, fmt.Errorf("store: list business units: %w", err)
		}
		bu.ParentID = parent.String
		out = append(out, bu)
	}
	return out, rows.Err()
}

// CreateBusinessUnit creates a business unit under parentID ("" means the
// root business unit), as SYSTEM. Names are unique (compared ignoring
// case): a taken name is KindDuplicate [unverified: Dataverse's own check
// and message], an unknown parent KindNotFound.
func (s *Store) CreateBusinessUnit(ctx context.Context, name, parentID string) (BusinessUnit, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return BusinessUnit{}, validationf("A validation error occurred.  A value for the 'name' attribute of the 'businessunit' entity is required.")
	}
	if parentID == "" {
		parentID = s.org.BusinessUnitID
	}
	parent, err := uuid.Parse(parentID)
	if err != nil {
		return BusinessUnit{}, fmt.Errorf("store: business unit id %q is not a GUID", parentID)
	}
	t, ok := s.schema.Table("businessunit")
	if !ok {
		return BusinessUnit{}, fmt.Errorf("store: the schema lacks the built-in table businessunit")
	}
	nameCol, _ := t.Column("name")
	parentCol, _ := t.Column("parentbusinessunitid")
	var bu BusinessUnit
	err = s.asSystem(ctx, func(tx *Tx, sys *Principal) error {
		var n int
		// The text collation of "name" ignores case.
		if err := tx.tx.QueryRowContext(ctx, `SELECT count(*) FROM "businessunit" WHERE "name" = ?`, name).Scan(&n); err != nil {
			return fmt.Errorf("store: find business unit %q: %w", name, err)
		}
		if n > 0 {
			return &Error{Kind: KindDuplicate, Code: CodeDuplicateRecord, Message: fmt.Sprintf("A business unit named '%s' already exists.", name)}
		}
		w, err := tx.Create(ctx, sys, t, []Field{
			{Column: nameCol, Value: name},
			{Column: parentCol, Value: Ref{Table: "businessunit", ID: parent}},
		})
		if err != nil {
			return err
		}
		bu = BusinessUnit{ID: w.ID.String(), Name: name, ParentID: parent.String()}
		return nil
	})
	return bu, err
}
