#!/bin/sh
# Refresh tests/vendor/axe-core/ from the npm registry: axe.min.js, its licence files and VERSION.
# Usage: tests/vendor/update-axe.sh [4.x.y]   (default: the newest 4.x)
set -eu
want="${1:-4}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm install --silent --no-audit --no-fund --ignore-scripts "axe-core@$want")
src="$work/node_modules/axe-core"
dest="$here/axe-core"
mkdir -p "$dest"
cp "$src/axe.min.js" "$src/LICENSE" "$src/LICENSE-3RD-PARTY.txt" "$dest/"
version="$(node -p "require('$src/package.json').version")"
licence="$(node -p "require('$src/package.json').license")"
sum="$(sha256sum "$dest/axe.min.js" | cut -d' ' -f1)"
printf 'axe-core %s (npm registry), licence %s\nsha256(axe.min.js) %s\n' "$version" "$licence" "$sum" \
  > "$dest/VERSION"
cat "$dest/VERSION"
