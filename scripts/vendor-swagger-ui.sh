#!/usr/bin/env bash
# Copies the Swagger UI assets that GET /docs serves into server/swaggerui/,
# from the npm install pinned by tools/swagger-ui/package{,-lock}.json.
# The binary embeds the copies (go:embed), so nothing is fetched at run time.
# Run it after changing the pinned version, and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
(cd tools/swagger-ui && npm ci --ignore-scripts --no-audit --no-fund --silent)
src=tools/swagger-ui/node_modules/swagger-ui-dist
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
	cp "$src/$f" server/swaggerui/
done
version=$(node -p "require('./$src/package.json').version")
echo "$version" > server/swaggerui/VERSION
echo "vendored swagger-ui-dist $version into server/swaggerui/"
