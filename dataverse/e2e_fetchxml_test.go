package dataverse_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
)

// TestE2EFetchXMLPagingCookies pages a FetchXML query with the paging-cookie protocol and resumes it
// from a saved link.
func TestE2EFetchXMLPagingCookies(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	seedCountries(t, env, 25)

	const fetch = `<fetch><entity name="account"><attribute name="name"/><attribute name="numberofemployees"/>` +
		`<filter><condition attribute="address1_country" operator="ne" value="Japan"/></filter>` +
		`<order attribute="numberofemployees"/></entity></fetch>`
	p := env.client.FetchXMLPager("accounts", fetch, &dataverse.FetchOptions{PageSize: 5})
	var got []int
	var sizes []int
	var saved string
	for p.More() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("FetchXML page %d: %v", len(sizes)+1, err)
		}
		sizes = append(sizes, len(page.Items))
		for _, r := range page.Items {
			got = append(got, intField(t, r, "numberofemployees"))
		}
		if len(sizes) == 1 {
			saved = page.NextLink
		}
	}
	var want []int
	for i := range 25 {
		if i%3 != 2 {
			want = append(want, i)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FetchXML rows (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{5, 5, 5, 2}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	resumed, err := dataverse.ResumePager[dataverse.Record](env.client, saved, nil)
	if err != nil {
		t.Fatalf("ResumePager(FetchXML link): %v", err)
	}
	n := 0
	for _, err := range resumed.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(want)-5 {
		t.Errorf("resumed FetchXML pager read %d rows, want %d", n, len(want)-5)
	}
}
