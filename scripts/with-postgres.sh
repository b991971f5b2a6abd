#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]: run CMD beside a throw-away PostgreSQL cluster.
#
# The cluster lives in a temporary directory (data, unix socket, log), listens
# on 127.0.0.1 on a free port, trusts local connections, and is stopped and
# deleted on every exit path. CMD sees its URL in MEMBERSHIPS_TEST_POSTGRES, so
# `scripts/with-postgres.sh make test` runs the PostgreSQL tests too.
# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# `postgres` OS user, created when missing.
set -euo pipefail

if [ $# -eq 0 ]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
	if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
		bindir=$(pg_config --bindir)
	else
		bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	fi
fi
if [ ! -x "$bindir/initdb" ]; then
	echo "with-postgres: initdb not found; install PostgreSQL or set PG_BINDIR" >&2
	exit 1
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
	fi
	as_owner=(runuser -u postgres --)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/memberships-pg.XXXXXX")
chmod 700 "$dir"
if [ ${#as_owner[@]} -gt 0 ]; then
	chown postgres: "$dir"
fi

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -f "$dir/data/postmaster.pid" ]; then
		"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }

# A free port: ask the kernel through bash's /dev/tcp whether anything answers,
# and retry the start if another process takes the port in between.
started=
for _ in 1 2 3 4 5 6 7 8 9 10; do
	port=$((20000 + RANDOM % 40000))
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		continue
	fi
	# Durability is worth nothing in a throw-away cluster; speed is.
	if "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
		-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
		start >/dev/null; then
		started=1
		break
	fi
done
if [ -z "$started" ]; then
	echo "with-postgres: the cluster did not start:" >&2
	cat "$dir/postgres.log" >&2 || true
	exit 1
fi

export MEMBERSHIPS_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (MEMBERSHIPS_TEST_POSTGRES=$MEMBERSHIPS_TEST_POSTGRES)" >&2
"$@"
