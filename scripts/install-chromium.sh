#!/usr/bin/env bash
# Installs Debian's headless Chromium for the browser test (internal/e2e),
# which CI (CI=true) fails rather than skips without it. Quick when present.
# chromedp drives Chromium over the DevTools protocol, so no chromedriver.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
	exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo=sudo
fi
echo "installing chromium (apt-get)…"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-liberation >/dev/null
chromium --version
