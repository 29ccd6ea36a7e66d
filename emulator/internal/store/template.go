package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// A template is an empty database holding a schema's tables, indexes and
// privilege catalogue, built once per process per schema and copied into
// every new in-memory store with SQLite's online backup (as Restore copies
// a snapshot). Creating the tables statement by statement is most of the
// cost of opening a store, so a test package that starts many emulators
// pays it once per schema instead of once per store. Templates are
// process-wide and live as long as the process; a schema that differs in
// any table, column, index or privilege has its own (see
// schemaFingerprint).
type template struct {
	once sync.Once
	uri  string
	db   *sql.DB
	pin  *sql.Conn // keeps the memdb database alive
	err  error
}

var (
	templatesMu sync.Mutex
	templates   = map[string]*template{}
)

// templateFor returns the template of a schema, building it on first use.
// A failed build is forgotten, so a later Open tries again.
func templateFor(sch *schema.Schema) (*template, error) {
	key := schemaFingerprint(sch)
	templatesMu.Lock()
	t, ok := templates[key]
	if !ok {
		t = &template{}
		templates[key] = t
	}
	templatesMu.Unlock()
	t.once.Do(func() { t.err = t.build(key, sch) })
	if t.err != nil {
		templatesMu.Lock()
		if templates[key] == t {
			delete(templates, key)
		}
		templatesMu.Unlock()
		return nil, t.err
	}
	return t, nil
}

// build creates the template's database: the tables of migrate and the
// privilege catalogue, nothing that differs between organizations.
func (t *template) build(key string, sch *schema.Schema) error {
	// Not the caller's context: the template outlives the Open that
	// builds it, and a cancelled build must not be kept.
	ctx := context.Background()
	drv, err := newDriver()
	if err != nil {
		return err
	}
	t.uri = "file:/d365-template-" + key[:32] + "?vfs=memdb"
	t.db = sql.OpenDB(connector{driver: drv, dsn: t.uri})
	t.db.SetConnMaxIdleTime(0)
	t.db.SetConnMaxLifetime(0)
	if t.pin, err = t.db.Conn(ctx); err != nil {
		t.db.Close()
		return fmt.Errorf("store: open the template database: %w", err)
	}
	tmp := &Store{db: t.db, schema: sch, now: time.Now, log: slog.New(slog.DiscardHandler)}
	err = tmp.migrate(ctx)
	if err == nil {
		err = tmp.write(ctx, func(tx *sql.Tx) error { return insertPrivilegeCatalogue(ctx, tx, sch) })
	}
	if err != nil {
		t.pin.Close()
		t.db.Close()
		return fmt.Errorf("store: build the template database: %w", err)
	}
	return nil
}

// copyInto copies the template into the store's (empty, in-memory)
// database through its pinned connection.
func (t *template) copyInto(ctx context.Context, s *Store) error {
	return s.copyFrom(ctx, t.uri)
}

// schemaFingerprint identifies what migrate and the privilege catalogue
// create for a schema: a hash of every DDL statement and privilege.
func schemaFingerprint(sch *schema.Schema) string {
	h := sha256.New()
	write := func(s string) {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, stmt := range internalDDL {
		write(stmt)
	}
	for _, t := range sch.Tables() {
		write(createTableSQL(t))
		for _, stmt := range indexSQL(t) {
			write(stmt)
		}
	}
	for _, r := range sch.Relationships() {
		if r.Type != schema.ManyToMany {
			continue
		}
		for _, stmt := range intersectSQL(r) {
			write(stmt)
		}
	}
	for _, p := range privilegeCatalogue(sch) {
		write(p.name + ":" + strconv.Itoa(p.right))
	}
	return hex.EncodeToString(h.Sum(nil))
}
