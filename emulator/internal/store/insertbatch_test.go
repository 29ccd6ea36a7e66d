package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// Rows created by CreateBatched, which go to SQLite as multi-row INSERTs,
// read back exactly as the same rows created one by one with Create: over
// several statements of different sizes (64, 32, 4, 2 rows), a change of
// shape in the middle (rows with one more column), and a row whose lookup
// names a row created earlier in the same transaction (which must be
// inserted before the lookup is checked).
func TestCreateBatchedWritesWhatCreateWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	opts := &Options{Now: func() time.Time { return clock }}
	one, p1 := newStore(t, opts)
	batched, p2 := newStore(t, opts)
	account := table(t, one, "account")
	const n = 150
	ids := make([]uuid.UUID, n)
	rows := make([][]Field, n)
	for i := range rows {
		ids[i] = uuid.New()
		kv := []any{"accountid", ids[i], "name", fmt.Sprintf("Account %03d", i)}
		if i >= 70 && i < 80 {
			kv = append(kv, "telephone1", fmt.Sprintf("+1 555 %04d", i))
		}
		if i == 100 {
			// Row 95 still waits (rows 80 to 143 go in one statement).
			kv = append(kv, "parentaccountid", Ref{Table: "account", ID: ids[95]})
		}
		rows[i] = fields(t, account, kv...)
	}
	var want []Written
	err := one.Write(ctx, func(tx *Tx) error {
		for _, r := range rows {
			w, err := tx.Create(ctx, p1, account, r)
			if err != nil {
				return err
			}
			want = append(want, w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []Written
	err = batched.Write(ctx, func(tx *Tx) error {
		for _, r := range rows {
			w, err := tx.CreateBatched(ctx, p2, account, r)
			if err != nil {
				return err
			}
			got = append(got, w)
		}
		return tx.FlushCreates(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("written (-Create +CreateBatched):\n%s", diff)
	}
	// The owner is each store's own application user (a different id per store): compare
	// every other column, and the owner against the store's user.
	var readCols []string
	for _, c := range account.Columns {
		if c.ValidForRead && !c.Internal && !strings.HasPrefix(c.LogicalName, "owner") && !strings.HasPrefix(c.LogicalName, "owning") &&
			!strings.HasPrefix(c.LogicalName, "createdby") && !strings.HasPrefix(c.LogicalName, "modifiedby") {
			readCols = append(readCols, c.LogicalName)
		}
	}
	for i, id := range ids {
		a, err := one.Retrieve(ctx, p1, account, id, cols(t, account, readCols...))
		if err != nil {
			t.Fatalf("row %d created one by one: %v", i, err)
		}
		b, err := batched.Retrieve(ctx, p2, account, id, cols(t, account, readCols...))
		if err != nil {
			t.Fatalf("row %d created batched: %v", i, err)
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("row %d (-Create +CreateBatched):\n%s", i, diff)
		}
		owner, err := batched.Retrieve(ctx, p2, account, id, cols(t, account, "ownerid", "createdby", "owningbusinessunit"))
		if err != nil {
			t.Fatal(err)
		}
		wantOwner := []any{Ref{Table: "systemuser", ID: p2.UserID}, Ref{Table: "systemuser", ID: p2.UserID}, Ref{Table: "businessunit", ID: p2.BusinessUnitID}}
		if diff := cmp.Diff(wantOwner, owner.Values); diff != "" {
			t.Errorf("row %d owner, creator, business unit (-want +got):\n%s", i, diff)
		}
	}
	if got, err := batched.Count(ctx, p2, account, nil, 0); err != nil || got != n {
		t.Errorf("accounts created batched = %d, %v; want %d", got, err, n)
	}
}

// A failing row reports the same error through CreateBatched as through
// Create, even when rows before it wait to be inserted and one of them
// fails there: that earlier failure is the one reported, as if the rows
// had been inserted one by one. Nothing of the transaction is kept.
func TestCreateBatchedReportsErrorsInRowOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, p := newStore(t, nil)
	contact := table(t, s, "contact")
	taken := uuid.New()
	if _, err := s.Create(ctx, p, contact, fields(t, contact, "contactid", taken, "lastname", "Taken")); err != nil {
		t.Fatal(err)
	}
	missingUser := Ref{Table: "systemuser", ID: uuid.New()}
	twice := uuid.New()
	ok := func(i int) []any { return []any{"contactid", uuid.New(), "lastname", fmt.Sprintf("Row %d", i)} }
	badState := []any{"lastname", "Bad state", "statecode", int64(0), "statuscode", int64(2)}
	missingOwner := []any{"lastname", "Missing owner", "ownerid", missingUser}
	for _, tc := range []struct {
		name string
		rows [][]any
		want errorClass
	}{
		{"a taken id waits, a later row has a bad state", [][]any{ok(0), {"contactid", taken, "lastname", "Again"}, ok(2), badState}, classDuplicateRecord},
		{"a taken id waits, a later row's owner is missing (a query)", [][]any{ok(0), {"contactid", taken, "lastname", "Again"}, missingOwner}, classDuplicateRecord},
		{"the same new id twice, then a bad state", [][]any{{"contactid", uuid.MustParse("7a1c0f3e-0000-4000-8000-0000000000aa"), "lastname", "A"}, ok(1), {"contactid", uuid.MustParse("7a1c0f3e-0000-4000-8000-0000000000aa"), "lastname", "B"}, badState}, classDuplicateRecord},
		{"rows that wait are fine, a later row has a bad state", [][]any{ok(0), ok(1), badState, ok(3)}, classInvalidStateTransition},
		{"rows that wait are fine, a later row's owner is missing", [][]any{ok(0), ok(1), missingOwner}, classObjectDoesNotExist},
		{"the last row's id is taken", [][]any{ok(0), ok(1), {"contactid", taken, "lastname", "Again"}}, classDuplicateRecord},
		{"a taken id with another fault, rows before it fine", [][]any{ok(0), append([]any{"contactid", taken}, badState...)}, classDuplicateRecord},
		{"an id taken by a row that waits, with another fault", [][]any{ok(0), {"contactid", twice, "lastname", "A"}, append([]any{"contactid", twice}, badState...)}, classDuplicateRecord},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The same rows created one by one give the same error class.
			for _, how := range []string{"Create", "CreateBatched"} {
				before, err := s.Count(ctx, p, contact, nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				err = s.Write(ctx, func(tx *Tx) error {
					for _, kv := range tc.rows {
						var err error
						if how == "Create" {
							_, err = tx.Create(ctx, p, contact, fields(t, contact, kv...))
						} else {
							_, err = tx.CreateBatched(ctx, p, contact, fields(t, contact, kv...))
						}
						if err != nil {
							return err // CreateBatched's error is already the first row's
						}
					}
					return tx.FlushCreates(ctx)
				})
				var se *Error
				if !errors.As(err, &se) || classOf(se) != tc.want {
					t.Errorf("%s: %v, want class %v", how, err, tc.want)
				}
				if after, err := s.Count(ctx, p, contact, nil, 0); err != nil || after != before {
					t.Errorf("%s: contacts after the failed transaction = %d, %v; want %d", how, after, err, before)
				}
			}
		})
	}
}
