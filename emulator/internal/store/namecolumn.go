package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// Name columns. A lookup sorts by the primary name of the row it
// references (see sortkey.go). So that a sort index can serve that order,
// every table keeps, next to each lookup that sorts by name, a hidden copy
// of that name: the column "_dv_name_<lookup>" (TEXT COLLATE dv_ci, as
// the name itself). No Dataverse logical name starts with an underscore,
// and the schema never lists these columns, so no read, $select,
// $metadata or change row sees them.
//
// SQLite triggers keep a copy true, whatever writes the rows (create,
// update, upsert, bulk operations, associations, cascades, seeds, SQL of
// other packages), for lookup L of table T:
//
//   - after an insert into T, or an update that changes L (or its type),
//     the copy is read from the referenced row ("_dv_name_ins.T.T.L",
//     "_dv_name_upd.T.T.L");
//   - after a row of a target table X is inserted, renamed or deleted,
//     the copies of the rows referencing it are set to its name, or to
//     null ("_dv_name_new.X.T.L", "_dv_name_ren.X.T.L",
//     "_dv_name_del.X.T.L"): a lookup whose row does not exist has a
//     null name, as the join it replaces had.
//
// The triggers only ever set name columns, which no trigger watches, so
// none fires another, and version numbers and modifiedon are untouched:
// the store sets those in Go, and a renamed account does not change the
// contacts that reference it.
//
// The columns exist from the start (createTable, migrate, Restore add
// them, empty), but a lookup's triggers are created, and its column
// filled, only when a query first orders by it (ensureNameColumn, beside
// the lazy sort indexes): every table has a handful of lookups to users,
// and triggers for all of them would cost every Open (SQLite parses them
// with the schema) and every write, for orders few clients use. Until a
// column is ready (and in a transaction that finds it not ready) a query
// reads the name from the referenced row instead, which no index serves.
// migrate and Restore drop triggers that differ from the schema's, so a
// column whose triggers exist is always true.

// nameColumnPrefix starts the name of every name column and name trigger.
const nameColumnPrefix = "_dv_name_"

// nameColumn returns the name column of lookup c, quoted.
func nameColumn(c *schema.Column) string { return quoteIdent(nameColumnPrefix + c.LogicalName) }

// nameLookups returns the lookups of t that sort by name, which have name
// columns.
func nameLookups(t *schema.Table) []*schema.Column {
	var out []*schema.Column
	for _, c := range t.Columns {
		if sortsByName(c) {
			out = append(out, c)
		}
	}
	return out
}

// nameColumnDDL is the definition of lookup c's name column.
func nameColumnDDL(c *schema.Column) string {
	return nameColumn(c) + " TEXT COLLATE " + collationText
}

// lookupNameSQL returns the SQL of the primary name of the row that lookup
// c of the row row (an alias, NEW, or the table's name) references:
//
//	(SELECT sk."fullname" FROM "contact" sk WHERE sk."contactid" = NEW."primarycontactid")
//
// and, for a polymorphic lookup, of the table its type column names:
//
//	CASE NEW."owneridtype" WHEN 'systemuser' THEN (SELECT …) WHEN 'team' THEN (SELECT …) END
//
// A target without a primary name gives null.
func lookupNameSQL(c *schema.Column, row string) string {
	subquery := func(t *schema.Table) string {
		return "(SELECT sk." + quoteIdent(t.PrimaryName().LogicalName) + " FROM " + quoteIdent(t.LogicalName) +
			" sk WHERE sk." + quoteIdent(t.PrimaryID().LogicalName) + " = " + row + "." + quoteIdent(c.LogicalName) + ")"
	}
	if !c.IsPolymorphic() {
		return subquery(c.TargetTables()[0])
	}
	var b strings.Builder
	b.WriteString("CASE " + row + "." + quoteIdent(c.TypeColumn))
	for _, t := range c.TargetTables() {
		if t.PrimaryName() == nil {
			continue
		}
		// Logical names are [a-z0-9_]: safe between quotes.
		b.WriteString(" WHEN '" + t.LogicalName + "' THEN " + subquery(t))
	}
	b.WriteString(" END")
	return b.String()
}

// nameTrigger is one trigger keeping a name column true.
type nameTrigger struct {
	name string
	sql  string
}

// nameTriggersOf returns the triggers of lookup c's name column. Their
// names hold the lookup and the target table, separated by dots, which no
// logical name contains.
func nameTriggersOf(c *schema.Column) []nameTrigger {
	var out []nameTrigger
	add := func(kind, on, head, body string) {
		name := nameColumnPrefix + kind + "." + on + "." + c.Table.LogicalName + "." + c.LogicalName
		out = append(out, nameTrigger{name: name, sql: "CREATE TRIGGER " + quoteIdent(name) + " " + head + " BEGIN\n" + body + "END"})
	}
	t := c.Table
	tbl, col := quoteIdent(t.LogicalName), quoteIdent(c.LogicalName)
	set := "UPDATE " + tbl + " SET " + nameColumn(c) + " = " + lookupNameSQL(c, "NEW") + " WHERE rowid = NEW.rowid;\n"
	add("ins", t.LogicalName, "AFTER INSERT ON "+tbl+" FOR EACH ROW WHEN NEW."+col+" IS NOT NULL", set)
	of, when := col, "NEW."+col+" IS NOT OLD."+col
	if c.IsPolymorphic() {
		typ := quoteIdent(c.TypeColumn)
		of += ", " + typ
		when += " OR NEW." + typ + " IS NOT OLD." + typ
	}
	add("upd", t.LogicalName, "AFTER UPDATE OF "+of+" ON "+tbl+" FOR EACH ROW WHEN "+when, set)
	for _, target := range c.TargetTables() {
		if target.PrimaryName() == nil {
			continue
		}
		ttbl := quoteIdent(target.LogicalName)
		pn, pid := quoteIdent(target.PrimaryName().LogicalName), quoteIdent(target.PrimaryID().LogicalName)
		// setAll sets the name columns of the rows referencing row.
		setAll := func(row, value, extra string) string {
			stmt := "UPDATE " + tbl + " SET " + nameColumn(c) + " = " + value + " WHERE " + col + " = " + row + "." + pid
			if c.IsPolymorphic() {
				stmt += " AND " + quoteIdent(c.TypeColumn) + " = '" + target.LogicalName + "'"
			}
			return stmt + extra + ";\n"
		}
		add("new", target.LogicalName, "AFTER INSERT ON "+ttbl+" FOR EACH ROW WHEN NEW."+pn+" IS NOT NULL",
			setAll("NEW", "NEW."+pn, ""))
		// BINARY: a change of case is a change of the copy too.
		add("ren", target.LogicalName, "AFTER UPDATE OF "+pn+" ON "+ttbl+" FOR EACH ROW WHEN NEW."+pn+" IS NOT OLD."+pn+" COLLATE BINARY",
			setAll("NEW", "NEW."+pn, ""))
		add("del", target.LogicalName, "AFTER DELETE ON "+ttbl+" FOR EACH ROW",
			setAll("OLD", "NULL", " AND "+nameColumn(c)+" IS NOT NULL"))
	}
	return out
}

// addNameColumns adds to table t, whose existing columns are existing,
// the name columns it lacks.
func addNameColumns(ctx context.Context, tx *sql.Tx, t *schema.Table, existing map[string]string) error {
	for _, c := range nameLookups(t) {
		if _, ok := existing[nameColumnPrefix+c.LogicalName]; ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+quoteIdent(t.LogicalName)+" ADD COLUMN "+nameColumnDDL(c)); err != nil {
			return fmt.Errorf("store: add the name column of %s: %w", c, err)
		}
	}
	return nil
}

// readNameTriggers returns the SQL of the database's name triggers by
// name.
func readNameTriggers(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	have := map[string]string{}
	rows, err := tx.QueryContext(ctx, `SELECT "name", "sql" FROM sqlite_schema WHERE "type" = 'trigger' AND substr("name", 1, ?) = ?`,
		len(nameColumnPrefix), nameColumnPrefix)
	if err != nil {
		return nil, fmt.Errorf("store: read the name triggers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, stmt string
		if err := rows.Scan(&name, &stmt); err != nil {
			return nil, fmt.Errorf("store: read the name triggers: %w", err)
		}
		have[name] = stmt
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: read the name triggers: %w", err)
	}
	return have, nil
}

// dropStaleNameTriggers drops the name triggers sch does not define as
// they are (left by another version of the store, or by another schema),
// so that ensureNameColumn creates them again and refills their columns.
func dropStaleNameTriggers(ctx context.Context, tx *sql.Tx, sch *schema.Schema) error {
	have, err := readNameTriggers(ctx, tx)
	if err != nil || len(have) == 0 {
		return err
	}
	for _, t := range sch.Tables() {
		for _, c := range nameLookups(t) {
			for _, tr := range nameTriggersOf(c) {
				if have[tr.name] == tr.sql {
					delete(have, tr.name)
				}
			}
		}
	}
	for name := range have {
		if _, err := tx.ExecContext(ctx, "DROP TRIGGER "+quoteIdent(name)); err != nil {
			return fmt.Errorf("store: drop trigger %s: %w", name, err)
		}
	}
	return nil
}

// migrateNameColumns gives every table of a restored database its name
// columns (a snapshot of an older store lacks them) and drops stale name
// triggers.
func migrateNameColumns(ctx context.Context, tx *sql.Tx, sch *schema.Schema) error {
	for _, t := range sch.Tables() {
		if len(nameLookups(t)) == 0 {
			continue
		}
		existing, err := tableColumns(ctx, tx, t.LogicalName)
		if err != nil {
			return err
		}
		if existing == nil {
			return fmt.Errorf("store: the database has no table %q", t.LogicalName)
		}
		if err := addNameColumns(ctx, tx, t, existing); err != nil {
			return err
		}
	}
	return dropStaleNameTriggers(ctx, tx, sch)
}

// createNameTriggers creates the triggers of lookup c's name column unless
// they all exist, and then fills the column from the referenced rows.
func createNameTriggers(ctx context.Context, tx *sql.Tx, c *schema.Column) error {
	triggers := nameTriggersOf(c)
	have, err := readNameTriggers(ctx, tx)
	if err != nil {
		return err
	}
	missing := false
	for _, tr := range triggers {
		if _, ok := have[tr.name]; !ok {
			missing = true
		}
	}
	if !missing {
		return nil // created and filled in one transaction before
	}
	for _, tr := range triggers {
		if _, err := tx.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+quoteIdent(tr.name)); err != nil {
			return fmt.Errorf("store: replace trigger %s: %w", tr.name, err)
		}
		if _, err := tx.ExecContext(ctx, tr.sql); err != nil {
			return fmt.Errorf("store: create trigger %s: %w", tr.name, err)
		}
	}
	tbl := quoteIdent(c.Table.LogicalName)
	if _, err := tx.ExecContext(ctx, "UPDATE "+tbl+" SET "+nameColumn(c)+" = "+lookupNameSQL(c, tbl)); err != nil {
		return fmt.Errorf("store: fill the name column of %s: %w", c, err)
	}
	return nil
}

// nameColumnKey is the sortIndexes key saying lookup c's name column is
// kept by its triggers in this generation of the database.
func nameColumnKey(gen uint64, c *schema.Column) sortIndexKey {
	return sortIndexKey{gen: gen, name: "name:" + c.Table.LogicalName + "." + c.LogicalName}
}

// nameColumnReady reports whether queries may read lookup c's name column
// (its triggers exist, so it is true); otherwise they read the name from
// the referenced row.
func (s *Store) nameColumnReady(c *schema.Column) bool {
	_, ok := s.sortIndexes.Load(nameColumnKey(s.sortIndexGen.Load(), c))
	return ok
}

// ensureNameColumn makes lookup c's name column ready: it creates its
// triggers and fills it, once per generation of the database. The caller
// holds sortIndexMu. Like a sort index it never waits for the write lock:
// when the lock is taken, or the creation fails (logged), it reports false
// and queries read the name from the referenced row until a later query
// tries again.
func (s *Store) ensureNameColumn(ctx context.Context, c *schema.Column) bool {
	key := nameColumnKey(s.sortIndexGen.Load(), c)
	if _, done := s.sortIndexes.Load(key); done {
		return true
	}
	if !s.writeMu.TryLock() {
		return false
	}
	err := s.writeTxLocked(ctx, func(tx *sql.Tx) error { return createNameTriggers(ctx, tx, c) })
	s.writeMu.Unlock()
	if err != nil {
		s.log.Warn("store: create name column triggers", "lookup", c.String(), "err", err)
		return false
	}
	s.sortIndexes.Store(key, struct{}{})
	return true
}
