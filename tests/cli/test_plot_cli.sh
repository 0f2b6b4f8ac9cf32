#!/usr/bin/env bash
# star plot, star genome draw, star report on runs that need no training (ZDT1, and an
# architecture search scored on params and cache_bytes only, seeded with a baseline):
# the files are written, PNGs have the PNG signature and the page size, SVGs are
# well-formed XML, the report references only files that exist, holds the front table
# (as many rows as `star front` has points) and the baseline; the architecture picture
# has one block per LIV and one arc per sharing; a missing run directory is an error.
# A build without PLplot must say so from `star plot` and still write a report (with a
# note instead of charts). $1 is the star binary; run from the source root.
set -u
STAR="$1"
fails=0
# Under AddressSanitizer: fontconfig and libltdl (inside PLplot and cairo) keep blocks
# until exit; see the file.
export LSAN_OPTIONS="suppressions=$PWD/tests/cli/lsan_plot.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {  # check "what" expected_rc actual_rc
    if [ "$2" != "$3" ]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails + 1)); fi
}
contains() {  # contains "what" file needle
    if ! grep -qF -- "$3" "$2"; then echo "FAIL: $1: '$3' not in $2"; fails=$((fails + 1)); fi
}
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }

# Well-formed XML: xmllint when present, else Python's parser.
xml_ok() {
    if command -v xmllint >/dev/null; then xmllint --noout "$1" 2>/dev/null
    else python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1" 2>/dev/null; fi
}
# PNG signature and IHDR size (1000 x 720, the page size of plot/).
png_ok() {
    python3 - "$1" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read(32)
ok = b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR"
w, h = struct.unpack(">II", b[16:24]) if ok else (0, 0)
sys.exit(0 if ok and (w, h) == (1000, 720) else 1)
PY
}

"$STAR" search configs/zdt1.yaml --set run.dir="$tmp/zdt" --set algorithm.generations=4 \
    --set algorithm.population=20 --quiet >"$tmp/out" 2>&1
check "zdt1 search" 0 $?
"$STAR" search configs/quickstart.yaml --set run.dir="$tmp/arch" \
    --set 'objectives=[{name: params, max: 9.0e4}, {name: cache_bytes, context: 1024}]' \
    --set algorithm.generations=2 --quiet >"$tmp/out" 2>&1
check "architecture search without training" 0 $?

# ---- star genome draw ----
"$STAR" genome draw configs/baselines/transformer.yaml --width 64 --out "$tmp/t.svg" 2>"$tmp/err"
check "genome draw file" 0 $?
xml_ok "$tmp/t.svg" || fail "genome draw: $tmp/t.svg is not well-formed XML"
[ "$(grep -c 'class="liv"' "$tmp/t.svg")" = 8 ] || fail "genome draw: expected 8 LIV blocks in the transformer"
contains "genome draw classes" "$tmp/t.svg" ">SA-1<"
contains "genome draw classes" "$tmp/t.svg" ">GMemless<"
# LIVs 3 and 7 tie to 1 and reuse its K/V; LIV 8 ties to 5 (`star genome decode` says so).
G="11212-91111-11212-91111-61212-71111-11212-61222-91111"
"$STAR" genome decode "$G" --width 64 >"$tmp/dec" 2>&1; check "genome decode" 0 $?
ties=$(grep -c 'tie>' "$tmp/dec"); kvs=$(grep -c 'kv>' "$tmp/dec")
"$STAR" genome draw "$G" --width 64 >"$tmp/s.svg" 2>"$tmp/err"; check "genome draw to stdout" 0 $?
xml_ok "$tmp/s.svg" || fail "genome draw (stdout) is not well-formed XML"
[ "$(grep -c 'marker-end="url(#tie-head)"' "$tmp/s.svg")" = $((ties + 1)) ] ||
    fail "genome draw: expected $ties tie arcs (+1 in the legend)"
[ "$(grep -c 'marker-end="url(#kv-head)"' "$tmp/s.svg")" = $((kvs + 1)) ] ||
    fail "genome draw: expected $kvs feature-group arcs (+1 in the legend)"
"$STAR" genome draw "1x111" >"$tmp/out" 2>"$tmp/err"; check "genome draw bad genome" 1 $?
contains "genome draw bad genome message" "$tmp/err" "position"
"$STAR" genome draw "$G" --out "$tmp/no/such/dir/x.svg" >"$tmp/out" 2>"$tmp/err"; check "genome draw unwritable" 1 $?
contains "genome draw unwritable message" "$tmp/err" "cannot write"

# ---- star plot ----
"$STAR" plot "$tmp/arch" --format both >"$tmp/plot.out" 2>"$tmp/err"
rc=$?
if grep -q "no plotting" "$tmp/err"; then
    echo "note: this build has no PLplot: chart checks skipped, the message and the report's note checked"
    check "plot without PLplot" 1 $rc
    have_plot=0
else
    have_plot=1
    check "plot arch" 0 $rc
    for f in front_params_vs_cache_bytes hypervolume; do
        [ -s "$tmp/arch/plots/$f.png" ] && png_ok "$tmp/arch/plots/$f.png" || fail "plot: $f.png missing or not a 1000x720 PNG"
        [ -s "$tmp/arch/plots/$f.svg" ] && xml_ok "$tmp/arch/plots/$f.svg" || fail "plot: $f.svg missing or not XML"
        contains "plot prints the files" "$tmp/plot.out" "$tmp/arch/plots/$f.png"
    done
    "$STAR" plot "$tmp/zdt" --out "$tmp/zp" >"$tmp/out" 2>"$tmp/err"; check "plot zdt --out" 0 $?
    png_ok "$tmp/zp/front_f2_vs_f1.png" || fail "plot zdt: front_f2_vs_f1.png missing or malformed"
    [ ! -e "$tmp/zp/front_f2_vs_f1.svg" ] || fail "plot zdt: wrote an SVG without --format svg|both"
    "$STAR" plot "$tmp/zdt" --out "$tmp/zs" --format svg >"$tmp/out" 2>"$tmp/err"; check "plot --format svg" 0 $?
    xml_ok "$tmp/zs/hypervolume.svg" || fail "plot zdt: hypervolume.svg missing or malformed"
fi
"$STAR" plot "$tmp/arch" --format gif >"$tmp/out" 2>"$tmp/err"; check "plot bad format" 2 $?
"$STAR" plot "$tmp/none" >"$tmp/out" 2>"$tmp/err"; check "plot missing run" 1 $?
[ $have_plot = 0 ] || contains "plot missing run message" "$tmp/err" "no such run directory"

# ---- star report ----
"$STAR" report "$tmp/arch" >"$tmp/out" 2>"$tmp/err"; check "report arch" 0 $?
html="$tmp/arch/report/index.html"
[ -s "$html" ] || fail "report: $html not written"
contains "report front table" "$html" '<h2 id=front>Front</h2>'
contains "report baseline" "$html" 'transformer'
contains "report accounting" "$html" 'time per candidate'
contains "report config" "$html" 'seed_with'
"$STAR" front "$tmp/arch" --format json >"$tmp/front.json" 2>&1; check "front json" 0 $?
python3 - "$html" "$tmp/front.json" "$have_plot" <<'PY' || fail "report: references or front rows wrong"
import json, os, re, sys
html_path, front_path, have_plot = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
html = open(html_path).read()
d = os.path.dirname(html_path)
bad = []
srcs = re.findall(r'src="([^"]+)"', html)
for s in srcs:
    if not os.path.isfile(os.path.join(d, s)): bad.append("missing " + s)
pngs = [s for s in srcs if s.endswith(".png")]
if have_plot and "front_params_vs_cache_bytes.png" not in pngs: bad.append("no front chart")
if not have_plot and "no plotting" not in html: bad.append("no note about the missing plotting")
n_front = len(json.load(open(front_path))["front"])
table = html.split("<h2 id=front>")[1].split("</table>")[0]
rows = len(re.findall(r"<tr><td>", table))
if rows != n_front: bad.append("front table has %d rows, star front %d points" % (rows, n_front))
archs = [s for s in srcs if s.startswith("arch_front_")]
if len(archs) != n_front: bad.append("%d front pictures for %d points" % (len(archs), n_front))
if "arch_baseline_1.svg" not in srcs: bad.append("no baseline picture")
for b in bad: print("  " + b)
sys.exit(1 if bad else 0)
PY
for f in "$tmp"/arch/report/*.svg; do xml_ok "$f" || fail "report: $f is not well-formed XML"; done
contains "report infeasible reasons" "$html" 'params # &gt; max #'
"$STAR" report "$tmp/zdt" --out "$tmp/zr/page.html" >"$tmp/out" 2>"$tmp/err"; check "report zdt --out" 0 $?
contains "report zdt front" "$tmp/zr/page.html" '<h2 id=front>Front</h2>'
"$STAR" report "$tmp/none" >"$tmp/out" 2>"$tmp/err"; check "report missing run" 1 $?
contains "report missing run message" "$tmp/err" "no such run directory"
mkdir -p "$tmp/empty"
"$STAR" report "$tmp/empty" >"$tmp/out" 2>"$tmp/err"; check "report not a run" 1 $?
contains "report not a run message" "$tmp/err" "generation"

if [ $fails -eq 0 ]; then echo "all plot/draw/report checks passed"; fi
[ $fails -eq 0 ]
