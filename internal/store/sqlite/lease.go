package sqlite

import (
	"context"

	"github.com/wachtbench/memberships/internal/ids"
)

// LeaseNode implements domain.Store: the write transaction begins IMMEDIATE,
// so processes on one file grant leases one at a time.
func (s *Store) LeaseNode(ctx context.Context, holder string, now, span int64) (ids.Lease, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ids.Lease{}, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT node, holder, until_ms FROM id_nodes`)
	if err != nil {
		return ids.Lease{}, err
	}
	var table []ids.NodeRow
	for rows.Next() {
		var r ids.NodeRow
		if err := rows.Scan(&r.Node, &r.Holder, &r.Until); err != nil {
			rows.Close()
			return ids.Lease{}, err
		}
		table = append(table, r)
	}
	if err := rows.Close(); err != nil {
		return ids.Lease{}, err
	}
	row, lease, err := ids.Grant(table, holder, now, span)
	if err != nil {
		return ids.Lease{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO id_nodes (node, holder, until_ms) VALUES (?, ?, ?)
		ON CONFLICT (node) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms`,
		row.Node, row.Holder, row.Until); err != nil {
		return ids.Lease{}, err
	}
	return lease, tx.Commit()
}
