#!/bin/sh
# Regenerate docs/report-screenshot.png: the report of the main job (`make run`: Lytro x ufa,
# dwt, gff x the seven metrics) opened in headless Chromium, the top of the page (summary,
# metric definitions, charts, the first image grid). Run by a maintainer from the repository
# root after the report's layout changes:
#
#     FUSIONBENCH_DATA=../shared/datasets sh tools/report_screenshot.sh
#
# Needs the Lytro data and chromium (Debian: apt-get install chromium). The run uses the
# normal cache, so a repeated call only re-renders.
set -eu
out="${TMPDIR:-/tmp}/fusionbench-report-screenshot"
.venv/bin/fusionbench run --dataset lytro --methods ufa,dwt,gff --metrics seven --out "$out" --quiet
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,3000 \
    --screenshot="$PWD/docs/report-screenshot.png" "file://$out/report.html"
echo "wrote docs/report-screenshot.png from $out/report.html"
