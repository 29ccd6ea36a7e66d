package store

import (
	"context"
	"errors"
	"testing"
)

// Nulling a SystemRequired column (the owner, the state, a team's name) is
// a RequiredFieldMissing validation error that writes nothing; nulling the
// status gives the state's default status.
func TestSystemRequiredColumnsCannotBeNulled(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	contact, team := table(t, s, "contact"), table(t, s, "team")
	w, err := s.Create(ctx, p, contact, fields(t, contact, "lastname", "Owned"))
	if err != nil {
		t.Fatal(err)
	}
	for _, column := range []string{"ownerid", "statecode"} {
		_, err := s.Update(ctx, p, contact, w.ID, fields(t, contact, column, nil), Match{})
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindValidation || classOf(e) != classRequiredMissing ||
			e.Message != "A validation error occurred.  The '"+column+"' attribute of the 'contact' entity is SystemRequired and cannot be set to null." {
			t.Errorf("null %s: %v", column, err)
		}
	}
	row, err := s.Retrieve(ctx, p, contact, w.ID, cols(t, contact, "ownerid", "statecode", "versionnumber"))
	if err != nil {
		t.Fatal(err)
	}
	if row.Values[0] == nil || row.Values[1] != int64(0) || row.Values[2] != w.Version {
		t.Errorf("row after refused updates: %v (version %d)", row.Values, w.Version)
	}

	if _, err := s.Update(ctx, p, contact, w.ID, fields(t, contact, "statuscode", nil), Match{}); err != nil {
		t.Fatal(err)
	}
	row, err = s.Retrieve(ctx, p, contact, w.ID, cols(t, contact, "statecode", "statuscode"))
	if err != nil {
		t.Fatal(err)
	}
	if row.Values[0] != int64(0) || row.Values[1] != int64(1) {
		t.Errorf("state, status after nulling the status = %v; want 0, 1", row.Values)
	}

	_, err = s.Create(ctx, p, team, nil)
	if KindOf(err) != KindValidation || err.Error() != "A validation error occurred.  A value for the 'name' attribute of the 'team' entity is required." {
		t.Errorf("team without a name: %v", err)
	}
}
