package dataverse_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// seedCountries creates n accounts "Acct 000"… with address1_country cycling through three values.
func seedCountries(t *testing.T, env *e2eEnv, n int) []uuid.UUID {
	t.Helper()
	countries := []string{"Norway", "Chile", "Japan"}
	rows := make([]map[string]any, n)
	for i := range rows {
		rows[i] = map[string]any{"name": fmt.Sprintf("Acct %03d", i), "address1_country": countries[i%3], "numberofemployees": i}
	}
	ids, err := dataverse.CreateMultiple(t.Context(), env.client, "accounts", "account", rows, nil)
	if err != nil {
		t.Fatalf("CreateMultiple: %v", err)
	}
	return ids
}

func TestE2ECountForms(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	seedCountries(t, env, 30)

	n, err := env.client.Count(ctx, "accounts", nil)
	if err != nil || n != 30 {
		t.Errorf("Count(accounts) = %d, %v; want 30", n, err)
	}
	n, err = env.client.Count(ctx, "accounts", &dataverse.CountOptions{Filter: dataverse.Eq("address1_country", "Chile").String()})
	if err != nil || n != 10 {
		t.Errorf("Count(accounts, Chile) = %d, %v; want 10", n, err)
	}
	// $count=true alongside a page smaller than the count, and the total-record-count annotations.
	page, err := env.client.List(ctx, "accounts", &dataverse.ListOptions{Query: dataverse.Query{
		Select:      []string{"name"},
		Filter:      dataverse.Ne("address1_country", "Japan").String(),
		Count:       true,
		MaxPageSize: 4,
		Annotations: []string{dataverse.AnnotationTotalRecordCount, dataverse.AnnotationTotalRecordCountLimitExceeded},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 4 || page.Count == nil || *page.Count != 20 || page.NextLink == "" {
		t.Errorf("page: %d items, count %v, next link %q; want 4, 20 and a link", len(page.Items), page.Count, page.NextLink)
	}
	if page.TotalRecordCount == nil || *page.TotalRecordCount != 20 || page.TotalRecordCountLimitExceeded {
		t.Errorf("totalrecordcount %v exceeded %v, want 20 false", page.TotalRecordCount, page.TotalRecordCountLimitExceeded)
	}
}

func TestE2EAggregateAndFormattedValues(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	seedCountries(t, env, 9)

	page, err := env.client.List(ctx, "accounts", &dataverse.ListOptions{Query: dataverse.Query{
		Apply: "groupby((address1_country),aggregate($count as n,numberofemployees with sum as staff))",
	}})
	if err != nil {
		t.Fatalf("$apply: %v", err)
	}
	type group struct {
		Country string `json:"address1_country"`
		N       int    `json:"n"`
		Staff   int    `json:"staff"`
	}
	var got []group
	for _, r := range page.Items {
		var g group
		if err := r.Decode(&g); err != nil {
			t.Fatal(err)
		}
		got = append(got, g)
	}
	// Rows 0..8: Norway 0,3,6; Chile 1,4,7; Japan 2,5,8.
	want := []group{{"Chile", 3, 12}, {"Japan", 3, 15}, {"Norway", 3, 9}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}

	// Formatted values and lookup annotations through the Record helpers.
	me, err := env.client.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Formatted", "gendercode": 2, "creditonhold": true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rec dataverse.Record
	if err := env.client.Retrieve(ctx, "contacts", res.ID, &rec, &dataverse.RetrieveOptions{
		Select:      []string{"gendercode", "creditonhold", "_ownerid_value"},
		Annotations: []string{dataverse.AnnotationsAll},
	}); err != nil {
		t.Fatal(err)
	}
	if v, ok := rec.FormattedValue("gendercode"); !ok || v != "Female" {
		t.Errorf("gendercode formatted value %q %v, want Female", v, ok)
	}
	if v, ok := rec.FormattedValue("creditonhold"); !ok || v != "Yes" {
		t.Errorf("creditonhold formatted value %q %v, want Yes", v, ok)
	}
	owner, ok := rec.Lookup("ownerid")
	if !ok || owner.ID != me.UserID || owner.LogicalName != "systemuser" || owner.NavigationProperty != "ownerid" || owner.Name == "" {
		t.Errorf("owner lookup = %+v, %v; want the application user %v with its annotations", owner, ok, me.UserID)
	}
}

// TestE2ELongGetGoesThroughBatch: a query whose URL is longer than the service's 32 KB limit is sent
// inside a $batch (where 64 KB are allowed) and comes back like any other page.
func TestE2ELongGetGoesThroughBatch(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	ids := seedCountries(t, env, 3)

	// 400 conditions on names that do not exist, plus the one that does: about 40 KB encoded.
	var conds []dataverse.Expr
	for i := range 400 {
		conds = append(conds, dataverse.Eq("name", fmt.Sprintf("Nobody %03d %s", i, strings.Repeat("z", 60))))
	}
	conds = append(conds, dataverse.Eq("name", "Acct 001"))
	filter := dataverse.Or(conds...).String()
	page, err := env.client.List(ctx, "accounts", &dataverse.ListOptions{Query: dataverse.Query{Select: []string{"name"}, Filter: filter}})
	if err != nil {
		t.Fatalf("long GET: %v", err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("long GET: %d rows, want 1", len(page.Items))
	}
	if id, _ := page.Items[0].GUID("accountid"); id != ids[1] {
		t.Errorf("long GET found %v, want %v", id, ids[1])
	}
	reqs := env.wire.take()
	var batches int
	for _, r := range reqs {
		if r.Method == http.MethodGet && r.Path == "accounts" {
			t.Errorf("the long query went out as a GET of %d bytes", len(r.Query))
		}
		if r.Method == http.MethodPost && r.Path == "$batch" {
			batches++
		}
	}
	if batches != 1 {
		t.Errorf("%d $batch requests, want 1", batches)
	}

	// The emulator itself refuses such a URL outside $batch, as the service does.
	tooLong := env.emu.OrgURL() + "/api/data/v9.2/accounts?$filter=" + strings.Repeat("a", 33*1024)
	req, _ := http.NewRequest(http.MethodGet, tooLong, nil)
	req.Header.Set("Authorization", "Bearer "+env.token(t))
	resp, err := env.emu.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Errorf("a %d-byte GET URL got %d from the emulator, want it refused", len(tooLong), resp.StatusCode)
	}
}

// TestE2EFilterOnTimeNow: time.Now() carries nanoseconds, but Dataverse parses a DateTimeOffset
// literal with at most 7 fractional digits (400 otherwise). Filters written with Filterf and the
// builder from such times must be accepted and must select by the time.
func TestE2EFilterOnTimeNow(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	withNanos := func(tm time.Time) time.Time {
		if tm.Nanosecond()%100 == 0 {
			tm = tm.Add(37 * time.Nanosecond) // make sure more than 7 digits are there to drop
		}
		return tm
	}
	before := withNanos(time.Now().Add(-time.Minute))
	created, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Timely"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	after := withNanos(time.Now().Add(time.Minute))
	for _, tc := range []struct {
		name, filter string
		want         int
	}{
		{"Filterf since a minute ago", dataverse.Filterf("lastname eq %v and createdon ge %v", "Timely", before), 1},
		{"builder up to a minute ahead", dataverse.And(dataverse.Eq("lastname", "Timely"), dataverse.Le("createdon", after)).String(), 1},
		{"Filterf from a minute ahead", dataverse.Filterf("lastname eq %v and createdon ge %v", "Timely", after), 0},
	} {
		page, err := env.client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{Select: []string{"lastname"}, Filter: tc.filter}})
		if err != nil {
			t.Errorf("%s: %s: %v", tc.name, tc.filter, err)
			continue
		}
		if len(page.Items) != tc.want {
			t.Errorf("%s: %d rows, want %d", tc.name, len(page.Items), tc.want)
			continue
		}
		if tc.want == 1 {
			if id, _ := page.Items[0].GUID("contactid"); id != created.ID {
				t.Errorf("%s: row %v, want %v", tc.name, id, created.ID)
			}
		}
	}
}

// TestE2ETopAcrossPages: with a page size the service ignores $top and pages through every row;
// the pager stops after Top rows itself and asks for no page beyond them.
func TestE2ETopAcrossPages(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	seedCountries(t, env, 10)
	env.wire.take()
	p := dataverse.NewPager[map[string]any](env.client, "accounts", &dataverse.ListOptions{Query: dataverse.Query{
		Select: []string{"name"}, OrderBy: []string{"name"}, Top: 7, MaxPageSize: 3,
	}})
	var names []string
	for row, err := range p.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, row["name"].(string))
	}
	if want := []string{"Acct 000", "Acct 001", "Acct 002", "Acct 003", "Acct 004", "Acct 005", "Acct 006"}; !cmp.Equal(want, names) {
		t.Errorf("rows %q, want %q", names, want)
	}
	if n := env.wire.count(http.MethodGet, "accounts"); n != 3 {
		t.Errorf("%d page requests, want 3 (3 + 3 + 1 of 3 rows)", n)
	}
}
