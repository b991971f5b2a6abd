package fragment

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/wachtbench/memberships/internal/cache"
	"github.com/wachtbench/memberships/internal/domain"
)

// Dialect is a store's SQL for the fragment path. Both stores return the same
// columns, scanned alike: ids, versions and times (unix microseconds; on
// PostgreSQL a timestamptz its connections scan so) into int64s, JSON as
// text, so one decoder reads both.
type Dialect struct {
	// Memberships reads the caller's membership rows, newest first; its
	// parameters are the user, the deployment and the organization or NULL.
	// Columns: id, public_metadata, created_at, updated_at, workspace id
	// and version, organization id and version, the live workspace roles as
	// "id.version,…", the organization permissions as a JSON array, and
	// the change feed's newest stamp (0 when it is empty).
	// Nothing more: each column costs per row (the user is the parameter,
	// the organization id the organization's; the answer shows no
	// organization membership id).
	Memberships string
	// Workspaces, Organizations and Roles read the rows whose ids are the
	// one parameter (bound as IDs makes it), with their versions.
	Workspaces, Organizations, Roles string
	// IDs binds a list of ids as one parameter.
	IDs func([]int64) any
}

// Scanner is one result row.
type Scanner interface{ Scan(dest ...any) error }

// Query runs a statement and calls row for each row it returns, up to the
// first error, which it returns.
type Query func(ctx context.Context, query string, args []any, row func(Scanner) error) error

// Source is how a store reads fragments: its dialect and its query runner.
type Source struct {
	Dialect
	Query Query
}

// row is one membership row as read: its own fields and the fragments it
// points at. Kept small (the memberships are built once, at the end): a
// thousand rows are appended one by one.
type row struct {
	id               int64
	created, updated int64
	meta             json.RawMessage
	perms            []string
	workspace, org   key
	refs             [2]int // its role references: the request's refText[refs[0]:refs[1]]
}

// scratch is what a request builds its memberships from and then drops:
// kept for the next request (scratches), since at a thousand memberships
// growing it anew was a tenth of the store's read.
type scratch struct {
	r                        row // the row being scanned, through dest
	stamp                    int64
	fetched                  bool // a fragment was read by a statement of its own
	meta, rolesText, orgPerm sql.RawBytes
	lastMeta                 recent[json.RawMessage]
	lastPerms                recent[[]string]
	dest                     []any
	rows                     []row
	refText                  []byte // every row's role references, one after the other
	rKeys                    []key  // the role keys of the rows whose roles are not cached
	wKeys, oKeys             []key
	ws                       []*domain.Workspace
	orgs                     []*domain.Organization
	roles                    [][]*domain.Role // each row's
}

var scratches = sync.Pool{New: func() any {
	s := &scratch{}
	s.dest = []any{&s.r.id, &s.meta, &s.r.created, &s.r.updated,
		&s.r.workspace.id, &s.r.workspace.version, &s.r.org.id, &s.r.org.version, &s.rolesText, &s.orgPerm, &s.stamp}
	return s
}}

// scratchMax bounds what a scratch keeps for the next request: a caller
// with more memberships than that gets a scratch of its own.
const scratchMax = 4096

// scratchBytesMax bounds each text buffer a scratch keeps for the next
// request (a driver scans into it, or points it at a buffer of its rows):
// one membership's public_metadata of megabytes would otherwise stay with
// the scratch for every later request.
const scratchBytesMax = 64 << 10

// refTextMax bounds the role references a scratch keeps, all its rows'
// together: 96 bytes a row of scratchMax; two roles, 18-digit ids and
// 16-digit version stamps (microseconds, which never repeat across a
// restore: derived.sql), are about 71. At 64 KiB, a thousand memberships'
// texts outgrew it and every such request grew its scratch anew.
const refTextMax = 96 * scratchMax

func (s *scratch) release() {
	s.meta, s.rolesText, s.orgPerm = bounded(s.meta), bounded(s.rolesText), bounded(s.orgPerm)
	if cap(s.rows) > scratchMax || cap(s.rKeys) > 4*scratchMax || cap(s.refText) > refTextMax {
		return
	}
	clear(s.rows[:cap(s.rows)]) // no pointers into old answers' metadata and permissions
	clear(s.ws[:cap(s.ws)])
	clear(s.orgs[:cap(s.orgs)])
	clear(s.roles[:cap(s.roles)])
	s.rows, s.refText, s.rKeys, s.wKeys, s.oKeys = s.rows[:0], s.refText[:0], s.rKeys[:0], s.wKeys[:0], s.oKeys[:0]
	s.ws, s.orgs, s.roles = s.ws[:0], s.orgs[:0], s.roles[:0]
	s.lastMeta.reset()
	s.lastPerms.reset()
	s.stamp, s.fetched = 0, false
	scratches.Put(s)
}

func bounded(b sql.RawBytes) sql.RawBytes {
	if cap(b) > scratchBytesMax {
		return nil
	}
	return b
}

// Memberships returns the query's memberships, newest first: one statement
// for the rows, and, only for fragments not cached, one per kind missing.
func (c *Cache) Memberships(ctx context.Context, src Source, q domain.MembershipQuery) ([]domain.Membership, error) {
	var org any
	if q.OrganizationID != nil {
		org = *q.OrganizationID
	}
	// Every row is scanned into sc.r through one list of destinations, then
	// appended. The text columns are only decoded (into new values or cached
	// ones), so they are RawBytes: buffers of the scratch that serve every
	// row.
	sc := scratches.Get().(*scratch)
	defer sc.release()
	r := &sc.r
	err := src.Query(ctx, src.Dialect.Memberships, []any{q.UserID, q.DeploymentID, org}, func(s Scanner) error {
		if err := s.Scan(sc.dest...); err != nil {
			return err
		}
		var err error
		if r.meta, err = sc.lastMeta.decoded(c.metadata, sc.meta, copyObject); err != nil {
			return err
		}
		start := len(sc.refText)
		sc.refText = append(sc.refText, sc.rolesText...)
		r.refs = [2]int{start, len(sc.refText)}
		if r.perms, err = sc.lastPerms.decoded(c.permissions, sc.orgPerm, sortedStrings); err != nil {
			return fmt.Errorf("membership %d organization permissions: %w", r.id, err)
		}
		sc.rows = append(sc.rows, *r)
		sc.wKeys = append(sc.wKeys, r.workspace)
		sc.oKeys = append(sc.oKeys, r.org)
		return nil
	})
	if err != nil {
		return nil, err
	}

	rows := sc.rows
	if sc.ws, err = resolve(ctx, c, src, src.Workspaces, c.workspaces, sc.wKeys, sc.ws, scanWorkspace, &sc.fetched); err != nil {
		return nil, err
	}
	if sc.orgs, err = resolve(ctx, c, src, src.Organizations, c.organizations, sc.oKeys, sc.orgs, scanOrganization, &sc.fetched); err != nil {
		return nil, err
	}
	if sc.roles, err = c.roleSets(ctx, src, sc); err != nil {
		return nil, err
	}

	// The answer is the memberships statement's snapshot, as of its stamp,
	// only when every fragment came from the cache (keyed by the versions
	// that snapshot names): a later statement may read a later write.
	stamp := sc.stamp
	if sc.fetched {
		stamp = 0
	}
	out := make([]domain.Membership, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		roles := sc.roles[i]
		// A workspace or organization deleted outright between the two
		// statements takes the membership with it; a role only itself (the
		// membership stays, as a fresh read of the tables gives it).
		if sc.ws[i] == nil || sc.orgs[i] == nil {
			continue
		}
		if slices.Contains(roles, nil) {
			roles = slices.DeleteFunc(slices.Clone(roles), func(r *domain.Role) bool { return r == nil })
		}
		out = append(out, domain.Membership{
			ID: r.id, UserID: q.UserID, OrganizationID: r.org.id,
			PublicMetadata: r.meta, CreatedAt: fromMicros(r.created), UpdatedAt: fromMicros(r.updated),
			Workspace: sc.ws[i], Organization: sc.orgs[i], Roles: roles,
			OrganizationPermissions: r.perms, Stamp: stamp,
		})
	}
	return out, nil
}

// roleSets returns each row's roles, sorted by id and never nil (a
// membership without roles shows an empty list). A row's role references
// ("id.version,…") name its roles and their versions, so the roles they
// resolved to are kept under that text (Cache.refSets): a row costs one
// lookup instead of one per role plus the parsing, which were a tenth of
// a thousand-row read. The texts not kept are parsed and their roles
// resolved as fragments are, in one batch. The lists are shared, like the
// fragments: never modify them.
func (c *Cache) roleSets(ctx context.Context, src Source, sc *scratch) ([][]*domain.Role, error) {
	sets := slices.Grow(sc.roles[:0], len(sc.rows))[:len(sc.rows)]
	text := func(i int) []byte { return sc.refText[sc.rows[i].refs[0]:sc.rows[i].refs[1]] }
	found, missing := 0, 0
	c.refSets.Lookup(len(sets), text, func(i int, set []*domain.Role) { sets[i] = set; found += len(set) })
	for i := range sets {
		if sets[i] == nil {
			if len(text(i)) == 0 {
				sets[i] = noRoles
			} else {
				missing++
			}
		}
	}
	c.count(found, found)
	if missing == 0 {
		return sets, nil
	}
	counts := make([]int, 0, missing) // role keys per missing row, in row order
	for i := range sets {
		if sets[i] != nil {
			continue
		}
		n := len(sc.rKeys)
		var err error
		if sc.rKeys, err = appendRefs(sc.rKeys, text(i)); err != nil {
			return nil, fmt.Errorf("membership %d roles: %w", sc.rows[i].id, err)
		}
		counts = append(counts, len(sc.rKeys)-n)
	}
	rs, err := resolve(ctx, c, src, src.Roles, c.roles, sc.rKeys, make([]*domain.Role, 0, len(sc.rKeys)), scanRole, &sc.fetched)
	if err != nil {
		return nil, err
	}
	next, j := 0, 0
	for i := range sets {
		if sets[i] != nil {
			continue
		}
		n := counts[j]
		j++
		sets[i] = rs[next : next+n : next+n]
		if named(sets[i], sc.rKeys[next:next+n]) {
			c.refSets.Put(text(i), sets[i]) // unless longer than cache.TextMax
		}
		next += n
	}
	return sets, nil
}

// noRoles is the list of an empty text.
var noRoles = []*domain.Role{}

// named reports whether roles are exactly the ones keys name, version and
// all: only then is a list kept under its text. The Roles statement may
// read a newer version than the text names (a write between the two
// statements, or a writer with the triggers off that leaves role_refs as it
// was), or none (a role deleted); that answer stands for this request, but
// kept under the text it would be shown for as long as the text is read,
// where the role cache, keeping it under the version read, reads it again.
func named(roles []*domain.Role, keys []key) bool {
	for i, r := range roles {
		if r == nil || r.Version != keys[i].version {
			return false
		}
	}
	return true
}

// resolve returns the fragment of every key, from the cache or, for those
// missing, from one statement (nil where the row no longer exists). A
// fragment read is cached under the version read, which may be newer than
// the key's: a write came in between, and the next request will ask for it.
func resolve[V any](ctx context.Context, c *Cache, src Source, query string, s *cache.Gens[key, *V], keys []key, out []*V,
	scan func(Scanner) (*V, key, error), fetched *bool) ([]*V, error) {
	out = slices.Grow(out[:0], len(keys))[:len(keys)]
	found := s.Lookup(len(keys), func(i int) key { return keys[i] }, func(i int, v *V) bool { out[i] = v; return true })
	c.count(found, len(keys))
	if found == len(keys) {
		return out, nil
	}
	*fetched = true
	var ids []int64
	seen := map[int64]bool{}
	for i, k := range keys {
		if out[i] == nil && !seen[k.id] {
			seen[k.id] = true
			ids = append(ids, k.id)
		}
	}
	got := make(map[int64]*V, len(ids))
	err := src.Query(ctx, query, []any{src.IDs(ids)}, func(sc Scanner) error {
		v, k, err := scan(sc)
		if err != nil {
			return err
		}
		got[k.id] = v
		s.Put(k, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		if out[i] == nil {
			out[i] = got[k.id]
		}
	}
	return out, nil
}

// copyObject is a membership's stored public_metadata, copied out of the
// column's buffer ("{}" when empty); internal/answer encodes it.
func copyObject(b []byte) (json.RawMessage, error) { return object(bytes.Clone(b)), nil }

// sortedStrings decodes a permission list: a union has no order of its own,
// and sorting makes every store agree. The list is shared: never modify it.
func sortedStrings(b []byte) ([]string, error) {
	out, err := Strings(b)
	slices.Sort(out)
	return out, err
}
