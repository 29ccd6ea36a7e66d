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
	return &Error{Kind: KindConcurrency, Message: "The version of the existing record doesn't match the RowVersion property provided."}
}

func duplicateError() *Error {
	return &Error{Kind: KindDuplicate, Message: "A record with matching key values already exists."}
}

// current is a row as loaded for a write.
type current struct {
	id      uuid.UUID
	values  []any // by column ordinal
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
	err := tx.queryRow(ctx, b.String(), id.String()).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(t.LogicalName, id.String())
	}
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", t.LogicalName, err)
	}
	cur := &current{id: id, values: make([]any, len(t.Columns))}
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
		cur.values[c.Ordinal] = v
	}
	if v := t.SystemColumn(schema.RoleVersionNumber); v != nil {
		cur.version, _ = cur.values[v.Ordinal].(int64)
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
	return tx.insertRow(ctx, p, t, id, fields, false)
}

// insertRow builds and inserts a row. With batched, the INSERT may wait to
// run with the next rows (CreateBatched).
func (tx *Tx) insertRow(ctx context.Context, p *Principal, t *schema.Table, id uuid.UUID, fields []Field, batched bool) (Written, error) {
	r := tx.ins.takeRow(t)
	defer tx.ins.putRow(r)
	given, err := applyFields(r, fields, true)
	if err != nil {
		return Written{}, err
	}
	if id == uuid.Nil {
		id = given
	}
	// A supplied id that is taken is found by the primary key's constraint
	// when the row is inserted, not by a query per row beforehand. The
	// duplicate still wins over the row's other faults, as it did when it
	// was checked first: fail looks the id up only when something fails.
	supplied := id != uuid.Nil
	fail := func(err error) (Written, error) {
		if supplied {
			if taken, lerr := tx.idTaken(ctx, t, id); lerr != nil {
				return Written{}, lerr
			} else if taken {
				return Written{}, duplicateError()
			}
		}
		return Written{}, err
	}
	if !supplied {
		id, err = uuid.NewV7()
		if err != nil {
			return Written{}, err
		}
	}
	r.set(t.PrimaryID(), id)
	for _, c := range t.Columns {
		if r.given(c) || c.Default == nil || c.Role != schema.RoleNone {
			continue
		}
		if c.Type == schema.TypeBoolean {
			r.set(c, *c.Default != 0)
		} else {
			r.set(c, *c.Default)
		}
	}
	if c, ok := t.Column("businessunitid"); ok && t.Ownership == schema.OwnershipBusiness && r.value(c) == nil && c.IsLookup() {
		r.set(c, tx.ins.boxRef(Ref{Table: "businessunit", ID: p.BusinessUnitID}))
	}
	if err := tx.finish(ctx, p, r, true); err != nil {
		return fail(err)
	}
	now := tx.ins.boxTime(tx.s.nowUTC())
	version, err := tx.nextVersion(ctx)
	if err != nil {
		return fail(err)
	}
	tx.setSystem(r, p, now, version, true)
	// The row's columns with a value, and those values: rows of one shape
	// share their INSERT, prepared once (tx.exec), or one multi-row
	// INSERT when batched.
	b := &tx.ins
	if cap(b.rowCols) < len(t.Columns) {
		b.rowCols, b.rowArgs = make([]*schema.Column, 0, len(t.Columns)), make([]any, 0, len(t.Columns))
	}
	b.rowCols, b.rowArgs = b.rowCols[:0], b.rowArgs[:0]
	for _, c := range t.Columns {
		v := r.values[c.Ordinal]
		if v == nil {
			continue
		}
		sv, err := b.sqlValue(c, v)
		if err != nil {
			return fail(err)
		}
		b.rowCols = append(b.rowCols, c)
		b.rowArgs = append(b.rowArgs, sv)
	}
	tx.touch(t.LogicalName)
	if batched {
		if err := tx.queueInsert(ctx, t); err != nil {
			return Written{}, err
		}
	} else if err := tx.flushInserts(ctx); err != nil {
		return Written{}, err
	} else if _, err := tx.execPrepared(ctx, insertSQL(t, b.rowCols, 1), b.rowArgs...); err != nil {
		return Written{}, insertError(t, err)
	}
	return Written{ID: id, Version: version, Created: true}, nil
}

// idTaken reports whether t has a row with primary key id.
func (tx *Tx) idTaken(ctx context.Context, t *schema.Table, id uuid.UUID) (bool, error) {
	var n int
	if err := tx.queryRow(ctx, "SELECT count(*) FROM "+quoteIdent(t.LogicalName)+" WHERE "+
		quoteIdent(t.PrimaryID().LogicalName)+" = ?", id.String()).Scan(&n); err != nil {
		return false, fmt.Errorf("store: read %s: %w", t.LogicalName, err)
	}
	return n > 0, nil
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
	before := make(map[*schema.Column]any, len(fields))
	for _, f := range fields {
		if f.Column != nil && f.Column.Table == t {
			before[f.Column] = cur.values[f.Column.Ordinal]
		}
	}
	r := loadedRowState(t, cur.values)
	if _, err := applyFields(r, fields, false); err != nil {
		return Written{}, err
	}
	// A value written unchanged is not a change of owner or lookup.
	for _, c := range t.Columns {
		if r.isChanged(c) && c.IsLookup() && refEqual(before[c], r.value(c)) {
			r.unchange(c)
		}
	}
	if owner := t.SystemColumn(schema.RoleOwnerID); owner != nil && r.isChanged(owner) {
		if _, err := tx.s.Require(p, VerbAssign, t); err != nil {
			return Written{}, err
		}
	}
	if err := tx.finish(ctx, p, r, false); err != nil {
		return Written{}, err
	}
	version, stmt, args, err := tx.prepareUpdate(ctx, p, r, cur.id)
	if err != nil {
		return Written{}, err
	}
	if _, err := tx.exec(ctx, stmt, args...); err != nil {
		if isUniqueViolation(err) {
			return Written{}, duplicateError()
		}
		return Written{}, fmt.Errorf("store: update %s: %w", t.LogicalName, err)
	}
	return Written{ID: cur.id, Version: version}, nil
}

// prepareUpdate stamps r as modified now by p with a new version and
// returns that version and the UPDATE of r's changed columns in the row
// id, for the caller to run and word its own failure; it marks the table
// touched. Errors are returned as they come.
func (tx *Tx) prepareUpdate(ctx context.Context, p *Principal, r *rowState, id uuid.UUID) (version int64, stmt string, args []any, err error) {
	version, err = tx.nextVersion(ctx)
	if err != nil {
		return 0, "", nil, err
	}
	tx.setSystem(r, p, tx.s.nowUTC(), version, false)
	t := r.t
	var sets []string
	for _, c := range t.Columns {
		if !r.isChanged(c) {
			continue
		}
		sv, err := sqlValue(c, r.value(c))
		if err != nil {
			return 0, "", nil, err
		}
		sets = append(sets, quoteIdent(c.LogicalName)+" = ?")
		args = append(args, sv)
	}
	args = append(args, id.String())
	tx.touch(t.LogicalName)
	stmt = "UPDATE " + quoteIdent(t.LogicalName) + " SET " + strings.Join(sets, ", ") + " WHERE " + quoteIdent(t.PrimaryID().LogicalName) + " = ?"
	return version, stmt, args, nil
}

func refEqual(a, b any) bool {
	ra, okA := a.(Ref)
	rb, okB := b.(Ref)
	if !okA || !okB {
		return a == nil && b == nil
	}
	return ra == rb
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
