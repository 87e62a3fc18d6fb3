#!/usr/bin/env bash
# Refresh portal/static/vendor from the npm registry at the versions pinned in package.json.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund 2>/dev/null || npm install --no-audit --no-fund
dest=../portal/static/vendor
mkdir -p "$dest"
cp node_modules/htmx.org/dist/htmx.min.js "$dest/htmx.min.js"
cp node_modules/@picocss/pico/css/pico.min.css "$dest/pico.min.css"
# The JSON API's documentation page (/api/v1/docs), offline.
mkdir -p "$dest/swagger-ui"
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css "$dest/swagger-ui/"
{
  echo "htmx.org $(node -p "require('./node_modules/htmx.org/package.json').version") (0BSD)"
  echo "@picocss/pico $(node -p "require('./node_modules/@picocss/pico/package.json').version") (MIT)"
  echo "swagger-ui-dist $(node -p "require('./node_modules/swagger-ui-dist/package.json').version") (Apache-2.0)"
} > "$dest/VERSIONS.txt"
cat "$dest/VERSIONS.txt"
