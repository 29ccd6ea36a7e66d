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
		for _, c := range t.Columns {
			if r.isChanged(c) && requiredCheck(c) && r.value(c) == nil {
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
			if sc, _ := t.Column(src); r.isChanged(sc) {
				touched = true
			}
		}
		if touched {
			r.set(c, computeFullName(r, c.Formula))
		}
	}
	if owner := t.SystemColumn(schema.RoleOwnerID); owner != nil {
		if creating && r.value(owner) == nil {
			r.set(owner, Ref{Table: "systemuser", ID: p.UserID})
		}
		if r.isChanged(owner) {
			if err := tx.setOwner(ctx, p, r, owner); err != nil {
				return err
			}
		}
	}
	appendChecked := false
	for _, c := range t.Columns {
		if !c.IsLookup() || !r.isChanged(c) || c.Role != schema.RoleNone {
			continue
		}
		ref, _ := r.value(c).(Ref)
		if c.TypeColumn != "" {
			typeCol, _ := t.Column(c.TypeColumn)
			if r.value(c) == nil {
				r.set(typeCol, nil)
			} else {
				r.set(typeCol, ref.Table)
			}
		}
		if r.value(c) == nil {
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
		if (creating && c.ValidForCreate || r.isChanged(c)) && r.value(c) == nil {
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
	stateGiven := r.isChanged(state) && r.value(state) != nil
	statusValue, statusGiven := r.value(status).(int64)
	statusGiven = statusGiven && r.isChanged(status)
	// A status set to null falls back to the state's default status.
	statusNulled := r.isChanged(status) && r.value(status) == nil
	if creating && r.value(state) == nil {
		r.set(state, int64(state.OptionSet.Options[0].Value))
	}
	stateVal, _ := r.value(state).(int64)
	if statusGiven {
		o, _ := status.OptionSet.Option(int(statusValue))
		if int64(o.State) == stateVal {
			return nil
		}
		if stateGiven {
			return &Error{Kind: KindValidation, Reason: ReasonInvalidStateTransition, Message: fmt.Sprintf(
				"%d is not a valid status code for state code %sState.%s on %s with Id %v.",
				o.Value, r.t.SchemaName, state.OptionSet.Label(int(stateVal)), r.t.LogicalName, r.value(r.t.PrimaryID()))}
		}
		r.set(state, int64(o.State))
		return nil
	}
	if stateGiven || statusNulled || (creating && r.value(status) == nil) {
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
	ref, ok := r.value(owner).(Ref)
	if !ok {
		return requiredNulled(owner)
	}
	t := r.t
	target, ok := tx.s.schema.Table(ref.Table)
	if !ok {
		return validationf("A validation error occurred.  The lookup '%s' references unknown table '%s'.", owner.LogicalName, ref.Table)
	}
	bu := uuid.Nil
	if ref.Table == "systemuser" && ref.ID == p.UserID {
		bu = p.BusinessUnitID
	} else {
		var text sql.NullString
		err := tx.queryRow(ctx, "SELECT "+quoteIdent("businessunitid")+" FROM "+quoteIdent(target.LogicalName)+
			" WHERE "+quoteIdent(target.PrimaryID().LogicalName)+" = ?", ref.ID.String()).Scan(&text)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(target.LogicalName, ref.ID.String())
		}
		if err != nil {
			return fmt.Errorf("store: read owner: %w", err)
		}
		if id, err := uuid.Parse(text.String); err == nil {
			bu = id
		}
	}
	user, team := t.SystemColumn(schema.RoleOwningUser), t.SystemColumn(schema.RoleOwningTeam)
	if ref.Table == "systemuser" {
		r.set(t.SystemColumn(schema.RoleOwnerIDType), "systemuser") // a constant: no allocation
		r.set(user, tx.ins.boxRef(Ref{Table: "systemuser", ID: ref.ID}))
		r.set(team, nil)
	} else {
		r.set(t.SystemColumn(schema.RoleOwnerIDType), ref.Table)
		r.set(user, nil)
		r.set(team, tx.ins.boxRef(Ref{Table: "team", ID: ref.ID}))
	}
	if c := t.SystemColumn(schema.RoleOwningBusinessUnit); c != nil && bu != uuid.Nil {
		r.set(c, tx.ins.boxRef(Ref{Table: "businessunit", ID: bu}))
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
	if !ok || !cur.IsLookup() || r.value(cur) != nil || tx.s.org.currency == uuid.Nil {
		return nil
	}
	hasMoney := false
	for _, c := range r.t.Columns {
		if c.Type == schema.TypeMoney && r.isChanged(c) && r.value(c) != nil {
			hasMoney = true
			break
		}
	}
	if !hasMoney {
		return nil
	}
	r.set(cur, Ref{Table: "transactioncurrency", ID: tx.s.org.currency})
	if rate, ok := r.t.Column("exchangerate"); ok && rate.Type == schema.TypeDecimal {
		r.set(rate, decimalOne(rate.Scale()))
	}
	return nil
}

// setSystem writes createdon/modifiedon, createdby/modifiedby, the
// on-behalf-of columns and versionnumber.
func (tx *Tx) setSystem(r *rowState, p *Principal, now any, version int64, creating bool) {
	t := r.t
	user := tx.ins.boxRef(Ref{Table: "systemuser", ID: p.UserID})
	var delegate any
	if p.CallerID != uuid.Nil {
		delegate = tx.ins.boxRef(Ref{Table: "systemuser", ID: p.CallerID})
	}
	if creating {
		r.set(t.SystemColumn(schema.RoleCreatedOn), now)
		r.set(t.SystemColumn(schema.RoleCreatedBy), user)
		r.set(t.SystemColumn(schema.RoleCreatedOnBehalfBy), delegate)
	}
	r.set(t.SystemColumn(schema.RoleModifiedOn), now)
	r.set(t.SystemColumn(schema.RoleModifiedBy), user)
	r.set(t.SystemColumn(schema.RoleModifiedOnBehalfBy), delegate)
	r.set(t.SystemColumn(schema.RoleVersionNumber), version)
}
