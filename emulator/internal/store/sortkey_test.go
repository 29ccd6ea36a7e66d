package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// sortKeyFixture holds accounts whose order by name, by primary contact
// name, by owner name and by choice label all differ from the order of
// the stored values.
type sortKeyFixture struct {
	s       *Store
	p       *Principal
	account *schema.Table
	name    *schema.Column
}

// fixedID is the GUID with n in its last digits, so that GUID order is
// known.
func fixedID(n int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012x", n))
}

func newSortKeyFixture(t *testing.T) *sortKeyFixture {
	t.Helper()
	s, p := newStore(t, nil)
	return fillSortKeyFixture(t, s, p)
}

// fillSortKeyFixture writes the fixture's rows into s.
func fillSortKeyFixture(t *testing.T, s *Store, p *Principal) *sortKeyFixture {
	t.Helper()
	ctx := context.Background()
	f := &sortKeyFixture{s: s, p: p, account: table(t, s, "account")}
	f.name, _ = f.account.Column("name")
	contact, team := table(t, s, "contact"), table(t, s, "team")
	upsert := func(tb *schema.Table, id uuid.UUID, fs []Field) {
		t.Helper()
		if err := s.Write(ctx, func(tx *Tx) error {
			_, err := tx.Upsert(ctx, p, tb, id, fs, Match{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Contacts in GUID order Zulu, yankee, Alpha, Mike, alpha: by name
	// (case-insensitive) Alpha and alpha tie, and the GUID breaks the tie.
	for i, last := range []string{"Zulu", "yankee", "Alpha", "Mike", "alpha"} {
		upsert(contact, fixedID(i+1), fields(t, contact, "lastname", last))
	}
	bu := Ref{Table: "businessunit", ID: uuid.MustParse(s.Organization().BusinessUnitID)}
	upsert(team, fixedID(0x7001), fields(t, team, "name", "Aardvarks", "businessunitid", bu))
	upsert(team, fixedID(0x7002), fields(t, team, "name", "Zebras", "businessunitid", bu))
	contactRef := func(n int) Ref { return Ref{Table: "contact", ID: fixedID(n)} }
	teamRef := func(n int) Ref { return Ref{Table: "team", ID: fixedID(n)} }
	// Accounts: name, id, then primary contact, owner and ownershipcode
	// (1 Public, 2 Private, 3 Subsidiary, 4 Other) when set.
	for _, a := range []struct {
		name string
		id   int
		kv   []any
	}{
		{"a-alpha3", 0xa00, []any{"primarycontactid", contactRef(5)}},
		{"a-zulu", 0xa01, []any{"primarycontactid", contactRef(1), "ownerid", teamRef(0x7002), "ownershipcode", int64(1)}},
		{"a-null2", 0xa02, nil},
		{"a-alpha2", 0xa03, []any{"primarycontactid", contactRef(3)}},
		{"a-mike", 0xa04, []any{"primarycontactid", contactRef(4), "ownerid", teamRef(0x7001), "ownershipcode", int64(3)}},
		{"a-alpha1", 0xa05, []any{"primarycontactid", contactRef(3), "ownershipcode", int64(4)}},
		{"a-null1", 0xa06, nil},
		{"a-yankee", 0xa07, []any{"primarycontactid", contactRef(2), "ownershipcode", int64(2)}},
	} {
		upsert(f.account, fixedID(a.id), fields(t, f.account, append([]any{"name", a.name}, a.kv...)...))
	}
	return f
}

// scan pages through q, limit rows a page, carrying each page's cursor as
// text as a $skiptoken does, and returns the account names in order.
func (f *sortKeyFixture) scan(t *testing.T, q Query, limit int, between func(page int)) []string {
	t.Helper()
	q.Table, q.Columns, q.Limit = f.account, []*schema.Column{f.name}, limit
	var names []string
	for page := 0; ; page++ {
		res, err := f.s.Query(context.Background(), f.p, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rows) > limit {
			t.Fatalf("page of %d rows, limit %d", len(res.Rows), limit)
		}
		for _, r := range res.Rows {
			names = append(names, r.Values[0].(string))
		}
		if !res.More {
			return names
		}
		if between != nil {
			between(page)
		}
		text, err := res.Cursor().MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var c Cursor
		if err := c.UnmarshalText(text); err != nil {
			t.Fatal(err)
		}
		q.After = &c
	}
}

func TestOrderByLookupSortsByName(t *testing.T) {
	t.Parallel()
	f := newSortKeyFixture(t)
	primary, _ := f.account.Column("primarycontactid")
	owner, _ := f.account.Column("ownerid")
	tests := []struct {
		name   string
		orders []Order
		want   []string
	}{
		// Nulls first, then by contact name case-insensitively; the tie of
		// "Alpha" and "alpha" by contact GUID (…03 before …05), then rows
		// of one contact by account id. By GUID it would be Zulu first.
		{"ascending", []Order{{Column: primary}},
			[]string{"a-null2", "a-null1", "a-alpha2", "a-alpha1", "a-alpha3", "a-mike", "a-yankee", "a-zulu"}},
		// Names and GUIDs descending, nulls last, the account id ascending.
		{"descending", []Order{{Column: primary, Desc: true}},
			[]string{"a-zulu", "a-yankee", "a-mike", "a-alpha3", "a-alpha2", "a-alpha1", "a-null2", "a-null1"}},
		// A polymorphic lookup sorts by the name in the table its type
		// names: team Aardvarks, user "Test App", team Zebras.
		{"polymorphic owner", []Order{{Column: owner}},
			[]string{"a-mike", "a-alpha3", "a-null2", "a-alpha2", "a-alpha1", "a-null1", "a-yankee", "a-zulu"}},
		{"polymorphic owner descending, then name", []Order{{Column: owner, Desc: true}, {Column: f.name, Desc: true}},
			[]string{"a-zulu", "a-yankee", "a-null2", "a-null1", "a-alpha3", "a-alpha2", "a-alpha1", "a-mike"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, limit := range []int{1, 2, 3, 100} {
				if diff := cmp.Diff(tt.want, f.scan(t, Query{Orders: tt.orders}, limit, nil)); diff != "" {
					t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
				}
			}
		})
	}
}

func TestOrderByLookupCursor(t *testing.T) {
	t.Parallel()
	f := newSortKeyFixture(t)
	ctx := context.Background()
	primary, _ := f.account.Column("primarycontactid")
	q := Query{Table: f.account, Columns: []*schema.Column{f.name}, Orders: []Order{{Column: primary}}, Limit: 4}
	keys := q.SortKeys()
	if len(keys) != 3 || !keys[0].Derived() || keys[1].Derived() || keys[1].Column != primary || keys[2].Column != f.account.PrimaryID() {
		t.Fatalf("sort keys of a lookup order = %+v; want the name, the lookup, the id", keys)
	}
	page, err := f.s.Query(ctx, f.p, q)
	if err != nil {
		t.Fatal(err)
	}
	// The cursor carries the contact's name, so the next page resumes
	// after it rather than after a GUID.
	want := []any{"Alpha", fixedID(3).String(), fixedID(0xa05).String()}
	if diff := cmp.Diff(want, page.Cursor().Keys()); diff != "" {
		t.Errorf("cursor (-want +got):\n%s", diff)
	}
	// A name key read back from text is the text; a number in its place
	// is not a cursor of this query.
	if v, err := SortKeyFromText(keys[0], "{00000000-0000-4000-8000-000000000003}"); err != nil || v != "{00000000-0000-4000-8000-000000000003}" {
		t.Errorf("SortKeyFromText(name key) = %v, %v", v, err)
	}
	q.After = NewCursor([]any{int64(7), fixedID(3).String(), fixedID(0xa05).String()})
	if _, err := f.s.Query(ctx, f.p, q); err != ErrCursorMismatch {
		t.Errorf("a number for the name key: %v; want ErrCursorMismatch", err)
	}
	// Rows created during a scan: one behind the cursor (a null lookup
	// with a smaller id) is not seen, one ahead of it (contact "Bravo") is;
	// none is repeated or skipped.
	contact := table(t, f.s, "contact")
	got := f.scan(t, Query{Orders: []Order{{Column: primary}}}, 2, func(page int) {
		if page != 0 {
			return
		}
		bravo, err := f.s.Create(ctx, f.p, contact, fields(t, contact, "lastname", "Bravo"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Create(ctx, f.p, f.account, fields(t, f.account, "name", "a-bravo", "primarycontactid", Ref{Table: "contact", ID: bravo.ID})); err != nil {
			t.Fatal(err)
		}
		if err := f.s.Write(ctx, func(tx *Tx) error {
			_, err := tx.Upsert(ctx, f.p, f.account, fixedID(0x900), fields(t, f.account, "name", "a-early"), Match{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
	want2 := []string{"a-null2", "a-null1", "a-alpha2", "a-alpha1", "a-alpha3", "a-bravo", "a-mike", "a-yankee", "a-zulu"}
	if diff := cmp.Diff(want2, got); diff != "" {
		t.Errorf("scan with inserts (-want +got):\n%s", diff)
	}
}

func TestOrderByChoiceLabel(t *testing.T) {
	t.Parallel()
	f := newSortKeyFixture(t)
	ownership, _ := f.account.Column("ownershipcode")
	tests := []struct {
		name   string
		orders []Order
		want   []string
	}{
		// By value: nulls, Public (1), Private (2), Subsidiary (3), Other (4).
		{"value", []Order{{Column: ownership}},
			[]string{"a-alpha3", "a-null2", "a-alpha2", "a-null1", "a-zulu", "a-yankee", "a-mike", "a-alpha1"}},
		// By label: nulls, Other, Private, Public, Subsidiary.
		{"label", []Order{{Column: ownership, Label: true}},
			[]string{"a-alpha3", "a-null2", "a-alpha2", "a-null1", "a-alpha1", "a-yankee", "a-zulu", "a-mike"}},
		{"label descending", []Order{{Column: ownership, Label: true, Desc: true}},
			[]string{"a-mike", "a-zulu", "a-yankee", "a-alpha1", "a-alpha3", "a-null2", "a-alpha2", "a-null1"}},
		// Label on a column that is not a choice is ignored.
		{"label on text", []Order{{Column: f.name, Label: true, Desc: true}},
			[]string{"a-zulu", "a-yankee", "a-null2", "a-null1", "a-mike", "a-alpha3", "a-alpha2", "a-alpha1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, limit := range []int{1, 3, 100} {
				if diff := cmp.Diff(tt.want, f.scan(t, Query{Orders: tt.orders}, limit, nil)); diff != "" {
					t.Errorf("pages of %d (-want +got):\n%s", limit, diff)
				}
			}
		})
	}
	// The label key's cursor value is the label.
	q := Query{Table: f.account, Columns: []*schema.Column{f.name}, Orders: []Order{{Column: ownership, Label: true}}, Limit: 5}
	page, err := f.s.Query(context.Background(), f.p, q)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"Other", int64(4), fixedID(0xa05).String()}, page.Cursor().Keys()); diff != "" {
		t.Errorf("cursor (-want +got):\n%s", diff)
	}
}

// An order by a label gets no sort index: an index on the column's values
// would not serve it. A lookup's index holds its name column, then its
// value (see namecolumn.go).
func TestSortIndexOfDerivedKeys(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, nil)
	account := table(t, s, "account")
	primary, _ := account.Column("primarycontactid")
	ownership, _ := account.Column("ownershipcode")
	name, _ := account.Column("name")
	for _, tt := range []struct {
		orders []Order
		want   string
	}{
		{[]Order{{Column: primary}}, "ix_sort_account(_dv_name_primarycontactid,primarycontactid)"},
		{[]Order{{Column: primary, Desc: true}}, "ix_sort_account(_dv_name_primarycontactid desc,primarycontactid desc)"},
		{[]Order{{Column: ownership, Label: true}}, ""},
		{[]Order{{Column: ownership}}, "ix_sort_account(ownershipcode)"},
		{[]Order{{Column: name}, {Column: ownership, Label: true}, {Column: primary}}, "ix_sort_account(name)"},
		{[]Order{{Column: name}, {Column: primary}, {Column: ownership}},
			"ix_sort_account(name,_dv_name_primarycontactid,primarycontactid,ownershipcode)"},
	} {
		if got, _ := sortIndexFor(&Query{Table: account, Orders: tt.orders}); got != tt.want {
			t.Errorf("sort index of %+v = %q; want %q", tt.orders, got, tt.want)
		}
	}
}
