#!/usr/bin/env bash
# Fetch the Leaflet, folium and plugin assets from the npm registry into a git-ignored folder, so
# maps render with no CDN. Nothing third-party is committed; this runs at set-up time.
#
# Integrity: every tarball's sha512 must equal the one recorded in scripts/vendor_assets.integrity
# (npm's dist.integrity), else nothing is unpacked. The files the maps load are listed with their
# sha256 in scripts/vendor_assets.sha256, checked after unpacking and by
#   bash scripts/vendor_assets.sh --verify DIR     (wherever the assets end up, e.g. inside a wheel)
# After a deliberate version change: bash scripts/vendor_assets.sh --record DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
integrity_file="$here/vendor_assets.integrity"
sums_file="$here/vendor_assets.sha256"

verify() {  # verify DIR: every recorded file present with its recorded sha256
  local dir=$1 bad=0 expected path actual
  while read -r expected path; do
    [[ -z "$expected" || "$expected" == \#* ]] && continue
    if [[ ! -f "$dir/$path" ]]; then echo "missing: $dir/$path" >&2; bad=1; continue; fi
    actual=$(sha256sum "$dir/$path" | cut -d' ' -f1)
    if [[ "$actual" != "$expected" ]]; then echo "checksum mismatch: $dir/$path" >&2; bad=1; fi
  done < "$sums_file"
  if [[ $bad -ne 0 ]]; then
    echo "vendored map assets in $dir do not match scripts/vendor_assets.sha256; re-run scripts/vendor_assets.sh" >&2
    return 1
  fi
  echo "vendored map assets in $dir match their recorded checksums"
}

record() {  # record DIR: the sha256 of the files the planner's maps load (planner/maps/assets.py)
  local dir=$1
  {
    echo "# sha256 of the vendored files the maps load (relative to the vendor folder); see vendor_assets.sh"
    (cd "$dir" && find . -type f -regextype posix-extended \
        -regex '\./([^/]+/dist/.*|fontawesome/(css|webfonts)/.*|fullscreen/[^/]+)\.(js|css|png|svg|woff2?|ttf|eot)' \
      | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum)
  } > "$sums_file"
  echo "recorded $(grep -vc '^#' "$sums_file") checksums in $sums_file"
}

case "${1:-}" in
  --verify) verify "${2:?usage: vendor_assets.sh --verify DIR}"; exit $? ;;
  --record) record "${2:?usage: vendor_assets.sh --record DIR}"; exit 0 ;;
esac

dest=${1:-static/vendor}
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {  # fetch NAME@VERSION TARGETDIR
  local spec=$1 target=$2 expected actual
  expected=$(awk -v s="$spec" '$1 == s {print $2}' "$integrity_file")
  [[ -n "$expected" ]] || { echo "no recorded integrity for $spec in $integrity_file" >&2; exit 1; }
  ( cd "$tmp" && npm pack --silent "$spec" >/dev/null 2>&1 ) || { echo "npm pack $spec failed" >&2; exit 1; }
  local tgz; tgz=$(ls -t "$tmp"/*.tgz | head -1)
  actual="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [[ "$actual" != "$expected" ]]; then
    echo "integrity mismatch for $spec: got $actual, recorded $expected; nothing unpacked" >&2
    exit 1
  fi
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
verify "$dest"
echo "vendored map assets into $dest"
