#!/usr/bin/env bash
# with-postgres.sh [--replica] CMD [ARGS...]: run CMD beside a throw-away
# PostgreSQL cluster.
#
# The cluster lives in a temporary directory (data, unix socket, log), listens
# on 127.0.0.1 on a free port, trusts local connections, and is stopped and
# deleted on every exit path. CMD sees its URL in MEMBERSHIPS_TEST_POSTGRES, so
# `scripts/with-postgres.sh make test` runs the PostgreSQL tests too.
# PostgreSQL refuses to run as root: as root, the cluster belongs to the
# `postgres` OS user, created when missing.
#
# --replica adds a hot standby streaming from it (pg_basebackup -R) on a port
# of its own, in the same directory, gone on exit too. CMD sees its URL in
# MEMBERSHIPS_TEST_POSTGRES_STANDBY, and in MEMBERSHIPS_TEST_POSTGRES_STANDBY_CTL
# a script that stops (`stop`) and starts (`start`) it, for outage tests.
set -euo pipefail

replica=
if [ "${1:-}" = --replica ]; then
	replica=1
	shift
fi
if [ $# -eq 0 ]; then
	echo "usage: $0 [--replica] CMD [ARGS...]" >&2
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
	for data in "$dir/standby" "$dir/data"; do
		if [ -f "$data/postmaster.pid" ]; then
			"${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
		fi
	done
	rm -rf "$dir"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }

# start DATADIR LOG [SETTINGS...]: start a cluster on a free port, set $port.
# A free port: ask the kernel through bash's /dev/tcp whether anything answers,
# and retry the start if another process takes the port in between.
start() {
	local data=$1 log=$2
	shift 2
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 40000))
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			continue
		fi
		if "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 30 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir $*" start >/dev/null; then
			return 0
		fi
	done
	echo "with-postgres: the cluster in $data did not start:" >&2
	cat "$log" >&2 || true
	exit 1
}

# Durability is worth nothing in a throw-away cluster; speed is. With a
# standby, commits wait for the local WAL flush (cheap with fsync off) so the
# standby's lag is streaming alone, not also the WAL writer's delay.
settings="-c fsync=off -c full_page_writes=off -c max_connections=200"
if [ -z "$replica" ]; then
	settings="$settings -c synchronous_commit=off"
fi
start "$dir/data" "$dir/postgres.log" $settings
primary_port=$port

if [ -n "$replica" ]; then
	"${as_owner[@]}" "$bindir/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
		-D "$dir/standby" -R -X stream -c fast >"$dir/basebackup.log" 2>&1 ||
		{ cat "$dir/basebackup.log" >&2; exit 1; }
	start "$dir/standby" "$dir/standby.log" $settings -c hot_standby=on
	standby_port=$port
	# The control script restarts the standby on its port, with its settings.
	ctl="$dir/standby-ctl"
	cat >"$ctl" <<-CTL
		#!/usr/bin/env bash
		# $ctl stop|start: stop or start the standby on 127.0.0.1:$standby_port.
		set -euo pipefail
		case "\${1:-}" in
		stop) ${as_owner[*]} "$bindir/pg_ctl" -D "$dir/standby" -m fast -w stop >/dev/null ;;
		start) ${as_owner[*]} "$bindir/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w -t 30 \\
			-o "-c listen_addresses=127.0.0.1 -p $standby_port -k $dir $settings -c hot_standby=on" start >/dev/null ;;
		*) echo "usage: \$0 stop|start" >&2; exit 2 ;;
		esac
	CTL
	chmod 755 "$ctl"
	export MEMBERSHIPS_TEST_POSTGRES_STANDBY="postgres://postgres@127.0.0.1:$standby_port/postgres?sslmode=disable"
	export MEMBERSHIPS_TEST_POSTGRES_STANDBY_CTL="$ctl"
	echo "with-postgres: hot standby on 127.0.0.1:$standby_port (MEMBERSHIPS_TEST_POSTGRES_STANDBY=$MEMBERSHIPS_TEST_POSTGRES_STANDBY)" >&2
fi

export MEMBERSHIPS_TEST_POSTGRES="postgres://postgres@127.0.0.1:$primary_port/postgres?sslmode=disable"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$primary_port (MEMBERSHIPS_TEST_POSTGRES=$MEMBERSHIPS_TEST_POSTGRES)" >&2
"$@"
