package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// metadataCacheTTL is how long completion trusts cached metadata before asking the service
// again: long enough that pressing Tab repeatedly sends nothing, short enough that a new table or
// column shows up within minutes.
const metadataCacheTTL = 5 * time.Minute

// completionCache is the metadata shell completion offers, kept in the user's cache directory in
// one file per organization URL (os.UserCacheDir()/d365/metadata/<hash of the URL>.json), so that
// completing a table or a column does not call the service on every Tab. Only names are stored:
// no token, no secret, no row.
type completionCache struct {
	path string // "" when there is no cache directory
	now  func() time.Time
	data completionCacheFile
}

// completionCacheFile is the file's content.
type completionCacheFile struct {
	// OrgURL is the organization the names belong to (the file name is its hash).
	OrgURL string `json:"orgUrl"`
	// EntitySets are the entity set names of every table, with when they were read.
	EntitySets *cachedNames `json:"entitySets,omitempty"`
	// Columns are the column logical names, by lower-cased entity set or logical name.
	Columns map[string]*cachedNames `json:"columns,omitempty"`
}

// cachedNames is a list of names and the time it was read.
type cachedNames struct {
	Fetched time.Time `json:"fetched"`
	Names   []string  `json:"names"`
}

// completionCacheDir is the directory of the cache files.
func completionCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "d365", "metadata"), nil
}

// openCompletionCache reads the cache of orgURL from dir. A missing, unreadable or malformed file
// gives an empty cache: the cache only saves requests. With dir "" the cache is in memory only.
func openCompletionCache(dir, orgURL string, now func() time.Time) *completionCache {
	orgURL = strings.TrimRight(strings.ToLower(orgURL), "/")
	c := &completionCache{now: now, data: completionCacheFile{OrgURL: orgURL}}
	if dir == "" {
		return c
	}
	sum := sha256.Sum256([]byte(orgURL))
	c.path = filepath.Join(dir, hex.EncodeToString(sum[:16])+".json")
	if b, err := os.ReadFile(c.path); err == nil && json.Unmarshal(b, &c.data) == nil && c.data.OrgURL == orgURL {
		return c
	}
	c.data = completionCacheFile{OrgURL: orgURL}
	return c
}

// fresh returns n's names when n was read within the TTL.
func (c *completionCache) fresh(n *cachedNames) ([]string, bool) {
	if n == nil {
		return nil, false
	}
	age := c.now().Sub(n.Fetched)
	return n.Names, age >= 0 && age < metadataCacheTTL
}

// entitySets returns the cached entity set names, if fresh.
func (c *completionCache) entitySets() ([]string, bool) { return c.fresh(c.data.EntitySets) }

// columns returns the cached column names of table, if fresh.
func (c *completionCache) columns(table string) ([]string, bool) {
	return c.fresh(c.data.Columns[strings.ToLower(table)])
}

// setEntitySets records the entity set names.
func (c *completionCache) setEntitySets(names []string) {
	c.data.EntitySets = &cachedNames{Fetched: c.now(), Names: names}
}

// setColumns records the column names of a table under each of its names (entity set, logical).
func (c *completionCache) setColumns(names []string, tableNames ...string) {
	if c.data.Columns == nil {
		c.data.Columns = map[string]*cachedNames{}
	}
	entry := &cachedNames{Fetched: c.now(), Names: names}
	for _, t := range tableNames {
		if t != "" {
			c.data.Columns[strings.ToLower(t)] = entry
		}
	}
	// Drop what has expired, so the file does not grow with every table ever completed.
	for k, v := range c.data.Columns {
		if _, ok := c.fresh(v); !ok {
			delete(c.data.Columns, k)
		}
	}
}

// save writes the cache atomically (a temporary file renamed over the old one), readable by the
// user only.
func (c *completionCache) save() error {
	b, err := json.Marshal(&c.data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".metadata-*.tmp")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
