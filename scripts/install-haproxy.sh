#!/usr/bin/env bash
# Installs Debian's HAProxy for the topology test (internal/topology), which
# CI (CI=true) fails rather than skips without it. Quick when present.
set -euo pipefail
if command -v haproxy >/dev/null 2>&1; then
	exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
fi
echo "installing haproxy (apt-get)…"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq haproxy >/dev/null
haproxy -v | head -n 1
