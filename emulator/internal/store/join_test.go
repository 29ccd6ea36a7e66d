package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/go-cmp/cmp"
)

// joinFixture creates three accounts (two with a primary contact) and
// four contacts, two of them working for "Alpha" (parentcustomerid).
type joinFixture struct {
	s                                 *Store
	p                                 *Principal
	account, contact                  *schema.Table
	accName, accPrimary, accID        *schema.Column
	conLast, conID, conParent, conKid *schema.Column
}

func newJoinFixture(t *testing.T) *joinFixture {
	t.Helper()
	s, p := newStore(t, nil)
	ctx := context.Background()
	f := &joinFixture{s: s, p: p, account: table(t, s, "account"), contact: table(t, s, "contact")}
	f.accName, _ = f.account.Column("name")
	f.accPrimary, _ = f.account.Column("primarycontactid")
	f.accID = f.account.PrimaryID()
	f.conLast, _ = f.contact.Column("lastname")
	f.conID = f.contact.PrimaryID()
	f.conParent, _ = f.contact.Column("parentcustomerid")
	f.conKid, _ = f.contact.Column("numberofchildren")
	mk := func(tb *schema.Table, kv ...any) Ref {
		w, err := s.Create(ctx, p, tb, fields(t, tb, kv...))
		if err != nil {
			t.Fatal(err)
		}
		return Ref{Table: tb.LogicalName, ID: w.ID}
	}
	ann := mk(f.contact, "lastname", "Ann", "numberofchildren", int64(1))
	bob := mk(f.contact, "lastname", "Bob", "numberofchildren", int64(2))
	alpha := mk(f.account, "name", "Alpha", "primarycontactid", ann)
	mk(f.account, "name", "Beta", "primarycontactid", bob)
	mk(f.account, "name", "Gamma")
	// Two contacts of Alpha; one contact of contact Ann (a polymorphic
	// lookup to another table, which an account join must not match).
	mk(f.contact, "lastname", "Cid", "parentcustomerid", alpha, "numberofchildren", int64(3))
	mk(f.contact, "lastname", "Dee", "parentcustomerid", alpha)
	mk(f.contact, "lastname", "Eve", "parentcustomerid", ann)
	return f
}

func (f *joinFixture) names(t *testing.T, q Query) [][]any {
	t.Helper()
	page, err := f.s.Query(context.Background(), f.p, q)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for _, r := range page.Rows {
		out = append(out, r.Values)
	}
	return out
}

func TestJoins(t *testing.T) {
	t.Parallel()
	f := newJoinFixture(t)
	toContact := func(outer bool) *Join {
		return &Join{Table: f.contact, From: f.conID, To: f.accPrimary, Outer: outer, Columns: []*schema.Column{f.conLast}}
	}
	byName := []Order{{Column: f.accName}}
	name := []*schema.Column{f.accName}
	inner := toContact(false)
	outer := toContact(true)
	workers := &Join{Table: f.contact, From: f.conParent, To: f.accID, Columns: []*schema.Column{f.conLast}}
	onlyBob := &Join{Table: f.contact, From: f.conID, To: f.accPrimary, Outer: true, On: Compare(f.conLast, OpEq, "bob"), Columns: []*schema.Column{f.conLast}}
	nestedInner := &Join{Table: f.contact, From: f.conID, To: f.accPrimary, Outer: true, Columns: []*schema.Column{f.conLast},
		Joins: []*Join{{Table: f.contact, From: f.conParent, To: f.conID, Columns: []*schema.Column{f.conLast}}}}
	missing := &Join{Table: f.contact, From: f.conID, To: f.accPrimary, Outer: true}
	tests := []struct {
		name string
		q    Query
		want [][]any
	}{
		{"inner many-to-one", Query{Table: f.account, Columns: name, Joins: []*Join{inner}, Orders: byName},
			[][]any{{"Alpha", "Ann"}, {"Beta", "Bob"}}},
		{"outer keeps rows without a match", Query{Table: f.account, Columns: name, Joins: []*Join{outer}, Orders: byName},
			[][]any{{"Alpha", "Ann"}, {"Beta", "Bob"}, {"Gamma", nil}}},
		{"join condition on an outer join", Query{Table: f.account, Columns: name, Joins: []*Join{onlyBob}, Orders: byName},
			[][]any{{"Alpha", nil}, {"Beta", "Bob"}, {"Gamma", nil}}},
		{"one-to-many repeats the parent, polymorphic type checked", Query{Table: f.account, Columns: name, Joins: []*Join{workers},
			Orders: []Order{{Column: f.accName}, {Column: f.conLast, Join: workers, Desc: true}}},
			[][]any{{"Alpha", "Dee"}, {"Alpha", "Cid"}}},
		{"where on a joined table (not-in through an outer join)", Query{Table: f.account, Columns: name, Joins: []*Join{missing},
			Where: InJoin(missing, IsNull(f.conID)), Orders: byName}, [][]any{{"Gamma"}}},
		{"nested inner join under an outer join", Query{Table: f.account, Columns: name, Joins: []*Join{nestedInner}, Orders: byName},
			[][]any{{"Alpha", "Ann", "Eve"}}},
		{"distinct", Query{Table: f.account, Columns: name, Joins: []*Join{{Table: f.contact, From: f.conParent, To: f.accID}}, Distinct: true},
			[][]any{{"Alpha"}}},
		{"offset", Query{Table: f.account, Columns: name, Orders: byName, Offset: 1, Limit: 1}, [][]any{{"Beta"}}},
		{"offset without limit", Query{Table: f.account, Columns: name, Orders: byName, Offset: 2}, [][]any{{"Gamma"}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, f.names(t, tt.q)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	ctx := context.Background()
	n, err := f.s.CountRows(ctx, f.p, Query{Table: f.account, Joins: []*Join{toContact(false)}}, 0)
	if err != nil || n != 2 {
		t.Errorf("CountRows with a join = %d, %v", n, err)
	}
	n, err = f.s.CountRows(ctx, f.p, Query{Table: f.account, Columns: name, Distinct: true, Joins: []*Join{{Table: f.contact, From: f.conParent, To: f.accID}}}, 0)
	if err != nil || n != 1 {
		t.Errorf("CountRows distinct = %d, %v", n, err)
	}
	// Mismatched join columns are refused before any SQL runs.
	_, err = f.s.Query(ctx, f.p, Query{Table: f.account, Joins: []*Join{{Table: f.contact, From: f.conLast, To: f.accPrimary}}})
	if KindOf(err) != KindValidation || err.Error() != "Data Types don't match for the link-entity join attributes 'lastname', 'primarycontactid'." {
		t.Errorf("type mismatch: %v", err)
	}
	var many []*Join
	for range MaxJoins + 1 {
		many = append(many, toContact(true))
	}
	if _, err := f.s.Query(ctx, f.p, Query{Table: f.account, Joins: many}); KindOf(err) != KindValidation {
		t.Errorf("%d joins: %v", len(many), err)
	}
}

func TestJoinPagingWithTextCursor(t *testing.T) {
	t.Parallel()
	f := newJoinFixture(t)
	ctx := context.Background()
	// Contacts with their account (outer, so all six contacts), ordered
	// by the account's name then the contact's: page two rows at a time,
	// carrying the cursor as text, and insert a row during the scan.
	acct := &Join{Table: f.account, From: f.accID, To: f.conParent, Outer: true, Columns: []*schema.Column{f.accName}}
	q := Query{Table: f.contact, Columns: []*schema.Column{f.conLast}, Joins: []*Join{acct},
		Orders: []Order{{Column: f.accName, Join: acct}, {Column: f.conLast}}, Limit: 2}
	keys := q.SortKeys()
	if len(keys) != 4 || keys[2].Column != f.conID || keys[3].Join != acct {
		t.Fatalf("sort keys = %+v", keys)
	}
	var seen []string
	for pages := 0; pages < 10; pages++ {
		page, err := f.s.Query(ctx, f.p, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			seen = append(seen, fmt.Sprint(r.Values[0]))
		}
		if pages == 0 {
			if _, err := f.s.Create(ctx, f.p, f.contact, fields(t, f.contact, "lastname", "Zed")); err != nil {
				t.Fatal(err)
			}
		}
		if !page.More {
			break
		}
		var texts []any
		for i, k := range page.Cursor().Keys() {
			if k == nil {
				texts = append(texts, nil)
				continue
			}
			v, err := SortKeyFromText(keys[i], fmt.Sprint(k))
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, v)
		}
		q.After = NewCursor(texts)
	}
	// Nulls sort first: contacts without an account, by name, then
	// Alpha's two contacts.
	want := []string{"Ann", "Bob", "Eve", "Zed", "Cid", "Dee"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("paged join (-want +got):\n%s", diff)
	}
	if _, err := SortKeyFromText(Order{Column: f.conKid}, "x"); err == nil {
		t.Error("SortKeyFromText accepted a non-number for an integer column")
	}
	if v, err := SortKeyFromText(Order{Column: f.conID}, "{70BF4D48-34CB-ED11-B596-0022481D68CD}"); err != nil || v != "70bf4d48-34cb-ed11-b596-0022481d68cd" {
		t.Errorf("braced GUID = %v, %v", v, err)
	}
}

func TestJoinPrivileges(t *testing.T) {
	t.Parallel()
	f := newJoinFixture(t)
	ctx := context.Background()
	if _, err := f.s.EnsureRole(ctx, "Accounts only", []RolePrivilege{{Name: "prvReadAccount", Depth: DepthOrganization}}); err != nil {
		t.Fatal(err)
	}
	const app = "40000000-0000-0000-0000-000000000009"
	if _, err := f.s.EnsureApplicationUser(ctx, ApplicationUser{ApplicationID: app, FullName: "Accounts App", RoleNames: []string{"Accounts only"}}); err != nil {
		t.Fatal(err)
	}
	p, err := f.s.ApplicationUser(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	j := &Join{Table: f.contact, From: f.conID, To: f.accPrimary}
	_, err = f.s.Query(ctx, p, Query{Table: f.account, Joins: []*Join{j}})
	if KindOf(err) != KindPrivilege {
		t.Errorf("join without read on contact: %v", err)
	}
	_, err = f.s.Aggregate(ctx, p, Aggregation{Table: f.account, Joins: []*Join{j}, Measures: []Measure{{Func: AggCount}}})
	if KindOf(err) != KindPrivilege {
		t.Errorf("aggregate join without read on contact: %v", err)
	}
}

func TestAggregateOverJoinsAndDates(t *testing.T) {
	t.Parallel()
	clock := time.Date(2023, 3, 25, 17, 42, 0, 0, time.UTC)
	s, p := newStore(t, &Options{Now: func() time.Time { return clock }})
	ctx := context.Background()
	account, contact := table(t, s, "account"), table(t, s, "contact")
	ann, _ := s.Create(ctx, p, contact, fields(t, contact, "lastname", "Ann"))
	for i, n := range []string{"A1", "A2", "B1"} {
		fs := fields(t, account, "name", n, "numberofemployees", int64(100*(i+1)))
		if i < 2 {
			fs = append(fs, fields(t, account, "primarycontactid", Ref{Table: "contact", ID: ann.ID})...)
		}
		if _, err := s.Create(ctx, p, account, fs); err != nil {
			t.Fatal(err)
		}
	}
	clock = time.Date(2023, 8, 27, 8, 0, 0, 0, time.UTC)
	if _, err := s.Create(ctx, p, account, fields(t, account, "name", "Later")); err != nil {
		t.Fatal(err)
	}
	primary, _ := account.Column("primarycontactid")
	last, _ := contact.Column("lastname")
	emp, _ := account.Column("numberofemployees")
	created, _ := account.Column("createdon")
	j := &Join{Table: contact, From: contact.PrimaryID(), To: primary, Outer: true}
	rows, err := s.Aggregate(ctx, p, Aggregation{Table: account, Joins: []*Join{j},
		Groups:   []GroupKey{{Column: last, Join: j}},
		Measures: []Measure{{Func: AggCount}, {Column: emp, Func: AggSum}, {Column: emp, Func: AggCountColumn}, {Column: last, Join: j, Func: AggCountDistinct}}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]any{{nil, int64(2), int64(300), int64(1), int64(0)}, {"Ann", int64(2), int64(300), int64(2), int64(1)}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("group by joined column (-want +got):\n%s", diff)
	}
	rows, err = s.Aggregate(ctx, p, Aggregation{Table: account,
		Groups:   []GroupKey{{Column: created, Date: DateYear}, {Column: created, Date: DateQuarter}, {Column: created, Date: DateMonth}, {Column: created, Date: DateWeek}, {Column: created, Date: DateDay}},
		Measures: []Measure{{Func: AggCount}}})
	if err != nil {
		t.Fatal(err)
	}
	// SQL Server's week numbers for 2023-03-25 and 2023-08-27.
	want = [][]any{{int64(2023), int64(1), int64(3), int64(12), int64(25), int64(3)}, {int64(2023), int64(3), int64(8), int64(35), int64(27), int64(1)}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("date grouping (-want +got):\n%s", diff)
	}
	if _, err := s.Aggregate(ctx, p, Aggregation{Table: account, Measures: []Measure{{Func: AggCount}}, Limit: 2}); KindOf(err) != KindValidation {
		t.Errorf("aggregate limit 2 over 4 rows: %v", err)
	}
}
