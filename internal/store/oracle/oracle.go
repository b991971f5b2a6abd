// Package oracle computes, for tests, the answer GET /me/workspace-memberships
// must give, from the base tables alone: each table is read whole with a
// plain SELECT of the columns the design names, and the answer is put
// together in Go by loops anyone can check against the behaviour reference.
// It never reads what triggers keep (role_refs, permissions,
// organization_membership_live, organization_permissions, member_count,
// version), nor any cache, so it is right by reading and differential tests
// can compare the served answer with it after any write.
//
// Tests only: it imports nothing of the module.
package oracle

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dialect says how the database spells times, booleans and lists.
type Dialect int

const (
	SQLite Dialect = iota
	PostgreSQL
)

// expressions reading a column as the oracle wants it: unix microseconds,
// 0/1, and a JSON array text.
func (d Dialect) micros(c string) string {
	if d == PostgreSQL {
		return "CAST(extract(epoch FROM " + c + ") * 1000000 AS bigint)"
	}
	return c
}

func (d Dialect) boolean(c string) string {
	if d == PostgreSQL {
		return "CASE WHEN " + c + " THEN 1 ELSE 0 END"
	}
	return c
}

func (d Dialect) list(c string) string {
	if d == PostgreSQL {
		return "CAST(array_to_json(" + c + ") AS text)"
	}
	return c
}

func (d Dialect) text(c string) string {
	if d == PostgreSQL {
		return "CAST(" + c + " AS text)"
	}
	return c
}

// Request is what the answer depends on besides the tables.
type Request struct {
	Host      string // the request's host name, lower case, no port
	SessionID int64  // the token's session
	OrgID     *int64 // the org_id filter
	ClientIP  netip.Addr
	Now       time.Time // for the sign-in's expiry
}

// Answer is the status and, for 200, the body decoded into plain JSON values
// (maps, slices, strings, float64, bool), as json.Unmarshal into an any
// gives it; for a 401 or 404, Body is nil.
type Answer struct {
	Status int
	Body   any
}

type row = map[string]any

// table reads every row of a table: cols maps an output name to its SQL
// expression. Integers are int64, texts string, NULL nil.
func table(ctx context.Context, db *sql.DB, name string, cols [][2]string) ([]row, error) {
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = c[1]
	}
	rows, err := db.QueryContext(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+name)
	if err != nil {
		return nil, fmt.Errorf("oracle: read %s: %w", name, err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("oracle: read %s: %w", name, err)
		}
		r := row{}
		for i, c := range cols {
			switch v := vals[i].(type) {
			case []byte:
				r[c[0]] = string(v)
			case int32:
				r[c[0]] = int64(v)
			default:
				r[c[0]] = v
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Tables is a snapshot of the base tables the answer reads.
type Tables map[string][]row

// Read reads the base tables, each in one plain SELECT.
func Read(ctx context.Context, db *sql.DB, d Dialect) (Tables, error) {
	c := func(n string) [2]string { return [2]string{n, n} }
	tm := func(n string) [2]string { return [2]string{n, d.micros(n)} }
	b := func(n string) [2]string { return [2]string{n, d.boolean(n)} }
	l := func(n string) [2]string { return [2]string{n, d.list(n)} }
	j := func(n string) [2]string { return [2]string{n, d.text(n)} }
	spec := map[string][][2]string{
		"deployments":                   {c("id"), b("ip_allowlist_per_workspace_enabled"), b("enforce_mfa_per_workspace_enabled"), tm("deleted_at")},
		"deployment_hosts":              {c("host"), c("deployment_id")},
		"users":                         {c("id"), b("backup_codes_generated"), tm("deleted_at")},
		"user_authenticators":           {c("id"), c("user_id"), tm("deleted_at")},
		"sessions":                      {c("id"), c("deployment_id"), c("active_sign_in_id"), tm("created_at"), tm("updated_at"), tm("deleted_at")},
		"sign_ins":                      {c("id"), c("session_id"), c("user_id"), tm("expires_at"), tm("signed_out_at")},
		"segments":                      {c("id"), c("deployment_id"), c("name"), c("type"), tm("created_at"), tm("updated_at"), tm("deleted_at")},
		"organizations":                 {c("id"), c("name"), c("image_url"), c("description"), j("public_metadata"), b("enforce_mfa"), b("enable_ip_restriction"), l("whitelisted_ips"), c("auto_assigned_workspace_id"), tm("created_at"), tm("updated_at"), tm("deleted_at")},
		"organization_segments":         {c("organization_id"), c("segment_id")},
		"workspaces":                    {c("id"), c("deployment_id"), c("name"), c("image_url"), c("description"), j("public_metadata"), b("enforce_2fa"), b("enable_ip_restriction"), l("whitelisted_ips"), tm("created_at"), tm("updated_at"), tm("deleted_at")},
		"workspace_segments":            {c("workspace_id"), c("segment_id")},
		"organization_roles":            {c("id"), l("permissions"), tm("deleted_at")},
		"workspace_roles":               {c("id"), c("name"), l("permissions"), tm("created_at"), tm("updated_at"), tm("deleted_at")},
		"organization_memberships":      {c("id"), c("organization_id"), tm("deleted_at")},
		"organization_membership_roles": {c("organization_membership_id"), c("organization_role_id")},
		"workspace_memberships":         {c("id"), c("workspace_id"), c("organization_id"), c("organization_membership_id"), c("user_id"), j("public_metadata"), tm("created_at"), tm("updated_at"), tm("deleted_at")},
		"workspace_membership_roles":    {c("workspace_membership_id"), c("workspace_role_id")},
	}
	t := Tables{}
	for name, cols := range spec {
		rows, err := table(ctx, db, name, cols)
		if err != nil {
			return nil, err
		}
		t[name] = rows
	}
	return t, nil
}

// byID finds the row of table whose id is id, or nil.
func (t Tables) byID(table string, id any) row {
	for _, r := range t[table] {
		if r["id"] == id {
			return r
		}
	}
	return nil
}

func live(r row) bool { return r != nil && r["deleted_at"] == nil }

func truth(v any) bool { return v == int64(1) }

func ts(v any) string { return time.UnixMicro(v.(int64)).UTC().Format(time.RFC3339Nano) }

func idText(v any) string { return strconv.FormatInt(v.(int64), 10) }

func jsonValue(text any) any {
	var v any
	if err := json.Unmarshal([]byte(text.(string)), &v); err != nil {
		panic(fmt.Sprintf("oracle: stored JSON %q: %v", text, err))
	}
	return v
}

func stringList(text any) []string {
	var l []string
	if err := json.Unmarshal([]byte(text.(string)), &l); err != nil {
		panic(fmt.Sprintf("oracle: stored list %q: %v", text, err))
	}
	return l
}

func anyList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}

// Compute is the answer to r given the tables.
func (t Tables) Compute(r Request) Answer {
	// The deployment: a host of a live deployment.
	var dep row
	for _, h := range t["deployment_hosts"] {
		if h["host"] == r.Host {
			dep = t.byID("deployments", h["deployment_id"])
		}
	}
	if !live(dep) {
		return Answer{Status: 404}
	}
	// The session: live, of this deployment, its active sign-in its own, not
	// expired, not signed out, of a live user.
	s := t.byID("sessions", r.SessionID)
	if !live(s) || s["deployment_id"] != dep["id"] || s["active_sign_in_id"] == nil {
		return Answer{Status: 401}
	}
	si := t.byID("sign_ins", s["active_sign_in_id"])
	if si == nil || si["session_id"] != s["id"] || si["signed_out_at"] != nil ||
		si["expires_at"].(int64) <= r.Now.UnixMicro() {
		return Answer{Status: 401}
	}
	user := t.byID("users", si["user_id"])
	if !live(user) {
		return Answer{Status: 401}
	}
	hasMFA := truth(user["backup_codes_generated"])
	for _, a := range t["user_authenticators"] {
		if a["user_id"] == user["id"] && live(a) {
			hasMFA = true
		}
	}

	var members []row
	for _, wm := range t["workspace_memberships"] {
		if wm["user_id"] != user["id"] || !live(wm) {
			continue
		}
		if r.OrgID != nil && wm["organization_id"] != *r.OrgID {
			continue
		}
		w := t.byID("workspaces", wm["workspace_id"])
		o := t.byID("organizations", wm["organization_id"])
		om := t.byID("organization_memberships", wm["organization_membership_id"])
		if !live(w) || !live(o) || !live(om) || w["deployment_id"] != dep["id"] {
			continue
		}
		members = append(members, wm)
	}
	slices.SortFunc(members, func(a, b row) int { // newest first, then higher id
		if c := b["created_at"].(int64) - a["created_at"].(int64); c != 0 {
			return sign(c)
		}
		return sign(b["id"].(int64) - a["id"].(int64))
	})

	data := []any{}
	for _, wm := range members {
		w := t.byID("workspaces", wm["workspace_id"])
		o := t.byID("organizations", wm["organization_id"])
		admin := false
		roles := []any{}
		for _, role := range t.linked("workspace_membership_roles", "workspace_membership_id", wm["id"], "workspace_role_id", "workspace_roles") {
			perms := stringList(role["permissions"])
			admin = admin || slices.Contains(perms, "workspace:admin")
			roles = append(roles, map[string]any{
				"id": idText(role["id"]), "name": role["name"], "permissions": anyList(perms),
				"created_at": ts(role["created_at"]), "updated_at": ts(role["updated_at"]),
			})
		}
		for _, role := range t.linked("organization_membership_roles", "organization_membership_id", wm["organization_membership_id"], "organization_role_id", "organization_roles") {
			admin = admin || slices.Contains(stringList(role["permissions"]), "organization:admin")
		}
		ips := stringList(w["whitelisted_ips"])
		ipFails := truth(dep["ip_allowlist_per_workspace_enabled"]) && truth(w["enable_ip_restriction"]) &&
			len(ips) > 0 && !allowed(ips, r.ClientIP)
		mfaFails := truth(dep["enforce_mfa_per_workspace_enabled"]) && truth(w["enforce_2fa"]) && !hasMFA
		kind := "none"
		switch {
		case admin:
		case ipFails && mfaFails:
			kind = "ip_and_mfa_required"
		case ipFails:
			kind = "ip_not_allowed"
		case mfaFails:
			kind = "mfa_required"
		}
		auto := ""
		if o["auto_assigned_workspace_id"] != nil {
			auto = idText(o["auto_assigned_workspace_id"])
		}
		data = append(data, map[string]any{
			"id": idText(wm["id"]), "organization_id": idText(wm["organization_id"]), "user_id": idText(wm["user_id"]),
			"public_metadata": jsonValue(wm["public_metadata"]),
			"created_at":      ts(wm["created_at"]), "updated_at": ts(wm["updated_at"]),
			"roles": roles,
			"workspace": map[string]any{
				"id": idText(w["id"]), "name": w["name"], "image_url": w["image_url"], "description": w["description"],
				"member_count":    float64(t.count("workspace_memberships", "workspace_id", w["id"])),
				"public_metadata": jsonValue(w["public_metadata"]), "private_metadata": map[string]any{},
				"enforce_2fa": truth(w["enforce_2fa"]), "enable_ip_restriction": truth(w["enable_ip_restriction"]),
				"whitelisted_ips": anyList(ips),
				"created_at":      ts(w["created_at"]), "updated_at": ts(w["updated_at"]),
				"segments": t.segments("workspace_segments", "workspace_id", w["id"]),
			},
			"organization": map[string]any{
				"id": idText(o["id"]), "name": o["name"], "image_url": o["image_url"], "description": o["description"],
				"member_count":    float64(t.count("organization_memberships", "organization_id", o["id"])),
				"public_metadata": jsonValue(o["public_metadata"]), "private_metadata": map[string]any{},
				"enforce_mfa": truth(o["enforce_mfa"]), "enable_ip_restriction": truth(o["enable_ip_restriction"]),
				"whitelisted_ips":            anyList(stringList(o["whitelisted_ips"])),
				"auto_assigned_workspace_id": auto,
				"created_at":                 ts(o["created_at"]), "updated_at": ts(o["updated_at"]),
				"segments": t.segments("organization_segments", "organization_id", o["id"]),
			},
			"eligibility_restriction": map[string]any{"type": kind, "message": messages[kind]},
		})
	}
	return Answer{Status: 200, Body: map[string]any{
		"status": float64(200), "message": "", "data": data,
		"session": map[string]any{"id": idText(s["id"]), "created_at": ts(s["created_at"]), "updated_at": ts(s["updated_at"])},
	}}
}

var messages = map[string]string{
	"none":                "",
	"ip_not_allowed":      "You must connect from an allowed IP address to access this workspace.",
	"mfa_required":        "You must set up Multi-Factor Authentication to access this workspace.",
	"ip_and_mfa_required": "You must connect from an allowed IP address and set up Multi-Factor Authentication to access this workspace.",
}

func sign(n int64) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// linked returns the live rows of target that link rows (owner = id) point
// at through col, by id.
func (t Tables) linked(link, owner string, id any, col, target string) []row {
	var out []row
	for _, l := range t[link] {
		if l[owner] == id {
			if r := t.byID(target, l[col]); live(r) {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b row) int { return sign(a["id"].(int64) - b["id"].(int64)) })
	return out
}

// count is the number of live rows of table whose col is id.
func (t Tables) count(table, col string, id any) int {
	n := 0
	for _, r := range t[table] {
		if r[col] == id && live(r) {
			n++
		}
	}
	return n
}

func (t Tables) segments(link, owner string, id any) []any {
	out := []any{}
	for _, sg := range t.linked(link, owner, id, "segment_id", "segments") {
		out = append(out, map[string]any{
			"id": idText(sg["id"]), "deployment_id": idText(sg["deployment_id"]), "name": sg["name"], "type": sg["type"],
			"created_at": ts(sg["created_at"]), "updated_at": ts(sg["updated_at"]),
		})
	}
	return out
}

// allowed: an entry (trimmed) equal to the address, or a CIDR range holding
// it; anything else allows nothing.
func allowed(entries []string, ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if p, err := netip.ParsePrefix(e); err == nil && p.Masked().Contains(ip) {
			return true
		}
		if a, err := netip.ParseAddr(e); err == nil && a.Unmap() == ip {
			return true
		}
	}
	return false
}

// Of reads the tables and computes the answer to r.
func Of(ctx context.Context, db *sql.DB, d Dialect, r Request) (Answer, error) {
	t, err := Read(ctx, db, d)
	if err != nil {
		return Answer{}, err
	}
	return t.Compute(r), nil
}
