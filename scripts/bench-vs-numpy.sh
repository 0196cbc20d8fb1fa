#!/usr/bin/env bash
# Runs remnant and the hand-written numpy baseline on the same reference model, same machine,
# one after the other, and prints trajectories per second and the ratio.
#   scripts/bench-vs-numpy.sh [PATIENTS]     (default 10000000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000000}
PEERS=${PEERS:-../shared/peers}
python3 -c 'import numpy' 2>/dev/null || pip install --quiet numpy
cargo build --release --quiet
out=$(mktemp -d)
/usr/bin/time -f '%M' -o "$out/rss" ./target/release/remnant run scenarios/bench/reference-hypertrophy.toml \
  --patients "$N" --out "$out/r" --quiet
r_s=$(python3 -c "import json;print(json.load(open('$out/r/manifest.json'))['elapsed_s'])")
r_rss=$(cat "$out/rss")
np_json="$out/np.json"
/usr/bin/time -f '%M' -o "$out/np_rss" python3 "$PEERS/numpy_ref.py" "$N" 1 --chunk 100000 --workers 2 --json "$np_json" >/dev/null
np_s=$(python3 -c "import json;d=json.load(open('$np_json'));print(d.get('elapsed_s', d.get('elapsed')))")
python3 - "$N" "$r_s" "$np_s" "$r_rss" <<'PY'
import sys
n, r, p, rss = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
t = 4 * n
print(f"patients {n:,}  trajectories {t:,}")
print(f"remnant  {r:8.3f} s  {t/r/1e6:7.2f} M trajectories/s  max RSS {rss/1024:.0f} MiB")
print(f"numpy    {p:8.3f} s  {t/p/1e6:7.2f} M trajectories/s")
print(f"ratio remnant/numpy: {p/r:.2f}x")
PY
rm -rf "$out"
