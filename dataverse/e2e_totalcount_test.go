package dataverse_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestE2ERetrieveTotalRecordCount: the unbound function that counts whole tables past 5,000.
func TestE2ERetrieveTotalRecordCount(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	seedCountries(t, env, 7)
	counts, err := env.client.RetrieveTotalRecordCount(ctx, "account", "contact")
	if err != nil {
		t.Fatalf("RetrieveTotalRecordCount: %v", err)
	}
	if diff := cmp.Diff(map[string]int64{"account": 7, "contact": 0}, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}
