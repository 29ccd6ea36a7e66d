package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// finish completes a row before it is written: state and status, computed
// columns, ownership, lookups (existence and Append/AppendTo privileges),
// the currency of money values and required columns.
func (tx *Tx) finish(ctx context.Context, p *Principal, r *rowState, creating bool) error {
	t := r.t
	if !creating {
		for c := range r.changed {
			if requiredCheck(c) && r.values[c] == nil {
				return requiredNulled(c)
			}
		}
	}
	if err := settleState(r, creating); err != nil {
		return err
	}
	for _, c := range t.Columns {
		if c.Formula == nil {
			continue
		}
		touched := creating
		for _, src := range c.Formula.Columns {
			if sc, _ := t.Column(src); r.changed[sc] {
				touched = true
			}
		}
		if touched {
			r.set(c, computeFullName(r, c.Formula))
		}
	}
	if owner := t.SystemColumn(schema.RoleOwnerID); owner != nil {
		if creating && r.values[owner] == nil {
			r.set(owner, Ref{Table: "systemuser", ID: p.UserID})
		}
		if r.changed[owner] {
			if err := tx.setOwner(ctx, p, r, owner); err != nil {
				return err
			}
		}
	}
	appendChecked := false
	for _, c := range t.Columns {
		if !c.IsLookup() || !r.changed[c] || c.Role != schema.RoleNone {
			continue
		}
		ref, _ := r.values[c].(Ref)
		if c.TypeColumn != "" {
			typeCol, _ := t.Column(c.TypeColumn)
			if r.values[c] == nil {
				r.set(typeCol, nil)
			} else {
				r.set(typeCol, ref.Table)
			}
		}
		if r.values[c] == nil {
			continue
		}
		target, ok := tx.s.schema.Table(ref.Table)
		if !ok {
			return validationf("A validation error occurred.  The lookup '%s' references unknown table '%s'.", c.LogicalName, ref.Table)
		}
		if err := tx.requireRow(ctx, target, ref.ID); err != nil {
			return err
		}
		if !appendChecked {
			if _, err := tx.s.Require(p, VerbAppend, t); err != nil {
				return err
			}
			appendChecked = true
		}
		if _, err := tx.s.Require(p, VerbAppendTo, target); err != nil {
			return err
		}
	}
	if err := tx.defaultCurrency(ctx, r); err != nil {
		return err
	}
	for _, c := range t.Columns {
		if !requiredCheck(c) {
			continue
		}
		if (creating && c.ValidForCreate || r.changed[c]) && r.values[c] == nil {
			return requiredMissing(c)
		}
	}
	return nil
}

// requiredCheck reports whether c is a SystemRequired column whose value
// comes from the caller (ordinary columns, the owner, the state), so that
// a missing or null value is the caller's mistake. Columns the store
// fills on its own are not checked.
func requiredCheck(c *schema.Column) bool {
	if c.RequiredLevel != schema.RequiredSystem || c.Formula != nil || c.Internal {
		return false
	}
	switch c.Role {
	case schema.RoleNone, schema.RoleOwnerID, schema.RoleStateCode, schema.RoleStatusCode:
		return true
	}
	return false
}

// settleState makes statecode and statuscode agree: a state without a
// status gets the state's default status, a status without a state moves
// the row to the status's state, a status of another state than the one
// given is refused, and a new row starts in the first state.
func settleState(r *rowState, creating bool) error {
	state := r.t.SystemColumn(schema.RoleStateCode)
	status := r.t.SystemColumn(schema.RoleStatusCode)
	if state == nil || status == nil {
		return nil
	}
	stateGiven := r.changed[state] && r.values[state] != nil
	statusValue, statusGiven := r.values[status].(int64)
	statusGiven = statusGiven && r.changed[status]
	// A status set to null falls back to the state's default status.
	statusNulled := r.changed[status] && r.values[status] == nil
	if creating && r.values[state] == nil {
		r.set(state, int64(state.OptionSet.Options[0].Value))
	}
	stateVal, _ := r.values[state].(int64)
	if statusGiven {
		o, _ := status.OptionSet.Option(int(statusValue))
		if int64(o.State) == stateVal {
			return nil
		}
		if stateGiven {
			return &Error{Kind: KindValidation, Reason: ReasonInvalidStateTransition, Message: fmt.Sprintf(
				"%d is not a valid status code for state code %sState.%s on %s with Id %v.",
				o.Value, r.t.SchemaName, state.OptionSet.Label(int(stateVal)), r.t.LogicalName, r.values[r.t.PrimaryID()])}
		}
		r.set(state, int64(o.State))
		return nil
	}
	if stateGiven || statusNulled || (creating && r.values[status] == nil) {
		o, _ := state.OptionSet.Option(int(stateVal))
		r.set(status, int64(o.DefaultStatus))
	}
	return nil
}

func computeFullName(r *rowState, f *schema.Formula) any {
	var parts []string
	for _, name := range f.Columns {
		if s, _ := r.get(name).(string); strings.TrimSpace(s) != "" {
			parts = append(parts, strings.TrimSpace(s))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return strings.Join(parts, " ")
}

// setOwner fills owneridtype, owninguser, owningteam and
// owningbusinessunit from ownerid.
func (tx *Tx) setOwner(ctx context.Context, p *Principal, r *rowState, owner *schema.Column) error {
	ref, ok := r.values[owner].(Ref)
	if !ok {
		return requiredNulled(owner)
	}
	t := r.t
	target, ok := tx.s.schema.Table(ref.Table)
	if !ok {
		return validationf("A validation error occurred.  The lookup '%s' references unknown table '%s'.", owner.LogicalName, ref.Table)
	}
	var bu sql.NullString
	if ref.Table == "systemuser" && ref.ID == p.UserID {
		bu = sql.NullString{String: p.BusinessUnitID.String(), Valid: true}
	} else {
		err := tx.queryRow(ctx, "SELECT "+quoteIdent("businessunitid")+" FROM "+quoteIdent(target.LogicalName)+
			" WHERE "+quoteIdent(target.PrimaryID().LogicalName)+" = ?", ref.ID.String()).Scan(&bu)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(target.LogicalName, ref.ID.String())
		}
		if err != nil {
			return fmt.Errorf("store: read owner: %w", err)
		}
	}
	if c := t.SystemColumn(schema.RoleOwnerIDType); c != nil {
		r.set(c, ref.Table)
	}
	user, team := t.SystemColumn(schema.RoleOwningUser), t.SystemColumn(schema.RoleOwningTeam)
	if ref.Table == "systemuser" {
		r.set(user, Ref{Table: "systemuser", ID: ref.ID})
		r.set(team, nil)
	} else {
		r.set(user, nil)
		r.set(team, Ref{Table: "team", ID: ref.ID})
	}
	if c := t.SystemColumn(schema.RoleOwningBusinessUnit); c != nil {
		if id, err := uuid.Parse(bu.String); err == nil {
			r.set(c, Ref{Table: "businessunit", ID: id})
		}
	}
	return nil
}

// requireRow fails with Dataverse's not-found error when t has no row id.
func (tx *Tx) requireRow(ctx context.Context, t *schema.Table, id uuid.UUID) error {
	var n int
	if err := tx.queryRow(ctx, "SELECT count(*) FROM "+quoteIdent(t.LogicalName)+" WHERE "+
		quoteIdent(t.PrimaryID().LogicalName)+" = ?", id.String()).Scan(&n); err != nil {
		return fmt.Errorf("store: read %s: %w", t.LogicalName, err)
	}
	if n == 0 {
		return notFound(t.LogicalName, id.String())
	}
	return nil
}

// defaultCurrency gives a row with a money value the organization's base
// currency and exchange rate 1 when it has no currency, as Dataverse does.
func (tx *Tx) defaultCurrency(ctx context.Context, r *rowState) error {
	cur, ok := r.t.Column("transactioncurrencyid")
	if !ok || !cur.IsLookup() || r.values[cur] != nil || tx.s.org.CurrencyID == "" {
		return nil
	}
	hasMoney := false
	for c := range r.changed {
		if c.Type == schema.TypeMoney && r.values[c] != nil {
			hasMoney = true
		}
	}
	if !hasMoney {
		return nil
	}
	id, err := uuid.Parse(tx.s.org.CurrencyID)
	if err != nil {
		return nil
	}
	r.set(cur, Ref{Table: "transactioncurrency", ID: id})
	if rate, ok := r.t.Column("exchangerate"); ok && rate.Type == schema.TypeDecimal {
		one, _ := ParseDecimal("1", rate.Scale())
		r.set(rate, one)
	}
	return nil
}

// setSystem writes createdon/modifiedon, createdby/modifiedby, the
// on-behalf-of columns and versionnumber.
func (tx *Tx) setSystem(r *rowState, p *Principal, now any, version int64, creating bool) {
	t := r.t
	// Boxed once for the two columns that share it.
	var user any = Ref{Table: "systemuser", ID: p.UserID}
	var delegate any
	if p.CallerID != uuid.Nil {
		delegate = Ref{Table: "systemuser", ID: p.CallerID}
	}
	if creating {
		setIf(r, t.SystemColumn(schema.RoleCreatedOn), now)
		setIf(r, t.SystemColumn(schema.RoleCreatedBy), user)
		setIf(r, t.SystemColumn(schema.RoleCreatedOnBehalfBy), delegate)
	}
	setIf(r, t.SystemColumn(schema.RoleModifiedOn), now)
	setIf(r, t.SystemColumn(schema.RoleModifiedBy), user)
	setIf(r, t.SystemColumn(schema.RoleModifiedOnBehalfBy), delegate)
	setIf(r, t.SystemColumn(schema.RoleVersionNumber), version)
}

func setIf(r *rowState, c *schema.Column, v any) {
	if c != nil {
		r.set(c, v)
	}
}
