// Package topology holds the tests of the production topology
// docs/operations.md describes, on real servers: a PostgreSQL primary with a streaming hot
// standby (scripts/with-postgres.sh --replica), and two `memberships serve`
// instances behind HAProxy (scripts/install-haproxy.sh). They build only
// with the tag "topology": `make test-topology` runs them under their own
// cluster and fails if any skips; `make test` leaves them out.
//
// Its tests import the server, the stores and pgtest; it has no code of its own.
package topology
