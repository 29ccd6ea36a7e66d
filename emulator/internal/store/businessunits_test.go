package store

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSetBusinessUnitDisabled: disabling reaches every unit under the one disabled and gives each
// changed row a new version number; a unit outside the subtree, and units already so, keep
// theirs; the refusals carry Dataverse's kinds, codes and messages.
func TestSetBusinessUnitDisabled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newStore(t, nil)
	root := s.Organization().BusinessUnitID
	mk := func(name, parent string) string {
		t.Helper()
		bu, err := s.CreateBusinessUnit(ctx, name, parent)
		if err != nil {
			t.Fatal(err)
		}
		return bu.ID
	}
	sales := mk("Sales", "")
	emea := mk("Sales EMEA", sales)
	paris := mk("Sales Paris", emea)
	other := mk("Support", "")
	versions := func() map[string]int64 {
		t.Helper()
		out := map[string]int64{}
		for _, id := range []string{root, sales, emea, paris, other} {
			var v int64
			if err := s.db.QueryRowContext(ctx, `SELECT "versionnumber" FROM "businessunit" WHERE "businessunitid" = ?`, id).Scan(&v); err != nil {
				t.Fatal(err)
			}
			out[id] = v
		}
		return out
	}
	disabled := func() map[string]bool {
		t.Helper()
		units, err := s.BusinessUnits(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, bu := range units {
			out[bu.Name] = bu.Disabled
		}
		return out
	}

	if err := s.SetBusinessUnitDisabled(ctx, paris, true); err != nil {
		t.Fatal(err)
	}
	before := versions()
	if err := s.SetBusinessUnitDisabled(ctx, sales, true); err != nil {
		t.Fatal(err)
	}
	after := versions()
	want := map[string]bool{"emulator": false, "Sales": true, "Sales EMEA": true, "Sales Paris": true, "Support": false}
	if diff := cmp.Diff(want, disabled()); diff != "" {
		t.Errorf("after disabling Sales (-want +got):\n%s", diff)
	}
	for id, changed := range map[string]bool{root: false, sales: true, emea: true, paris: false, other: false} {
		if (after[id] != before[id]) != changed {
			t.Errorf("version of %s: %d -> %d, want changed=%v", id, before[id], after[id], changed)
		}
	}
	if after[sales] == after[emea] {
		t.Errorf("Sales and Sales EMEA share version %d; each changed row takes its own", after[sales])
	}

	// Enabling an enabled unit changes nothing; a unit under a disabled parent stays disabled.
	if err := s.SetBusinessUnitDisabled(ctx, other, false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetBusinessUnitDisabled(ctx, emea, false); KindOf(err) != KindValidation {
		t.Errorf("enabling Sales EMEA under disabled Sales: %v, want KindValidation", err)
	}
	if diff := cmp.Diff(after, versions()); diff != "" {
		t.Errorf("versions after the no-op and the refusal (-want +got):\n%s", diff)
	}
	if err := s.SetBusinessUnitDisabled(ctx, sales, false); err != nil {
		t.Fatal(err)
	}
	for name, off := range disabled() {
		if off {
			t.Errorf("%s still disabled after enabling Sales", name)
		}
	}

	for _, tt := range []struct {
		name string
		err  error
		kind Kind
		code errorClass
		text string
	}{
		{"disable the root", s.SetBusinessUnitDisabled(ctx, root, true), KindValidation, classValidation, "Root Business unit cannot be disabled."},
		{"unknown unit", s.SetBusinessUnitDisabled(ctx, "00000000-0000-4000-8000-00000000dead", true), KindNotFound, classObjectDoesNotExist,
			"businessunit With Id = 00000000-0000-4000-8000-00000000dead Does Not Exist"},
		{"child of a disabled unit", func() error {
			if err := s.SetBusinessUnitDisabled(ctx, other, true); err != nil {
				return err
			}
			_, err := s.CreateBusinessUnit(ctx, "Support Tier 2", other)
			return err
		}(), KindValidation, classBusinessNotEnabled, "The specified business unit is disabled."},
	} {
		e, ok := tt.err.(*Error)
		if !ok || e.Kind != tt.kind || classOf(e) != tt.code || e.Message != tt.text {
			t.Errorf("%s: %#v, want kind %d, %v %q", tt.name, tt.err, tt.kind, tt.code, tt.text)
		}
	}
}
