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

// Keys of the _dv_meta table.
const (
	metaOrganization = "organizationid"
	metaBusinessUnit = "businessunitid"
	metaCurrency     = "basecurrencyid"
	metaAdminRole    = "systemadministratorroleid"
	metaSystemUser   = "systemuserid"
)

// SystemAdministrator is the name of the seeded role that holds every
// privilege at organization depth.
const SystemAdministrator = "System Administrator"

// seed creates the organization on first open and keeps the privilege
// catalogue in step with the schema on every open.
func (s *Store) seed(ctx context.Context, orgName string) error {
	if orgName == "" {
		orgName = "emulator"
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		meta, err := readMeta(ctx, tx)
		if err != nil {
			return err
		}
		if meta[metaOrganization] == "" {
			if meta, err = s.createOrganization(ctx, tx, orgName); err != nil {
				return err
			}
		}
		s.org = orgInfo{
			OrganizationID: meta[metaOrganization],
			BusinessUnitID: meta[metaBusinessUnit],
			CurrencyID:     meta[metaCurrency],
			AdminRoleID:    meta[metaAdminRole],
			SystemUserID:   meta[metaSystemUser],
		}
		s.org.currency, _ = uuid.Parse(s.org.CurrencyID)
		if s.org.SystemUserID == "" {
			return errors.New("store: the database has no SYSTEM user; use a new data directory")
		}
		if err := s.syncPrivileges(ctx, tx); err != nil {
			return err
		}
		// SYSTEM holds System Administrator, as in Dataverse: the
		// administrative writes that run as SYSTEM pass every privilege check.
		return associate(ctx, tx, "systemuserroles", "systemuserid", "roleid", s.org.SystemUserID, s.org.AdminRoleID)
	})
	if err != nil {
		return err
	}
	return s.loadPrivilegeIDs(ctx)
}

func readMeta(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT "key", "value" FROM "_dv_meta"`)
	if err != nil {
		return nil, fmt.Errorf("store: read metadata: %w", err)
	}
	defer rows.Close()
	meta := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		meta[k] = v
	}
	return meta, rows.Err()
}

// createOrganization inserts the organization, its root business unit,
// the SYSTEM user, the base currency (US Dollar) and the System
// Administrator role. The rows reference each other in a cycle, so they
// are inserted directly rather than through the validated write path.
func (s *Store) createOrganization(ctx context.Context, tx *sql.Tx, name string) (map[string]string, error) {
	ids := map[string]string{
		metaOrganization: uuid.NewString(),
		metaBusinessUnit: uuid.NewString(),
		metaCurrency:     uuid.NewString(),
		metaAdminRole:    uuid.NewString(),
		metaSystemUser:   uuid.NewString(),
	}
	sys := ids[metaSystemUser]
	rows := []struct {
		table  string
		values map[string]any
	}{
		{"organization", map[string]any{"organizationid": ids[metaOrganization], "name": name, "languagecode": int64(1033),
			"fullnameconventioncode": int64(1), "basecurrencyid": ids[metaCurrency]}},
		{"businessunit", map[string]any{"businessunitid": ids[metaBusinessUnit], "name": name, "isdisabled": int64(0),
			"organizationid": ids[metaOrganization]}},
		{"systemuser", map[string]any{"systemuserid": sys, "lastname": "SYSTEM", "fullname": "SYSTEM", "domainname": "",
			"businessunitid": ids[metaBusinessUnit], "isdisabled": int64(1), "accessmode": int64(0), "islicensed": int64(0),
			"organizationid": ids[metaOrganization]}},
		{"transactioncurrency", map[string]any{"transactioncurrencyid": ids[metaCurrency], "currencyname": "US Dollar",
			"isocurrencycode": "USD", "currencysymbol": "$", "exchangerate": "1.0000000000", "currencyprecision": int64(2),
			"statecode": int64(0), "statuscode": int64(1)}},
		{"role", map[string]any{"roleid": ids[metaAdminRole], "name": SystemAdministrator, "businessunitid": ids[metaBusinessUnit]}},
	}
	now := s.nowUTC().Format(dateTimeLayout)
	for _, r := range rows {
		t, ok := s.schema.Table(r.table)
		if !ok {
			return nil, fmt.Errorf("store: the schema lacks the built-in table %q", r.table)
		}
		if err := rawInsert(ctx, tx, t, r.values, sys, now); err != nil {
			return nil, err
		}
	}
	for k, v := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO "_dv_meta" ("key", "value") VALUES (?, ?)`, k, v); err != nil {
			return nil, fmt.Errorf("store: write metadata: %w", err)
		}
	}
	s.log.Info("store: created organization", "name", name, "organizationid", ids[metaOrganization])
	return ids, nil
}

// rawInsert inserts stored values plus the audit and version columns.
func rawInsert(ctx context.Context, tx *sql.Tx, t *schema.Table, values map[string]any, systemUser, now string) error {
	all := map[string]any{}
	for k, v := range values {
		all[k] = v
	}
	for role, v := range map[schema.SystemRole]any{
		schema.RoleCreatedOn: now, schema.RoleModifiedOn: now,
		schema.RoleCreatedBy: systemUser, schema.RoleModifiedBy: systemUser,
	} {
		if c := t.SystemColumn(role); c != nil {
			all[c.LogicalName] = v
		}
	}
	var version int64
	if err := tx.QueryRowContext(ctx, `UPDATE "_dv_sequence" SET "value" = "value" + 1 WHERE "name" = 'version' RETURNING "value"`).Scan(&version); err != nil {
		return err
	}
	all["versionnumber"] = version
	cols := make([]string, 0, len(all))
	marks := make([]string, 0, len(all))
	args := make([]any, 0, len(all))
	for _, c := range t.Columns {
		v, ok := all[c.LogicalName]
		if !ok {
			continue
		}
		cols = append(cols, quoteIdent(c.LogicalName))
		marks = append(marks, "?")
		args = append(args, v)
	}
	if len(cols) != len(all) {
		return fmt.Errorf("store: seed row for %s names a column the table lacks", t.LogicalName)
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO "+quoteIdent(t.LogicalName)+" ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(marks, ", ")+")", args...)
	if err != nil {
		return fmt.Errorf("store: seed %s: %w", t.LogicalName, err)
	}
	return nil
}

// privilegeIDSpace names the privilege ids the store derives from
// privilege names. Dataverse's privilege ids are the same in every
// organization; deriving them keeps a privilege's id stable across
// databases, so a privilege added to the catalogue later gets the same id
// wherever it is created (see Store.Restore).
var privilegeIDSpace = uuid.MustParse("5d0a6e51-3c4b-4f0e-9a27-1c2b8e7d6f40")

// privilegeID returns the id of a privilege created by this store.
// Databases created before ids were derived keep their random ones.
func privilegeID(name string) string {
	return uuid.NewSHA1(privilegeIDSpace, []byte(name)).String()
}

// catalogueEntry is a privilege of the catalogue with its access right.
type catalogueEntry struct {
	name  string
	right int
}

// privilegeCatalogue lists the privileges of a schema: every table's
// prv<Verb><Table>, then the global privileges.
func privilegeCatalogue(sch *schema.Schema) []catalogueEntry {
	var out []catalogueEntry
	for _, t := range sch.Tables() {
		for _, verb := range tableVerbs(t) {
			out = append(out, catalogueEntry{PrivilegeName(verb, t), accessRights[verb]})
		}
	}
	for _, name := range globalPrivileges {
		out = append(out, catalogueEntry{name, 0})
	}
	return out
}

// insertPrivilegeCatalogue creates the privileges of the catalogue the
// database lacks.
func insertPrivilegeCatalogue(ctx context.Context, tx *sql.Tx, sch *schema.Schema) error {
	rows, err := tx.QueryContext(ctx, `SELECT "name" FROM "_dv_privilege"`)
	if err != nil {
		return fmt.Errorf("store: read privileges: %w", err)
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("store: read privileges: %w", err)
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: read privileges: %w", err)
	}
	var insert *sql.Stmt
	for _, p := range privilegeCatalogue(sch) {
		if have[p.name] {
			continue
		}
		if insert == nil {
			if insert, err = tx.PrepareContext(ctx, `INSERT INTO "_dv_privilege" ("privilegeid", "name", "accessright") VALUES (?, ?, ?)
				ON CONFLICT ("name") DO NOTHING`); err != nil {
				return fmt.Errorf("store: create privileges: %w", err)
			}
			defer insert.Close()
		}
		if _, err := insert.ExecContext(ctx, privilegeID(p.name), p.name, p.right); err != nil {
			return fmt.Errorf("store: create privileges: %w", err)
		}
	}
	return nil
}

// syncPrivileges makes sure every table privilege of the schema and every
// global privilege exists and that System Administrator holds all
// privileges at organization depth.
func (s *Store) syncPrivileges(ctx context.Context, tx *sql.Tx) error {
	if err := insertPrivilegeCatalogue(ctx, tx, s.schema); err != nil {
		return err
	}
	if s.org.AdminRoleID == "" {
		return errors.New("store: the organization has no System Administrator role")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO "_dv_roleprivilege" ("roleid", "privilegeid", "depth")
		SELECT ?, "privilegeid", ? FROM "_dv_privilege" WHERE true
		ON CONFLICT ("roleid", "privilegeid") DO UPDATE SET "depth" = excluded."depth"`, s.org.AdminRoleID, int(DepthOrganization))
	if err != nil {
		return fmt.Errorf("store: grant System Administrator: %w", err)
	}
	return nil
}

func (s *Store) loadPrivilegeIDs(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT "name", "privilegeid" FROM "_dv_privilege"`)
	if err != nil {
		return fmt.Errorf("store: load privileges: %w", err)
	}
	defer rows.Close()
	ids := map[string]string{}
	for rows.Next() {
		var name, id string
		if err := rows.Scan(&name, &id); err != nil {
			return err
		}
		ids[name] = id
	}
	s.privileges = ids
	return rows.Err()
}
