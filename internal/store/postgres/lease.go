package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/wachtbench/memberships/internal/ids"
)

// LeaseNode implements domain.Store on the primary: the table is locked for
// the transaction, so instances grant leases one at a time.
func (s *Store) LeaseNode(ctx context.Context, holder string, now, span int64) (ids.Lease, error) {
	var lease ids.Lease
	err := pgx.BeginFunc(ctx, s.primary, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE id_nodes IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT node, holder, until_ms FROM id_nodes`)
		table, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ids.NodeRow, error) {
			var n ids.NodeRow
			return n, r.Scan(&n.Node, &n.Holder, &n.Until)
		})
		if err != nil {
			return err
		}
		var row ids.NodeRow
		if row, lease, err = ids.Grant(table, holder, now, span); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO id_nodes (node, holder, until_ms) VALUES ($1, $2, $3)
			ON CONFLICT (node) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms`,
			row.Node, row.Holder, row.Until)
		return err
	})
	return lease, err
}
