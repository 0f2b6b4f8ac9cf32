#!/usr/bin/env bash
# bench/multigpu.sh --smoke (docs/distributed.md, "Measuring on several GPUs"): the
# multi-GPU flow on the CPU at tiny sizes: a one-rank CPU bench, and the same search under
# mpirun -np 1 and -np 2, whose archives must be identical apart from wall times and
# ranks. Checks the JSON's keys and figures, that NCCL_NVLS_ENABLE=0 reached the ranks,
# and that without --smoke a machine with fewer than 2 GPUs is refused (exit 2).
# Skips (77) when star was built without MPI, mpirun or python3 is missing.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/mpi_lib.sh"

require_mpi
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }

NCCL_NVLS_ENABLE=1 bash bench/multigpu.sh "$star" --smoke --out $tmp/m.json >$tmp/log 2>&1
rc=$?
check "--smoke exits 0 (got $rc)" "[ $rc -eq 0 ]"
[ $rc -eq 0 ] || cat $tmp/log
check "the JSON has every key, with sane figures" "python3 - $tmp/m.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ('scaling_efficiency', 'search_wall_ratio', 'device', 'date', 'gpus', 'tokens_per_s_1gpu',
          'tokens_per_s_2gpu', 'search_wall_s_1gpu', 'search_wall_s_2gpu', 'archive_identical', 'archive_lines',
          'search_balance_bound', 'targets', 'bench', 'search', 'errors'):
    assert k in r, k
assert r['smoke'] is True and isinstance(r['gpus'], int)
assert r['tokens_per_s_1gpu'] > 0 and r['bench']['per_gpu_batch'] * 2 == r['bench']['batch_2gpu']
w1, w2 = r['search_wall_s_1gpu'], r['search_wall_s_2gpu']
assert w1 > 0 and w2 > 0 and abs(r['search_wall_ratio'] - w2 / w1) < 1e-9
assert r['search_balance_bound'] > 0
assert r['search']['search1_ranks_used'] == [0] and r['search']['search2_ranks_used'] == [0, 1]
assert r['archive_lines'] == r['search']['search1_lines'] == r['search']['search2_lines'] >= 4
assert r['search']['search1_failed'] == 0
assert '-x NCCL_NVLS_ENABLE=0' in r['search']['search2_command']
PY"
check "the archives of 1 and 2 ranks are identical" "grep -q '\"archive_identical\": true' $tmp/m.json"
check "NCCL_NVLS_ENABLE=0 reached the ranks, whatever the caller set" \
  "grep -q '\"nvls_off_in_ranks\": true' $tmp/m.json && grep -q '\"nccl_nvls_enable\": \"0\"' $tmp/m.json"
check "the summary is printed" "grep -q 'search wall ratio' $tmp/log && grep -q 'archives identical *True' $tmp/log"

# Without --smoke: refused with exit 2 where fewer than 2 GPUs are visible.
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ')
if [ "$gpus" -lt 2 ]; then
  bash bench/multigpu.sh "$star" --out $tmp/x.json >$tmp/log2 2>&1
  check "fewer than 2 GPUs without --smoke: exit 2" "[ $? -eq 2 ] && grep -q 'GPU(s) visible' $tmp/log2"
  check "... and no JSON written" "[ ! -e $tmp/x.json ]"
fi
bash bench/multigpu.sh >/dev/null 2>&1
check "no star binary: exit 2" "[ $? -eq 2 ]"
bash bench/multigpu.sh "$star" --smoke --budget-s -1 >/dev/null 2>&1
check "a bad --budget-s: exit 2" "[ $? -eq 2 ]"
finish
