#!/usr/bin/env bash
# Installs Debian's Node.js and npm for the TypeScript package (ts/: `make
# generate`, `make ts-check`, the browser example in internal/e2e) and for
# `make lint-spec`; CI (CI=true) fails rather than skips without them.
# Quick when npm is present. The packages themselves come from the lockfiles
# (npm ci), never from whatever is newest.
set -euo pipefail
"$(dirname "$0")/apt-install.sh" npm nodejs npm
node --version
npm --version
