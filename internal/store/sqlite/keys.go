package sqlite

import (
	"bytes"
	"context"
)

// RewriteSigningKeys implements domain.Store.
func (s *Store) RewriteSigningKeys(ctx context.Context, rewrite func(int64, []byte) ([]byte, error)) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT deployment_id, private_key_pem FROM deployment_key_pairs ORDER BY deployment_id`)
	if err != nil {
		return 0, err
	}
	type key struct {
		id  int64
		pem []byte
	}
	var keys []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.id, &k.pem); err != nil {
			rows.Close()
			return 0, err
		}
		keys = append(keys, k)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	changed := 0
	for _, k := range keys {
		next, err := rewrite(k.id, k.pem)
		if err != nil {
			return 0, err
		}
		if bytes.Equal(next, k.pem) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deployment_key_pairs SET private_key_pem = ? WHERE deployment_id = ?`, string(next), k.id); err != nil {
			return 0, err
		}
		changed++
	}
	return changed, tx.Commit()
}
