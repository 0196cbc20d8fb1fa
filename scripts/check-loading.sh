#!/usr/bin/env bash
# Runs the Python recipe of docs/outputs.md ("Loading the results"), exactly as written there,
# on a fresh run of the default scenario, then checks that every Parquet file of the run reads
# with polars and holds what its CSV twin holds (same columns, rows and values), and that every
# column is in the data dictionary.
#   scripts/check-loading.sh
# Installs polars and pyarrow from PyPI into a throw-away virtual environment; where PyPI cannot
# be reached it says so and skips (exit 0), as the Slurm test does where Slurm cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! python3 -m venv "$work/venv" >/dev/null 2>&1 ||
  ! "$work/venv/bin/pip" install --quiet --disable-pip-version-check polars pyarrow >"$work/pip.log" 2>&1; then
  echo "check-loading: skipped (python3 -m venv or pip install polars pyarrow failed: $(tail -1 "$work/pip.log" 2>/dev/null))"
  exit 0
fi
py="$work/venv/bin/python"
cargo run --release --quiet -- run --out "$work/output/default" --patients 2000 --quiet
# The recipe, taken from the manual so that the manual is what is tested.
"$py" - "$root/docs/outputs.md" "$work/recipe.py" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
section = text.split("## Loading the results", 1)[1]
blocks = re.findall(r"```python\n(.*?)```", section, re.S)
assert blocks, "no Python recipe under 'Loading the results' in docs/outputs.md"
open(sys.argv[2], "w").write(blocks[0])
PY
(cd "$work" && "$py" recipe.py) >"$work/recipe.out"
grep -q "seed" "$work/recipe.out"
cat "$work/recipe.out"
"$py" - "$work/output/default" <<'PY'
import sys
from pathlib import Path
import polars as pl
from polars.testing import assert_frame_equal

results = Path(sys.argv[1])
dictionary = pl.read_csv(results / "data-dictionary.csv")
described = set(zip(dictionary["table"], dictionary["column"]))
checked = 0
for parquet in sorted(results.glob("*.parquet")):
    table = parquet.stem
    frame = pl.read_parquet(parquet)
    csv = pl.read_csv(results / f"{table}.csv", schema_overrides=frame.schema, null_values="")
    # CSV cannot carry an Enum's levels or the exact bits of a float: compare as text and with
    # a relative tolerance, which is what a reader of either gets.
    assert_frame_equal(frame, csv, check_dtypes=False, rel_tol=1e-12)
    missing = [c for c in frame.columns if (table, c) not in described]
    assert not missing, f"{table}: columns not in the data dictionary: {missing}"
    assert frame.height > 0, f"{table} is empty"
    checked += 1
assert checked >= 8, f"only {checked} Parquet files in {results}"
print(f"check-loading: recipe ran; {checked} Parquet files read with polars and equal to their CSV")
PY
