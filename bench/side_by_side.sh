#!/usr/bin/env bash
# Side by side (issue 5): in one device run, trains the same genomes in star (CUDA backend)
# and in PyTorch from star's PyTorch export (eager and torch.compile; bf16 autocast; fused
# AdamW with star's recipe; random tokens) and compares tokens per second.
#
#   bench/side_by_side.sh [STAR] [options of bench/side_by_side.py]
#
# STAR: a star binary built with the CUDA backend (default build-gpu/star). Shapes: search
# scale (vocab 256, width 512, 12 LIVs, batch 16 x 2048) and STAR scale (vocab 50304,
# width 768, 24 LIVs, batch 8 x 4096), each for Transformer++ and the striped hybrid
# (configs/baselines/transformer.yaml and striped.yaml, their LIV pattern repeated to the
# shape's depth). Default: 3 warm-up + 10 timed steps, a total budget of 510 s
# (--budget-s; STAR_SBS_BUDGET_S); each piece runs in its own process under a time limit,
# so a failure or a timeout becomes an error field in its row.
#
# Writes bench/results/side_by_side.json (one row per shape and baseline: shape, genome,
# star_tokens_per_s, torch_eager_tokens_per_s, torch_compile_tokens_per_s, mfu, device,
# date, star_over_compile, star_over_eager, ms per step, peak memory, the attention
# kernels' version star ran (star_attention_kernels: 3 with STAR_ATTN_ATOMIC_DQ=1 in the
# environment), torch version) and
# prints a table. Exit 0 when every measurement came back, 1 when some did not, 2 on
# bad usage.
#
# --smoke (or STAR_SBS_SMOKE=1): checks the PyTorch half on the CPU at tiny shapes (width
# 64, batch 2 x 64 tokens, 1 + 2 steps) with any star build; the star side is skipped and
# the rows go to $TMPDIR/side_by_side_smoke.json. Add --modes eager to leave out
# torch.compile (which takes minutes on a small CPU).
#
# --merge keeps from the existing JSON what this run leaves out (--star-backend none, --modes,
# --shapes, --baselines), so a second call can fill in rows a first one's budget did not
# reach: bench/side_by_side.sh build-gpu/star --star-backend none --modes compile --merge
#
# On an H200 (one call: build, then the benchmark in what is left of 10 minutes):
#   export PATH=/usr/local/cuda/bin:$PATH; t0=$(date +%s)
#   cmake -S . -B build-gpu -G Ninja && cmake --build build-gpu -j16 --target star &&
#   bench/side_by_side.sh build-gpu/star --budget-s $((570 - $(date +%s) + t0))
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
STAR=build-gpu/star
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    STAR=$1
    shift
fi
PYTHON=${PYTHON:-python3}
case "$STAR" in /*) ;; *) STAR="$PWD/$STAR" ;; esac
[ -x "$STAR" ] || { echo "side_by_side: error: no star binary at '$STAR' (pass its path as \$1)" >&2; exit 2; }
"$PYTHON" -c 'import torch' 2>/dev/null ||
    { echo "side_by_side: error: '$PYTHON' cannot import torch (set PYTHON to a python3 that has it)" >&2; exit 2; }
cd "$ROOT"
export PYTHONUNBUFFERED=1
exec "$PYTHON" "$HERE/side_by_side.py" --star "$STAR" "$@"
