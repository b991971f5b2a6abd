#!/usr/bin/env bash
# Installs Debian's HAProxy for the topology test (internal/topology), which
# CI (CI=true) fails rather than skips without it. Quick when present.
set -euo pipefail
"$(dirname "$0")/apt-install.sh" haproxy haproxy
haproxy -v | head -n 1
