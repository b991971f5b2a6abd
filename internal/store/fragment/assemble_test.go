package fragment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wachtbench/memberships/internal/cache"
	"github.com/wachtbench/memberships/internal/domain"
)

// fakeRows serves membership rows as database/sql does: integers into
// *int64, texts into one buffer of the rows, reset by Next, each RawBytes a
// piece of it reaching to its end (so a RawBytes appended to overwrites the
// next column).
type fakeRows struct {
	rows [][]any // per row: the columns of Dialect.Memberships but the stamp
	i    int
	fail int // 1-based row whose Scan fails; 0: none
	dest func([]any)
	raw  []byte
}

func (f *fakeRows) Next() bool { f.i++; f.raw = f.raw[:0]; return f.i <= len(f.rows) }
func (f *fakeRows) Scan(dest ...any) error {
	if f.dest != nil {
		f.dest(dest)
	}
	if f.i == f.fail {
		return errors.New("row does not decode")
	}
	for j, v := range f.rows[f.i-1] {
		switch d := dest[j].(type) {
		case *int64:
			*d = v.(int64)
		case *sql.RawBytes:
			if v == nil {
				*d = nil
			} else {
				off := len(f.raw)
				f.raw = append(f.raw, v.(string)...)
				*d = f.raw[off:]
			}
		default:
			return fmt.Errorf("column %d: %T", j, d)
		}
	}
	return nil
}

// fakeCache has workspace 1, organization 2 and roles 10…19 (version 1),
// so the membership rows are the only statement.
func fakeCache() *Cache {
	c := NewCache(0)
	c.workspaces.Put(key{1, 1}, &domain.Workspace{ID: 1})
	c.organizations.Put(key{2, 1}, &domain.Organization{ID: 2})
	for id := int64(10); id < 20; id++ {
		c.roles.Put(key{id, 1}, &domain.Role{ID: id, Fragment: domain.Fragment{Version: 1}})
	}
	return c
}

func fakeSource(f *fakeRows) Source {
	return Source{Dialect: Dialect{Memberships: "memberships"},
		Query: func(_ context.Context, _ string, _ []any, row func(Scanner) error) error {
			for f.Next() {
				if err := row(f); err != nil {
					return err
				}
			}
			return nil
		}}
}

func membershipRow(id int64, meta, roles, perms any) []any {
	return []any{id, meta, int64(100 + id), int64(200 + id), int64(1), int64(1), int64(2), int64(1), roles, perms}
}

// TestScratchKeepsNoLargeBuffers: the pooled scratch does not keep the
// bytes of a request's largest text (a membership's public_metadata of
// megabytes, written through plain SQL) for every later request.
func TestScratchKeepsNoLargeBuffers(t *testing.T) {
	big := `{"x":"` + strings.Repeat("a", 8<<20) + `"}`
	var held []*sql.RawBytes
	f := &fakeRows{rows: [][]any{membershipRow(1, big, "10.1", `["x"]`)}, dest: func(dest []any) {
		held = []*sql.RawBytes{dest[1].(*sql.RawBytes), dest[8].(*sql.RawBytes), dest[9].(*sql.RawBytes)}
	}}
	ms, err := fakeCache().Memberships(t.Context(), fakeSource(f), domain.MembershipQuery{UserID: 7})
	if err != nil || len(ms) != 1 {
		t.Fatalf("%d memberships, %v", len(ms), err)
	}
	for _, b := range held {
		if cap(*b) > scratchBytesMax {
			t.Errorf("the scratch keeps a buffer of %d bytes for the next request", cap(*b))
		}
	}
}

// TestScratchIsolation: concurrent requests of different callers, each
// answer checked again once every request is over, so nothing pooled ended
// up in an answer and was overwritten later (run it with -race).
func TestScratchIsolation(t *testing.T) {
	c := fakeCache()
	const callers, rounds = 8, 200
	type answer struct {
		user int64
		ms   []domain.Membership
	}
	answers := make(chan answer, callers*rounds)
	var wg sync.WaitGroup
	for u := int64(1); u <= callers; u++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				n := int(u)*3 + i%5 // memberships
				rows := make([][]any, n)
				for j := range rows {
					refs := fmt.Sprintf("1%d.1", (int(u)+j)%10)
					if j%4 == 3 {
						refs = "" // no roles
					}
					rows[j] = membershipRow(u*1000+int64(j), fmt.Sprintf(`{"user":%d,"j":%d}`, u, j), refs, fmt.Sprintf(`["u%d"]`, u))
				}
				f := &fakeRows{rows: rows}
				if i%7 == 0 {
					f.fail = 1 + n/2 // a row that fails to decode: the scratch goes back half filled
				}
				ms, err := c.Memberships(context.Background(), fakeSource(f), domain.MembershipQuery{UserID: u})
				if f.fail != 0 {
					if err == nil {
						t.Errorf("user %d: no error for row %d", u, f.fail)
					}
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				answers <- answer{u, ms}
			}
		}()
	}
	wg.Wait()
	close(answers)
	for a := range answers {
		checkAnswer(t, a.user, a.ms)
	}
}

func checkAnswer(t *testing.T, u int64, ms []domain.Membership) {
	t.Helper()
	for j, m := range ms {
		want := fmt.Sprintf(`{"user":%d,"j":%d}`, u, j)
		if m.ID != u*1000+int64(j) || m.UserID != u || string(m.PublicMetadata) != want ||
			len(m.OrganizationPermissions) != 1 || m.OrganizationPermissions[0] != fmt.Sprintf("u%d", u) {
			t.Fatalf("user %d membership %d: %d %d %s %v", u, j, m.ID, m.UserID, m.PublicMetadata, m.OrganizationPermissions)
		}
		if j%4 == 3 {
			if m.Roles == nil || len(m.Roles) != 0 {
				t.Fatalf("user %d membership %d: roles %v, want []", u, j, m.Roles)
			}
		} else if len(m.Roles) != 1 || m.Roles[0].ID != int64(10+(int(u)+j)%10) || cap(m.Roles) != 1 {
			t.Fatalf("user %d membership %d: roles %v (cap %d)", u, j, m.Roles, cap(m.Roles))
		}
	}
}

// TestRoleSets: a row's roles come from the list kept under its role
// references only while that text is the row's: a new version of a role
// gives a new text and so the new role; eviction keeps lists whole; a
// kept list counts as its roles' hits.
func TestRoleSets(t *testing.T) {
	c := fakeCache()
	c.refSets = cache.NewTexts[[]*domain.Role](2) // one text per generation: every other lookup evicts
	role := func(id, version int64, name string) *domain.Role {
		return &domain.Role{ID: id, Name: name, Fragment: domain.Fragment{Version: version}}
	}
	c.roles.Put(key{11, 2}, role(11, 2, "renamed"))
	c.roles.Put(key{12, 1}, role(12, 1, "third"))
	read := func(refs string) []*domain.Role {
		t.Helper()
		f := &fakeRows{rows: [][]any{membershipRow(1, "{}", refs, "[]")}}
		ms, err := c.Memberships(t.Context(), fakeSource(f), domain.MembershipQuery{UserID: 7})
		if err != nil || len(ms) != 1 {
			t.Fatalf("%s: %d memberships, %v", refs, len(ms), err)
		}
		return ms[0].Roles
	}
	names := func(rs []*domain.Role) (out []string) {
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%d %s", r.ID, r.Name))
		}
		return out
	}
	for range 3 {
		for _, c := range []struct{ refs, want string }{
			{"10.1,11.1", "[10  11 ]"},
			{"10.1,11.2", "[10  11 renamed]"},
			{"11.2,12.1", "[11 renamed 12 third]"},
			{"", "[]"},
		} {
			if got := fmt.Sprint(names(read(c.refs))); got != c.want {
				t.Errorf("roles of %q = %s, want %s", c.refs, got, c.want)
			}
		}
	}
	before, _ := c.Stats()
	read("10.1,11.2")
	read("10.1,11.2")
	if after, _ := c.Stats(); after-before != 8 { // each: the workspace, the organization, two roles
		t.Errorf("two reads of two roles: %d hits", after-before)
	}
	if _, err := c.Memberships(t.Context(), fakeSource(&fakeRows{rows: [][]any{membershipRow(1, "{}", "10.x", "[]")}}),
		domain.MembershipQuery{UserID: 7}); err == nil || !strings.Contains(err.Error(), "roles") {
		t.Errorf("malformed references: %v", err)
	}
}

// roleRows serves the Roles statement: each role as (id, version, name).
type roleRows struct {
	roles [][3]any
	i     int
}

func (f *roleRows) Next() bool { f.i++; return f.i <= len(f.roles) }
func (f *roleRows) Scan(dest ...any) error {
	r := f.roles[f.i-1]
	*dest[0].(*int64), *dest[1].(*int64), *dest[2].(*string) = r[0].(int64), r[1].(int64), r[2].(string)
	*dest[3].(*[]byte) = []byte(`[]`)
	*dest[4].(*int64), *dest[5].(*int64) = 1, 1
	return nil
}

// TestRoleSetsKeepOnlyWhatTheTextNames: the Roles statement may read a
// role at a newer version than the row's text names (a write between the
// two statements; a writer with the triggers off, as a PostgreSQL
// session_replication_role=replica one, that bumps the version but not
// role_refs). The answer shows what was read, and the role cache keeps it under
// the version read, so a later request with the same text reads the role
// again, as it did before lists were kept by text. A list whose versions
// are not its text's must not be kept: the text would show the first
// version read for as long as it stays kept.
func TestRoleSetsKeepOnlyWhatTheTextNames(t *testing.T) {
	c := fakeCache()
	roles := &roleRows{}
	read := func() string {
		t.Helper()
		members := &fakeRows{rows: [][]any{membershipRow(1, "{}", "10.1,20.5", "[]")}}
		roles.i = 0
		src := Source{Dialect: Dialect{Memberships: "memberships", Roles: "roles", IDs: func(ids []int64) any { return ids }},
			Query: func(_ context.Context, q string, _ []any, row func(Scanner) error) error {
				var rows interface {
					Scanner
					Next() bool
				} = members
				if q == "roles" {
					rows = roles
				}
				for rows.Next() {
					if err := row(rows); err != nil {
						return err
					}
				}
				return nil
			}}
		ms, err := c.Memberships(t.Context(), src, domain.MembershipQuery{UserID: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 {
			return "no membership"
		}
		var out []string
		for _, r := range ms[0].Roles {
			out = append(out, fmt.Sprintf("%d.%d %s", r.ID, r.Version, r.Name))
		}
		return strings.Join(out, ",")
	}
	roles.roles = [][3]any{{int64(20), int64(6), "six"}}
	if got := read(); got != "10.1 ,20.6 six" {
		t.Fatalf("first read: %s", got)
	}
	roles.roles = [][3]any{{int64(20), int64(7), "seven"}}
	if got := read(); got != "10.1 ,20.7 seven" {
		t.Errorf("the text names 20.5, the role is at 7 now: %s", got)
	}
	// A role gone between the two statements leaves the membership without
	// it, and its text keeps no list: once the role is back the row shows it.
	roles.roles = nil
	if got := read(); got != "10.1 " {
		t.Errorf("role gone: %s", got)
	}
	roles.roles = [][3]any{{int64(20), int64(5), "five"}}
	if got := read(); got != "10.1 ,20.5 five" {
		t.Errorf("role back at the text's version: %s", got)
	}
	// Now the list is the text's, so it is kept: no Roles statement.
	roles.roles = [][3]any{{int64(20), int64(8), "not read"}}
	if got := read(); got != "10.1 ,20.5 five" {
		t.Errorf("kept list: %s", got)
	}
}

// TestRoleSetsKeepNoLongTexts: a role-reference text written through plain
// SQL as a megabyte of references (duplicates parse) is answered, but not
// kept: as a map key, with its list of as many roles, it would stay for as
// long as it is read, and --fragment-cache of them could be kept.
func TestRoleSetsKeepNoLongTexts(t *testing.T) {
	c := fakeCache()
	for _, n := range []int{2, 200_000} {
		refs := strings.TrimSuffix(strings.Repeat("10.1,", n), ",")
		f := &fakeRows{rows: [][]any{membershipRow(1, "{}", refs, "[]")}}
		ms, err := c.Memberships(t.Context(), fakeSource(f), domain.MembershipQuery{UserID: 7})
		if err != nil || len(ms) != 1 || len(ms[0].Roles) != n {
			t.Fatalf("%d references: %d memberships, %v", n, len(ms), err)
		}
	}
	if n := c.refSets.Len(); n != 1 {
		t.Errorf("%d texts kept, want the short one", n)
	}
}
