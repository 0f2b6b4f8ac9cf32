#!/usr/bin/env bash
# star search survives SIGKILL: a run killed mid-generation (twice) and resumed ends
# with exactly the archive and fronts of an uninterrupted run with the same seed
# (apart from wall times). Once with trained quality, once on params and cache bytes
# under a hard constraint.
set -u
source "$(dirname "$0")/lib.sh"

# Lines of an archive or generation file with the wall times taken out.
strip() { sed -E 's/"wall_s":[-0-9.eE+]+//; s/"tokens_per_s":[-0-9.eE+]+//; s/"train_s":[-0-9.eE+]+//' "$1"; }

# kill_after DIR N: waits until DIR's archive has >= N lines, then SIGKILLs the search.
run_and_kill() {
  local n=$1; shift
  "$star" "$@" --quiet >/dev/null 2>&1 &
  local pid=$! waited=0
  while [ "$(cat "$dir/archive.jsonl" 2>/dev/null | wc -l)" -lt "$n" ] && kill -0 $pid 2>/dev/null && [ $waited -lt 600 ]; do
    sleep 0.02; waited=$((waited + 1))
  done
  kill -9 $pid 2>/dev/null
  wait $pid 2>/dev/null
}

compare_runs() {  # name dirA dirB
  check "$1: archives equal" "diff <(strip $2/archive.jsonl) <(strip $3/archive.jsonl) >/dev/null"
  check "$1: no evaluation lost or repeated" "[ \$(wc -l < $2/archive.jsonl) -eq \$(wc -l < $3/archive.jsonl) ]"
  check "$1: each (hash, fidelity) once" "[ \$(grep -o '\"hash\":\"[0-9a-f]*\",\"fidelity\":[0-9]*' $3/archive.jsonl | sort | uniq -d | wc -l) -eq 0 ]"
  local last; last=$(ls $2/generations | tail -1)
  check "$1: final generation equal" "diff <(strip $2/generations/$last) <(strip $3/generations/$last) >/dev/null"
  check "$1: run marked complete" "grep -q '\"complete\":true' $3/checkpoint.json"
}

# 1. Trained quality (tiny budget), three objectives, a hard limit on params.
sets=(--set evaluation.threads=1 --set space.width=32 --set space.depth.min=2 --set space.depth.max=4
      --set algorithm.population=6 --set algorithm.generations=3 --set algorithm.seed_with=[]
      --set evaluation.budget.steps=4 --set evaluation.budget.batch=2 --set evaluation.budget.seq_len=40
      --set evaluation.budget.warmup=1 --set objectives.1.max=60000)
"$star" search configs/quickstart.yaml --set run.dir=$tmp/a "${sets[@]}" --quiet >/dev/null 2>&1
check "uninterrupted run succeeds" "[ -s $tmp/a/archive.jsonl ]"
dir=$tmp/b
run_and_kill 5 search configs/quickstart.yaml --set run.dir=$tmp/b "${sets[@]}"
check "first kill left a partial archive" "[ \$(wc -l < $tmp/b/archive.jsonl) -lt \$(wc -l < $tmp/a/archive.jsonl) ]"
run_and_kill 12 search --resume $tmp/b
"$star" search --resume $tmp/b --quiet >/dev/null 2>&1
check "resume exits 0" "[ $? -eq 0 ]"
compare_runs trained $tmp/a $tmp/b

# 2. No training: params and cache bytes under a hard constraint, many generations.
sets=(--set 'objectives=[{name: params, max: 50000}, {name: cache_bytes, context: 1024}]'
      --set algorithm.population=40 --set algorithm.generations=30 --set algorithm.seed_with=[])
"$star" search configs/quickstart.yaml --set run.dir=$tmp/c "${sets[@]}" --quiet >/dev/null 2>&1
check "closed-form run succeeds" "[ -s $tmp/c/archive.jsonl ]"
check "infeasible candidates recorded with a reason" "grep -q 'params.*> max' $tmp/c/archive.jsonl"
dir=$tmp/d
run_and_kill 150 search configs/quickstart.yaml --set run.dir=$tmp/d "${sets[@]}"
run_and_kill 400 search --resume $tmp/d
"$star" search --resume $tmp/d --quiet >/dev/null 2>&1
compare_runs closed-form $tmp/c $tmp/d

# 3. Multi-fidelity (successive halving): 6 candidates train 5 steps, the best 3 go on
# to 10, the best 2 to 20; a kill between rungs loses nothing either.
sets=(--set evaluation.threads=1 --set space.width=32 --set algorithm.population=6 --set algorithm.generations=2
      --set algorithm.seed_with=[] --set evaluation.budget.steps=20 --set evaluation.budget.batch=2
      --set evaluation.budget.seq_len=40 --set 'evaluation.fidelity={rungs: [5, 10, 20], keep: 0.5}')
"$star" search configs/quickstart.yaml --set run.dir=$tmp/e "${sets[@]}" --quiet >/dev/null 2>&1
check "multi-fidelity run succeeds" "[ -s $tmp/e/archive.jsonl ]"
check "rung sizes 6, 3, 2 in generation 0" \
  "[ \"\$(grep -o '\"gen\":0,[^x]*\"fidelity\":[0-9]*' $tmp/e/archive.jsonl | grep -o 'fidelity\":[0-9]*' | sort | uniq -c | tr -s ' ' | tr '\n' ' ')\" = ' 3 fidelity\":10  2 fidelity\":20  6 fidelity\":5 ' ]"
dir=$tmp/f
run_and_kill 8 search configs/quickstart.yaml --set run.dir=$tmp/f "${sets[@]}"
"$star" search --resume $tmp/f --quiet >/dev/null 2>&1
compare_runs multi-fidelity $tmp/e $tmp/f

# 3b. The seeded genome (the Transformer++ baseline) goes through every rung whatever its
# rank: with this seed it ranks 5th of 6 at the first rung (keep 0.3: the best 2 go on),
# and still reaches the last.
"$star" search configs/quickstart.yaml --set run.dir=$tmp/g --set run.seed=1 --set evaluation.threads=1 \
  --set space.width=32 --set algorithm.population=6 --set algorithm.generations=1 --set evaluation.budget.steps=20 \
  --set evaluation.budget.batch=2 --set evaluation.budget.seq_len=40 --set 'objectives=[{name: quality}]' \
  --set 'evaluation.fidelity={rungs: [5, 10, 20], keep: 0.3}' --set 'evaluation.data={mad: [selective_copying]}' \
  --quiet >/dev/null 2>&1
seeded=$(python3 - "$tmp/g/archive.jsonl" <<'PY'
import json, sys
g0 = [json.loads(l) for l in open(sys.argv[1]) if '"gen":0,' in l]
seed = g0[0]["hash"]  # the seeded genome is the first of generation 0
r5 = sorted((r for r in g0 if r["fidelity"] == 5), key=lambda r: r["objectives"]["quality"])
top2 = {r["hash"] for r in r5[:2]}
at10 = {r["hash"] for r in g0 if r["fidelity"] == 10}
at20 = {r["hash"] for r in g0 if r["fidelity"] == 20}
print([r["hash"] for r in r5].index(seed), at10 == top2 | {seed}, seed in at20)
PY
)
check "the seeded baseline, cut at the first rung by rank, trains every rung ($seeded)" "[ \"$seeded\" = '4 True True' ]"

# 4. Refusals: a second run into the same directory; a resume of a non-run.
out=$("$star" search configs/quickstart.yaml --set run.dir=$tmp/c "${sets[@]}" --quiet 2>&1)
check "a used run.dir is refused" "[ $? -ne 0 ] && echo \"\$out\" | grep -q -- '--resume'"
out=$("$star" search --resume $tmp/nothing 2>&1)
check "resume of a missing run is refused" "[ $? -ne 0 ] && echo \"\$out\" | grep -q 'not a run directory'"

finish
