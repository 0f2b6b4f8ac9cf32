#!/usr/bin/env bash
# Multi-GPU run (issue 8): in one device call on a machine with 2 GPUs (the device's
# nvidia-h200-x2 kind), measures data-parallel scaling of training and the wall time of
# a distributed search, 2 GPUs against 1 (docs/distributed.md, "Measuring on several GPUs").
#
#   bench/multigpu.sh STAR [--budget-s N] [--out FILE] [--smoke]
#
# STAR: a star binary built with the CUDA backend, NCCL and MPI (this script builds
# nothing). Part 1: `star bench --backend cuda` of the STAR-scale Transformer++
# (vocabulary 50304, width 768, 24 LIVs, context 4096) on 1 GPU at batch 8 x 4096 and
# under `mpirun -np 2` at global batch 16 x 4096 (8 per GPU: weak scaling);
# scaling_efficiency = tok/s(2) / (2 x tok/s(1)). Part 2: one small `star search`
# (population 4, generation 0 and one bred generation, run seed 1, backend cuda,
# evaluation.threads 4) under `mpirun -np 1` and `-np 2` (ranks_per_candidate 1);
# search_wall_ratio = wall(2) / wall(1), and the two archives compared apart from wall
# times and ranks. Then, as the budget allows, the one-rank NCCL path and strong scaling.
# Default budget 540 s; each piece runs under its own time limit, so a failure or a
# timeout becomes an entry of "errors" and the run goes on.
#
# NCCL_NVLS_ENABLE=0 is always exported (NVLink multicast must stay off on those
# machines) and passed to every rank with mpirun -x; a preflight checks both ranks see it.
#
# Writes bench/results/multigpu.json (scaling_efficiency, search_wall_ratio, device, date,
# the raw figures: tokens/s each, walls, archive_identical, GPU count from nvidia-smi, the
# commands) and prints a summary. Exit 0 when every figure came back and the archives are
# identical, 1 when not, 2 on bad usage or when fewer than 2 GPUs are visible (unless
# --smoke), mpirun is missing or the multicast setting does not reach the ranks.
#
# --smoke: the whole flow on the CPU at tiny sizes (part 1: a CPU bench of one rank, the
# 2-rank half skipped; part 2: backend cpu, mpirun -np 1 against -np 2), into
# $TMPDIR/multigpu_smoke.json unless --out; tests/cli/test_multigpu_smoke.sh runs it.
#
# On an nvidia-h200-x2 (one call: build, then the measurement in what is left of 10 minutes):
#   export PATH=/usr/local/cuda/bin:$PATH; t0=$(date +%s)
#   cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null &&
#   cmake --build build-gpu -j32 --target star >/dev/null &&
#   bench/multigpu.sh build-gpu/star --budget-s $((570 - $(date +%s) + t0))
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
    echo "multigpu: error: usage: bench/multigpu.sh STAR [--budget-s N] [--out FILE] [--smoke]" >&2
    exit 2
fi
STAR=$1
shift
case "$STAR" in /*) ;; *) STAR="$PWD/$STAR" ;; esac
[ -x "$STAR" ] || { echo "multigpu: error: no star binary at '$STAR' (pass its path as \$1)" >&2; exit 2; }
libs=$(ldd "$STAR" 2>/dev/null || true)  # not piped into grep -q: under pipefail, ldd's SIGPIPE fails it
if ! grep -q libmpi <<<"$libs"; then
    echo "multigpu: error: '$STAR' was built without MPI (CMake found none): mpirun would start copies that refuse" >&2
    exit 2
fi
command -v python3 >/dev/null || { echo "multigpu: error: no python3" >&2; exit 2; }
# NVLink multicast stays off, whatever the caller's environment says.
export NCCL_NVLS_ENABLE=0
export PYTHONUNBUFFERED=1
cd "$ROOT"
exec python3 "$HERE/multigpu.py" --star "$STAR" "$@"
