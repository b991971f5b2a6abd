// Package fragment assembles a caller's memberships from versioned
// fragments, the part both stores share. Workspaces (with their segments and
// member count), organizations (likewise) and workspace roles (with their
// permissions) are shown to many users and rarely change, so each is read
// and decoded once per (id, version) and kept in a bounded cache. A request
// reads only its membership rows, each with the ids and versions of what it
// points at; fragments missing from the cache are read in one batched
// statement per kind. Triggers (each store's derived.sql) bump a version on
// every write to anything a fragment shows, whoever writes, so a change
// shows on the very next request.
//
// The stores differ only in their SQL text (Dialect) and in how they run it.
// What the answer looks like on the wire is internal/answer's business.
//
// It imports domain and cache; never a store.
package fragment

import (
	"bytes"
	"encoding/json"
	"sync/atomic"

	"github.com/wachtbench/memberships/internal/cache"
	"github.com/wachtbench/memberships/internal/domain"
)

// DefaultSize is the default number of cached fragments of each kind.
const DefaultSize = 50_000

// textsSize bounds the per-row texts kept (metadata, permission lists).
const textsSize = 10_000

// key names one version of one row.
type key struct{ id, version int64 }

// Cache holds fragments for one instance: at most size of each kind
// (workspaces, organizations, roles), plus what repeating per-row texts
// decode to. Every value is shared by the answers that show it: never
// modify one. Safe for concurrent use.
type Cache struct {
	workspaces    *cache.Gens[key, *domain.Workspace]
	organizations *cache.Gens[key, *domain.Organization]
	roles         *cache.Gens[key, *domain.Role]
	// refSets keeps the roles that role-reference texts ("id.version,…",
	// sorted by id, as the stores keep them on membership rows) resolved
	// to. A text names versions, and a list is kept only when its roles
	// are those versions (named), so it never goes stale: a write to a
	// role gives its memberships a new text.
	refSets     *cache.Texts[[]*domain.Role]
	metadata    *cache.Texts[json.RawMessage] // membership metadata: one copy of each text
	permissions *cache.Texts[[]string]        // organization permissions: the sorted list
	hits        atomic.Uint64
	misses      atomic.Uint64
}

// NewCache returns a cache of size fragments of each kind (DefaultSize when
// size ≤ 0).
func NewCache(size int) *Cache {
	if size <= 0 {
		size = DefaultSize
	}
	return &Cache{
		workspaces:    cache.NewGens[key, *domain.Workspace](size),
		organizations: cache.NewGens[key, *domain.Organization](size),
		roles:         cache.NewGens[key, *domain.Role](size),
		refSets:       cache.NewTexts[[]*domain.Role](size),
		metadata:      cache.NewTexts[json.RawMessage](textsSize),
		permissions:   cache.NewTexts[[]string](textsSize),
	}
}

// Stats returns the fragment lookups that hit and missed since the start.
func (c *Cache) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

func (c *Cache) count(found, asked int) {
	c.hits.Add(uint64(found))
	c.misses.Add(uint64(asked - found))
}

// recent is the text a request's previous row had in one column, and what
// it decoded to: a caller's rows often repeat one (metadata, an
// organization's permissions), and comparing the bytes spares the shared
// cache its hash and lock.
type recent[V any] struct {
	text []byte
	v    V
	ok   bool
}

// decoded returns what text b decodes to: the previous row's value, or the
// one kept per text, or decode's (kept for the next). b is a scanned
// column's buffer, reused for the next row.
func (p *recent[V]) decoded(kept *cache.Texts[V], b []byte, decode func([]byte) (V, error)) (V, error) {
	if p.ok && bytes.Equal(b, p.text) {
		return p.v, nil
	}
	v, ok := kept.Get(b)
	if !ok {
		var err error
		if v, err = decode(b); err != nil {
			return v, err
		}
		kept.Put(b, v)
	}
	if len(b) <= cache.TextMax {
		p.text, p.v, p.ok = append(p.text[:0], b...), v, true
	}
	return v, nil
}

// reset forgets the text (keeping its buffer) and drops the value.
func (p *recent[V]) reset() {
	var zero V
	p.text, p.v, p.ok = p.text[:0], zero, false
}
