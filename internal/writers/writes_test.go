package writers

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	"pgregory.net/rapid"
)

// A write is one plain-SQL statement (or, for the special ones, a few) the
// other writer sends. Placeholders are written ? and numbered for
// PostgreSQL. A write the database refuses changes nothing; that is fine.
type write struct {
	name  string
	query string
	args  []any
	run   func(e *env) error // instead of query, when set
}

func (w write) String() string {
	if w.run != nil {
		return w.name
	}
	return fmt.Sprintf("%s %v", w.query, w.args)
}

func numbered(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (e *env) exec(db execer, w write) error {
	if w.run != nil {
		return w.run(e)
	}
	q := w.query
	if e.pg {
		q = numbered(q)
	}
	_, err := db.ExecContext(e.ctx, q, w.args...)
	return err
}

// Values as each dialect stores them.
func (e *env) tm(t time.Time) any {
	if e.pg {
		return t
	}
	return t.UnixMicro()
}

func (e *env) boolean(b bool) any {
	if e.pg {
		return b
	}
	if b {
		return 1
	}
	return 0
}

func (e *env) list(l []string) any {
	if e.pg {
		return l
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// The ids writes aim at: the fixture's rows and a few new ones, so rows
// come, go and come back.
var (
	workspaceIDs  = []int64{140, 143, 170, 179}
	orgIDs        = []int64{130, 160, 169}
	wsRoleIDs     = []int64{141, 142, 144, 145, 146}
	orgRoleIDs    = []int64{131, 132, 161, 162}
	segmentIDs    = []int64{110, 111, 112, 113}
	wmIDs         = []int64{150, 151, 152, 153, 154, 171, 172, 180, 181}
	authIDs       = []int64{190, 191}
	userIDs       = []int64{120, 121, 122}
	permissionSet = [][]string{{}, {"workspace:admin"}, {"workspace:read"}, {"organization:admin"}, {"organization:read", "organization:admin"}, {"workspace:read", "workspace:admin"}}
	ipLists       = [][]string{{}, {"10.0.0.0/8"}, {"192.0.2.1"}, {"2001:db8::/32", "203.0.113.0/24"}, {"not-an-ip"}}
	metadata      = []string{`{}`, `{"a":1}`, `{"team":"core","n":[1,2]}`}
	names         = []string{"x", "Zoë", "Admin", ""}
)

// omIDs are the organization memberships, read from the database (the
// loader numbers them).
func (e *env) omIDs(t *rapid.T) []int64 {
	rows, err := e.raw.QueryContext(e.ctx, `SELECT id FROM organization_memberships ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return append(out, 9001, 9002)
}

// columns a writer may set, per table, with a value generator.
func (e *env) columns() map[string]map[string]*rapid.Generator[any] {
	when := rapid.Custom(func(t *rapid.T) any {
		return e.tm(e.now.Add(-time.Duration(rapid.IntRange(0, 5).Draw(t, "hours")) * time.Hour).Truncate(time.Microsecond))
	})
	deleted := rapid.Custom(func(t *rapid.T) any {
		if rapid.Bool().Draw(t, "undelete") {
			return nil
		}
		return e.tm(e.now)
	})
	boolean := rapid.Custom(func(t *rapid.T) any { return e.boolean(rapid.Bool().Draw(t, "b")) })
	text := rapid.Custom(func(t *rapid.T) any { return rapid.SampledFrom(names).Draw(t, "text") })
	perms := rapid.Custom(func(t *rapid.T) any { return e.list(rapid.SampledFrom(permissionSet).Draw(t, "perms")) })
	ips := rapid.Custom(func(t *rapid.T) any { return e.list(rapid.SampledFrom(ipLists).Draw(t, "ips")) })
	meta := rapid.Custom(func(t *rapid.T) any { return rapid.SampledFrom(metadata).Draw(t, "meta") })
	kind := rapid.Custom(func(t *rapid.T) any {
		return rapid.SampledFrom([]string{"user", "organization", "workspace"}).Draw(t, "type")
	})
	auto := rapid.Custom(func(t *rapid.T) any {
		if rapid.Bool().Draw(t, "unset") {
			return nil
		}
		return rapid.SampledFrom(workspaceIDs).Draw(t, "auto")
	})
	return map[string]map[string]*rapid.Generator[any]{
		"deployments":         {"ip_allowlist_per_workspace_enabled": boolean, "enforce_mfa_per_workspace_enabled": boolean},
		"users":               {"backup_codes_generated": boolean, "deleted_at": deleted},
		"user_authenticators": {"deleted_at": deleted},
		"segments":            {"name": text, "type": kind, "created_at": when, "updated_at": when, "deleted_at": deleted},
		"organizations": {"name": text, "image_url": text, "description": text, "public_metadata": meta,
			"enforce_mfa": boolean, "enable_ip_restriction": boolean, "whitelisted_ips": ips,
			"auto_assigned_workspace_id": auto, "created_at": when, "updated_at": when, "deleted_at": deleted},
		"workspaces": {"name": text, "image_url": text, "description": text, "public_metadata": meta,
			"enforce_2fa": boolean, "enable_ip_restriction": boolean, "whitelisted_ips": ips,
			"created_at": when, "updated_at": when, "deleted_at": deleted},
		"organization_roles":       {"name": text, "permissions": perms, "deleted_at": deleted},
		"workspace_roles":          {"name": text, "permissions": perms, "created_at": when, "updated_at": when, "deleted_at": deleted},
		"organization_memberships": {"deleted_at": deleted, "updated_at": when},
		"workspace_memberships":    {"public_metadata": meta, "created_at": when, "updated_at": when, "deleted_at": deleted},
	}
}

// baseColumns are each table's own columns (never the derived ones), for
// rewriting a whole row.
var baseColumns = map[string][]string{
	"users":                    {"id", "deployment_id", "email", "first_name", "last_name", "backup_codes_generated", "created_at", "updated_at", "deleted_at"},
	"segments":                 {"id", "deployment_id", "name", "type", "created_at", "updated_at", "deleted_at"},
	"organizations":            {"id", "deployment_id", "name", "image_url", "description", "public_metadata", "private_metadata", "enforce_mfa", "enable_ip_restriction", "whitelisted_ips", "auto_assigned_workspace_id", "created_at", "updated_at", "deleted_at"},
	"workspaces":               {"id", "organization_id", "deployment_id", "name", "image_url", "description", "public_metadata", "private_metadata", "enforce_2fa", "enable_ip_restriction", "whitelisted_ips", "created_at", "updated_at", "deleted_at"},
	"organization_roles":       {"id", "deployment_id", "organization_id", "name", "permissions", "created_at", "updated_at", "deleted_at"},
	"workspace_roles":          {"id", "deployment_id", "workspace_id", "name", "permissions", "created_at", "updated_at", "deleted_at"},
	"organization_memberships": {"id", "organization_id", "user_id", "created_at", "updated_at", "deleted_at"},
	"workspace_memberships":    {"id", "workspace_id", "organization_id", "organization_membership_id", "user_id", "public_metadata", "created_at", "updated_at", "deleted_at"},
}

func (e *env) ids(t *rapid.T, table string) []int64 {
	switch table {
	case "deployments":
		return []int64{100}
	case "users":
		return userIDs
	case "user_authenticators":
		return authIDs
	case "segments":
		return segmentIDs
	case "organizations":
		return orgIDs
	case "workspaces":
		return workspaceIDs
	case "organization_roles":
		return orgRoleIDs
	case "workspace_roles":
		return wsRoleIDs
	case "organization_memberships":
		return e.omIDs(t)
	case "workspace_memberships":
		return wmIDs
	}
	t.Fatalf("no ids for %s", table)
	return nil
}

// links: the link tables and the id pools of their two ends.
func (e *env) link(t *rapid.T) (table, a, b string, x, y int64) {
	switch rapid.IntRange(0, 3).Draw(t, "link") {
	case 0:
		return "workspace_membership_roles", "workspace_membership_id", "workspace_role_id",
			rapid.SampledFrom(wmIDs).Draw(t, "wm"), rapid.SampledFrom(wsRoleIDs).Draw(t, "role")
	case 1:
		return "organization_membership_roles", "organization_membership_id", "organization_role_id",
			rapid.SampledFrom(e.omIDs(t)).Draw(t, "om"), rapid.SampledFrom(orgRoleIDs).Draw(t, "role")
	case 2:
		return "workspace_segments", "workspace_id", "segment_id",
			rapid.SampledFrom(workspaceIDs).Draw(t, "ws"), rapid.SampledFrom(segmentIDs).Draw(t, "segment")
	default:
		return "organization_segments", "organization_id", "segment_id",
			rapid.SampledFrom(orgIDs).Draw(t, "org"), rapid.SampledFrom(segmentIDs).Draw(t, "segment")
	}
}

// drawWrite draws one write another program might send.
func (e *env) drawWrite(t *rapid.T) write {
	cols := e.columns()
	tables := make([]string, 0, len(cols))
	for _, name := range []string{"deployments", "users", "user_authenticators", "segments", "organizations", "workspaces",
		"organization_roles", "workspace_roles", "organization_memberships", "workspace_memberships"} {
		tables = append(tables, name)
	}
	kinds := []string{"update", "update", "update", "delete", "delete", "link", "unlink", "insert", "rewrite"}
	if e.pg {
		kinds = append(kinds, "truncate")
	} else {
		kinds = append(kinds, "foreign keys")
	}
	switch kind := rapid.SampledFrom(kinds).Draw(t, "kind"); kind {
	case "update":
		table := rapid.SampledFrom(tables).Draw(t, "table")
		col := rapid.SampledFrom(keys(cols[table])).Draw(t, "column")
		return write{query: fmt.Sprintf("UPDATE %s SET %s = ? WHERE id = ?", table, col),
			args: []any{cols[table][col].Draw(t, "value"), rapid.SampledFrom(e.ids(t, table)).Draw(t, "id")}}
	case "delete":
		table := rapid.SampledFrom(tables[1:]).Draw(t, "table")
		return write{query: fmt.Sprintf("DELETE FROM %s WHERE id = ?", table), args: []any{rapid.SampledFrom(e.ids(t, table)).Draw(t, "id")}}
	case "link":
		table, a, b, x, y := e.link(t)
		return write{query: fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (?, ?)", table, a, b), args: []any{x, y}}
	case "unlink":
		table, a, b, x, y := e.link(t)
		if rapid.Bool().Draw(t, "all of one") {
			return write{query: fmt.Sprintf("DELETE FROM %s WHERE %s = ?", table, b), args: []any{y}}
		}
		return write{query: fmt.Sprintf("DELETE FROM %s WHERE %s = ? AND %s = ?", table, a, b), args: []any{x, y}}
	case "insert":
		return e.drawInsert(t)
	case "rewrite":
		// The whole row written again with one column changed: SQLite's
		// INSERT OR REPLACE (a delete and an insert), PostgreSQL's upsert.
		table := rapid.SampledFrom(keys(baseColumns)).Draw(t, "table")
		all := baseColumns[table]
		var col string
		for col == "" || col == "id" {
			col = rapid.SampledFrom(keys(cols[table])).Draw(t, "column")
		}
		sel := make([]string, len(all))
		for i, c := range all {
			sel[i] = c
			if c == col {
				sel[i] = "?"
			}
		}
		args := []any{cols[table][col].Draw(t, "value"), rapid.SampledFrom(e.ids(t, table)).Draw(t, "id")}
		list := strings.Join(all, ", ")
		if e.pg {
			cast := map[string]string{"deleted_at": "timestamptz", "created_at": "timestamptz", "updated_at": "timestamptz",
				"public_metadata": "json", "whitelisted_ips": "text[]", "permissions": "text[]", "auto_assigned_workspace_id": "bigint",
				"enforce_mfa": "boolean", "enforce_2fa": "boolean", "enable_ip_restriction": "boolean", "backup_codes_generated": "boolean"}
			for i, c := range sel {
				if c == "?" {
					if ty, ok := cast[col]; ok {
						sel[i] = "CAST(? AS " + ty + ")"
					}
				}
			}
			set := make([]string, 0, len(all))
			for _, c := range all[1:] {
				set = append(set, c+" = EXCLUDED."+c)
			}
			return write{query: fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE id = ? ON CONFLICT (id) DO UPDATE SET %s",
				table, list, strings.Join(sel, ", "), table, strings.Join(set, ", ")), args: args}
		}
		return write{query: fmt.Sprintf("INSERT OR REPLACE INTO %s (%s) SELECT %s FROM %s WHERE id = ?",
			table, list, strings.Join(sel, ", "), table), args: args}
	case "truncate":
		table, _, _, _, _ := e.link(t)
		return write{query: "TRUNCATE " + table}
	case "foreign keys":
		on := rapid.Bool().Draw(t, "on")
		return write{query: fmt.Sprintf("PRAGMA foreign_keys = %v", on)}
	}
	panic("unreachable")
}

// drawInsert draws a new row: a role, a membership, a segment, an
// authenticator, an organization membership (rows the pools name but the
// fixture lacks, or that a delete took).
func (e *env) drawInsert(t *rapid.T) write {
	now := e.tm(e.now.Add(-time.Duration(rapid.IntRange(0, 3).Draw(t, "hours")) * time.Hour))
	switch rapid.IntRange(0, 5).Draw(t, "what") {
	case 0:
		ws := rapid.SampledFrom(workspaceIDs).Draw(t, "ws")
		return write{query: `INSERT INTO workspace_roles (id, deployment_id, workspace_id, name, permissions, created_at, updated_at)
			VALUES (?, 100, ?, ?, ?, ?, ?)`, args: []any{rapid.SampledFrom(wsRoleIDs).Draw(t, "id"), ws,
			rapid.SampledFrom(names).Draw(t, "name"), e.list(rapid.SampledFrom(permissionSet).Draw(t, "perms")), now, now}}
	case 1:
		org := rapid.SampledFrom(orgIDs).Draw(t, "org")
		return write{query: `INSERT INTO organization_roles (id, deployment_id, organization_id, name, permissions, created_at, updated_at)
			VALUES (?, 100, ?, ?, ?, ?, ?)`, args: []any{rapid.SampledFrom(orgRoleIDs).Draw(t, "id"), org,
			rapid.SampledFrom(names).Draw(t, "name"), e.list(rapid.SampledFrom(permissionSet).Draw(t, "perms")), now, now}}
	case 2:
		// A workspace membership on an organization membership of the
		// same user and organization as the workspace's.
		return write{query: `INSERT INTO workspace_memberships (id, workspace_id, organization_id, organization_membership_id, user_id, public_metadata, created_at, updated_at)
			SELECT ?, w.id, w.organization_id, om.id, om.user_id, '{}', ?, ?
			  FROM workspaces w JOIN organization_memberships om ON om.organization_id = w.organization_id
			 WHERE w.id = ? AND om.user_id = ? ORDER BY om.id LIMIT 1`,
			args: []any{rapid.SampledFrom(wmIDs).Draw(t, "id"), now, now, rapid.SampledFrom(workspaceIDs).Draw(t, "ws"), rapid.SampledFrom(userIDs).Draw(t, "user")}}
	case 3:
		return write{query: `INSERT INTO organization_memberships (id, organization_id, user_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			args: []any{rapid.SampledFrom([]int64{9001, 9002}).Draw(t, "id"), rapid.SampledFrom(orgIDs).Draw(t, "org"), rapid.SampledFrom(userIDs).Draw(t, "user"), now, now}}
	case 4:
		return write{query: `INSERT INTO segments (id, deployment_id, name, type, created_at, updated_at) VALUES (?, 100, ?, 'workspace', ?, ?)`,
			args: []any{rapid.SampledFrom(segmentIDs).Draw(t, "id"), rapid.SampledFrom(names).Draw(t, "name"), now, now}}
	default:
		return write{query: `INSERT INTO user_authenticators (id, user_id, type, created_at, updated_at) VALUES (?, ?, 'totp', ?, ?)`,
			args: []any{rapid.SampledFrom(authIDs).Draw(t, "id"), rapid.SampledFrom(userIDs).Draw(t, "user"), now, now}}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	// rapid draws by index: a stable order keeps seeds reproducible.
	sortStrings(out)
	return out
}

// takeBackup and restore: SQLite through the backup API (the sqlite3
// shell's .backup and .restore), PostgreSQL as a dump and its restore do
// it: every table's rows, derived columns included, and the sequences set
// back, loaded without firing triggers.
func (e *env) takeBackup() error {
	if !e.pg {
		path := filepath.Join(e.tb.TempDir(), "backup.db")
		os.Remove(path)
		if _, err := e.raw.ExecContext(e.ctx, `VACUUM INTO '`+path+`'`); err != nil {
			return err
		}
		e.backup = path
		return nil
	}
	tables, err := e.pgTables()
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := e.raw.ExecContext(e.ctx, fmt.Sprintf(`DROP TABLE IF EXISTS bk_%s; CREATE TABLE bk_%s AS SELECT * FROM %s`, t, t, t)); err != nil {
			return err
		}
	}
	seqs, err := e.strings(`SELECT relname FROM pg_class WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace ORDER BY 1`)
	if err != nil {
		return err
	}
	e.seqs = map[string][2]any{}
	for _, name := range seqs {
		var last int64
		var called bool
		if err := e.raw.QueryRowContext(e.ctx, `SELECT last_value, is_called FROM `+name).Scan(&last, &called); err != nil {
			return err
		}
		e.seqs[name] = [2]any{last, called}
	}
	e.backup = "taken"
	return nil
}

func (e *env) pgTables() ([]string, error) {
	return e.strings(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'bk\_%' ORDER BY 1`)
}

func (e *env) strings(query string) ([]string, error) {
	rows, err := e.raw.QueryContext(e.ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (e *env) restore() error {
	if e.backup == "" {
		return nil
	}
	if !e.pg {
		conn, err := e.raw.Conn(e.ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		return conn.Raw(func(dc any) error {
			r, err := dc.(interface {
				NewRestore(string) (*sqlite.Backup, error)
			}).NewRestore(e.backup)
			if err != nil {
				return err
			}
			for {
				more, err := r.Step(-1)
				if err != nil {
					r.Finish()
					return err
				}
				if !more {
					return r.Finish()
				}
			}
		})
	}
	tables, err := e.pgTables()
	if err != nil {
		return err
	}
	tx, err := e.raw.BeginTx(e.ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// As pg_restore --data-only --disable-triggers loads a dump.
	if _, err := tx.ExecContext(e.ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := tx.ExecContext(e.ctx, fmt.Sprintf(`DELETE FROM %s; INSERT INTO %s SELECT * FROM bk_%s`, t, t, t)); err != nil {
			return err
		}
	}
	for name, v := range e.seqs {
		if _, err := tx.ExecContext(e.ctx, `SELECT setval($1::regclass, $2, $3)`, name, v[0], v[1]); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// concurrently runs two writes at once on PostgreSQL, each in a transaction
// of its own connection, holding it open a moment after its statement.
func (e *env) concurrently(a, b write) {
	var wg sync.WaitGroup
	for i, w := range []write{a, b} {
		db := []*sql.DB{e.raw, e.raw2}[i]
		wg.Go(func() {
			tx, err := db.BeginTx(e.ctx, nil)
			if err != nil {
				return
			}
			defer tx.Rollback()
			if e.exec(tx, w) != nil {
				return
			}
			tx.ExecContext(e.ctx, `SELECT pg_sleep(0.005)`)
			tx.Commit()
		})
	}
	wg.Wait()
}
