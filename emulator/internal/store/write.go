package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Field is one column value of a create or update.
type Field struct {
	Column *schema.Column
	Value  any
}

// Match holds the preconditions of an update, upsert or delete (the
// If-Match and If-None-Match headers).
type Match struct {
	// IfMatchAny (If-Match: *) requires the row to exist: an upsert
	// becomes update-only.
	IfMatchAny bool
	// IfMatch (If-Match: W/"n", …) requires the row's version to be one of
	// these; it also makes an upsert update-only.
	IfMatch []int64
	// IfNoneMatchAny (If-None-Match: *) requires the row not to exist: an
	// upsert becomes create-only.
	IfNoneMatchAny bool
}

func (m Match) requiresExisting() bool { return m.IfMatchAny || len(m.IfMatch) > 0 }

// Written describes a row after a write.
type Written struct {
	ID      uuid.UUID
	Version int64
	// Created is true when the write created the row (create, or an
	// upsert that found no row).
	Created bool
}

// Create creates a row in its own transaction (see [Tx.Create]).
func (s *Store) Create(ctx context.Context, p *Principal, t *schema.Table, fields []Field) (w Written, err error) {
	err = s.Write(ctx, func(tx *Tx) error {
		w, err = tx.Create(ctx, p, t, fields)
		return err
	})
	return w, err
}

// Update updates a row in its own transaction (see [Tx.Update]).
func (s *Store) Update(ctx context.Context, p *Principal, t *schema.Table, id uuid.UUID, fields []Field, m Match) (w Written, err error) {
	err = s.Write(ctx, func(tx *Tx) error {
		w, err = tx.Update(ctx, p, t, id, fields, m)
		return err
	})
	return w, err
}

// Upsert creates or updates a row in its own transaction (see [Tx.Upsert]).
func (s *Store) Upsert(ctx context.Context, p *Principal, t *schema.Table, id uuid.UUID, fields []Field, m Match) (w Written, err error) {
	err = s.Write(ctx, func(tx *Tx) error {
		w, err = tx.Upsert(ctx, p, t, id, fields, m)
		return err
	})
	return w, err
}

// Delete deletes a row in its own transaction (see [Tx.Delete]).
func (s *Store) Delete(ctx context.Context, p *Principal, t *schema.Table, id uuid.UUID, m Match) error {
	return s.Write(ctx, func(tx *Tx) error { return tx.Delete(ctx, p, t, id, m) })
}

// Create inserts a row. The primary key comes from fields when given,
// otherwise a new one is generated. Columns not valid for create
// (createdon, fullname…) are ignored, as Dataverse ignores them; the store
// sets the system columns, defaults, the state and status, the owner (the
// caller unless ownerid is given) and computed columns. p needs the Create
// privilege, and Append/AppendTo for every lookup set.
func (tx *Tx) Create(ctx context.Context, p *Principal, t *schema.Table, fields []Field) (Written, error) {
	if _, err := tx.s.Require(p, VerbCreate, t); err != nil {
		return Written{}, err
	}
	return tx.insert(ctx, p, t, uuid.Nil, fields)
}

// Update changes a row. Columns not valid for update are ignored. p needs
// the Write privilege at a depth that reaches the row.
func (tx *Tx) Update(ctx context.Context, p *Principal, t *schema.Table, id uuid.UUID, fields []Field, m Match) (Written, error) {
	cur, err := tx.load(ctx, t, id)
	if err != nil {
		return Written{}, err
	}
	if err := m.check(cur.version); err != nil {
		return Written{}, err
	}
	return tx.update(ctx, p, t, cur, fields)
}

// Upsert updates the row with the given id, or creates it when there is
// none (PATCH semantics). With IfMatchAny or IfMatch it never creates (a
// missing row is not found); with IfNoneMatchAny it never updates (an
// existing row is a duplicate).
func (tx *Tx) Upsert(ctx context.Context, p *Principal, t *schema.Table, id uuid.UUID, fields []Field, m Match) (Written, error) {
	cur, err := tx.load(ctx, t, id)
	switch {
	case KindOf(err) == KindNotFound:
		if m.requiresExisting() {
			return Written{}, err
		}
		if _, err := tx.s.Require(p, VerbCreate, t); err != nil {
			return Written{}, err
		}
		return tx.insert(ctx, p, t, id, fields)
	case err != nil:
		return Written{}, err
	}
	if m.IfNoneMatchAny {
		return Written{}, duplicateError()
	}
	if err := m.check(cur.version); err != nil {
		return Written{}, err
	}
	return tx.update(ctx, p, t, cur, fields)
}

// Delete deletes a row, applying each relationship's cascade: rows that
// reference it through a Cascade relationship are deleted too, RemoveLink
// lookups are cleared, and a Restrict relationship still in use refuses
// the delete. N:N associations of the row are removed.
func (tx *Tx) Delete(ctx context.Context, p *Principal, t *schema.Table, id uuid.UUID, m Match) error {
	cur, err := tx.load(ctx, t, id)
	if err != nil {
		return err
	}
	if err := m.check(cur.version); err != nil {
		return err
	}
	depth, err := tx.s.Require(p, VerbDelete, t)
	if err != nil {
		return err
	}
	if ok, err := tx.s.reaches(ctx, tx.tx, p, depth, cur.own); err != nil {
		return err
	} else if !ok {
		return recordAccessError(p, VerbDelete, t, id.String())
	}
	version, err := tx.nextVersion(ctx)
	if err != nil {
		return err
	}
	return tx.deleteCascade(ctx, t, id.String(), version, map[string]bool{})
}

func (m Match) check(version int64) error {
	if len(m.IfMatch) > 0 && !slices.Contains(m.IfMatch, version) {
		return concurrencyError()
	}
	return nil
}

func concurrencyError() *Error {
	return &Error{Kind: KindConcurrency, Code: CodeConcurrencyVersionMismatch,
		Message: "The version of the existing record doesn't match the RowVersion property provided."}
}

func duplicateError() *Error {
	return &Error{Kind: KindDuplicate, Code: CodeDuplicateRecord, Message: "A record with matching key values already exists."}
}

// current is a row as loaded for a write.
type current struct {
	id      uuid.UUID
	values  map[*schema.Column]any
	version int64
	own     ownership
}

// load reads every column of a row.
func (tx *Tx) load(ctx context.Context, t *schema.Table, id uuid.UUID) (*current, error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.LogicalName))
	}
	b.WriteString(" FROM " + quoteIdent(t.LogicalName) + " WHERE " + quoteIdent(t.PrimaryID().LogicalName) + " = ?")
	raw := make([]any, len(t.Columns))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	err := tx.tx.QueryRowContext(ctx, b.String(), id.String()).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(t.LogicalName, id.String())
	}
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", t.LogicalName, err)
	}
	cur := &current{id: id, values: make(map[*schema.Column]any, len(t.Columns))}
	byName := make(map[string]any, len(raw))
	for i, c := range t.Columns {
		byName[c.LogicalName] = raw[i]
	}
	for i, c := range t.Columns {
		typeName := ""
		if c.TypeColumn != "" {
			typeName = asStringOrEmpty(byName[c.TypeColumn])
		}
		v, err := goValue(c, raw[i], typeName)
		if err != nil {
			return nil, err
		}
		cur.values[c] = v
	}
	if v := t.SystemColumn(schema.RoleVersionNumber); v != nil {
		cur.version, _ = cur.values[v].(int64)
	}
	cur.own = rowOwnership(t, byName)
	return cur, nil
}

func asStringOrEmpty(raw any) string {
	if raw == nil {
		return ""
	}
	return asString(raw)
}

// rowOwnership extracts who owns a row from its raw column values.
func rowOwnership(t *schema.Table, raw map[string]any) ownership {
	var o ownership
	if c := t.SystemColumn(schema.RoleOwningUser); c != nil {
		o.user = asStringOrEmpty(raw[c.LogicalName])
	}
	if c := t.SystemColumn(schema.RoleOwningTeam); c != nil {
		o.team = asStringOrEmpty(raw[c.LogicalName])
	}
	if c := businessUnitColumn(t); c != nil {
		o.businessUnit = asStringOrEmpty(raw[c.LogicalName])
	}
	if t.LogicalName == "systemuser" {
		o.user = asStringOrEmpty(raw[t.PrimaryID().LogicalName])
	}
	return o
}

// nextVersion returns a new version number, greater than any before it.
func (tx *Tx) nextVersion(ctx context.Context) (int64, error) {
	var v int64
	err := tx.tx.QueryRowContext(ctx, `UPDATE "_dv_sequence" SET "value" = "value" + 1 WHERE "name" = 'version' RETURNING "value"`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: next version: %w", err)
	}
	return v, nil
}

// rowState is a row being written.
type rowState struct {
	t       *schema.Table
	values  map[*schema.Column]any
	changed map[*schema.Column]bool
}

func (r *rowState) set(c *schema.Column, v any) {
	r.values[c] = v
	r.changed[c] = true
}

func (r *rowState) get(name string) any {
	c, ok := r.t.Column(name)
	if !ok {
		return nil
	}
	return r.values[c]
}

// apply validates fields and writes those valid for the operation into r.
// It returns the primary key given in the fields, if any.
func applyFields(r *rowState, fields []Field, creating bool) (uuid.UUID, error) {
	var id uuid.UUID
	for _, f := range fields {
		c := f.Column
		if c == nil || c.Table != r.t {
			return uuid.Nil, fmt.Errorf("store: field for %v is not a column of %s", c, r.t.LogicalName)
		}
		switch c.Role {
		case schema.RoleNone, schema.RoleOwnerID, schema.RoleStateCode, schema.RoleStatusCode:
		case schema.RolePrimaryID:
			if creating && f.Value != nil {
				v, err := checkValue(c, f.Value)
				if err != nil {
					return uuid.Nil, err
				}
				id = v.(uuid.UUID)
			}
			continue
		default:
			continue // maintained by the store
		}
		if c.Internal || c.Formula != nil || (creating && !c.ValidForCreate) || (!creating && !c.ValidForUpdate) {
			continue
		}
		v, err := checkValue(c, f.Value)
		if err != nil {
			return uuid.Nil, err
		}
		r.set(c, v)
	}
	return id, nil
}

func (tx *Tx) insert(ctx context.Context, p *Principal, t *schema.Table, id uuid.UUID, fields []Field) (Written, error) {
	r := &rowState{t: t, values: map[*schema.Column]any{}, changed: map[*schema.Column]bool{}}
	given, err := applyFields(r, fields, true)
	if err != nil {
		return Written{}, err
	}
	if id == uuid.Nil {
		id = given
	}
	if id == uuid.Nil {
		id, err = uuid.NewV7()
		if err != nil {
			return Written{}, err
		}
	} else {
		var n int
		if err := tx.tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(t.LogicalName)+" WHERE "+
			quoteIdent(t.PrimaryID().LogicalName)+" = ?", id.String()).Scan(&n); err != nil {
			return Written{}, err
		}
		if n > 0 {
			return Written{}, duplicateError()
		}
	}
	r.set(t.PrimaryID(), id)
	for _, c := range t.Columns {
		if _, given := r.values[c]; given || c.Default == nil || c.Role != schema.RoleNone {
			continue
		}
		if c.Type == schema.TypeBoolean {
			r.set(c, *c.Default != 0)
		} else {
			r.set(c, *c.Default)
		}
	}
	if c, ok := t.Column("businessunitid"); ok && t.Ownership == schema.OwnershipBusiness && r.values[c] == nil && c.IsLookup() {
		r.set(c, Ref{Table: "businessunit", ID: p.BusinessUnitID})
	}
	if err := tx.finish(ctx, p, r, true); err != nil {
		return Written{}, err
	}
	now := tx.s.nowUTC()
	version, err := tx.nextVersion(ctx)
	if err != nil {
		return Written{}, err
	}
	tx.setSystem(r, p, now, version, true)
	var cols, marks []string
	var args []any
	for _, c := range t.Columns {
		v, ok := r.values[c]
		if !ok || v == nil {
			continue
		}
		sv, err := sqlValue(c, v)
		if err != nil {
			return Written{}, err
		}
		cols = append(cols, quoteIdent(c.LogicalName))
		marks = append(marks, "?")
		args = append(args, sv)
	}
	tx.touch(t.LogicalName)
	stmt := "INSERT INTO " + quoteIdent(t.LogicalName) + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	if _, err := tx.tx.ExecContext(ctx, stmt, args...); err != nil {
		if isUniqueViolation(err) {
			return Written{}, duplicateError()
		}
		return Written{}, fmt.Errorf("store: insert into %s: %w", t.LogicalName, err)
	}
	return Written{ID: id, Version: version, Created: true}, nil
}

func (tx *Tx) update(ctx context.Context, p *Principal, t *schema.Table, cur *current, fields []Field) (Written, error) {
	depth, err := tx.s.Require(p, VerbWrite, t)
	if err != nil {
		return Written{}, err
	}
	if ok, err := tx.s.reaches(ctx, tx.tx, p, depth, cur.own); err != nil {
		return Written{}, err
	} else if !ok {
		return Written{}, recordAccessError(p, VerbWrite, t, cur.id.String())
	}
	r := &rowState{t: t, values: cur.values, changed: map[*schema.Column]bool{}}
	before := make(map[*schema.Column]any, len(fields))
	for _, f := range fields {
		if f.Column != nil {
			before[f.Column] = cur.values[f.Column]
		}
	}
	if _, err := applyFields(r, fields, false); err != nil {
		return Written{}, err
	}
	// A value written unchanged is not a change of owner or lookup.
	for c := range r.changed {
		if c.IsLookup() && refEqual(before[c], r.values[c]) {
			delete(r.changed, c)
		}
	}
	if owner := t.SystemColumn(schema.RoleOwnerID); owner != nil && r.changed[owner] {
		if _, err := tx.s.Require(p, VerbAssign, t); err != nil {
			return Written{}, err
		}
	}
	if err := tx.finish(ctx, p, r, false); err != nil {
		return Written{}, err
	}
	version, err := tx.nextVersion(ctx)
	if err != nil {
		return Written{}, err
	}
	tx.setSystem(r, p, tx.s.nowUTC(), version, false)
	var sets []string
	var args []any
	for _, c := range t.Columns {
		if !r.changed[c] {
			continue
		}
		sv, err := sqlValue(c, r.values[c])
		if err != nil {
			return Written{}, err
		}
		sets = append(sets, quoteIdent(c.LogicalName)+" = ?")
		args = append(args, sv)
	}
	args = append(args, cur.id.String())
	tx.touch(t.LogicalName)
	stmt := "UPDATE " + quoteIdent(t.LogicalName) + " SET " + strings.Join(sets, ", ") + " WHERE " + quoteIdent(t.PrimaryID().LogicalName) + " = ?"
	if _, err := tx.tx.ExecContext(ctx, stmt, args...); err != nil {
		if isUniqueViolation(err) {
			return Written{}, duplicateError()
		}
		return Written{}, fmt.Errorf("store: update %s: %w", t.LogicalName, err)
	}
	return Written{ID: cur.id, Version: version}, nil
}

func refEqual(a, b any) bool {
	ra, okA := a.(Ref)
	rb, okB := b.(Ref)
	if !okA || !okB {
		return a == nil && b == nil
	}
	return ra == rb
}

// finish completes a row before it is written: state and status, computed
// columns, ownership, lookups (existence and Append/AppendTo privileges),
// the currency of money values and required columns.
func (tx *Tx) finish(ctx context.Context, p *Principal, r *rowState, creating bool) error {
	t := r.t
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
		if c.RequiredLevel != schema.RequiredSystem || c.Role != schema.RoleNone || c.Formula != nil {
			continue
		}
		if (creating && c.ValidForCreate || r.changed[c]) && r.values[c] == nil {
			return &Error{Kind: KindValidation, Code: CodeRequiredMissing, Message: fmt.Sprintf(
				"A validation error occurred.  A value for the '%s' attribute of the '%s' entity is required.", c.LogicalName, t.LogicalName)}
		}
	}
	return nil
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
	statusGiven := r.changed[status] && r.values[status] != nil
	if creating && r.values[state] == nil {
		r.set(state, int64(state.OptionSet.Options[0].Value))
	}
	stateVal, _ := r.values[state].(int64)
	if statusGiven {
		o, _ := status.OptionSet.Option(int(r.values[status].(int64)))
		if int64(o.State) == stateVal {
			return nil
		}
		if stateGiven {
			return &Error{Kind: KindValidation, Code: CodeInvalidStateTransition, Message: fmt.Sprintf(
				"%d is not a valid status code for state code %sState.%s on %s with Id %v.",
				o.Value, r.t.SchemaName, state.OptionSet.Label(int(stateVal)), r.t.LogicalName, r.values[r.t.PrimaryID()])}
		}
		r.set(state, int64(o.State))
		return nil
	}
	if stateGiven || (creating && r.values[status] == nil) {
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
	ref := r.values[owner].(Ref)
	t := r.t
	target, _ := tx.s.schema.Table(ref.Table)
	var bu sql.NullString
	if ref.Table == "systemuser" && ref.ID == p.UserID {
		bu = sql.NullString{String: p.BusinessUnitID.String(), Valid: true}
	} else {
		err := tx.tx.QueryRowContext(ctx, "SELECT "+quoteIdent("businessunitid")+" FROM "+quoteIdent(target.LogicalName)+
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
	if err := tx.tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(t.LogicalName)+" WHERE "+
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
	user := Ref{Table: "systemuser", ID: p.UserID}
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

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// deleteCascade deletes a row and applies the delete cascades of the
// relationships that reference it. seen guards against cycles.
func (tx *Tx) deleteCascade(ctx context.Context, t *schema.Table, id string, version int64, seen map[string]bool) error {
	key := t.LogicalName + "/" + id
	if seen[key] {
		return nil
	}
	seen[key] = true
	tx.touch(t.LogicalName)
	for _, rel := range tx.s.schema.Relationships() {
		if rel.Type != schema.OneToMany || rel.ReferencedEntity != t.LogicalName || rel.CascadeDelete == schema.CascadeNone {
			continue
		}
		child, _ := tx.s.schema.Table(rel.ReferencingEntity)
		col, _ := child.Column(rel.ReferencingAttribute)
		where := quoteIdent(col.LogicalName) + " = ?"
		args := []any{id}
		if col.TypeColumn != "" {
			where += " AND " + quoteIdent(col.TypeColumn) + " = ?"
			args = append(args, t.LogicalName)
		}
		switch rel.CascadeDelete {
		case schema.CascadeRestrict:
			var n int
			if err := tx.tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(child.LogicalName)+" WHERE "+where, args...).Scan(&n); err != nil {
				return err
			}
			if n > 0 && !(child == t && n == 1 && tx.selfReference(ctx, t, col, id)) {
				return &Error{Kind: KindAssociation, Code: CodeCannotDeleteDueToAssociation, Message: fmt.Sprintf(
					"The object you tried to delete is associated with another object and cannot be deleted. (%s With Id = %s is referenced by %d %s record(s) through %s.)",
					t.LogicalName, id, n, child.LogicalName, rel.SchemaName)}
			}
		case schema.CascadeRemoveLink:
			set := quoteIdent(col.LogicalName) + " = NULL"
			if col.TypeColumn != "" {
				set += ", " + quoteIdent(col.TypeColumn) + " = NULL"
			}
			if v := child.SystemColumn(schema.RoleVersionNumber); v != nil {
				set += ", " + quoteIdent(v.LogicalName) + " = ?"
				args = append([]any{version}, args...)
			}
			tx.touch(child.LogicalName)
			if _, err := tx.tx.ExecContext(ctx, "UPDATE "+quoteIdent(child.LogicalName)+" SET "+set+" WHERE "+where, args...); err != nil {
				return fmt.Errorf("store: clear %s.%s: %w", child.LogicalName, col.LogicalName, err)
			}
		case schema.CascadeDelete:
			rows, err := tx.tx.QueryContext(ctx, "SELECT "+quoteIdent(child.PrimaryID().LogicalName)+" FROM "+quoteIdent(child.LogicalName)+" WHERE "+where, args...)
			if err != nil {
				return err
			}
			var ids []string
			for rows.Next() {
				var childID string
				if err := rows.Scan(&childID); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, childID)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, childID := range ids {
				if err := tx.deleteCascade(ctx, child, childID, version, seen); err != nil {
					return err
				}
			}
		}
	}
	for _, rel := range tx.s.schema.Relationships() {
		if rel.Type != schema.ManyToMany {
			continue
		}
		for _, side := range []struct{ entity, attr string }{{rel.Entity1, rel.Entity1IntersectAttribute}, {rel.Entity2, rel.Entity2IntersectAttribute}} {
			if side.entity != t.LogicalName {
				continue
			}
			tx.touch(rel.IntersectEntity)
			if _, err := tx.tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(rel.IntersectEntity)+" WHERE "+quoteIdent(side.attr)+" = ?", id); err != nil {
				return fmt.Errorf("store: remove %s associations: %w", rel.SchemaName, err)
			}
		}
	}
	if _, err := tx.tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(t.LogicalName)+" WHERE "+quoteIdent(t.PrimaryID().LogicalName)+" = ?", id); err != nil {
		return fmt.Errorf("store: delete from %s: %w", t.LogicalName, err)
	}
	return nil
}

// selfReference reports whether the row id references itself through col
// (a root business unit that is its own parent would otherwise be
// undeletable).
func (tx *Tx) selfReference(ctx context.Context, t *schema.Table, col *schema.Column, id string) bool {
	var n int
	_ = tx.tx.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(t.LogicalName)+" WHERE "+
		quoteIdent(t.PrimaryID().LogicalName)+" = ? AND "+quoteIdent(col.LogicalName)+" = ?", id, id).Scan(&n)
	return n == 1
}
