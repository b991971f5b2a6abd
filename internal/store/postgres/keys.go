package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// RewriteSigningKeys implements domain.Store, on the primary.
func (s *Store) RewriteSigningKeys(ctx context.Context, rewrite func(int64, []byte) ([]byte, error)) (int, error) {
	changed := 0
	err := pgx.BeginFunc(ctx, s.primary, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT deployment_id, private_key_pem FROM deployment_key_pairs ORDER BY deployment_id FOR UPDATE`)
		if err != nil {
			return err
		}
		type key struct {
			id  int64
			pem string
		}
		keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (key, error) {
			var k key
			return k, r.Scan(&k.id, &k.pem)
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			next, err := rewrite(k.id, []byte(k.pem))
			if err != nil {
				return err
			}
			if string(next) == k.pem {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE deployment_key_pairs SET private_key_pem = $1 WHERE deployment_id = $2`, string(next), k.id); err != nil {
				return err
			}
			changed++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}
