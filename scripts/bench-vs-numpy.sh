#!/usr/bin/env bash
# Runs remnant and the hand-written numpy baseline on the same reference model, same machine,
# alternately, and prints trajectories per second for every run and the median ratio.
#   scripts/bench-vs-numpy.sh [PATIENTS] [REPEATS]     (defaults 10000000 and 3)
# The machine may be shared: alternating runs and taking the median keeps the ratio comparable
# when other jobs come and go.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000000}
REPEATS=${2:-3}
PEERS=${PEERS:-../shared/peers}
python3 -c 'import numpy' 2>/dev/null || pip install --quiet numpy
cargo build --release --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq 1 "$REPEATS"); do
  /usr/bin/time -f '%M' -o "$out/rss$i" ./target/release/remnant run \
    scenarios/bench/reference-hypertrophy.toml --patients "$N" --out "$out/r$i" --quiet
  python3 "$PEERS/numpy_ref.py" "$N" 1 --chunk 100000 --workers 2 --json "$out/np$i.json" >/dev/null
done
python3 - "$N" "$REPEATS" "$out" <<'PY'
import json, statistics, sys
n, repeats, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t = 4 * n
print(f"patients {n:,}  trajectories {t:,}  runs {repeats} (alternating)")
ratios = []
for i in range(1, repeats + 1):
    r = json.load(open(f"{out}/r{i}/manifest.json"))["elapsed_s"]
    d = json.load(open(f"{out}/np{i}.json"))
    p = d.get("elapsed_s", d.get("elapsed"))
    rss = int(open(f"{out}/rss{i}").read()) / 1024
    ratios.append(p / r)
    print(f"run {i}: remnant {r:7.3f} s {t/r/1e6:6.2f} M trajectories/s (max RSS {rss:.0f} MiB)"
          f" | numpy {p:7.3f} s {t/p/1e6:6.2f} M | ratio {p/r:.2f}x")
print(f"ratio remnant/numpy, median of {repeats}: {statistics.median(ratios):.2f}x")
PY
