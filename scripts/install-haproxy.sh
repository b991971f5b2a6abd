#!/usr/bin/env bash
# Installs Debian's HAProxy for the topology test (internal/topology), which
# CI (CI=true) fails rather than skips without it. Quick when present.
set -euo pipefail
"$(dirname "$0")/apt-install.sh" haproxy haproxy
# Only the first line, without a pipe: head exiting early sends haproxy SIGPIPE,
# which pipefail turns into a failed install (CI exit 141).
version=$(haproxy -v)
echo "${version%%$'\n'*}"
