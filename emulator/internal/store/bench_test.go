package store

import (
	"context"
	"testing"
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
