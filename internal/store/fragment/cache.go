// Package fragment assembles a caller's memberships from versioned,
// pre-encoded fragments, the part both stores share. Workspaces (with their
// segments and member count), organizations (likewise) and workspace roles
// (with their permissions) are shown to many users and rarely change, so each
// is read and encoded once per (id, version) and kept in a bounded cache.
// A request reads only its membership rows, each with the ids and versions
// of what it points at; fragments missing from the cache are read in one
// batched statement per kind. Triggers (migration 0003 of each store) bump a
// version on every write to anything a fragment shows, whoever writes, so a
// change shows on the very next request.
//
// The stores differ only in their SQL text (Dialect) and in how they run it.
//
// It imports domain and gen (the answer's types); never a store.
package fragment

import (
	"sync"
	"sync/atomic"

	"github.com/wachtbench/memberships/internal/domain"
)

// DefaultSize is the default number of cached fragments of each kind.
const DefaultSize = 50_000

// key names one version of one row.
type key struct{ id, version int64 }

// shelf is a bounded cache of one kind in two generations: new entries go
// into cur; when cur is full it becomes old and old is dropped, so entries
// still in use survive by being copied back from old on a hit. A whole
// request's lookups take the read lock once.
type shelf[V any] struct {
	mu       sync.RWMutex
	cur, old map[key]*V
	max      int // entries per generation
}

func newShelf[V any](size int) *shelf[V] {
	n := max(size/2, 1)
	return &shelf[V]{cur: make(map[key]*V), old: map[key]*V{}, max: n}
}

// lookup fills out[i] for every key found and reports how many were found.
func (s *shelf[V]) lookup(keys []key, out []*V) int {
	found, promote := 0, 0
	s.mu.RLock()
	for i, k := range keys {
		if v, ok := s.cur[k]; ok {
			out[i] = v
			found++
		} else if v, ok := s.old[k]; ok {
			out[i] = v
			found++
			promote++
		}
	}
	s.mu.RUnlock()
	if promote > 0 {
		s.mu.Lock()
		for i, k := range keys {
			if out[i] != nil {
				if _, ok := s.cur[k]; !ok {
					s.putLocked(k, out[i])
				}
			}
		}
		s.mu.Unlock()
	}
	return found
}

func (s *shelf[V]) put(vs map[key]*V) {
	s.mu.Lock()
	for k, v := range vs {
		s.putLocked(k, v)
	}
	s.mu.Unlock()
}

func (s *shelf[V]) putLocked(k key, v *V) {
	if len(s.cur) >= s.max {
		s.old, s.cur = s.cur, make(map[key]*V, s.max)
	}
	s.cur[k] = v
}

// refSets keeps the roles that role-reference texts ("id.version,…", sorted
// by id, as the stores keep them on membership rows) resolved to, bounded
// and in two generations as a shelf is. A text names versions, and a list
// is kept only when its roles are those versions (named), so it never goes
// stale: a write to a role gives its memberships a new text.
type refSets struct {
	mu       sync.RWMutex
	cur, old map[string][]*domain.Role
	max      int
}

func newRefSets(size int) *refSets {
	return &refSets{cur: map[string][]*domain.Role{}, old: map[string][]*domain.Role{}, max: max(size/2, 1)}
}

// noRoles is the list of an empty text.
var noRoles = []*domain.Role{}

// lookup fills out[i] with the roles of text(i) where kept, and reports how
// many roles were found and how many texts were not.
func (s *refSets) lookup(n int, text func(int) []byte, out [][]*domain.Role) (found, missing int) {
	promote := false
	s.mu.RLock()
	for i := range n {
		t := text(i)
		if len(t) == 0 {
			out[i] = noRoles
			continue
		}
		// string(t) in a map index does not allocate.
		set, ok := s.cur[string(t)]
		if !ok {
			if set, ok = s.old[string(t)]; ok {
				promote = true
			}
		}
		if ok {
			out[i] = set
			found += len(set)
		} else {
			missing++
		}
	}
	s.mu.RUnlock()
	if promote {
		s.mu.Lock()
		for i := range n {
			if t := text(i); len(t) > 0 && out[i] != nil {
				if _, ok := s.cur[string(t)]; !ok {
					s.putLocked(string(t), out[i])
				}
			}
		}
		s.mu.Unlock()
	}
	return found, missing
}

func (s *refSets) put(sets map[string][]*domain.Role) {
	s.mu.Lock()
	for t, set := range sets {
		s.putLocked(t, set)
	}
	s.mu.Unlock()
}

func (s *refSets) putLocked(t string, set []*domain.Role) {
	if len(s.cur) >= s.max {
		s.old, s.cur = s.cur, make(map[string][]*domain.Role, s.max)
	}
	s.cur[t] = set
}

// Cache holds encoded fragments for one instance: at most size of each kind
// (workspaces, organizations, roles), plus encoded membership metadata.
// Safe for concurrent use.
type Cache struct {
	workspaces    *shelf[domain.Workspace]
	organizations *shelf[domain.Organization]
	roles         *shelf[domain.Role]
	refSets       *refSets       // the roles of role-reference texts
	metadata      memo[[]byte]   // membership metadata: stored text → encoding
	permissions   memo[[]string] // organization permissions: stored text → sorted list
	hits, misses  atomic.Uint64
}

// memo keeps what per-row text decodes to, for texts that repeat across rows
// (metadata, permission lists), up to memoMax texts; past that, they are
// decoded every time.
type memo[V any] struct {
	m sync.Map
	n atomic.Int64
}

const memoMax = 10_000

func (m *memo[V]) get(raw []byte, decode func([]byte) (V, error)) (V, error) {
	if v, ok := m.m.Load(string(raw)); ok {
		return v.(V), nil
	}
	v, err := decode(raw)
	if err == nil && m.n.Add(1) <= memoMax {
		m.m.Store(string(raw), v)
	}
	return v, err
}

// NewCache returns a cache of size fragments of each kind (DefaultSize when
// size ≤ 0).
func NewCache(size int) *Cache {
	if size <= 0 {
		size = DefaultSize
	}
	return &Cache{
		workspaces:    newShelf[domain.Workspace](size),
		organizations: newShelf[domain.Organization](size),
		roles:         newShelf[domain.Role](size),
		refSets:       newRefSets(size),
	}
}

// Stats returns the fragment lookups that hit and missed since the start.
func (c *Cache) Stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

func (c *Cache) count(found, asked int) {
	c.hits.Add(uint64(found))
	c.misses.Add(uint64(asked - found))
}
