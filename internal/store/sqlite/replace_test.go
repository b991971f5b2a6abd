package sqlite

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wachtbench/memberships/internal/store/storetest"
)

// derivedColumns are the columns triggers keep, which a program writing the
// data does not name.
var derivedColumns = map[string][]string{
	"workspaces":               {"member_count", "version"},
	"organizations":            {"member_count", "version"},
	"workspace_roles":          {"version"},
	"workspace_memberships":    {"role_refs", "organization_membership_live", "organization_permissions"},
	"organization_memberships": {"permissions"},
}

// A rewrite is one row rewritten by another program sharing the file.
type rewrite struct {
	table string
	where string  // names the row
	args  []int64 // fixture ids of where's parameters
	set   map[string]string
	// verb inserts; the default is INSERT OR REPLACE. upsert: ON CONFLICT
	// (id) DO UPDATE of the columns in set.
	verb   string
	upsert bool
}

// TestReplacedRows rewrites rows with INSERT OR REPLACE, which SQLite runs as
// a delete and an insert that fire no delete and no update trigger. Each
// rewrite must leave the answers, through the store's warm fragment cache,
// those of the equivalent UPDATE on a copy, and every derived column what
// recomputing it gives, also after a new membership. The writer names either
// the columns it knows or all of them (copying the derived ones as they were).
func TestReplacedRows(t *testing.T) {
	id := func(n int64) string { return fmt.Sprint(storetest.ID(n)) }
	rewrites := map[string]rewrite{
		// Alice's organization:admin (the admin bypass) must go with it.
		"organization role permissions": {table: "organization_roles", where: "id = ?", args: []int64{501},
			set: map[string]string{"permissions": `'[]'`}},
		"organization role deleted": {table: "organization_roles", where: "id = ?", args: []int64{501},
			set: map[string]string{"deleted_at": "updated_at"}},
		"workspace role renamed": {table: "workspace_roles", where: "id = ?", args: []int64{601},
			set: map[string]string{"name": `'renamed'`}},
		"workspace role deleted": {table: "workspace_roles", where: "id = ?", args: []int64{601},
			set: map[string]string{"deleted_at": "updated_at"}},
		"workspace membership metadata": {table: "workspace_memberships", where: "id = ?", args: []int64{801},
			set: map[string]string{"public_metadata": `'{"upserted":true}'`}},
		"workspace membership deleted": {table: "workspace_memberships", where: "id = ?", args: []int64{801},
			set: map[string]string{"deleted_at": "updated_at"}},
		"workspace membership moved": {table: "workspace_memberships", where: "id = ?", args: []int64{808},
			set: map[string]string{"workspace_id": id(401)}},
		// Dave's membership of Labs, replaced through the one-live-membership
		// index by a row of another id.
		"workspace membership new id": {table: "workspace_memberships", where: "id = ?", args: []int64{808},
			set: map[string]string{"id": id(899)}},
		"organization membership rewritten": {table: "organization_memberships", where: "id = ?", args: []int64{701},
			set: map[string]string{"updated_at": "updated_at + 1"}},
		"organization membership deleted": {table: "organization_memberships", where: "id = ?", args: []int64{702},
			set: map[string]string{"deleted_at": "updated_at"}},
		"workspace renamed": {table: "workspaces", where: "id = ?", args: []int64{401},
			set: map[string]string{"name": `'renamed'`}},
		"organization renamed": {table: "organizations", where: "id = ?", args: []int64{301},
			set: map[string]string{"name": `'renamed'`}},
		"segment renamed": {table: "segments", where: "id = ?", args: []int64{201},
			set: map[string]string{"name": `'renamed'`}},
		"segment deleted": {table: "segments", where: "id = ?", args: []int64{201},
			set: map[string]string{"deleted_at": "updated_at"}},
		"workspace membership role link": {table: "workspace_membership_roles",
			where: "workspace_membership_id = ? AND workspace_role_id = ?", args: []int64{801, 601}},
		"organization membership role link": {table: "organization_membership_roles",
			where: "organization_membership_id = ? AND organization_role_id = ?", args: []int64{701, 501}},
		"workspace segment link": {table: "workspace_segments",
			where: "workspace_id = ? AND segment_id = ?", args: []int64{401, 201}},
		"organization segment link": {table: "organization_segments",
			where: "organization_id = ? AND segment_id = ?", args: []int64{301, 202}},
		// Inserts that do not happen, or update: the recount noted before
		// the insert must not count the row twice, or lose it.
		"workspace membership ignored": {table: "workspace_memberships", where: "id = ?", args: []int64{802},
			verb: "INSERT OR IGNORE"},
		"organization membership ignored": {table: "organization_memberships", where: "id = ?", args: []int64{701},
			verb: "INSERT OR IGNORE"},
		"workspace membership upserted": {table: "workspace_memberships", where: "id = ?", args: []int64{808},
			set: map[string]string{"deleted_at": "updated_at"}, verb: "INSERT", upsert: true},
	}
	for _, name := range slices.Sorted(maps.Keys(rewrites)) {
		rw := rewrites[name]
		for _, all := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/all columns %t", name, all), func(t *testing.T) {
				replaced, updated := fixtureStore(t), fixtureStore(t)
				answers(t, replaced) // warm the fragment caches
				exec(t, replaced, rw.insertSQL(t, replaced, all), rw.args)
				if len(rw.set) > 0 && !rw.ignored() {
					exec(t, updated, rw.updateSQL(), rw.args)
				}
				// Then a new member of Labs: whatever the rewrite noted to
				// recount must not count it twice.
				for _, s := range []*Store{replaced, updated} {
					exec(t, s, `INSERT INTO workspace_memberships (id, workspace_id, organization_id,
						organization_membership_id, user_id, public_metadata, created_at, updated_at)
						VALUES (?, ?, ?, ?, ?, '{}', 0, 0)`, []int64{898, 402, 301, 704, 102})
				}
				checkDerived(t, replaced)
				if got, want := answers(t, replaced), answers(t, updated); !bytes.Equal(got, want) {
					t.Errorf("answers after the rewrite:\n got %s\nwant %s", got, want)
				}
			})
		}
	}
}

// ignored says the insert changes nothing: an INSERT OR IGNORE of a row
// that is there.
func (rw rewrite) ignored() bool { return rw.verb == "INSERT OR IGNORE" }

// insertSQL writes the row again from itself, with set's values, naming the
// table's columns other than the derived ones, or all of them.
func (rw rewrite) insertSQL(t *testing.T, s *Store, all bool) string {
	t.Helper()
	rows, err := s.DB().QueryContext(t.Context(), `SELECT name FROM pragma_table_info(?) ORDER BY cid`, rw.table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var columns, values []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		if !all && slices.Contains(derivedColumns[rw.table], c) {
			continue
		}
		columns = append(columns, c)
		values = append(values, c)
		if v, ok := rw.set[c]; ok {
			values[len(values)-1] = v
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	verb := cmp.Or(rw.verb, "INSERT OR REPLACE")
	q := fmt.Sprintf("%s INTO %s (%s) SELECT %s FROM %s WHERE %s", verb, rw.table,
		strings.Join(columns, ", "), strings.Join(values, ", "), rw.table, rw.where)
	if rw.upsert {
		var sets []string
		for _, c := range slices.Sorted(maps.Keys(rw.set)) {
			sets = append(sets, c+" = excluded."+c)
		}
		q += " ON CONFLICT (id) DO UPDATE SET " + strings.Join(sets, ", ")
	}
	return q
}

// updateSQL is the equivalent UPDATE.
func (rw rewrite) updateSQL() string {
	var sets []string
	for _, c := range slices.Sorted(maps.Keys(rw.set)) {
		sets = append(sets, c+" = "+rw.set[c])
	}
	return fmt.Sprintf("UPDATE %s SET %s WHERE %s", rw.table, strings.Join(sets, ", "), rw.where)
}

// fixtureStore is a new store holding the fixture.
func fixtureStore(t *testing.T) *Store {
	t.Helper()
	s := openTemp(t, filepath.Join(t.TempDir(), "fixture.db"))
	if err := s.Load(t.Context(), storetest.Fixture()); err != nil {
		t.Fatal(err)
	}
	return s
}

func exec(t *testing.T, s *Store, query string, ids []int64) {
	t.Helper()
	args := make([]any, len(ids))
	for i, n := range ids {
		args[i] = storetest.ID(n)
	}
	if _, err := s.DB().ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// derivedChecks count the rows whose derived column differs from
// recomputing it (the expressions of migrations 0002, 0003 and 0007;
// permissions NULL, never set, and [] both say none).
var derivedChecks = map[string]string{
	"workspace member counts": `SELECT count(*) FROM workspaces w WHERE member_count <>
		(SELECT count(*) FROM workspace_memberships c WHERE c.workspace_id = w.id AND c.deleted_at IS NULL)`,
	"organization member counts": `SELECT count(*) FROM organizations o WHERE member_count <>
		(SELECT count(*) FROM organization_memberships c WHERE c.organization_id = o.id AND c.deleted_at IS NULL)`,
	"workspace membership role_refs": `SELECT count(*) FROM workspace_memberships wm WHERE role_refs IS NOT (
		SELECT group_concat(r.id || '.' || r.version)
		  FROM workspace_membership_roles wr JOIN workspace_roles r ON r.id = wr.workspace_role_id
		 WHERE wr.workspace_membership_id = wm.id AND r.deleted_at IS NULL)`,
	"organization membership permissions": `SELECT count(*) FROM organization_memberships om WHERE coalesce(permissions, '[]') <> (
		SELECT json_group_array(DISTINCT p.value)
		  FROM organization_membership_roles orl
		  JOIN organization_roles r ON r.id = orl.organization_role_id, json_each(r.permissions) p
		 WHERE orl.organization_membership_id = om.id AND r.deleted_at IS NULL)`,
	"organization membership on workspace memberships": `SELECT count(*) FROM workspace_memberships wm
		LEFT JOIN organization_memberships om ON om.id = wm.organization_membership_id
		WHERE wm.deleted_at IS NULL AND (wm.organization_membership_live IS NOT (om.id IS NOT NULL AND om.deleted_at IS NULL)
		   OR wm.organization_permissions IS NOT om.permissions)`,
}

func checkDerived(t *testing.T, s *Store) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(derivedChecks)) {
		var n int
		if err := s.DB().QueryRowContext(t.Context(), derivedChecks[name]).Scan(&n); err != nil {
			t.Fatal(name, err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows differ from a recomputation", name, n)
		}
	}
}

// TestReplacedRowsStayInTheirTenant: a replace moving a membership or a
// role away from its links' other end is refused, as 0005 refuses the
// update, and leaves the answers as they were.
func TestReplacedRowsStayInTheirTenant(t *testing.T) {
	labs, globex := fmt.Sprint(storetest.ID(402)), fmt.Sprint(storetest.ID(302))
	want := answers(t, fixtureStore(t))
	for name, rw := range map[string]rewrite{
		"workspace membership": {table: "workspace_memberships", where: "id = ?", args: []int64{806},
			set: map[string]string{"workspace_id": labs}},
		"workspace role": {table: "workspace_roles", where: "id = ?", args: []int64{602},
			set: map[string]string{"workspace_id": labs}},
		"organization membership": {table: "organization_memberships", where: "id = ?", args: []int64{704},
			set: map[string]string{"organization_id": globex}},
		"organization role": {table: "organization_roles", where: "id = ?", args: []int64{502},
			set: map[string]string{"organization_id": globex}},
	} {
		t.Run(name, func(t *testing.T) {
			s := fixtureStore(t)
			_, err := s.DB().ExecContext(t.Context(), rw.insertSQL(t, s, false), storetest.ID(rw.args[0]))
			if err == nil || !strings.Contains(err.Error(), "tenant:") {
				t.Errorf("replace moving %s: %v, want a tenant error", name, err)
			}
			if got := answers(t, s); !bytes.Equal(got, want) {
				t.Errorf("answers after a refused replace:\n got %s\nwant %s", got, want)
			}
		})
	}
}
