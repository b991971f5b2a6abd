#!/usr/bin/env bash
# apt-install.sh COMMAND PACKAGE...: install Debian PACKAGEs with apt-get
# unless COMMAND is already on PATH (then it is a quick no-op).
set -euo pipefail
cmd=$1
shift
if command -v "$cmd" >/dev/null 2>&1; then
	exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
fi
echo "installing $* (apt-get)…"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
