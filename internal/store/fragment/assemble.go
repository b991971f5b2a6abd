package fragment

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/wachtbench/memberships/internal/domain"
)

// Dialect is a store's SQL for the fragment path. Both stores return the same
// columns, scanned alike: ids, versions and times (unix microseconds; on
// PostgreSQL a timestamptz its connections scan so) into int64s, JSON as
// text, so one decoder reads both.
type Dialect struct {
	// Memberships reads the caller's membership rows, newest first; its
	// parameters are the user, the deployment and the organization or NULL.
	// Columns: id, organization_membership_id, public_metadata, created_at,
	// updated_at, workspace id and version,
	// organization id and version, the live workspace roles as
	// "id.version,…", and the organization permissions as a JSON array.
	// Nothing more: each column costs per row (the user is the parameter,
	// the organization id the organization's).
	Memberships string
	// Workspaces, Organizations and Roles read the rows whose ids are the
	// one parameter (bound as IDs makes it), with their versions.
	Workspaces, Organizations, Roles string
	// IDs binds a list of ids as one parameter.
	IDs func([]int64) any
}

// Scanner is one result row.
type Scanner interface{ Scan(dest ...any) error }

// Rows is what the fragment path needs of *sql.Rows and pgx.Rows.
type Rows interface {
	Scanner
	Next() bool
	Err() error
}

// Query runs a statement; close releases its rows.
type Query func(ctx context.Context, query string, args []any) (rows Rows, close func(), err error)

// each runs a statement and calls row for each row it returns.
func (src Source) each(ctx context.Context, query string, args []any, row func(Scanner) error) error {
	rows, closeRows, err := src.Query(ctx, query, args)
	if err != nil {
		return err
	}
	defer closeRows()
	for rows.Next() {
		if err := row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Source is how a store reads fragments: its dialect and its query runner.
type Source struct {
	Dialect
	Query Query
}

// row is one membership row as read: its own fields and the fragments it
// points at. Kept small (the memberships are built once, at the end): a
// thousand rows are appended one by one.
type row struct {
	id, orgMembershipID int64
	created, updated    int64
	meta                json.RawMessage
	perms               []string
	workspace, org      key
	roles               int // how many of the request's role keys are this row's, in row order
}

// scratch is what a request builds its memberships from and then drops:
// kept for the next request (scratches), since at a thousand memberships
// growing it anew was a tenth of the store's read.
type scratch struct {
	r                        row // the row being scanned, through dest
	meta, rolesText, orgPerm sql.RawBytes
	dest                     []any
	rows                     []row
	rKeys                    []key // every row's role keys, one after the other
	wKeys, oKeys             []key
	ws                       []*domain.Workspace
	orgs                     []*domain.Organization
}

var scratches = sync.Pool{New: func() any {
	s := &scratch{}
	s.dest = []any{&s.r.id, &s.r.orgMembershipID, &s.meta, &s.r.created, &s.r.updated,
		&s.r.workspace.id, &s.r.workspace.version, &s.r.org.id, &s.r.org.version, &s.rolesText, &s.orgPerm}
	return s
}}

// scratchMax bounds what a scratch keeps for the next request: a caller
// with more memberships than that gets a scratch of its own.
const scratchMax = 4096

// scratchBytesMax bounds each text buffer a scratch keeps: on SQLite the
// texts are appended into them, so one membership's public_metadata of
// megabytes would otherwise stay with the scratch for every later request.
const scratchBytesMax = 64 << 10

func (s *scratch) release() {
	s.meta, s.rolesText, s.orgPerm = bounded(s.meta), bounded(s.rolesText), bounded(s.orgPerm)
	if cap(s.rows) > scratchMax || cap(s.rKeys) > 4*scratchMax {
		return
	}
	clear(s.rows[:cap(s.rows)]) // no pointers into old answers' metadata and permissions
	clear(s.ws[:cap(s.ws)])
	clear(s.orgs[:cap(s.orgs)])
	s.rows, s.rKeys, s.wKeys, s.oKeys, s.ws, s.orgs = s.rows[:0], s.rKeys[:0], s.wKeys[:0], s.oKeys[:0], s.ws[:0], s.orgs[:0]
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
	// ones), so RawBytes spare database/sql a copy; their buffers serve
	// every row.
	sc := scratches.Get().(*scratch)
	defer sc.release()
	r := &sc.r
	err := src.each(ctx, src.Dialect.Memberships, []any{q.UserID, q.DeploymentID, org}, func(s Scanner) error {
		if err := s.Scan(sc.dest...); err != nil {
			return err
		}
		var err error
		if r.meta, err = c.Metadata(json.RawMessage(sc.meta)); err != nil {
			return fmt.Errorf("membership %d public_metadata: %w", r.id, err)
		}
		n := len(sc.rKeys)
		if sc.rKeys, err = appendRefs(sc.rKeys, sc.rolesText); err != nil {
			return fmt.Errorf("membership %d roles: %w", r.id, err)
		}
		r.roles = len(sc.rKeys) - n
		if r.perms, err = c.permissions.get(sc.orgPerm, sortedStrings); err != nil {
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
	if sc.ws, err = resolve(ctx, c, src, src.Workspaces, c.workspaces, sc.wKeys, sc.ws, scanWorkspace); err != nil {
		return nil, err
	}
	if sc.orgs, err = resolve(ctx, c, src, src.Organizations, c.organizations, sc.oKeys, sc.orgs, scanOrganization); err != nil {
		return nil, err
	}
	// The roles are the answer's: each membership's are a piece of rs (never
	// nil: a membership without roles shows an empty list).
	rs, err := resolve(ctx, c, src, src.Roles, c.roles, sc.rKeys, make([]*domain.Role, 0, len(sc.rKeys)), scanRole)
	if err != nil {
		return nil, err
	}

	out := make([]domain.Membership, 0, len(rows))
	next := 0 // index into rs
	for i := range rows {
		r := &rows[i]
		roles := rs[next : next+r.roles : next+r.roles]
		next += r.roles
		// A row deleted outright between the two statements drops out.
		if sc.ws[i] == nil || sc.orgs[i] == nil || slices.Contains(roles, nil) {
			continue
		}
		out = append(out, domain.Membership{
			ID: r.id, UserID: q.UserID, OrganizationID: r.org.id, OrganizationMembershipID: r.orgMembershipID,
			PublicMetadata: r.meta, CreatedAt: fromMicros(r.created), UpdatedAt: fromMicros(r.updated),
			Workspace: sc.ws[i], Organization: sc.orgs[i], Roles: roles,
			OrganizationPermissions: r.perms,
		})
	}
	return out, nil
}

// resolve returns the fragment of every key, from the cache or, for those
// missing, from one statement (nil where the row no longer exists). A
// fragment read is cached under the version read, which may be newer than
// the key's: a write came in between, and the next request will ask for it.
func resolve[V any](ctx context.Context, c *Cache, src Source, query string, s *shelf[V], keys []key, out []*V,
	scan func(Scanner) (*V, key, error)) ([]*V, error) {
	out = slices.Grow(out[:0], len(keys))[:len(keys)]
	found := s.lookup(keys, out)
	c.count(found, len(keys))
	if found == len(keys) {
		return out, nil
	}
	var ids []int64
	seen := map[int64]bool{}
	for i, k := range keys {
		if out[i] == nil && !seen[k.id] {
			seen[k.id] = true
			ids = append(ids, k.id)
		}
	}
	got := make(map[int64]*V, len(ids))
	read := make(map[key]*V, len(ids))
	err := src.each(ctx, query, []any{src.IDs(ids)}, func(sc Scanner) error {
		v, k, err := scan(sc)
		if err != nil {
			return err
		}
		got[k.id], read[k] = v, v
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.put(read)
	for i, k := range keys {
		if out[i] == nil {
			out[i] = got[k.id]
		}
	}
	return out, nil
}

// sortedStrings decodes a permission list: a union has no order of its own,
// and sorting makes every store agree. The list is shared: never modify it.
func sortedStrings(b []byte) ([]string, error) {
	out, err := Strings(b)
	slices.Sort(out)
	return out, err
}
