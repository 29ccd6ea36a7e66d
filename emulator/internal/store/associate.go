package store

import (
	"context"
	"fmt"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Associate pairs the row id of nav.Table with the row other of the
// navigation property's target through an N:N relationship. Both rows
// must exist; p needs Append on nav.Table and AppendTo on the target.
// Pairing rows that are already paired is a DuplicateRecord failure.
func (tx *Tx) Associate(ctx context.Context, p *Principal, nav *schema.NavigationProperty, id, other uuid.UUID) error {
	r := nav.Relationship
	if !nav.IsManyToMany() {
		return fmt.Errorf("store: %s is not a many-to-many navigation property", nav.Name)
	}
	target := nav.Target()
	if err := tx.requireRow(ctx, nav.Table, id); err != nil {
		return err
	}
	if err := tx.requireRow(ctx, target, other); err != nil {
		return err
	}
	if _, err := tx.s.Require(p, VerbAppend, nav.Table); err != nil {
		return err
	}
	if _, err := tx.s.Require(p, VerbAppendTo, target); err != nil {
		return err
	}
	self, otherAttr := r.Entity1IntersectAttribute, r.Entity2IntersectAttribute
	if nav.Table.LogicalName != r.Entity1 || (r.Entity1 == r.Entity2 && nav.Name == r.Entity2Navigation) {
		self, otherAttr = otherAttr, self
	}
	version, err := tx.nextVersion(ctx)
	if err != nil {
		return err
	}
	tx.touch(r.IntersectEntity)
	_, err = tx.exec(ctx, "INSERT INTO "+quoteIdent(r.IntersectEntity)+" ("+quoteIdent(r.IntersectEntity+"id")+", "+
		quoteIdent(self)+", "+quoteIdent(otherAttr)+", \"versionnumber\") VALUES (?, ?, ?, ?)",
		uuid.NewString(), id.String(), other.String(), version)
	if isUniqueViolation(err) {
		return &Error{Kind: KindDuplicate, Message: "Cannot insert duplicate key."}
	}
	if err != nil {
		return fmt.Errorf("store: associate through %s: %w", r.SchemaName, err)
	}
	return nil
}

// Disassociate removes the pairing of row id of nav.Table with row other
// through an N:N relationship. Removing a pairing that does not exist
// does nothing.
func (tx *Tx) Disassociate(ctx context.Context, p *Principal, nav *schema.NavigationProperty, id, other uuid.UUID) error {
	r := nav.Relationship
	if !nav.IsManyToMany() {
		return fmt.Errorf("store: %s is not a many-to-many navigation property", nav.Name)
	}
	if err := tx.requireRow(ctx, nav.Table, id); err != nil {
		return err
	}
	if _, err := tx.s.Require(p, VerbAppend, nav.Table); err != nil {
		return err
	}
	if _, err := tx.s.Require(p, VerbAppendTo, nav.Target()); err != nil {
		return err
	}
	self, otherAttr := r.Entity1IntersectAttribute, r.Entity2IntersectAttribute
	if nav.Table.LogicalName != r.Entity1 || (r.Entity1 == r.Entity2 && nav.Name == r.Entity2Navigation) {
		self, otherAttr = otherAttr, self
	}
	tx.touch(r.IntersectEntity)
	_, err := tx.tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(r.IntersectEntity)+" WHERE "+quoteIdent(self)+" = ? AND "+quoteIdent(otherAttr)+" = ?",
		id.String(), other.String())
	if err != nil {
		return fmt.Errorf("store: disassociate through %s: %w", r.SchemaName, err)
	}
	return nil
}
