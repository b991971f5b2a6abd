#!/usr/bin/env bash
# bench-compare.sh OLD_REV [MEMBENCH FLAGS...]: the load benchmark of two
# revisions, taking turns on one machine.
#
# Builds cmd/membench at OLD_REV and at NEW_REV (default HEAD), each in a
# temporary git worktree, then runs them alternately, old, new, old, new
# (PAIRS pairs, default 2), on SQLite and then on PostgreSQL (STORES, default
# "sqlite postgres"), so whatever else shares the cores hits both alike. Each
# run prints its tables (-markdown is always passed) under a heading naming
# its revision; a summary of the server's CPU per request, the figure that
# does not move with the neighbours, closes; its "200 read" rows take an
# old membench's 200 (before answers were kept whole, every 200 read) to
# compare with a new one's "full read". Both revisions' membench must
# report CPU per request (99854b5 and after, or a port of it).
#
# PostgreSQL runs use MEMBERSHIPS_TEST_POSTGRES, else one throw-away cluster
# (scripts/with-postgres.sh); membench gives every run a fresh schema of its
# own, so the two revisions' schemas never meet. BIN_DIR keeps the binaries
# and the runs' logs (default: a temporary directory, removed on exit).
#
#   scripts/bench-compare.sh cc51c09 -users 3000 -duration 5s -sweep 10,100
set -euo pipefail

if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
	echo "usage: $0 OLD_REV [MEMBENCH FLAGS...]   (env: NEW_REV, PAIRS, STORES, BIN_DIR)" >&2
	exit 2
fi
root=$(git rev-parse --show-toplevel)
stores=${STORES:-sqlite postgres}
case " $stores " in
*" postgres "*)
	if [ -z "${MEMBERSHIPS_TEST_POSTGRES:-}" ]; then
		exec "$root/scripts/with-postgres.sh" "$0" "$@"
	fi
	;;
esac

old=$(git rev-parse --verify "$1^{commit}")
new=$(git rev-parse --verify "${NEW_REV:-HEAD}^{commit}")
shift
pairs=${PAIRS:-2}

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-compare.XXXXXX")
bindir=${BIN_DIR:-$work/bin}
mkdir -p "$bindir"
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for src in "$work"/src-*; do
		[ -d "$src" ] && git -C "$root" worktree remove --force "$src" >/dev/null 2>&1
	done
	git -C "$root" worktree prune
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# build LABEL REV: bin/membench-LABEL from REV's tree.
build() {
	local label=$1 rev=$2 src="$work/src-$1"
	if ! git -C "$root" grep -q 'CPU/req' "$rev" -- internal/bench; then
		echo "bench-compare: membench at $rev does not report CPU per request" >&2
		exit 1
	fi
	git -C "$root" worktree add --quiet --detach "$src" "$rev"
	(cd "$src" && go build -o "$bindir/membench-$label" ./cmd/membench)
	git -C "$root" worktree remove --force "$src"
}
build old "$old"
build new "$new"

declare -A rev=([old]=$old [new]=$new)
echo "bench-compare: old $(git -C "$root" log -1 --format='%h %s' "$old")"
echo "bench-compare: new $(git -C "$root" log -1 --format='%h %s' "$new")"
echo "bench-compare: membench $* -markdown, $pairs pairs per store ($stores)"
for store in $stores; do
	case $store in
	sqlite) storeflags=(-postgres=) ;;
	postgres) storeflags=(-skip-sqlite "-postgres=$MEMBERSHIPS_TEST_POSTGRES") ;;
	*) echo "bench-compare: unknown store $store" >&2; exit 2 ;;
	esac
	for i in $(seq "$pairs"); do
		for label in old new; do
			log="$bindir/$store.$i.$label.log"
			echo
			echo "## $store, run $i of $pairs: $label, ${rev[$label]:0:7}"
			"$bindir/membench-$label" "$@" -markdown "${storeflags[@]}" | tee "$log"
		done
	done
done

# The summary: each row's server CPU per request, the mean over the runs,
# for the server and for the floor beside it.
echo
echo "## Summary: server CPU per request, mean of $pairs runs, old ${old:0:7}, new ${new:0:7}"
echo
echo "| store | scenario | old | new | new/old | floor old | floor new |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for store in $stores; do
	for i in $(seq "$pairs"); do
		for label in old new; do
			awk -v store="$store" -v label="$label" -F'|' '
				function us(s) { gsub(/[^0-9.]/, "", s); return s + 0 }
				function trim(s) { gsub(/^ +| +$/, "", s); return s }
				/^\| scenario \|/ { t = "main"; next }
				/^\| memberships\/user \|/ { t = "sweep"; next }
				/^\| ---/ { next }
				!/^\|/ { t = ""; next }
				t == "main" { cpu[trim($2)] = us($4) }
				t == "sweep" { m[++n] = trim($2); path[n] = trim($3); full[n] = us($6); floor[n] = us($7) }
				END {
					# Before the answers kept whole (membench without "full read"), every 200 read.
					kept = ("full read" in cpu)
					printf "%s\t200\t%s\t%s\t%s\n", store, label, cpu["full"], cpu["floor"]
					printf "%s\t200 read\t%s\t%s\t%s\n", store, label, kept ? cpu["full read"] : cpu["full"], cpu["floor"]
					printf "%s\tno-validator 200\t%s\t%s\t%s\n", store, label, cpu["no-validator"], cpu["floor"]
					printf "%s\t304\t%s\t%s\t%s\n", store, label, cpu["full 304"], cpu["floor 304"]
					for (i = 1; i <= n; i++) {
						printf "%s\tsweep %s, %s\t%s\t%s\t%s\n", store, m[i], path[i], label, full[i], floor[i]
						if (!kept && path[i] == "200")
							printf "%s\tsweep %s, 200 read\t%s\t%s\t%s\n", store, m[i], label, full[i], floor[i]
					}
				}' "$bindir/$store.$i.$label.log"
		done
	done
done | awk -F'\t' '
	{ k = $1 "\t" $2; if (!(k in seen)) { seen[k] = ++n; keys[n] = k }
	  s[k, $3] += $4; f[k, $3] += $5; c[k, $3]++ }
	function mean(a, k, l) { return c[k, l] ? a[k, l] / c[k, l] : 0 }
	END {
		for (i = 1; i <= n; i++) {
			k = keys[i]; split(k, p, "\t")
			o = mean(s, k, "old"); w = mean(s, k, "new")
			printf "| %s | %s | %.0fµs | %.0fµs | %.2f | %.0fµs | %.0fµs |\n", p[1], p[2], o, w, o ? w / o : 0,
				mean(f, k, "old"), mean(f, k, "new")
		}
	}'
