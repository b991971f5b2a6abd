package sqlite

import "database/sql"

// DB is the store's pool, for this package's tests that must reach states
// the domain cannot write (other packages: storetest.RawDB).
func (s *Store) DB() *sql.DB { return s.db }
