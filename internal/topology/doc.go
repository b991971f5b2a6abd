// Package topology holds the tests of the production topology the README
// describes, on real servers: a PostgreSQL primary with a streaming hot
// standby (scripts/with-postgres.sh --replica), and two `memberships serve`
// instances behind HAProxy (scripts/install-haproxy.sh). `make
// test-topology` runs them and fails if any skips.
package topology
