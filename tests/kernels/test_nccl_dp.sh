#!/usr/bin/env bash
# Data-parallel training on GPUs through NCCL (eval/train_cuda.c, dist/nccl_group.c).
# One GPU: the NCCL path with one rank (--nccl: gradients summed through NCCL as the
# backward pass makes them final, in buckets) follows training alone step for step, bit
# for bit (a one-rank sum is a copy times 1). Two GPUs or more with MPI: mpirun -np 2
# follows one process with the same global batch within bf16 reordering (each step's loss
# within 2e-3 nats), and a search with ranks_per_candidate 2 runs. Skips (77) without a
# CUDA device or without NCCL in the build.
set -u
source "$(dirname "$0")/../cli/lib.sh"
source "$(dirname "$0")/../cli/mpi_lib.sh"

if ! nvidia-smi -L >/dev/null 2>&1; then
  echo "SKIP: no CUDA device"
  exit 77
fi
if ! ldd "$star" | grep -q libnccl; then
  echo "SKIP: star built without NCCL"
  exit 77
fi
gpus=$(nvidia-smi -L | wc -l)

# A striped hybrid (attention, gated convolutions, SwiGLU) on in-context recall (positions
# scored unevenly across rows), small buckets so the sums overlap the backward pass.
args=(configs/baselines/striped.yaml --mad in_context_recall --steps 20 --batch 8 --seq-len 64 --width 64
      --backend cuda --log-every 1 --json)
losses() { grep '^step' "$1" | awk '{print $4}'; }
json_val() { grep -o "\"$2\":[-0-9.eE+]*" "$1" | head -1 | cut -d: -f2; }
max_step_diff() { paste <(losses "$1") <(losses "$2") | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d } END { print m + 0 }'; }

"$star" train "${args[@]}" >$tmp/alone.json 2>$tmp/alone.log
check "training alone on the GPU runs 20 steps" "[ \$(losses $tmp/alone.log | wc -l) -eq 20 ]" || cat $tmp/alone.log
STAR_NCCL_BUCKET_MB=0.05 "$star" train "${args[@]}" --nccl >$tmp/nccl.json 2>$tmp/nccl.log
check "the NCCL path with one rank runs 20 steps" "[ \$(losses $tmp/nccl.log | wc -l) -eq 20 ]" || cat $tmp/nccl.log
check "its losses equal training alone's, step for step" "diff <(losses $tmp/alone.log) <(losses $tmp/nccl.log) >/dev/null"
check "its validation loss equals training alone's" \
  "[ \"\$(json_val $tmp/alone.json val_loss)\" = \"\$(json_val $tmp/nccl.json val_loss)\" ]"
echo "one rank: alone $(json_val $tmp/alone.json val_loss), through NCCL $(json_val $tmp/nccl.json val_loss)"

"$star" bench configs/baselines/striped.yaml --backend cuda --nccl --width 64 --batch 8 --seq-len 64 --steps 5 \
  --results $tmp/bench.jsonl >$tmp/bench.log 2>&1
check "bench --nccl runs and records ranks and nccl" "grep -q '\"nccl\":true' $tmp/bench.jsonl" || cat $tmp/bench.log

if [ "$gpus" -ge 2 ] && have_mpi; then
  "${mpi[@]}" -np 2 "$star" train "${args[@]}" >$tmp/two.json 2>$tmp/two.log
  check "2 ranks on 2 GPUs run 20 steps" "[ \$(losses $tmp/two.log | wc -l) -eq 20 ]" || cat $tmp/two.log
  d=$(max_step_diff $tmp/alone.log $tmp/two.log)
  echo "2 GPUs: largest step-loss difference $d"
  check "2 GPUs follow one within 2e-3 nats per step" "awk -v d=$d 'BEGIN { exit !(d <= 2e-3) }'"
  "${mpi[@]}" -np 2 "$star" search configs/quickstart.yaml --set run.dir=$tmp/s2 --set algorithm.population=4 \
    --set algorithm.generations=1 --set evaluation.budget.steps=10 --set evaluation.backend=cuda \
    --set evaluation.ranks_per_candidate=2 >$tmp/s2.log 2>&1
  check "a search with ranks_per_candidate 2 on 2 GPUs completes" "[ \$(wc -l < $tmp/s2/archive.jsonl) -ge 4 ]" ||
    tail -5 $tmp/s2.log
else
  echo "(one GPU or no MPI: the 2-rank checks need 2 GPUs)"
fi
finish
