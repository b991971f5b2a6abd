package postgres

import "github.com/jackc/pgx/v5/pgxpool"

// Primary is the primary's pool, for this package's tests that must reach
// states the domain cannot write (other packages: storetest.RawDB).
func (s *Store) Primary() *pgxpool.Pool { return s.primary }
