package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/go-cmp/cmp"
)

// newStore opens an in-memory store with an application user holding
// System Administrator, and returns the store and that user.
func TestQueryConditionsAndKeysetPaging(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	contact := table(t, s, "contact")
	names := []string{"Ähm", "alpha", "Bravo", "charlie", "delta", "Echo", "foxtrot", "golf", "Hotel", "india"}
	for i, n := range names {
		income, _ := ParseDecimal(fmt.Sprint(i*1000+500), 4)
		fs := fields(t, contact, "lastname", n, "annualincome", income)
		if i%3 == 0 {
			fs = fields(t, contact, "lastname", n)
		}
		if _, err := s.Create(ctx, p, contact, fs); err != nil {
			t.Fatal(err)
		}
	}
	last, _ := contact.Column("lastname")
	inc, _ := contact.Column("annualincome")
	run := func(q Query) []string {
		t.Helper()
		q.Table = contact
		q.Columns = []*schema.Column{last}
		page, err := s.Query(ctx, p, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range page.Rows {
			out = append(out, r.Values[0].(string))
		}
		return out
	}
	two, _ := ParseDecimal("2000", 0)
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"case-insensitive eq", Query{Where: Compare(last, OpEq, "ALPHA")}, []string{"alpha"}},
		{"unicode case", Query{Where: Compare(last, OpEq, "ähm")}, []string{"Ähm"}},
		{"like contains", Query{Where: Like(last, "%ARL%")}, []string{"charlie"}},
		{"like set", Query{Where: Like(last, "[a-c]%"), Orders: []Order{{Column: last}}}, []string{"alpha", "Bravo", "charlie"}},
		{"decimal compares numerically", Query{Where: Compare(inc, OpGt, two), Orders: []Order{{Column: inc}}}, []string{"Bravo", "delta", "Echo", "golf", "Hotel"}},
		// Case folding only: "Ähm" sorts after the ASCII letters.
		{"null", Query{Where: IsNull(inc), Orders: []Order{{Column: last}}}, []string{"charlie", "foxtrot", "india", "Ähm"}},
		{"or/not", Query{Where: Or(Compare(last, OpEq, "golf"), Not(Compare(last, OpLt, "india"))), Orders: []Order{{Column: last, Desc: true}}}, []string{"Ähm", "india", "golf"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, run(tt.q)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	// Page through by annualincome descending (nulls last), 3 at a time,
	// inserting a row during the scan: no row is repeated or skipped.
	var seen []string
	q := Query{Table: contact, Columns: []*schema.Column{last}, Orders: []Order{{Column: inc, Desc: true}}, Limit: 3}
	for pages := 0; ; pages++ {
		page, err := s.Query(ctx, p, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			seen = append(seen, r.Values[0].(string))
		}
		if pages == 0 {
			income, _ := ParseDecimal("100", 4)
			if _, err := s.Create(ctx, p, contact, fields(t, contact, "lastname", "late", "annualincome", income)); err != nil {
				t.Fatal(err)
			}
		}
		if !page.More {
			break
		}
		text, err := page.Cursor().MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var c Cursor
		if err := c.UnmarshalText(text); err != nil {
			t.Fatal(err)
		}
		q.After = &c
	}
	if len(seen) != 11 || seen[0] != "Hotel" || seen[6] != "late" {
		t.Errorf("paged scan = %v", seen)
	}
	set := map[string]bool{}
	for _, n := range seen {
		if set[n] {
			t.Errorf("%s repeated", n)
		}
		set[n] = true
	}
}

func TestRelatedConditions(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	account, contact, task := table(t, s, "account"), table(t, s, "contact"), table(t, s, "task")
	c1, _ := s.Create(ctx, p, contact, fields(t, contact, "firstname", "Joe", "lastname", "Smith"))
	a1, _ := s.Create(ctx, p, account, fields(t, account, "name", "With Joe", "primarycontactid", Ref{Table: "contact", ID: c1.ID}))
	s.Create(ctx, p, account, fields(t, account, "name", "Without"))
	s.Create(ctx, p, task, fields(t, task, "subject", "open", "regardingobjectid", Ref{Table: "account", ID: a1.ID}))
	name, _ := account.Column("name")
	full, _ := contact.Column("fullname")
	state, _ := task.Column("statecode")
	primary, _ := account.NavigationProperty("primarycontactid")
	tasks, _ := account.NavigationProperty("Account_Tasks")
	for label, cond := range map[string]Cond{
		"lookup path": Related(primary, Compare(full, OpEq, "joe smith")),
		"any":         Any(tasks, Compare(state, OpEq, int64(0))),
		"any()":       Any(tasks, nil),
	} {
		page, err := s.Query(ctx, p, Query{Table: account, Columns: []*schema.Column{name}, Where: cond})
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if len(page.Rows) != 1 || page.Rows[0].Values[0] != "With Joe" {
			t.Errorf("%s: %+v", label, page.Rows)
		}
	}
	page, _ := s.Query(ctx, p, Query{Table: account, Columns: []*schema.Column{name}, Where: All(tasks, Compare(state, OpEq, int64(1))), Orders: []Order{{Column: name}}})
	if len(page.Rows) != 1 || page.Rows[0].Values[0] != "Without" {
		t.Errorf("all(): %+v", page.Rows)
	}
	su := table(t, s, "systemuser")
	roles, _ := su.NavigationProperty("systemuserroles_association")
	roleName, _ := table(t, s, "role").Column("name")
	suName, _ := su.Column("fullname")
	if _, err := s.EnsureRole(ctx, "Unused", nil); err != nil {
		t.Fatal(err)
	}
	// SYSTEM and the test app hold System Administrator; nobody holds Unused.
	page, err := s.Query(ctx, p, Query{Table: su, Columns: []*schema.Column{suName}, Where: Any(roles, Compare(roleName, OpEq, SystemAdministrator)),
		Orders: []Order{{Column: suName}}})
	if err != nil || len(page.Rows) != 2 || page.Rows[0].Values[0] != "SYSTEM" || page.Rows[1].Values[0] != "Test App" {
		t.Errorf("N:N any: %+v, %v", page, err)
	}
	page, err = s.Query(ctx, p, Query{Table: su, Columns: []*schema.Column{suName}, Where: Any(roles, Compare(roleName, OpEq, "Unused"))})
	if err != nil || len(page.Rows) != 0 {
		t.Errorf("N:N any of an unassigned role: %+v, %v", page, err)
	}
}
