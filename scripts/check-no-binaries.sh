#!/usr/bin/env bash
# Fails when a tracked file is a binary over 1 MiB: build outputs (test
# binaries, profiles, executables) stay out of git. Text assets of any size
# (vendored JavaScript, lockfiles) are fine. A file counts as binary when it
# holds a NUL byte, as git itself decides.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=$((1024 * 1024))
bad=0
while IFS= read -r -d '' f; do
	[ -f "$f" ] || continue
	size=$(stat -c %s "$f")
	[ "$size" -gt "$limit" ] || continue
	if LC_ALL=C grep -qaP '\x00' "$f"; then
		echo "tracked binary over 1 MiB: $f ($size bytes): build outputs stay out of git (git rm --cached '$f')"
		bad=1
	fi
done < <(git ls-files -z)
exit $bad
