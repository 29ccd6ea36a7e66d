package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestCompletionCache: names survive a save and a reopen for the same organization (the URL's
// case and trailing slash aside), not for another one; they expire after the TTL; a clock gone
// backwards or a corrupt file gives a miss, not an error; the file is the user's only.
func TestCompletionCache(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	c := openCompletionCache(dir, "https://contoso.crm.dynamics.com", clock)
	if _, ok := c.entitySets(); ok {
		t.Fatal("a new cache has entity sets")
	}
	c.setEntitySets([]string{"accounts", "contacts"})
	c.setColumns([]string{"firstname", "lastname"}, "Contacts", "contact")
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(c.path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	now = now.Add(metadataCacheTTL - time.Second)
	again := openCompletionCache(dir, "HTTPS://Contoso.crm.dynamics.com/", clock)
	if names, ok := again.entitySets(); !ok || !slices.Equal(names, []string{"accounts", "contacts"}) {
		t.Errorf("entity sets after reopen = %q, %v", names, ok)
	}
	for _, table := range []string{"contacts", "CONTACT"} {
		if names, ok := again.columns(table); !ok || !slices.Equal(names, []string{"firstname", "lastname"}) {
			t.Errorf("columns(%s) = %q, %v", table, names, ok)
		}
	}
	if _, ok := again.columns("accounts"); ok {
		t.Error("columns of a table never read are cached")
	}

	other := openCompletionCache(dir, "https://fabrikam.crm.dynamics.com", clock)
	if _, ok := other.entitySets(); ok {
		t.Error("another organization sees contoso's tables")
	}

	now = now.Add(2 * time.Second)
	if _, ok := openCompletionCache(dir, "https://contoso.crm.dynamics.com", clock).entitySets(); ok {
		t.Error("entity sets are fresh after the TTL")
	}
	now = now.Add(-time.Hour)
	if _, ok := openCompletionCache(dir, "https://contoso.crm.dynamics.com", clock).entitySets(); ok {
		t.Error("entity sets read in the future are fresh")
	}

	if err := os.WriteFile(c.path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	corrupt := openCompletionCache(dir, "https://contoso.crm.dynamics.com", clock)
	if _, ok := corrupt.entitySets(); ok {
		t.Error("a corrupt file gives entity sets")
	}
	corrupt.setEntitySets([]string{"tasks"})
	if err := corrupt.save(); err != nil {
		t.Fatalf("saving over a corrupt file: %v", err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".metadata-*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %q", tmp)
	}

	// No cache directory: the cache works in memory and is never written.
	mem := openCompletionCache("", "https://contoso.crm.dynamics.com", clock)
	mem.setEntitySets([]string{"x"})
	if names, ok := mem.entitySets(); !ok || names[0] != "x" || mem.path != "" {
		t.Errorf("in-memory cache = %q, %v, path %q", names, ok, mem.path)
	}
}

// TestCompletionExpiredColumnsAreDropped: recording a table's columns drops the entries whose TTL
// has passed, so the file does not grow with every table ever completed.
func TestCompletionExpiredColumnsAreDropped(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	c := openCompletionCache(t.TempDir(), "https://contoso.crm.dynamics.com", func() time.Time { return now })
	c.setColumns([]string{"name"}, "accounts", "account")
	now = now.Add(metadataCacheTTL)
	c.setColumns([]string{"subject"}, "tasks", "task")
	if len(c.data.Columns) != 2 {
		t.Errorf("columns cached for %d names, want task and tasks only: %v", len(c.data.Columns), c.data.Columns)
	}
}
