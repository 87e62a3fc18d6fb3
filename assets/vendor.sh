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
# The PDF reports' font (portal.reports.pdf): Noto Sans, Latin and Latin Extended (æ, ø, å,
# accents), regular, italic and bold; read from disk while a report renders, never fetched.
# WOFF, not WOFF2: decompressing WOFF2 took WeasyPrint two seconds a report.
mkdir -p "$dest/fonts"
for face in 400-normal 400-italic 700-normal; do
  for subset in latin latin-ext; do
    cp "node_modules/@fontsource/noto-sans/files/noto-sans-$subset-$face.woff" "$dest/fonts/"
  done
done
cp node_modules/@fontsource/noto-sans/LICENSE "$dest/fonts/OFL.txt"
{
  echo "htmx.org $(node -p "require('./node_modules/htmx.org/package.json').version") (0BSD)"
  echo "@picocss/pico $(node -p "require('./node_modules/@picocss/pico/package.json').version") (MIT)"
  echo "swagger-ui-dist $(node -p "require('./node_modules/swagger-ui-dist/package.json').version") (Apache-2.0)"
  echo "@fontsource/noto-sans $(node -p "require('./node_modules/@fontsource/noto-sans/package.json').version") (OFL-1.1)"
} > "$dest/VERSIONS.txt"
cat "$dest/VERSIONS.txt"
