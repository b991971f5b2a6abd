package load

import (
	"context"
	"slices"
	"strconv"
	"strings"
)

// The columns a Deriver's triggers derive from other rows, written by the
// walker the way the triggers would write them (PostgreSQL's 0005 and 0008).

// derived adds column to b's rows, the i-th computed by value from the live
// roles among roleIDs(i); the roles are read once the batches before b, the
// roles among them, are written.
func (p *planner) derived(b *batch, column, table string, roleIDs func(i int) []int64,
	value func(ids []int64, roles map[int64]Role) any) {
	if p.derive == nil || len(b.rows) == 0 {
		return
	}
	b.columns = append(b.columns, column)
	b.before = func(ctx context.Context, tx Tx) error {
		var all []int64
		for i := range b.rows {
			all = append(all, roleIDs(i)...)
		}
		slices.Sort(all)
		roles, err := p.derive.LiveRoles(ctx, tx, table, slices.Compact(all))
		if err != nil {
			return err
		}
		for i, row := range b.rows {
			b.rows[i] = append(row[:len(b.columns)-1], value(roleIDs(i), roles))
		}
		return nil
	}
}

// roleRefs is a workspace membership's role_refs: "id.version,…" of its live
// roles in id order; nil for none.
func roleRefs(ids []int64, roles map[int64]Role) any {
	ids = slices.Sorted(slices.Values(ids))
	var b strings.Builder
	for _, id := range ids {
		r, ok := roles[id]
		if !ok {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10) + "." + strconv.FormatInt(r.Version, 10))
	}
	if b.Len() == 0 {
		return nil
	}
	return b.String()
}

// permissions is an organization membership's permissions: the distinct
// permissions of its live roles, sorted, as the dialect spells them.
func (p *planner) permissions(ids []int64, roles map[int64]Role) any {
	var perms []string
	for _, id := range ids {
		perms = append(perms, roles[id].Permissions...)
	}
	if len(perms) == 0 {
		return nil
	}
	slices.Sort(perms)
	return p.derive.Permissions(slices.Compact(perms))
}
