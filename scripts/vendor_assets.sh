#!/usr/bin/env bash
# Fetch the Leaflet, folium and plugin assets from the npm registry into a git-ignored folder, so
# maps render with no CDN. Nothing third-party is committed; this runs at set-up time.
set -euo pipefail
dest=${1:-static/vendor}
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {  # fetch NAME@VERSION TARGETDIR
  local spec=$1 target=$2
  ( cd "$tmp" && npm pack --silent "$spec" >/dev/null 2>&1 ) || { echo "npm pack $spec failed" >&2; exit 1; }
  local tgz; tgz=$(ls -t "$tmp"/*.tgz | head -1)
  mkdir -p "$dest/$target"
  tar -xzf "$tgz" -C "$dest/$target" --strip-components=1
  rm -f "$tgz"
}
fetch leaflet@1.9.3 leaflet
fetch jquery@3.7.1 jquery
fetch bootstrap@5.2.2 bootstrap
fetch @fortawesome/fontawesome-free@6.2.0 fontawesome
fetch leaflet.awesome-markers@2.0.5 awesome-markers
fetch leaflet.markercluster@1.5.3 markercluster
fetch leaflet-draw@1.0.4 leaflet-draw
fetch leaflet.fullscreen@3.0.0 fullscreen
fetch leaflet.heat@0.2.0 leaflet-heat
echo "vendored map assets into $dest"
