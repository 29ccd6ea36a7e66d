package dataverse

import (
	"runtime"
	"strings"
	"sync"
	"weak"
)

// tableMetadataCache holds the TableMetadata a Client has read, by the
// lower-cased name it was asked for (entity set or logical name). Loads of
// the same name share one request.
type tableMetadataCache struct {
	mu      sync.Mutex
	tables  map[string]*TableMetadata
	loading map[string]*metadataLoad
}

// metadataLoad is a read in flight; waiters block on done.
type metadataLoad struct {
	done chan struct{}
	md   *TableMetadata
	err  error
}

// metadataCaches maps a Client (weakly, so a dropped Client and its cache
// are collected) to its cache. The cache lives beside the Client rather
// than in it so that the metadata code stays in its own files.
var metadataCaches sync.Map // weak.Pointer[Client] -> *tableMetadataCache

// metadataCacheOf returns c's cache, creating it on first use.
func metadataCacheOf(c *Client) *tableMetadataCache {
	key := weak.Make(c)
	if v, ok := metadataCaches.Load(key); ok {
		return v.(*tableMetadataCache)
	}
	v, loaded := metadataCaches.LoadOrStore(key, &tableMetadataCache{tables: map[string]*TableMetadata{}, loading: map[string]*metadataLoad{}})
	if !loaded {
		runtime.AddCleanup(c, func(k weak.Pointer[Client]) { metadataCaches.Delete(k) }, key)
	}
	return v.(*tableMetadataCache)
}

func (m *tableMetadataCache) get(name string) (*TableMetadata, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	md, ok := m.tables[strings.ToLower(name)]
	return md, ok
}

// load returns the cached table or runs read once for all concurrent
// callers; a success is stored under the name asked for and under the
// table's entity set and logical names.
func (m *tableMetadataCache) load(name string, read func() (*TableMetadata, error)) (*TableMetadata, error) {
	key := strings.ToLower(name)
	m.mu.Lock()
	if md, ok := m.tables[key]; ok {
		m.mu.Unlock()
		return md, nil
	}
	if l, ok := m.loading[key]; ok {
		m.mu.Unlock()
		<-l.done
		return l.md, l.err
	}
	l := &metadataLoad{done: make(chan struct{})}
	m.loading[key] = l
	m.mu.Unlock()

	l.md, l.err = read()

	m.mu.Lock()
	delete(m.loading, key)
	if l.err == nil {
		m.tables[key] = l.md
		m.tables[strings.ToLower(l.md.LogicalName)] = l.md
		m.tables[strings.ToLower(l.md.EntitySetName)] = l.md
	}
	m.mu.Unlock()
	close(l.done)
	return l.md, l.err
}
