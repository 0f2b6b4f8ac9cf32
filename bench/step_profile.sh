#!/usr/bin/env bash
# Where a training step's GPU time goes, kernel by kernel: `star bench --backend cuda`
# under Nsight Compute (ncu), which times every kernel of the timed steps (star bench
# marks them with cudaProfilerStart/Stop), then bench/step_profile.py sums them per kernel.
#
#   bench/step_profile.sh STAR ARCH [star bench options...]
#
# STAR: the star binary of a CUDA build; ARCH: a genome string or file, as for star bench;
# the options go to star bench (for instance --width 768 --vocab 50304 --batch 8 --seq-len
# 4096). The script adds --backend cuda --no-graph --warmup-steps 3 --steps 2 (a later
# --steps or --warmup-steps wins). ncu serializes the kernels and times each alone, so
# the sum is the step's kernel time without launch gaps or overlap; the tokens per second
# star bench prints under it mean nothing. Prints a Markdown table (kernel, launches and
# milliseconds per step, share) and appends the figures, with the device and date, to
# bench/results/step_profile.jsonl (STAR_STEP_PROFILE_OUT for another file). Exit 2 on bad
# usage, 1 when ncu or star fails (its log is printed).
set -euo pipefail
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
case "$1" in -h|--help) usage ;; esac
STAR=$1 ARCH=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
OUTF=${STAR_STEP_PROFILE_OUT:-$HERE/results/step_profile.jsonl}
[ -x "$STAR" ] || { echo "step_profile: error: no star binary at '$STAR'" >&2; exit 2; }
command -v ncu >/dev/null || { echo "step_profile: error: ncu (Nsight Compute) is not on PATH" >&2; exit 1; }
steps=2
for ((i = 1; i <= $#; i++)); do
    if [ "${!i}" = --steps ]; then j=$((i + 1)); steps=${!j:-}; fi
done
[[ "$steps" =~ ^[1-9][0-9]*$ ]] || { echo "step_profile: error: --steps: expected a whole number >= 1, got '$steps'" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0
ncu --profile-from-start off --clock-control none --metrics gpu__time_duration.sum --csv --print-units base \
    --log-file "$tmp/ncu.csv" "$STAR" bench "$ARCH" --backend cuda --no-graph --warmup-steps 3 --steps 2 "$@" --json \
    >"$tmp/bench.json" 2>"$tmp/bench.err" || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "step_profile: error: ncu or star bench failed (exit $rc):" >&2
    tail -20 "$tmp/bench.err" "$tmp/ncu.csv" >&2 2>/dev/null || true
    exit 1
fi
device=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("device", ""))' "$tmp/bench.json" 2>/dev/null || true)
python3 "$HERE/step_profile.py" "$tmp/ncu.csv" "$steps" --json "$OUTF" --arch "$ARCH" --args "$*" --device "$device"
echo "appended to $OUTF" >&2
