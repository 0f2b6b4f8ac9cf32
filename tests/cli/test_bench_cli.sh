#!/usr/bin/env bash
# star bench: the JSON it prints and appends (every key; params equal to `star genome
# stats`; tokens/s consistent with ms/step and the batch shape; the device and a UTC
# date), the default results file bench/results/cpu.jsonl under the current directory
# (created, one line per run), --results elsewhere, --backend cuda (a run, or a clear
# error without the CUDA build or a device), and the errors: an unknown backend, data options, a bad genome. $1 is the star binary.
set -u
STAR="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"  # absolute: the test changes directory
# Spinning OpenMP threads crawl when the cores are shared with other jobs (as in CI).
export OMP_WAIT_POLICY=passive
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {  # check "what" expected_rc actual_rc
    if [ "$2" != "$3" ]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails + 1)); fi
}
contains() {  # contains "what" file needle
    if ! grep -qF -- "$3" "$2"; then echo "FAIL: $1: '$3' not in output:"; cat "$2"; fails=$((fails + 1)); fi
}

G="11111-91111"
params=$("$STAR" genome stats "$G" --width 64 --vocab 256 --context 32 --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["params"])')
(cd "$tmp" && "$STAR" bench "$G" --width 64 --batch 2 --seq-len 32 --steps 3 --threads 2 --json) >"$tmp/out" 2>&1
check "bench json" 0 $?
[ -f "$tmp/bench/results/cpu.jsonl" ] || { echo "FAIL: bench/results/cpu.jsonl not created"; fails=$((fails + 1)); }
python3 - "$tmp/out" "$tmp/bench/results/cpu.jsonl" "$params" <<'EOF' || fails=$((fails + 1))
import json, re, sys
out = open(sys.argv[1]).read()
lines = open(sys.argv[2]).read().splitlines()
j = json.loads(out)
bad = []
keys = ["arch", "genome", "backend", "width", "vocab", "batch", "seq_len", "tokens_per_s", "ms_per_step", "params",
        "memory_bytes", "peak_rss_bytes", "threads", "device", "date"]
bad += ["missing key " + k for k in keys if k not in j]
if not bad:
    if len(lines) != 1 or json.loads(lines[0]) != j: bad.append("the results file does not hold the printed line")
    if (j["arch"], j["genome"], j["backend"]) != ("11111-91111", "11111-91111", "cpu"): bad.append("arch/genome/backend")
    if (j["width"], j["vocab"], j["batch"], j["seq_len"], j["threads"]) != (64, 256, 2, 32, 2): bad.append("shape/threads")
    if j["params"] != int(sys.argv[3]): bad.append("params %d, genome stats says %s" % (j["params"], sys.argv[3]))
    if not (j["tokens_per_s"] > 0 and j["ms_per_step"] > 0): bad.append("timings")
    elif abs(j["tokens_per_s"] * j["ms_per_step"] / 1000 - 2 * 32) > 1e-6 * 64: bad.append("tokens/s != batch*seq_len/step time")
    if not (j["memory_bytes"] > 4 * j["params"] and j["peak_rss_bytes"] > j["memory_bytes"]): bad.append("memory")
    if not j["device"]: bad.append("empty device")
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", j["date"]): bad.append("date " + j["date"])
for b in bad: print("FAIL: bench json: " + b)
if bad: print(out)
sys.exit(1 if bad else 0)
EOF

# Text output, and a second run appends a second line.
(cd "$tmp" && "$STAR" bench "$G" --width 32 --batch 2 --seq-len 16 --steps 2 --threads 2) >"$tmp/out" 2>&1
check "bench text" 0 $?
for what in "tokens/s" "ms/step" "params" "planned memory" "peak RSS" "appended to bench/results/cpu.jsonl"; do
    contains "bench text" "$tmp/out" "$what"
done
[ "$(wc -l <"$tmp/bench/results/cpu.jsonl")" = 2 ] || { echo "FAIL: second run did not append"; fails=$((fails + 1)); }

# A genome file and --results.
"$STAR" bench configs/baselines/transformer.yaml --width 32 --batch 1 --seq-len 16 --steps 1 --threads 2 \
    --results "$tmp/elsewhere/r.jsonl" >"$tmp/out" 2>&1
check "bench --results" 0 $?
python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).read()); sys.exit(0 if j["arch"].endswith("transformer.yaml") else 1)' \
    "$tmp/elsewhere/r.jsonl" || { echo "FAIL: --results file"; fails=$((fails + 1)); }

# Errors.
# --backend cuda: runs where the build and a device allow (a line in bench/results/cuda.jsonl
# with the measured peak and the MFU), else fails saying which of the two is missing.
(cd "$tmp" && "$STAR" bench "$G" --width 64 --batch 2 --seq-len 32 --steps 2 --backend cuda) >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
    python3 -c 'import json,sys; j=json.loads(open(sys.argv[1]).read()); sys.exit(0 if j["backend"]=="cuda" and j["peak_bf16_tflops"]>0 and j["mfu"]>0 else 1)' \
        "$tmp/bench/results/cuda.jsonl" || { echo "FAIL: cuda: bench/results/cuda.jsonl"; fails=$((fails + 1)); }
else
    check "cuda" 1 $rc
    grep -qE "this build has no CUDA backend|needs a CUDA device and none was found" "$tmp/out" ||
        { echo "FAIL: cuda: no clear error:"; cat "$tmp/out"; fails=$((fails + 1)); }
fi
"$STAR" bench "$G" --backend tpu >"$tmp/out" 2>&1; check "unknown backend" 2 $?
"$STAR" bench "$G" --data README.md >"$tmp/out" 2>&1; check "data option" 2 $?
"$STAR" bench >"$tmp/out" 2>&1; check "no arch" 2 $?
"$STAR" bench 11111-91112 --width 32 >"$tmp/out" 2>&1; check "invalid genome" 1 $?
contains "invalid genome" "$tmp/out" "LIV 2 (position 6-10)"
"$STAR" bench "$G" --steps 0 >"$tmp/out" 2>&1; check "zero steps" 2 $?
"$STAR" bench "$G" --no-graph >"$tmp/out" 2>&1; check "--no-graph on the CPU" 2 $?
contains "--no-graph on the CPU" "$tmp/out" "--no-graph needs --backend cuda"
"$STAR" bench "$G" --graph --backend cuda --nccl >"$tmp/out" 2>&1; check "--graph with --nccl" 2 $?
contains "--graph with --nccl" "$tmp/out" "data-parallel steps (--nccl) are not captured"
"$STAR" bench --help >"$tmp/out" 2>&1; check "--help" 0 $?
contains "--help" "$tmp/out" "usage: star bench ARCH"

if [ "$fails" -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
