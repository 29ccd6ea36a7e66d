package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// internalDDL creates the store's own tables. Their names start with "_dv_",
// which no Dataverse logical name can.
var internalDDL = []string{
	`CREATE TABLE IF NOT EXISTS "_dv_meta" ("key" TEXT NOT NULL PRIMARY KEY, "value" TEXT NOT NULL) STRICT`,
	`CREATE TABLE IF NOT EXISTS "_dv_sequence" ("name" TEXT NOT NULL PRIMARY KEY, "value" INTEGER NOT NULL) STRICT`,
	`INSERT INTO "_dv_sequence" ("name", "value") VALUES ('version', 1000) ON CONFLICT DO NOTHING`,
	`CREATE TABLE IF NOT EXISTS "_dv_privilege" (
		"privilegeid" TEXT NOT NULL PRIMARY KEY,
		"name" TEXT NOT NULL UNIQUE,
		"accessright" INTEGER NOT NULL
	) STRICT`,
	`CREATE TABLE IF NOT EXISTS "_dv_roleprivilege" (
		"roleid" TEXT NOT NULL,
		"privilegeid" TEXT NOT NULL,
		"depth" INTEGER NOT NULL,
		PRIMARY KEY ("roleid", "privilegeid")
	) STRICT`,
}

// quoteIdent quotes an SQL identifier. Identifiers only ever come from
// validated metadata; quoting keeps keywords ("name", "key") safe.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// sqlColumnType returns the STRICT column type and collation for a column.
func sqlColumnType(c *schema.Column) (typ, collate string) {
	switch c.Type {
	case schema.TypeString, schema.TypeMemo:
		return "TEXT", collationText
	case schema.TypeInteger, schema.TypeBigInt, schema.TypePicklist, schema.TypeState, schema.TypeStatus, schema.TypeBoolean:
		return "INTEGER", ""
	case schema.TypeDouble:
		return "REAL", ""
	case schema.TypeDecimal, schema.TypeMoney:
		return "TEXT", collationDecimal
	}
	// DateTime, MultiSelectPicklist, Uniqueidentifier, lookups and
	// EntityName are canonical text compared bytewise.
	return "TEXT", ""
}

func columnDDL(c *schema.Column) string {
	typ, collate := sqlColumnType(c)
	var b strings.Builder
	b.WriteString(quoteIdent(c.LogicalName))
	b.WriteByte(' ')
	b.WriteString(typ)
	if c.Role == schema.RolePrimaryID {
		b.WriteString(" NOT NULL PRIMARY KEY")
	}
	if c.Role == schema.RoleVersionNumber {
		b.WriteString(" NOT NULL DEFAULT 0")
	}
	if collate != "" {
		b.WriteString(" COLLATE ")
		b.WriteString(collate)
	}
	return b.String()
}

// createTableSQL returns the CREATE TABLE statement for a table.
func createTableSQL(t *schema.Table) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	b.WriteString(quoteIdent(t.LogicalName))
	b.WriteString(" (\n")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("\t")
		b.WriteString(columnDDL(c))
	}
	for _, c := range nameLookups(t) {
		b.WriteString(",\n\t")
		b.WriteString(nameColumnDDL(c))
	}
	b.WriteString("\n) STRICT")
	return b.String()
}

// indexSQL returns the index statements of a table: one per lookup column
// over its non-empty values (joins, filters and cascades use them), one on versionnumber (change
// tracking), a unique one per alternate key, and the uniqueness of
// application users.
func indexSQL(t *schema.Table) []string {
	tbl := quoteIdent(t.LogicalName)
	var out []string
	for _, c := range t.Columns {
		if c.IsLookup() {
			// Partial: most lookups of a new row are empty (a contact's parent, its originating
			// lead, the on-behalf-of users), and an empty one needs no index entry. Joins,
			// filters and cascades compare the column with a value, which SQLite knows implies
			// IS NOT NULL, so they still use the index; a bulk insert skips an index write per
			// empty lookup.
			out = append(out, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s) WHERE %s IS NOT NULL",
				quoteIdent("ix_"+t.LogicalName+"_"+c.LogicalName), tbl, quoteIdent(c.LogicalName), quoteIdent(c.LogicalName)))
		}
	}
	if pn := t.PrimaryName(); pn != nil {
		// Views and lookups sort and search by the primary name.
		out = append(out, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)",
			quoteIdent("ix_"+t.LogicalName+"_"+pn.LogicalName), tbl, quoteIdent(pn.LogicalName)))
	}
	if v := t.SystemColumn(schema.RoleVersionNumber); v != nil {
		out = append(out, fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)",
			quoteIdent("ix_"+t.LogicalName+"_versionnumber"), tbl, quoteIdent(v.LogicalName)))
	}
	for _, k := range t.Keys {
		cols := make([]string, len(k.Columns))
		for i, c := range k.Columns {
			cols[i] = quoteIdent(c.LogicalName)
		}
		out = append(out, fmt.Sprintf("CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (%s)",
			quoteIdent("ak_"+t.LogicalName+"_"+strings.ToLower(k.SchemaName)), tbl, strings.Join(cols, ", ")))
	}
	if t.LogicalName == "systemuser" {
		if _, ok := t.Column("applicationid"); ok {
			// One application user per app per environment.
			out = append(out, `CREATE UNIQUE INDEX IF NOT EXISTS "ux_systemuser_applicationid" ON "systemuser" ("applicationid") WHERE "applicationid" IS NOT NULL`)
		}
	}
	return out
}

// intersectSQL returns the statements creating an N:N intersect table.
func intersectSQL(r *schema.Relationship) []string {
	tbl := quoteIdent(r.IntersectEntity)
	a1, a2 := quoteIdent(r.Entity1IntersectAttribute), quoteIdent(r.Entity2IntersectAttribute)
	return []string{
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
	%s TEXT NOT NULL PRIMARY KEY,
	%s TEXT NOT NULL,
	%s TEXT NOT NULL,
	"versionnumber" INTEGER NOT NULL DEFAULT 0,
	UNIQUE (%s, %s)
) STRICT`, tbl, quoteIdent(r.IntersectEntity+"id"), a1, a2, a1, a2),
		fmt.Sprintf("CREATE INDEX IF NOT EXISTS %s ON %s (%s)", quoteIdent("ix_"+r.IntersectEntity+"_"+r.Entity2IntersectAttribute), tbl, a2),
	}
}

// migrate creates the internal tables and every table of the schema, and
// adds the columns a newer schema defines to tables that exist already;
// then it drops name triggers the schema defines otherwise (see
// namecolumn.go).
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		for _, stmt := range append(internalDDL, tombstoneDDL...) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store: create internal tables: %w", err)
			}
		}
		if err := migrateLegacyMeta(ctx, tx); err != nil {
			return err
		}
		for _, t := range s.schema.Tables() {
			if err := migrateTable(ctx, tx, t); err != nil {
				return err
			}
		}
		for _, r := range s.schema.Relationships() {
			if r.Type != schema.ManyToMany {
				continue
			}
			for _, stmt := range intersectSQL(r) {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("store: create intersect table %q: %w", r.IntersectEntity, err)
				}
			}
		}
		return dropStaleNameTriggers(ctx, tx, s.schema)
	})
}

// migrateTable creates table t or adds the columns it lacks, name columns
// included.
func migrateTable(ctx context.Context, tx *sql.Tx, t *schema.Table) error {
	existing, err := tableColumns(ctx, tx, t.LogicalName)
	if err != nil {
		return err
	}
	if existing == nil {
		if _, err := tx.ExecContext(ctx, createTableSQL(t)); err != nil {
			return fmt.Errorf("store: create table %q: %w", t.LogicalName, err)
		}
	} else {
		for _, c := range t.Columns {
			want, _ := sqlColumnType(c)
			have, ok := existing[c.LogicalName]
			if !ok {
				if _, err := tx.ExecContext(ctx, "ALTER TABLE "+quoteIdent(t.LogicalName)+" ADD COLUMN "+columnDDL(c)); err != nil {
					return fmt.Errorf("store: add column %q to table %q: %w", c.LogicalName, t.LogicalName, err)
				}
				continue
			}
			if !strings.EqualFold(have, want) {
				return fmt.Errorf("store: table %q column %q is %s in the database but the schema makes it %s (%s); use a new data directory or keep the column's type",
					t.LogicalName, c.LogicalName, have, want, c.Type)
			}
		}
		if err := addNameColumns(ctx, tx, t, existing); err != nil {
			return err
		}
	}
	for _, stmt := range indexSQL(t) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: index table %q: %w", t.LogicalName, err)
		}
	}
	return nil
}

// tableColumns returns the declared types of a table's columns, or nil
// when the table does not exist.
func tableColumns(ctx context.Context, tx *sql.Tx, table string) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT "name", "type" FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("store: inspect table %q: %w", table, err)
	}
	defer rows.Close()
	var cols map[string]string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		if cols == nil {
			cols = map[string]string{}
		}
		cols[name] = typ
	}
	return cols, rows.Err()
}
