package dataverse

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
)

func TestAssociateAndDisassociate(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, nil)
	ctx := context.Background()
	if err := f.client.Associate(ctx, "accounts", idA, "opportunity_customer_accounts", "opportunities", idB, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.client.SetReference(ctx, "opportunities", idB, "customerid_account", "accounts", idA, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.client.Disassociate(ctx, "accounts", idA, "opportunity_customer_accounts", idB, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.client.ClearReference(ctx, "opportunities", idB, "customerid_account", nil); err != nil {
		t.Fatal(err)
	}
	a, b := idA.String(), idB.String()
	want := []captured{
		{Method: "POST", Path: testBasePath + "accounts(" + a + ")/opportunity_customer_accounts/$ref", Body: []byte(`{"@odata.id":"` + f.base() + `opportunities(` + b + `)"}`)},
		{Method: "PUT", Path: testBasePath + "opportunities(" + b + ")/customerid_account/$ref", Body: []byte(`{"@odata.id":"` + f.base() + `accounts(` + a + `)"}`)},
		{Method: "DELETE", Path: testBasePath + "accounts(" + a + ")/opportunity_customer_accounts(" + b + ")/$ref"},
		{Method: "DELETE", Path: testBasePath + "opportunities(" + b + ")/customerid_account/$ref"},
	}
	got := f.reqs()
	if len(got) != len(want) {
		t.Fatalf("%d requests, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Method != want[i].Method || got[i].Path != want[i].Path || string(got[i].Body) != string(want[i].Body) {
			t.Errorf("request %d = %s %s %s\nwant        %s %s %s", i, got[i].Method, got[i].Path, got[i].Body, want[i].Method, want[i].Path, want[i].Body)
		}
	}
	if err := f.client.Disassociate(ctx, "accounts", idA, "x", uuid.Nil, nil); err == nil {
		t.Error("Disassociate with a zero target succeeded")
	}
	if err := f.client.Associate(ctx, "accounts", idA, "bad nav", "x", idB, nil); err == nil {
		t.Error("Associate with a bad navigation property succeeded")
	}
}
