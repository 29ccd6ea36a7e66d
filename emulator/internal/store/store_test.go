package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

const testAppID = "11111111-2222-3333-4444-555555555555"

// newStore opens an in-memory store with an application user holding
// System Administrator, and returns the store and that user.
func newStore(t testing.TB, opts *Options) (*Store, *Principal) {
	t.Helper()
	return openStore(t, "", opts)
}

// openStore opens the store in dir ("" for memory) with an application user
// holding System Administrator, and returns the store and that user.
func openStore(t testing.TB, dir string, opts *Options) (*Store, *Principal) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: testAppID, FullName: "Test App", RoleNames: []string{SystemAdministrator}}); err != nil {
		t.Fatal(err)
	}
	p, err := s.ApplicationUser(ctx, testAppID)
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

func table(t testing.TB, s *Store, name string) *schema.Table {
	t.Helper()
	tb, ok := s.Schema().Table(name)
	if !ok {
		t.Fatalf("no table %s", name)
	}
	return tb
}

func fields(t testing.TB, tb *schema.Table, kv ...any) []Field {
	t.Helper()
	var out []Field
	for i := 0; i < len(kv); i += 2 {
		c, ok := tb.Column(kv[i].(string))
		if !ok {
			t.Fatalf("no column %s.%s", tb.LogicalName, kv[i])
		}
		out = append(out, Field{Column: c, Value: kv[i+1]})
	}
	return out
}

func cols(t testing.TB, tb *schema.Table, names ...string) []*schema.Column {
	t.Helper()
	var out []*schema.Column
	for _, n := range names {
		c, ok := tb.Column(n)
		if !ok {
			t.Fatalf("no column %s.%s", tb.LogicalName, n)
		}
		out = append(out, c)
	}
	return out
}

func TestCreateRetrieveUpdateDelete(t *testing.T) {
	t.Parallel()
	clock := time.Date(2024, 5, 1, 10, 30, 15, 999, time.UTC)
	s, p := newStore(t, &Options{Now: func() time.Time { return clock }})
	ctx := context.Background()
	contact := table(t, s, "contact")
	income, _ := ParseDecimal("80000", 4)
	w, err := s.Create(ctx, p, contact, fields(t, contact,
		"firstname", "Peter", "lastname", "Cambel", "annualincome", income,
		"birthdate", time.Date(1990, 3, 4, 22, 0, 0, 0, time.UTC), "createdon", time.Now(), "fullname", "ignored"))
	if err != nil {
		t.Fatal(err)
	}
	if !w.Created || w.Version == 0 {
		t.Errorf("written = %+v", w)
	}
	row, err := s.Retrieve(ctx, p, contact, w.ID, cols(t, contact, "fullname", "annualincome", "birthdate", "createdon",
		"createdby", "ownerid", "owningbusinessunit", "statecode", "statuscode", "transactioncurrencyid", "exchangerate", "preferredcontactmethodcode", "donotemail", "description"))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(row.Values))
	for i, v := range row.Values {
		got[i] = fmt.Sprint(v)
	}
	user := Ref{Table: "systemuser", ID: p.UserID}
	want := []string{
		"Peter Cambel", "80000.0000", "1990-03-04 00:00:00 +0000 UTC", "2024-05-01 10:30:15 +0000 UTC",
		fmt.Sprint(user), fmt.Sprint(user), fmt.Sprint(Ref{Table: "businessunit", ID: p.BusinessUnitID}),
		"0", "1", fmt.Sprint(Ref{Table: "transactioncurrency", ID: uuid.MustParse(s.Organization().BaseCurrencyID)}), "1.0000000000",
		"1", "false", "<nil>",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("retrieved (-want +got):\n%s", diff)
	}
	if row.Version != w.Version || row.ID != w.ID {
		t.Errorf("row id/version = %s/%d; want %s/%d", row.ID, row.Version, w.ID, w.Version)
	}

	clock = clock.Add(time.Hour)
	w2, err := s.Update(ctx, p, contact, w.ID, fields(t, contact, "lastname", "Campbell", "statecode", int64(1)), Match{IfMatch: []int64{w.Version}})
	if err != nil {
		t.Fatal(err)
	}
	if w2.Version <= w.Version {
		t.Errorf("version did not grow: %d -> %d", w.Version, w2.Version)
	}
	row, _ = s.Retrieve(ctx, p, contact, w.ID, cols(t, contact, "fullname", "statecode", "statuscode", "modifiedon", "createdon"))
	if fmt.Sprint(row.Values) != "[Peter Campbell 1 2 2024-05-01 11:30:15 +0000 UTC 2024-05-01 10:30:15 +0000 UTC]" {
		t.Errorf("after update = %v", row.Values)
	}
	if _, err := s.Update(ctx, p, contact, w.ID, nil, Match{IfMatch: []int64{w.Version}}); KindOf(err) != KindConcurrency {
		t.Errorf("stale update err = %v", err)
	}
	if err := s.Delete(ctx, p, contact, w.ID, Match{IfMatch: []int64{w.Version}}); KindOf(err) != KindConcurrency {
		t.Errorf("stale delete err = %v", err)
	}
	if err := s.Delete(ctx, p, contact, w.ID, Match{}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Retrieve(ctx, p, contact, w.ID, nil)
	var se *Error
	if !errors.As(err, &se) || classOf(se) != classObjectDoesNotExist || se.Message != "contact With Id = "+w.ID.String()+" Does Not Exist" {
		t.Errorf("retrieve after delete: %v", err)
	}
	if err := s.Delete(ctx, p, contact, w.ID, Match{}); KindOf(err) != KindNotFound {
		t.Errorf("second delete: %v", err)
	}
}

func TestUpsertGuards(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	account := table(t, s, "account")
	id := uuid.New()
	if _, err := s.Upsert(ctx, p, account, id, fields(t, account, "name", "A"), Match{IfMatchAny: true}); KindOf(err) != KindNotFound {
		t.Fatalf("If-Match:* on missing row: %v", err)
	}
	w, err := s.Upsert(ctx, p, account, id, fields(t, account, "name", "A"), Match{})
	if err != nil || !w.Created || w.ID != id {
		t.Fatalf("upsert create = %+v, %v", w, err)
	}
	w2, err := s.Upsert(ctx, p, account, id, fields(t, account, "name", "B"), Match{})
	if err != nil || w2.Created {
		t.Fatalf("upsert update = %+v, %v", w2, err)
	}
	_, err = s.Upsert(ctx, p, account, id, fields(t, account, "name", "C"), Match{IfNoneMatchAny: true})
	var se *Error
	if !errors.As(err, &se) || classOf(se) != classDuplicateRecord || se.Kind != KindDuplicate {
		t.Errorf("If-None-Match:* on existing row: %v", err)
	}
	if _, err := s.Upsert(ctx, p, account, id, nil, Match{IfMatch: []int64{w.Version}}); KindOf(err) != KindConcurrency {
		t.Errorf("stale If-Match: %v", err)
	}
	row, _ := s.Retrieve(ctx, p, account, id, cols(t, account, "name"))
	if row.Values[0] != "B" {
		t.Errorf("name = %v", row.Values[0])
	}
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	task := table(t, s, "task")
	account := table(t, s, "account")
	tests := []struct {
		name   string
		table  *schema.Table
		fields []any
		code   errorClass
		msg    string
	}{
		{"too long", task, []any{"subject", strings.Repeat("x", 201)}, classValidation,
			"A validation error occurred.  The length of the 'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'."},
		{"out of range", task, []any{"subject", "s", "percentcomplete", int64(101)}, classValidation,
			"A validation error occurred.  The value 101 of 'percentcomplete' on record of type 'task' is outside the valid range."},
		{"bad option", account, []any{"name", "a", "accountcategorycode", int64(9)}, classOptionSetValueOutOfRange,
			"A validation error occurred.  The value 9 of 'accountcategorycode' on record of type 'account' is outside the valid range. Accepted Values: 1,2"},
		{"status of other state", task, []any{"subject", "s", "statecode", int64(0), "statuscode", int64(5)}, classInvalidStateTransition, "5 is not a valid status code for state code TaskState.Open"},
		{"missing reference", account, []any{"name", "a", "primarycontactid", Ref{Table: "contact", ID: uuid.MustParse("00000000-0000-0000-0000-000000000001")}},
			classObjectDoesNotExist, "contact With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist"},
		{"lookup to wrong table", account, []any{"name", "a", "primarycontactid", Ref{Table: "account", ID: uuid.New()}}, classValidation, "cannot reference a record of type 'account'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Create(ctx, p, tt.table, fields(t, tt.table, tt.fields...))
			var se *Error
			if !errors.As(err, &se) || classOf(se) != tt.code || !strings.Contains(se.Message, tt.msg) {
				t.Errorf("err = %v; want %v %q", err, tt.code, tt.msg)
			}
		})
	}
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM "task"`).Scan(&n); err != nil || n != 0 {
		t.Errorf("failed creates left %d tasks behind (%v)", n, err)
	}
}

func TestStatusMovesState(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	task := table(t, s, "task")
	w, err := s.Create(ctx, p, task, fields(t, task, "subject", "s", "statuscode", int64(5)))
	if err != nil {
		t.Fatal(err)
	}
	row, _ := s.Retrieve(ctx, p, task, w.ID, cols(t, task, "statecode", "statuscode", "prioritycode"))
	if fmt.Sprint(row.Values) != "[1 5 1]" {
		t.Errorf("state/status/priority = %v", row.Values)
	}
	if _, err := s.Update(ctx, p, task, w.ID, fields(t, task, "statecode", int64(2)), Match{}); err != nil {
		t.Fatal(err)
	}
	row, _ = s.Retrieve(ctx, p, task, w.ID, cols(t, task, "statecode", "statuscode"))
	if fmt.Sprint(row.Values) != "[2 6]" {
		t.Errorf("after setting state 2 = %v", row.Values)
	}
}

func TestDeleteCascades(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	account, contact, task := table(t, s, "account"), table(t, s, "contact"), table(t, s, "task")
	acc, _ := s.Create(ctx, p, account, fields(t, account, "name", "A"))
	con, err := s.Create(ctx, p, contact, fields(t, contact, "lastname", "L", "parentcustomerid", Ref{Table: "account", ID: acc.ID}))
	if err != nil {
		t.Fatal(err)
	}
	tk, err := s.Create(ctx, p, task, fields(t, task, "subject", "T", "regardingobjectid", Ref{Table: "contact", ID: con.ID}))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := s.Create(ctx, p, account, fields(t, account, "name", "B", "primarycontactid", Ref{Table: "contact", ID: con.ID}))
	// account -> contact (contact_customer_accounts: Cascade) -> task (Contact_Tasks: Cascade);
	// account B's primarycontactid (account_primary_contact: RemoveLink) is cleared.
	if err := s.Delete(ctx, p, account, acc.ID, Match{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Retrieve(ctx, p, contact, con.ID, nil); KindOf(err) != KindNotFound {
		t.Errorf("contact survived: %v", err)
	}
	if _, err := s.Retrieve(ctx, p, task, tk.ID, nil); KindOf(err) != KindNotFound {
		t.Errorf("task survived: %v", err)
	}
	row, err := s.Retrieve(ctx, p, account, other.ID, cols(t, account, "primarycontactid"))
	if err != nil || row.Values[0] != nil || row.Version <= other.Version {
		t.Errorf("account B = %+v, %v", row, err)
	}
	// Restrict: the base currency is referenced by account B.
	cur := table(t, s, "transactioncurrency")
	income, _ := ParseDecimal("5", 4)
	if _, err := s.Update(ctx, p, account, other.ID, fields(t, account, "revenue", income), Match{}); err != nil {
		t.Fatal(err)
	}
	err = s.Delete(ctx, p, cur, uuid.MustParse(s.Organization().BaseCurrencyID), Match{})
	if KindOf(err) != KindAssociation {
		t.Errorf("deleting a referenced currency: %v", err)
	}
}

func TestWriteTransactionRollsBack(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	account := table(t, s, "account")
	err := s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Create(ctx, p, account, fields(t, account, "name", "first")); err != nil {
			return err
		}
		_, err := tx.Create(ctx, p, account, fields(t, account, "name", strings.Repeat("y", 161)))
		return err
	})
	if KindOf(err) != KindValidation {
		t.Fatalf("err = %v", err)
	}
	page, _ := s.Query(ctx, p, Query{Table: account})
	if len(page.Rows) != 0 {
		t.Errorf("rolled-back transaction left %d accounts", len(page.Rows))
	}
}

func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	account := table(t, s, "account")
	name, _ := account.Column("name")
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				w, err := s.Create(ctx, p, account, []Field{{Column: name, Value: fmt.Sprintf("g%d-%d", g, i)}})
				if err != nil {
					errs <- err
					return
				}
				if _, err := s.Update(ctx, p, account, w.ID, []Field{{Column: name, Value: "u"}}, Match{IfMatch: []int64{w.Version}}); err != nil {
					errs <- err
				}
				if _, err := s.Query(ctx, p, Query{Table: account, Columns: []*schema.Column{name}, Limit: 10}); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	s.db.QueryRow(`SELECT count(*) FROM "account"`).Scan(&n)
	if n != 40 {
		t.Errorf("accounts = %d; want 40", n)
	}
}

func TestPersistenceAcrossReopen(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	s, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	uid, err := s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: testAppID, RoleNames: []string{SystemAdministrator}})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := s.ApplicationUser(ctx, testAppID)
	account := table(t, s, "account")
	w, err := s.Create(ctx, p, account, fields(t, account, "name", "kept"))
	if err != nil {
		t.Fatal(err)
	}
	org := s.Organization()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopen with a schema that adds a column to account.
	def, _ := schema.Parse([]byte("tables:\n  - logicalName: account\n    columns:\n      - {logicalName: new_tier, type: Integer}\n"), "x.yaml")
	sch, err := schema.WithBuiltin(def)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, dir, &Options{Schema: sch})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Organization() != org {
		t.Errorf("organization changed across reopen: %+v vs %+v", s2.Organization(), org)
	}
	p2, err := s2.ApplicationUser(ctx, testAppID)
	if err != nil || p2.UserID.String() != uid {
		t.Fatalf("app user after reopen: %v", err)
	}
	acc2, _ := sch.Table("account")
	tier, _ := acc2.Column("new_tier")
	row, err := s2.Retrieve(ctx, p2, acc2, w.ID, []*schema.Column{tier, acc2.PrimaryName()})
	if err != nil || row.Values[0] != nil || row.Values[1] != "kept" || row.Version != w.Version {
		t.Errorf("row after reopen = %+v, %v", row, err)
	}
	if _, err := s2.Update(ctx, p2, acc2, w.ID, []Field{{Column: tier, Value: int64(3)}}, Match{}); err != nil {
		t.Errorf("update new column: %v", err)
	}
}

func TestSchemaTypeChangeIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	def1, _ := schema.Parse([]byte("tables:\n  - logicalName: new_x\n    columns: [{logicalName: new_a, type: Integer}]\n"), "a.yaml")
	sch1, _ := schema.WithBuiltin(def1)
	s, err := Open(ctx, dir, &Options{Schema: sch1})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	def2, _ := schema.Parse([]byte("tables:\n  - logicalName: new_x\n    columns: [{logicalName: new_a, type: String}]\n"), "b.yaml")
	sch2, _ := schema.WithBuiltin(def2)
	_, err = Open(ctx, dir, &Options{Schema: sch2})
	if err == nil || !strings.Contains(err.Error(), `table "new_x" column "new_a" is INTEGER in the database`) {
		t.Errorf("type change: %v", err)
	}
}

func TestDDL(t *testing.T) {
	t.Parallel()
	task, _ := schema.Builtin().Table("task")
	ddl := createTableSQL(task)
	for _, want := range []string{
		`CREATE TABLE "task" (`,
		`"activityid" TEXT NOT NULL PRIMARY KEY`,
		`"subject" TEXT COLLATE dv_ci`,
		`"percentcomplete" INTEGER`,
		`"scheduledend" TEXT`,
		`"regardingobjectid" TEXT`,
		`"regardingobjecttypecode" TEXT`,
		`"versionnumber" INTEGER NOT NULL DEFAULT 0`,
		`) STRICT`,
	} {
		if !strings.Contains(ddl, want) {
			t.Errorf("DDL lacks %q:\n%s", want, ddl)
		}
	}
	account, _ := schema.Builtin().Table("account")
	if !strings.Contains(createTableSQL(account), `"revenue" TEXT COLLATE dv_decimal`) {
		t.Error("money must be exact decimal text")
	}
	idx := strings.Join(indexSQL(account), "\n")
	if !strings.Contains(idx, `CREATE INDEX IF NOT EXISTS "ix_account_primarycontactid" ON "account" ("primarycontactid")`) {
		t.Errorf("indexes:\n%s", idx)
	}
}

// The version sequence is kept in memory between transactions; every path
// that moves the stored sequence (raw admin writes, rollbacks, restores)
// must leave versions unique and the stored sequence at the last one
// handed out.
func TestVersionSequenceAcrossWritePaths(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, p := newStore(t, nil)
	contact := table(t, s, "contact")
	stored := func() int64 {
		t.Helper()
		var v int64
		if err := s.db.QueryRowContext(ctx, `SELECT "value" FROM "_dv_sequence" WHERE "name" = 'version'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	create := func(name string) Written {
		t.Helper()
		w, err := s.Create(ctx, p, contact, fields(t, contact, "lastname", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := stored(); got != w.Version {
			t.Errorf("after creating %s: stored sequence %d, want the version handed out %d", name, got, w.Version)
		}
		return w
	}
	a := create("A")

	// A raw admin write takes a version number in SQL.
	if err := s.SetUserDisabled(ctx, p.UserID.String(), false); err != nil {
		t.Fatal(err)
	}
	userVersion := stored()
	b := create("B")
	if b.Version <= userVersion || userVersion <= a.Version {
		t.Errorf("versions A %d, user %d, B %d: want strictly increasing", a.Version, userVersion, b.Version)
	}

	// A rolled-back transaction hands out numbers that are never stored.
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Create(ctx, p, contact, fields(t, contact, "lastname", "rolled back")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v, want boom", err)
	}
	if got := stored(); got != b.Version {
		t.Errorf("stored sequence after a rollback = %d, want %d", got, b.Version)
	}
	c := create("C")
	if c.Version != b.Version+1 {
		t.Errorf("version after a rollback = %d, want %d", c.Version, b.Version+1)
	}

	// A restore brings back the snapshot's rows, but versions continue above every one handed
	// out before it, so that no version (an ETag, a change-tracking position) means two
	// histories (changes.go, expireChangePositions).
	sn, err := s.SnapshotInMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sn.Close() })
	create("D")
	e := create("E")
	if err := s.Restore(ctx, sn); err != nil {
		t.Fatal(err)
	}
	if d := create("D again"); d.Version <= e.Version {
		t.Errorf("version after the restore = %d, want above %d (the last one before it)", d.Version, e.Version)
	}
}
