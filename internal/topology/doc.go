// Package topology holds the tests of the production topology the README
// describes, on real servers: a PostgreSQL primary with a streaming hot
// standby (scripts/with-postgres.sh --replica), and two `memberships serve`
// instances behind HAProxy (scripts/install-haproxy.sh). They build only
// with the tag "topology": `make test-topology` runs them under their own
// cluster and fails if any skips; `make test` leaves them out.
package topology
