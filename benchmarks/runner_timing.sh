#!/usr/bin/env bash
# Wall-clock timings of `fusionbench run` for reports/benchmarks/runner.md:
#   cold: Lytro x METHODS x the seven metrics with an empty cache (everything computed),
#   warm: the same command again (everything from the cache),
# then the share of the cold run spent in each method's fuse() (from results.csv).
#
#   bash benchmarks/runner_timing.sh            # METHODS=ufa,dwt,gff WORKERS=1 by default
#   METHODS=dwt,gff WORKERS=2 bash benchmarks/runner_timing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export FUSIONBENCH_DATA="${FUSIONBENCH_DATA:-$(cd .. && pwd)/shared/datasets}"
methods="${METHODS:-ufa,dwt,gff}"
workers="${WORKERS:-1}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cmd=(.venv/bin/fusionbench run --dataset lytro --methods "$methods" --metrics seven --workers "$workers"
     --cache-dir "$scratch/cache" --out "$scratch/out" --quiet)

echo "machine: $(nproc) cores, $(uname -srm), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: ${cmd[*]}"
TIMEFORMAT="%R s wall, %U s user, %S s sys"
echo "cold (empty cache):"
time "${cmd[@]}" >/dev/null
echo "warm (cached):"
time "${cmd[@]}" >/dev/null
.venv/bin/python - "$scratch/out/results.csv" <<'EOF'
import sys
import pandas as pd

frame = pd.read_csv(sys.argv[1], keep_default_na=False)
tasks = frame.drop_duplicates(["pair", "method"])
print("fuse time in the cold run (sum over the 20 pairs, mean per pair):")
for method, part in tasks.groupby("method", sort=False):
    seconds = part["fuse_seconds"].astype(float)
    print(f"  {method}: {seconds.sum():.2f} s total, {seconds.mean():.3f} s/pair")
failed = (frame["error"] != "").sum()
print(f"failed rows: {failed}")
EOF
