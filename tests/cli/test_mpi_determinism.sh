#!/usr/bin/env bash
# star search under mpirun: the same config and seed give the same archive, generations
# and checkpoint with 1, 2 and 3 ranks (apart from wall times and the "rank" of each
# line); a rank killed mid-run, or one that hangs, stops the job by itself with every
# archive line whole, and --resume with another number of ranks ends with the same archive.
# Skips (77) when star was built without MPI or mpirun is missing.
set -u
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/mpi_lib.sh"

require_mpi

strip() { sed -E 's/"wall_s":[-0-9.eE+]+//; s/"tokens_per_s":[-0-9.eE+]+//; s/"train_s":[-0-9.eE+]+//; s/"rank":[0-9]+//' "$1"; }

# A tiny trained search: one thread per candidate, a few steps, one MAD task.
sets=(--set evaluation.threads=1 --set space.width=32 --set space.depth.min=2 --set space.depth.max=4
      --set algorithm.population=5 --set algorithm.generations=2 --set algorithm.seed_with=[]
      --set evaluation.budget.steps=3 --set evaluation.budget.batch=2 --set evaluation.budget.seq_len=32
      --set evaluation.budget.warmup=1 --set 'evaluation.data={mad: [in_context_recall]}' --quiet)

"${mpi[@]}" -np 1 "$star" search configs/quickstart.yaml --set run.dir=$tmp/r1 "${sets[@]}" >$tmp/front1 2>$tmp/err1
check "1 rank under mpirun succeeds" "[ -s $tmp/r1/archive.jsonl ]" || cat $tmp/err1
"$star" search configs/quickstart.yaml --set run.dir=$tmp/r0 "${sets[@]}" >$tmp/front0 2>/dev/null
check "no launcher: the same archive as 1 rank" "diff <(strip $tmp/r0/archive.jsonl) <(strip $tmp/r1/archive.jsonl) >/dev/null"
for n in 2 3; do
  "${mpi[@]}" -np $n "$star" search configs/quickstart.yaml --set run.dir=$tmp/r$n "${sets[@]}" >$tmp/front$n 2>$tmp/err$n
  check "$n ranks succeed" "[ $? -eq 0 ]" || cat $tmp/err$n
  check "$n ranks: archive equal to 1 rank's" "diff <(strip $tmp/r1/archive.jsonl) <(strip $tmp/r$n/archive.jsonl) >/dev/null"
  check "$n ranks: generations equal" "diff -r <(for f in $tmp/r1/generations/*; do strip \$f; done) <(for f in $tmp/r$n/generations/*; do strip \$f; done) >/dev/null"
  check "$n ranks: checkpoint equal" "cmp -s $tmp/r1/checkpoint.json $tmp/r$n/checkpoint.json"
  check "$n ranks: the front is printed once" "cmp -s $tmp/front1 $tmp/front$n"
  check "$n ranks: every rank evaluated" "[ \$(grep -o '\"rank\":[0-9]*' $tmp/r$n/archive.jsonl | sort -u | wc -l) -eq $n ]"
done

# Multi-fidelity: each rung of a generation is spread over the ranks in turn.
fid=(--set algorithm.generations=1 --set evaluation.budget.steps=4 --set 'evaluation.fidelity={rungs: [2, 4], keep: 0.5}')
"$star" search configs/quickstart.yaml --set run.dir=$tmp/f1 "${sets[@]}" "${fid[@]}" >/dev/null 2>&1
"${mpi[@]}" -np 3 "$star" search configs/quickstart.yaml --set run.dir=$tmp/f3 "${sets[@]}" "${fid[@]}" >/dev/null 2>$tmp/errf
check "multi-fidelity with 3 ranks succeeds" "[ $? -eq 0 ] && grep -q '\"fidelity\":4' $tmp/f3/archive.jsonl" || cat $tmp/errf
check "multi-fidelity: archive equal to one process's" "diff <(strip $tmp/f1/archive.jsonl) <(strip $tmp/f3/archive.jsonl) >/dev/null"

# A rank killed during generation 1: the job stops (no hang), the archive's lines are
# whole, and a resume with 3 ranks ends with the uninterrupted run's archive.
"${mpi[@]}" -np 2 "$star" search configs/quickstart.yaml --set run.dir=$tmp/k "${sets[@]}" >/dev/null 2>$tmp/errk &
job=$!
wait_lines $tmp/k/archive.jsonl 5 $job
victim=$(rank_pid $job 1)
check "found rank 1 to kill" "[ -n '$victim' ]"
[ -n "$victim" ] && kill -9 $victim
waited=0
while kill -0 $job 2>/dev/null && [ $waited -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
check "the job stopped within 30 s of the kill" "! kill -0 $job 2>/dev/null"
kill -9 $job 2>/dev/null
wait $job
check "the job exited non-zero" "[ $? -ne 0 ]"
check "the archive lost nothing finished" "[ \$(wc -l < $tmp/k/archive.jsonl) -ge 5 ]"
check "the kill came before the end" "[ \$(wc -l < $tmp/k/archive.jsonl) -lt \$(wc -l < $tmp/r1/archive.jsonl) ]"
check "every archive line is whole" "[ \$(tail -c 1 $tmp/k/archive.jsonl | od -An -c | tr -d ' ') = '\n' ]"
"${mpi[@]}" -np 3 "$star" search --resume $tmp/k --quiet >/dev/null 2>$tmp/errr
check "resume with 3 ranks succeeds" "[ $? -eq 0 ]" || cat $tmp/errr
check "resumed archive equal to the uninterrupted one" "diff <(strip $tmp/r1/archive.jsonl) <(strip $tmp/k/archive.jsonl) >/dev/null"

# A hung rank (SIGSTOP during generation 1): rank 0's watchdog (hang_timeout_s per
# candidate of the busiest group) stops the job by itself; resume completes the run.
"${mpi[@]}" -np 2 "$star" search configs/quickstart.yaml --set run.dir=$tmp/h "${sets[@]}" \
  --set evaluation.hang_timeout_s=4 >/dev/null 2>$tmp/errh &
job=$!
wait_lines $tmp/h/archive.jsonl 5 $job
victim=$(rank_pid $job 1)
check "found rank 1 to stop" "[ -n '$victim' ]"
[ -n "$victim" ] && kill -STOP $victim
waited=0
while kill -0 $job 2>/dev/null && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
check "a hung rank: the job ended by itself within 60 s" "! kill -0 $job 2>/dev/null"
[ -n "$victim" ] && kill -KILL $victim 2>/dev/null
kill -9 $job 2>/dev/null
wait $job
check "a hung rank: non-zero exit" "[ $? -ne 0 ]"
check "a hung rank: the watchdog said why" "grep -q 'did not finish in time' $tmp/errh" || cat $tmp/errh
check "a hung rank: every archive line is whole" "[ \$(tail -c 1 $tmp/h/archive.jsonl | od -An -c | tr -d ' ') = '\n' ]"
"${mpi[@]}" -np 2 "$star" search --resume $tmp/h --quiet >/dev/null 2>$tmp/errhr
check "a hung rank: resume succeeds" "[ $? -eq 0 ]" || cat $tmp/errhr
check "a hung rank: resumed archive equal to the uninterrupted one" "diff <(strip $tmp/r1/archive.jsonl) <(strip $tmp/h/archive.jsonl) >/dev/null"

finish
