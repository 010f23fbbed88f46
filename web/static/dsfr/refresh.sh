#!/bin/sh
# Vendors the State design system (DSFR) from the npm registry into this folder.
# Only what the pages use is kept: the minified CSS and JS (module and nomodule), the files
# the CSS points at (Marianne and Spectral fonts, the icons of the core components) and the
# favicon. Nothing is fetched at run time: the service serves these files itself.
# Usage: sh web/static/dsfr/refresh.sh   (needs npm; bump VERSION below and in VERSION.md)
set -eu
VERSION=1.15.3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@gouvfr/dsfr@$VERSION" >/dev/null && tar xzf gouvfr-dsfr-"$VERSION".tgz)
dist="$work/package/dist"
find "$here" -mindepth 1 -maxdepth 1 ! -name refresh.sh ! -name VERSION.md -exec rm -rf {} +
cp "$dist/dsfr.min.css" "$dist/dsfr.module.min.js" "$dist/dsfr.nomodule.min.js" "$here/"
cp "$work/package/LICENSE.md" "$here/LICENSE.md"
# every file the stylesheet refers to (fonts, icons), at the same relative path
grep -o 'url([^)]*)' "$dist/dsfr.min.css" | sed 's/^url(//; s/)$//; s/^["'\'']//; s/["'\'']$//' \
  | grep -v '^data:' | sort -u | while read -r asset; do
    mkdir -p "$here/$(dirname "$asset")"
    cp "$dist/$asset" "$here/$asset"
  done
mkdir -p "$here/favicon"
cp "$dist/favicon/favicon.svg" "$dist/favicon/favicon.ico" "$dist/favicon/apple-touch-icon.png" "$here/favicon/"
echo "DSFR $VERSION vendored into $here"
