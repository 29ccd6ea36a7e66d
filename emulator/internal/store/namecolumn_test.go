package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// The fixture's orders (see TestOrderByLookupSortsByName).
var (
	byPrimaryContact = []string{"a-null2", "a-null1", "a-alpha2", "a-alpha1", "a-alpha3", "a-mike", "a-yankee", "a-zulu"}
	byOwner          = []string{"a-mike", "a-alpha3", "a-null2", "a-alpha2", "a-alpha1", "a-null1", "a-yankee", "a-zulu"}
)

// checkOrder scans the fixture's accounts by order in pages of 1, 3 and
// 100 (the first scan creates the order's sort index, the others read
// it) and compares the names with want.
func (f *sortKeyFixture) checkOrder(t *testing.T, what string, order Order, want []string) {
	t.Helper()
	for _, limit := range []int{1, 3, 100} {
		if diff := cmp.Diff(want, f.scan(t, Query{Orders: []Order{order}}, limit, nil)); diff != "" {
			t.Errorf("%s, pages of %d (-want +got):\n%s", what, limit, diff)
		}
	}
}

func (f *sortKeyFixture) update(t *testing.T, tb *schema.Table, id uuid.UUID, kv ...any) {
	t.Helper()
	if _, err := f.s.Update(context.Background(), f.p, tb, id, fields(t, tb, kv...), Match{}); err != nil {
		t.Fatal(err)
	}
}

// A lookup's order follows every change of what it references: the
// referenced row's name, the lookup's value, its type, the referenced
// row's deletion. Each case starts from the fixture, whose sort indexes
// exist already (the changes must reach the indexed name columns).
func TestOrderByLookupFollowsWrites(t *testing.T) {
	t.Parallel()
	contactRef := func(n int) Ref { return Ref{Table: "contact", ID: fixedID(n)} }
	tests := []struct {
		name   string
		change func(t *testing.T, f *sortKeyFixture)
		column string
		want   []string
	}{
		{"renamed contact", func(t *testing.T, f *sortKeyFixture) {
			f.update(t, table(t, f.s, "contact"), fixedID(1), "lastname", "Aaron") // was Zulu
		}, "primarycontactid", []string{"a-null2", "a-null1", "a-zulu", "a-alpha2", "a-alpha1", "a-alpha3", "a-mike", "a-yankee"}},
		{"case of a name", func(t *testing.T, f *sortKeyFixture) {
			// "alpha" (…05) and "Alpha" (…03) tie on the name whatever the
			// case: the contact's GUID still orders them.
			f.update(t, table(t, f.s, "contact"), fixedID(5), "lastname", "ALPHA")
		}, "primarycontactid", byPrimaryContact},
		{"reassigned lookup", func(t *testing.T, f *sortKeyFixture) {
			f.update(t, f.account, fixedID(0xa06), "primarycontactid", contactRef(4)) // a-null1 to Mike
		}, "primarycontactid", []string{"a-null2", "a-alpha2", "a-alpha1", "a-alpha3", "a-mike", "a-null1", "a-yankee", "a-zulu"}},
		{"cleared lookup", func(t *testing.T, f *sortKeyFixture) {
			f.update(t, f.account, fixedID(0xa01), "primarycontactid", nil) // a-zulu's
		}, "primarycontactid", []string{"a-zulu", "a-null2", "a-null1", "a-alpha2", "a-alpha1", "a-alpha3", "a-mike", "a-yankee"}},
		{"deleted contact", func(t *testing.T, f *sortKeyFixture) {
			// account_primary_contact removes the link.
			if err := f.s.Delete(context.Background(), f.p, table(t, f.s, "contact"), fixedID(2), Match{}); err != nil {
				t.Fatal(err)
			}
		}, "primarycontactid", []string{"a-null2", "a-null1", "a-yankee", "a-alpha2", "a-alpha1", "a-alpha3", "a-mike", "a-zulu"}},
		{"contact gone, lookup left", func(t *testing.T, f *sortKeyFixture) {
			// A row deleted without a cascade (as SQL of another package
			// might) leaves a lookup to nothing: it has no name, as the
			// join it replaces gave none. a-yankee keeps its GUID, the
			// largest among the null names.
			if _, err := f.s.db.Exec(`DELETE FROM "contact" WHERE "contactid" = ?`, fixedID(2).String()); err != nil {
				t.Fatal(err)
			}
		}, "primarycontactid", []string{"a-null2", "a-null1", "a-yankee", "a-alpha2", "a-alpha1", "a-alpha3", "a-mike", "a-zulu"}},
		{"contact back with the same id", func(t *testing.T, f *sortKeyFixture) {
			if _, err := f.s.db.Exec(`DELETE FROM "contact" WHERE "contactid" = ?`, fixedID(2).String()); err != nil {
				t.Fatal(err)
			}
			contact := table(t, f.s, "contact")
			if err := f.s.Write(context.Background(), func(tx *Tx) error {
				_, err := tx.Upsert(context.Background(), f.p, contact, fixedID(2), fields(t, contact, "lastname", "Bravo"), Match{})
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}, "primarycontactid", []string{"a-null2", "a-null1", "a-alpha2", "a-alpha1", "a-alpha3", "a-yankee", "a-mike", "a-zulu"}},
		{"owner from team to user", func(t *testing.T, f *sortKeyFixture) {
			// a-mike leaves team Aardvarks for the user "Test App".
			f.update(t, f.account, fixedID(0xa04), "ownerid", Ref{Table: "systemuser", ID: f.p.UserID})
		}, "ownerid", []string{"a-alpha3", "a-null2", "a-alpha2", "a-mike", "a-alpha1", "a-null1", "a-yankee", "a-zulu"}},
		{"renamed team", func(t *testing.T, f *sortKeyFixture) {
			// Zebras becomes Aardwolf: after Aardvarks, before Test App.
			// Only a-zulu, owned by that team, moves.
			f.update(t, table(t, f.s, "team"), fixedID(0x7002), "name", "Aardwolf")
		}, "ownerid", []string{"a-mike", "a-zulu", "a-alpha3", "a-null2", "a-alpha2", "a-alpha1", "a-null1", "a-yankee"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newSortKeyFixture(t)
			col, _ := f.account.Column(tt.column)
			before := byPrimaryContact
			if tt.column == "ownerid" {
				before = byOwner
			}
			f.checkOrder(t, "before", Order{Column: col}, before)
			tt.change(t, f)
			f.checkOrder(t, "after", Order{Column: col}, tt.want)
			// Descending pages (the non-null names after the cursor, then
			// the nulls) read what one page reads.
			desc := Query{Orders: []Order{{Column: col, Desc: true}}}
			if diff := cmp.Diff(f.scan(t, desc, 100, nil), f.scan(t, desc, 2, nil)); diff != "" {
				t.Errorf("descending, pages of 2 (-one page +pages):\n%s", diff)
			}
		})
	}
}

// Renaming a referenced row updates the copies of its name without
// making the referencing rows newer: their version numbers and modifiedon
// stay, as Dataverse leaves the accounts of a renamed contact unchanged.
func TestNameColumnsLeaveVersionsAlone(t *testing.T) {
	t.Parallel()
	f := newSortKeyFixture(t)
	ctx := context.Background()
	read := func() *Row {
		t.Helper()
		row, err := f.s.Retrieve(ctx, f.p, f.account, fixedID(0xa01), cols(t, f.account, "modifiedon", "versionnumber"))
		if err != nil {
			t.Fatal(err)
		}
		return row
	}
	primary, _ := f.account.Column("primarycontactid")
	owner, _ := f.account.Column("ownerid")
	f.checkOrder(t, "before", Order{Column: primary}, byPrimaryContact)
	f.checkOrder(t, "before", Order{Column: owner}, byOwner)
	before := read()
	f.update(t, table(t, f.s, "contact"), fixedID(1), "lastname", "Aaron")
	f.update(t, table(t, f.s, "team"), fixedID(0x7002), "name", "Aardwolf")
	if diff := cmp.Diff(before, read()); diff != "" {
		t.Errorf("a-zulu after its contact and team were renamed (-before +after):\n%s", diff)
	}
	var name string
	if err := f.s.db.QueryRow(`SELECT "_dv_name_primarycontactid" FROM "account" WHERE "accountid" = ?`, fixedID(0xa01).String()).Scan(&name); err != nil || name != "Aaron" {
		t.Errorf("a-zulu's copy of its contact's name = %q, %v; want Aaron", name, err)
	}
}

// The name columns are the store's own: no read returns them.
func TestNameColumnsAreNotColumns(t *testing.T) {
	t.Parallel()
	f := newSortKeyFixture(t)
	page, err := f.s.Query(context.Background(), f.p, Query{Table: f.account, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Columns {
		if strings.HasPrefix(c.LogicalName, "_") {
			t.Errorf("a read returns the column %s", c.LogicalName)
		}
	}
	if len(page.Rows) != 1 || len(page.Rows[0].Values) != len(page.Columns) {
		t.Fatalf("page = %+v", page)
	}
	if _, ok := f.account.Column("_dv_name_ownerid"); ok {
		t.Error("the schema lists a name column")
	}
}

// A page ordered by a lookup seeks the lookup's sort index to the cursor,
// also when the whole table shares one owner: the cursor's name, lookup
// and id are one row value the index seeks, not a name whose ties are
// read again on every page.
func TestOrderByLookupSeeksItsIndex(t *testing.T) {
	t.Parallel()
	f := newSortKeyFixture(t)
	owner, _ := f.account.Column("ownerid")
	q := Query{Table: f.account, Columns: []*schema.Column{f.name}, Orders: []Order{{Column: owner}}, Limit: 3}
	page, err := f.s.Query(context.Background(), f.p, q) // creates the index
	if err != nil {
		t.Fatal(err)
	}
	q.After = page.Cursor()
	plan := queryPlan(t, f.s, f.p, q)
	want := "SEARCH t0 USING INDEX ix_sort_account(_dv_name_ownerid,ownerid) ((_dv_name_ownerid,ownerid,accountid)>(?,?,?))"
	if !strings.Contains(plan, want) || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("plan of a later page by owner:\n%s\nwant %s and no sort", plan, want)
	}
}

// stripNameColumns makes s's database what a store before name columns
// left: no name triggers, and no name columns in the account table.
func stripNameColumns(t *testing.T, s *Store) {
	t.Helper()
	var triggers []string
	if err := s.Write(context.Background(), func(tx *Tx) error {
		have, err := readNameTriggers(context.Background(), tx.tx)
		for name := range have {
			triggers = append(triggers, name)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(triggers) == 0 {
		t.Fatal("no name triggers to drop: no query ordered by a lookup yet?")
	}
	for _, name := range triggers {
		if _, err := s.db.Exec("DROP TRIGGER " + quoteIdent(name)); err != nil {
			t.Fatal(err)
		}
	}
	// The account table's, which the test reads: dropping every table's
	// (each ALTER TABLE parses the schema again) would cost seconds under
	// the race detector and test the same code.
	for _, tb := range []*schema.Table{table(t, s, "account")} {
		for _, c := range nameLookups(tb) {
			if _, err := s.db.Exec("ALTER TABLE " + quoteIdent(tb.LogicalName) + " DROP COLUMN " + nameColumn(c)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// openDir opens the store in dir with the test application user.
func openDir(t *testing.T, dir string) (*Store, *Principal) {
	t.Helper()
	return openStore(t, dir, nil)
}

// A data directory, or a snapshot, written before the name columns
// existed gets them, filled from the referenced rows, and their triggers.
func TestNameColumnsMigrateOlderDatabases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, p := openDir(t, dir)
	f := fillSortKeyFixture(t, s, p)
	primary, _ := f.account.Column("primarycontactid")
	owner, _ := f.account.Column("ownerid")
	f.checkOrder(t, "new", Order{Column: primary}, byPrimaryContact) // creates the triggers
	// Sort indexes on the name columns would keep them from being dropped.
	for _, ix := range []string{"ix_sort_account(_dv_name_primarycontactid,primarycontactid)"} {
		if _, err := s.db.Exec("DROP INDEX " + quoteIdent(ix)); err != nil {
			t.Fatal(err)
		}
	}
	stripNameColumns(t, s)
	old, err := s.SnapshotToFile(ctx, filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, p = openDir(t, dir)
	f = &sortKeyFixture{s: s, p: p, account: table(t, s, "account")}
	f.name, _ = f.account.Column("name")
	f.checkOrder(t, "reopened", Order{Column: primary}, byPrimaryContact)
	f.checkOrder(t, "reopened", Order{Column: owner}, byOwner)
	// The triggers are back: a rename moves a-zulu.
	f.update(t, table(t, s, "contact"), fixedID(1), "lastname", "Aaron")
	renamed := []string{"a-null2", "a-null1", "a-zulu", "a-alpha2", "a-alpha1", "a-alpha3", "a-mike", "a-yankee"}
	f.checkOrder(t, "renamed", Order{Column: primary}, renamed)

	// Restoring the older snapshot brings back Zulu and a database
	// without name columns, which the restore migrates.
	if err := s.Restore(ctx, old); err != nil {
		t.Fatal(err)
	}
	f.checkOrder(t, "restored", Order{Column: primary}, byPrimaryContact)
	f.checkOrder(t, "restored", Order{Column: owner}, byOwner)
	f.update(t, table(t, s, "contact"), fixedID(1), "lastname", "Aaron")
	f.checkOrder(t, "renamed after the restore", Order{Column: primary}, renamed)

	// A trigger another version defined otherwise is replaced when the
	// data directory is opened again, and its column filled again.
	var ren nameTrigger
	for _, tr := range nameTriggersOf(primary) {
		if tr.name == "_dv_name_ren.contact.account.primarycontactid" {
			ren = tr
		}
	}
	if ren.name == "" {
		t.Fatalf("no rename trigger among %+v", nameTriggersOf(primary))
	}
	for _, stmt := range []string{
		"DROP TRIGGER " + quoteIdent(ren.name),
		"CREATE TRIGGER " + quoteIdent(ren.name) + ` AFTER UPDATE OF "fullname" ON "contact" BEGIN SELECT 1; END`,
		`UPDATE "account" SET "_dv_name_primarycontactid" = NULL`,
	} {
		if _, err := s.db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, p = openDir(t, dir)
	f = &sortKeyFixture{s: s, p: p, account: table(t, s, "account"), name: f.name}
	f.checkOrder(t, "opened again", Order{Column: primary}, renamed)
	f.update(t, table(t, s, "contact"), fixedID(1), "lastname", "Zulu")
	f.checkOrder(t, "renamed back", Order{Column: primary}, byPrimaryContact)
}

// Until a query outside a transaction has made a lookup's name column
// ready, queries read the name from the referenced row, in the same
// order.
func TestOrderByLookupBeforeItsNameColumn(t *testing.T) {
	t.Parallel()
	f := newSortKeyFixture(t)
	ctx := context.Background()
	primary, _ := f.account.Column("primarycontactid")
	q := Query{Table: f.account, Columns: []*schema.Column{f.name}, Orders: []Order{{Column: primary}}}
	var got []string
	if err := f.s.Write(ctx, func(tx *Tx) error {
		page, err := tx.Query(ctx, f.p, q)
		if err != nil {
			return err
		}
		for _, r := range page.Rows {
			got = append(got, r.Values[0].(string))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if f.s.nameColumnReady(primary) {
		t.Error("a transaction's query made the name column ready")
	}
	if diff := cmp.Diff(byPrimaryContact, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if plan := queryPlan(t, f.s, f.p, q); !strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("plan without the name column does not sort:\n%s", plan)
	}
	f.checkOrder(t, "ready", Order{Column: primary}, byPrimaryContact)
	if !f.s.nameColumnReady(primary) {
		t.Error("a query did not make the name column ready")
	}
}
