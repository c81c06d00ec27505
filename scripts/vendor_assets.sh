#!/usr/bin/env bash
# Fetch (or verify) the Leaflet/folium map assets into the package, and copy them to DEST for the
# dashboard's Streamlit static serving. The work is done by vendor_assets.py (pinned npm tarballs,
# SHA-512 checked; see its docstring). Usage: bash scripts/vendor_assets.sh [DEST]  (default static/vendor)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-static/vendor}
"${PYTHON:-python3}" "$here/vendor_assets.py" "$here/../planner/maps/vendor" --copy-to "$dest"
