package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

func BenchmarkCreate(b *testing.B) {
	s, p := newStore(b, nil)
	ctx := context.Background()
	account, _ := s.Schema().Table("account")
	name, _ := account.Column("name")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Create(ctx, p, account, []Field{{Column: name, Value: "bench"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRetrieve(b *testing.B) {
	s, p := newStore(b, nil)
	ctx := context.Background()
	account, _ := s.Schema().Table("account")
	name, _ := account.Column("name")
	w, err := s.Create(ctx, p, account, []Field{{Column: name, Value: "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Retrieve(ctx, p, account, w.ID, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen measures opening a fresh in-memory store: schema DDL,
// seeding the organization and the privilege catalogue. Tests open one per
// emulator, so it dominates packages that start many emulators.
func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(ctx, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkCreateInTransaction1000 creates 1,000 contacts in one
// transaction, as CreateMultiple does.
func BenchmarkCreateInTransaction1000(b *testing.B) {
	s, p := newStore(b, nil)
	ctx := context.Background()
	contact := table(b, s, "contact")
	first, _ := contact.Column("firstname")
	last, _ := contact.Column("lastname")
	email, _ := contact.Column("emailaddress1")
	b.ReportAllocs()
	for b.Loop() {
		err := s.Write(ctx, func(tx *Tx) error {
			for i := 0; i < 1000; i++ {
				if _, err := tx.Create(ctx, p, contact, []Field{{first, "Bench"}, {last, "Mark"}, {email, "b@example.com"}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateBatchedInTransaction1000 is BenchmarkCreateInTransaction1000
// through CreateBatched, as the CreateMultiple handler creates rows: 64
// rows per INSERT.
func BenchmarkCreateBatchedInTransaction1000(b *testing.B) {
	s, p := newStore(b, nil)
	ctx := context.Background()
	contact := table(b, s, "contact")
	first, _ := contact.Column("firstname")
	last, _ := contact.Column("lastname")
	email, _ := contact.Column("emailaddress1")
	b.ReportAllocs()
	for b.Loop() {
		err := s.Write(ctx, func(tx *Tx) error {
			for i := 0; i < 1000; i++ {
				if _, err := tx.CreateBatched(ctx, p, contact, []Field{{first, "Bench"}, {last, "Mark"}, {email, "b@example.com"}}); err != nil {
					return err
				}
			}
			return tx.FlushCreates(ctx)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreateWithSortIndexes creates 1,000 contacts in one transaction
// with no sort index on contact, with the one a $orderby=lastname scan
// creates, and with the most the store creates on one table
// (maxSortIndexesPerTable): what lazily created sort indexes cost writes.
func BenchmarkCreateWithSortIndexes(b *testing.B) {
	for _, indexes := range []int{0, 1, maxSortIndexesPerTable} {
		b.Run(fmt.Sprintf("indexes=%d", indexes), func(b *testing.B) {
			s, p := newStore(b, nil)
			ctx := context.Background()
			contact := table(b, s, "contact")
			var text []*schema.Column
			for _, c := range contact.Columns {
				if c.Type == schema.TypeString && !c.Internal && c.Formula == nil && c.LogicalName != "lastname" {
					text = append(text, c)
				}
			}
			last, _ := contact.Column("lastname")
			first, _ := contact.Column("firstname")
			email, _ := contact.Column("emailaddress1")
			for i, c := range append([]*schema.Column{last}, text...)[:indexes] {
				if _, err := s.Query(ctx, p, Query{Table: contact, Orders: []Order{{Column: c}}, Limit: 1}); err != nil {
					b.Fatal(err, i)
				}
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				err := s.Write(ctx, func(tx *Tx) error {
					for range 1000 {
						n++
						if _, err := tx.Create(ctx, p, contact, []Field{{first, fmt.Sprintf("First%06d", n)}, {last, fmt.Sprintf("Last%06d", n)}, {email, "b@example.com"}}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
