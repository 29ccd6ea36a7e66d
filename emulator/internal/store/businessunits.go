package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// BusinessUnit is a business unit of the organization.
type BusinessUnit struct {
	ID, Name string
	// ParentID is the parent business unit; "" for the root business unit.
	ParentID string
	// Disabled mirrors businessunit.isdisabled.
	Disabled bool
}

// BusinessUnits lists the business units, the root first, then by name.
func (s *Store) BusinessUnits(ctx context.Context) ([]BusinessUnit, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT "businessunitid", "name", "parentbusinessunitid", "isdisabled" FROM "businessunit"
		ORDER BY "parentbusinessunitid" IS NOT NULL, "name", "businessunitid"`)
	if err != nil {
		return nil, fmt.Errorf("store: list business units: %w", err)
	}
	defer rows.Close()
	var out []BusinessUnit
	for rows.Next() {
		var bu BusinessUnit
		var parent sql.NullString
		var disabled sql.NullInt64
		if err := rows.Scan(&bu.ID, &bu.Name, &parent, &disabled); err != nil {
			return nil, fmt.Errorf("store: list business units: %w", err)
		}
		bu.ParentID = parent.String
		bu.Disabled = disabled.Int64 != 0
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
			return &Error{Kind: KindDuplicate, Message: fmt.Sprintf("A business unit named '%s' already exists.", name)}
		}
		// Every descendant of a disabled business unit is disabled with it;
		// a new child of one would break that.
		var parentDisabled sql.NullInt64
		err := tx.tx.QueryRowContext(ctx, `SELECT "isdisabled" FROM "businessunit" WHERE "businessunitid" = ?`, parent.String()).Scan(&parentDisabled)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("businessunit", parent.String())
		}
		if err != nil {
			return fmt.Errorf("store: find business unit %s: %w", parent, err)
		}
		if parentDisabled.Int64 != 0 {
			return errBusinessNotEnabled()
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

// rootBusinessUnitCannotBeDisabled is the message of Dataverse's
// RootBusinessUnitCannotBeDisabled; a business unit created under a
// disabled parent is ReasonBusinessUnitDisabled (BusinessNotEnabled).
// Where Dataverse raises them is [unverified].
const rootBusinessUnitCannotBeDisabled = "Root Business unit cannot be disabled."

func errBusinessNotEnabled() *Error {
	return &Error{Kind: KindValidation, Reason: ReasonBusinessUnitDisabled, Message: "The specified business unit is disabled."}
}

// SetBusinessUnitDisabled disables or enables a business unit
// (businessunit.isdisabled) and, as Dataverse documents for disabling,
// every business unit under it, at any depth; enabling a disabled unit
// enables them all again, as CRM's BizMerchant.Enable documented
// [unverified for today's Dataverse], and enabling an enabled one changes
// nothing. Users of a disabled business unit cannot use the service
// (see ApplicationUser). The root business unit cannot be disabled, and a
// business unit under a disabled parent cannot be enabled on its own:
// both are KindValidation. An unknown business unit is KindNotFound.
func (s *Store) SetBusinessUnitDisabled(ctx context.Context, businessUnitID string, disabled bool) error {
	id, err := uuid.Parse(businessUnitID)
	if err != nil {
		return fmt.Errorf("store: business unit id %q is not a GUID", businessUnitID)
	}
	if disabled && id.String() == s.org.BusinessUnitID {
		return validationf(rootBusinessUnitCannotBeDisabled)
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		var parent, parentName sql.NullString
		var isDisabled, parentDisabled sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT b."isdisabled", b."parentbusinessunitid", p."name", p."isdisabled" FROM "businessunit" b
			LEFT JOIN "businessunit" p ON p."businessunitid" = b."parentbusinessunitid" WHERE b."businessunitid" = ?`, id.String()).
			Scan(&isDisabled, &parent, &parentName, &parentDisabled)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("businessunit", id.String())
		}
		if err != nil {
			return fmt.Errorf("store: find business unit %s: %w", id, err)
		}
		if disabled && !parent.Valid {
			return validationf(rootBusinessUnitCannotBeDisabled)
		}
		if !disabled && isDisabled.Int64 == 0 {
			// Enabling an enabled unit leaves the units under it as they
			// are: only a disabled unit's enabling reaches them.
			return nil
		}
		if !disabled && parentDisabled.Int64 != 0 {
			return validationf("The parent business unit '%s' is disabled, and so is every business unit under it. Enable '%s' instead.", parentName.String, parentName.String)
		}
		// The unit and its descendants; a parent loop (which only a raw
		// write could make) ends at the depth bound.
		rows, err := tx.QueryContext(ctx, `WITH RECURSIVE sub("id", "depth") AS (
				SELECT ?, 0 UNION
				SELECT b."businessunitid", sub."depth" + 1 FROM "businessunit" b JOIN sub ON b."parentbusinessunitid" = sub."id"
				WHERE sub."depth" < ?)
			SELECT DISTINCT "id" FROM sub`, id.String(), maxBusinessUnitDepth)
		if err != nil {
			return fmt.Errorf("store: list business units under %s: %w", id, err)
		}
		var ids []string
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return fmt.Errorf("store: list business units under %s: %w", id, err)
			}
			ids = append(ids, u)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: list business units under %s: %w", id, err)
		}
		flag := int64(0)
		if disabled {
			flag = 1
		}
		for _, u := range ids {
			// Each changed row takes a new version number, as any write.
			res, err := tx.ExecContext(ctx, `UPDATE "businessunit" SET "isdisabled" = ?,
				"versionnumber" = (SELECT "value" + 1 FROM "_dv_sequence" WHERE "name" = 'version')
				WHERE "businessunitid" = ? AND coalesce("isdisabled", 0) <> ?`, flag, u, flag)
			if err != nil {
				return fmt.Errorf("store: set business unit %s disabled: %w", u, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // already so
			}
			if _, err := tx.ExecContext(ctx, `UPDATE "_dv_sequence" SET "value" = "value" + 1 WHERE "name" = 'version'`); err != nil {
				return fmt.Errorf("store: set business unit %s disabled: %w", u, err)
			}
		}
		return nil
	})
}

// maxBusinessUnitDepth bounds walks of the business unit tree, so that a
// parent loop cannot make them endless.
const maxBusinessUnitDepth = 1000
