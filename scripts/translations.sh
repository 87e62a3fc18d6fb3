#!/usr/bin/env bash
# Extract, update and compile the message catalogs of the core and of each bundled plugin.
#   scripts/translations.sh update   # after changing strings: refresh .pot and .po files
#   scripts/translations.sh compile  # write the .mo files the portal loads
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-pybabel}"
LOCALES=(nb da it sv de)

catalogs() {
  # name  source folders (space separated)  translations folder
  echo "core|portal templates|portal/translations"
  for plugin in plugins/*/; do
    plugin="${plugin%/}"
    [ -f "$plugin/__init__.py" ] || continue   # separately installed plugins keep their own
    echo "$(basename "$plugin")|$plugin|$plugin/translations"
  done
}

update() {
  while IFS='|' read -r name sources out; do
    mkdir -p "$out"
    # shellcheck disable=SC2086
    "$PYBABEL" -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
      --project "cluster-forum-portal" -o "$out/messages.pot" $sources
    for locale in "${LOCALES[@]}"; do
      if [ -f "$out/$locale/LC_MESSAGES/messages.po" ]; then
        "$PYBABEL" -q update -i "$out/messages.pot" -d "$out" -l "$locale" --no-fuzzy-matching --ignore-obsolete
      else
        "$PYBABEL" -q init -i "$out/messages.pot" -d "$out" -l "$locale"
      fi
    done
  done < <(catalogs)
}

compile() {
  while IFS='|' read -r name sources out; do
    "$PYBABEL" -q compile -d "$out" --statistics
  done < <(catalogs)
}

case "${1:-}" in
  update) update ;;
  compile) compile ;;
  *) echo "usage: $0 update|compile" >&2; exit 2 ;;
esac
