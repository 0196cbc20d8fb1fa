#!/usr/bin/env bash
# Renders a run's report.html in headless Chromium and checks what the browser built: every
# inlined plot became an SVG element with a size, every table is there, nothing was fetched.
#   scripts/check-report.sh [RESULT_FOLDER]   (default: a fresh 20,000-patient run of
#                                             scenarios/alpps-vs-two-stage.toml)
# Needs Debian's chromium (installed with apt-get when missing and run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq chromium >/dev/null
    CHROMIUM=$(command -v chromium)
  else
    echo "check-report: chromium not found (Debian package chromium; or set CHROMIUM)" >&2
    exit 1
  fi
fi
if ! command -v pdftotext >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq poppler-utils >/dev/null
  else
    echo "check-report: pdftotext not found (Debian package poppler-utils)" >&2
    exit 1
  fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dir=${1:-}
if [ -z "$dir" ]; then
  cargo build --release --quiet
  dir="$work/run"
  ./target/release/remnant run scenarios/alpps-vs-two-stage.toml --patients 20000 --out "$dir" --quiet
fi
report="$(cd "$dir" && pwd)/report.html"
[ -f "$report" ] || { echo "check-report: no report.html in $dir" >&2; exit 1; }
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --user-data-dir="$work/profile")
# The DOM after layout, with each SVG's rendered size stamped on it by the browser itself.
"$CHROMIUM" "${flags[@]}" --virtual-time-budget=5000 --dump-dom "file://$report" \
  >"$work/dom.html" 2>/dev/null
"$CHROMIUM" "${flags[@]}" --window-size=1280,2400 --screenshot="$work/top.png" "file://$report" \
  >/dev/null 2>&1
# The page printed to PDF, as a reader would save it, and its text.
"$CHROMIUM" "${flags[@]}" --no-pdf-header-footer --print-to-pdf="$work/report.pdf" "file://$report" \
  >/dev/null 2>&1
pdftotext -layout "$work/report.pdf" "$work/report.txt"
python3 - "$dir" "$work/dom.html" "$work/top.png" "$work/report.txt" <<'PY'
import csv, html, html.parser, math, os, sys
folder, dom_path, png, pdf_text = sys.argv[1:]
class Counter(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.svg = 0; self.tables = 0; self.details = 0; self.paths = 0
    def handle_starttag(self, tag, attrs):
        if tag == "svg": self.svg += 1
        if tag == "table": self.tables += 1
        if tag == "details" and dict(attrs).get("id", "").startswith("t-"): self.details += 1
        if tag in ("path", "polyline", "line", "rect", "text"): self.paths += 1
c = Counter(); c.feed(open(dom_path, encoding="utf-8").read())
svgs = len([f for f in os.listdir(folder) if f.endswith(".svg")])
# The data dictionary describes the tables; it is not one of them.
csvs = len([f for f in os.listdir(folder) if f.endswith(".csv") and f != "data-dictionary.csv"])
ok = True
def check(cond, what):
    global ok
    print(("ok   " if cond else "FAIL ") + what); ok &= cond
check(c.svg == svgs, f"{c.svg} SVG elements in the rendered page for {svgs} SVG files")
check(c.paths > 100 * max(svgs, 1), f"{c.paths} drawn SVG shapes")
check(c.details == csvs - 1, f"{c.details} result tables for {csvs} CSV files (parameters shown apart)")
check(os.path.getsize(png) > 50_000, f"screenshot of the first screen: {os.path.getsize(png)} bytes")
# Every strategy is defined beside its name, and the scenario itself is in the page.
import json
dom = open(dom_path, encoding="utf-8").read()
strategies = json.load(open(os.path.join(folder, "manifest.json"))).get("strategies", [])
undefined = [n for n in strategies if f"<b>{html.escape(n, quote=False)}</b>:" not in dom]
check(strategies and not undefined, f"{len(strategies) - len(undefined)} of {len(strategies)} strategies defined in the methods" + (f" (not: {undefined})" if undefined else ""))
# scenario.toml opens with comment lines that say what it is; the resolved text follows them.
lines = open(os.path.join(folder, "scenario.toml"), encoding="utf-8").read().splitlines()
while lines and lines[0].startswith("#"):
    lines.pop(0)
scenario = "\n".join(lines)
check(html.escape(scenario.strip(), quote=False)[:2000] in dom, "the scenario text is in the page")
# Printed, every number of every result table is still there (wide tables are printed in parts):
# each cell as the page writes it (report::html::fmt_real), found in the PDF's text.
def fmt_real(x):
    if x == math.trunc(x) and abs(x) < 1e15:
        return f"{x:.0f}"
    decimals = min(max(3 - math.floor(math.log10(abs(x))), 0), 10)
    s = f"{x:.{decimals}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s
printed = open(pdf_text, encoding="utf-8").read()
lost = {}
for name in sorted(os.listdir(folder)):
    if not name.endswith(".csv") or name == "data-dictionary.csv":
        continue
    for row in csv.DictReader(open(os.path.join(folder, name), encoding="utf-8")):
        for column, value in row.items():
            try:
                x = float(value)
            except ValueError:
                continue
            if math.isfinite(x) and fmt_real(x) not in printed:
                lost.setdefault(name, []).append(f"{column}={fmt_real(x)}")
check(not lost, "every number of every table in the printed PDF" + (f" (lost: { {k: v[:3] for k, v in lost.items()} })" if lost else ""))
sys.exit(0 if ok else 1)
PY
echo "report renders in $("$CHROMIUM" --version 2>/dev/null | head -1)"
