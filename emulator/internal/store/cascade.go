package store

import (
	"context"
	"fmt"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

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
				return &Error{Kind: KindAssociation, Message: fmt.Sprintf(
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
	if err := tx.deleteRowFiles(ctx, t, id); err != nil {
		return err
	}
	if _, err := tx.tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(t.LogicalName)+" WHERE "+quoteIdent(t.PrimaryID().LogicalName)+" = ?", id); err != nil {
		return fmt.Errorf("store: delete from %s: %w", t.LogicalName, err)
	}
	return tx.recordTombstone(ctx, t, id, version)
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
