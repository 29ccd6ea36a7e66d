package store

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
)

// A create that supplies a taken primary key is a duplicate, and the
// duplicate is the error reported even when the row has other faults
// (the insert finds the taken key through the primary key's constraint,
// yet answers as if the key had been checked first); nothing is written.
func TestCreateWithTakenIDIsDuplicateBeforeOtherFaults(t *testing.T) {
	t.Parallel()
	s, p := newStore(t, nil)
	ctx := context.Background()
	contact := table(t, s, "contact")
	taken := uuid.New()
	w, err := s.Create(ctx, p, contact, fields(t, contact, "contactid", taken, "lastname", "First"))
	if err != nil {
		t.Fatal(err)
	}
	missingUser := Ref{Table: "systemuser", ID: uuid.New()}
	for _, tc := range []struct {
		name  string
		extra []any
		fresh errorClass // the error the same fields give with a free id
	}{
		{"no other fault", nil, errorClass{}},
		{"status of another state", []any{"statecode", int64(0), "statuscode", int64(2)}, classInvalidStateTransition},
		{"owner missing", []any{"ownerid", missingUser}, classObjectDoesNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kv := append([]any{"lastname", "Second"}, tc.extra...)
			_, err := s.Create(ctx, p, contact, fields(t, contact, append([]any{"contactid", taken}, kv...)...))
			var se *Error
			if !errors.As(err, &se) || se.Kind != KindDuplicate || classOf(se) != classDuplicateRecord {
				t.Errorf("create with the taken id: %v, want a duplicate", err)
			}
			_, err = s.Create(ctx, p, contact, fields(t, contact, append([]any{"contactid", uuid.New()}, kv...)...))
			if tc.fresh == (errorClass{}) {
				if err != nil {
					t.Errorf("create with a free id: %v", err)
				}
			} else if !errors.As(err, &se) || classOf(se) != tc.fresh {
				t.Errorf("create with a free id: %v, want class %v", err, tc.fresh)
			}
		})
	}
	row, err := s.Retrieve(ctx, p, contact, taken, cols(t, contact, "lastname", "versionnumber"))
	if err != nil {
		t.Fatal(err)
	}
	if row.Values[0] != "First" || row.Values[1] != w.Version {
		t.Errorf("row after refused creates: %v, want [First %d]", row.Values, w.Version)
	}
}
