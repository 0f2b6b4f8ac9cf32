#!/usr/bin/env bash
# A failing candidate never stops a search: divergence (NaN), a per-candidate memory
# limit and a time limit are each recorded as infeasible with the reason, and the
# search runs to its end.
set -u
source "$(dirname "$0")/lib.sh"
small=(--set space.width=32 --set algorithm.population=6 --set algorithm.generations=1 --set algorithm.seed_with=[]
       --set evaluation.budget.batch=2 --set evaluation.budget.seq_len=40 --set evaluation.threads=1)

"$star" search configs/quickstart.yaml --set run.dir=$tmp/nan "${small[@]}" --set evaluation.budget.lr=10 \
  --set evaluation.budget.steps=30 --set evaluation.budget.warmup=0 --set evaluation.budget.clip=0 \
  --set evaluation.budget.weight_decay=0 --quiet >/dev/null 2>&1
check "diverging run completes" "[ $? -eq 0 ] && grep -q '\"complete\":true' $tmp/nan/checkpoint.json"
check "divergence recorded as infeasible with its reason" \
  "grep -q '\"status\":\"infeasible\",\"failed\":true,\"reason\":\"[a-z_]*: diverged: training loss NaN' $tmp/nan/archive.jsonl"

"$star" search configs/quickstart.yaml --set run.dir=$tmp/mem "${small[@]}" --set evaluation.memory_limit_mb=1 \
  --set evaluation.budget.steps=3 --quiet >/dev/null 2>&1
check "memory-limited run completes" "[ $? -eq 0 ] && grep -q '\"complete\":true' $tmp/mem/checkpoint.json"
check "out of memory recorded with its reason" "grep -q '\"failed\":true,\"reason\":\"[a-z_]*: out of memory' $tmp/mem/archive.jsonl"

"$star" search configs/quickstart.yaml --set run.dir=$tmp/time "${small[@]}" --set evaluation.time_limit_s=1 \
  --set evaluation.budget.steps=1000000 --set algorithm.population=2 --quiet >/dev/null 2>&1
check "time-limited run completes" "[ $? -eq 0 ] && grep -q '\"complete\":true' $tmp/time/checkpoint.json"
check "time limit recorded with its reason" "grep -q '\"failed\":true,\"reason\":\"[a-z_]*: time limit' $tmp/time/archive.jsonl"

finish
