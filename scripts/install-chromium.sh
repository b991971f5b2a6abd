#!/usr/bin/env bash
# Installs Debian's headless Chromium for the browser test (internal/e2e),
# which CI (CI=true) fails rather than skips without it. Quick when present.
# chromedp drives Chromium over the DevTools protocol, so no chromedriver.
set -euo pipefail
"$(dirname "$0")/apt-install.sh" chromium chromium fonts-liberation
chromium --version
