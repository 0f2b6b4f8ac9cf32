#!/usr/bin/env bash
# run.keep_weights: a tiny trained search keeps each trained candidate's weights in
# RUN/weights/<hash>-f<steps>/ (per MAD task in <task>/), whole (no temporary left), and
# only for candidates that trained; the checkpoints load (star logits --ckpt, star train
# --from); star export RUN --pick 1 --weights writes model.py and model.safetensors whose
# tensors are the checkpoint's byte for byte; with several MAD tasks --task is required;
# a resume retrains nothing; with fidelity rungs the export takes the highest; with
# run.keep_weights none there are no weights and export says so. $1 is the star binary.
source "$(dirname "$0")/lib.sh"

tiny=(--set evaluation.threads=1 --set space.width=32 --set space.depth.min=1 --set space.depth.max=2
      --set algorithm.population=4 --set algorithm.generations=1 --set algorithm.seed_with=[]
      --set evaluation.budget.steps=3 --set evaluation.budget.batch=1 --set evaluation.budget.seq_len=40
      --set evaluation.budget.warmup=1 --quiet)

# The tensors of two safetensors files, compared byte for byte by name (no torch needed).
same_tensors() {
  python3 - "$1" "$2" <<'PY'
import json, struct, sys
def tensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    h.pop("__metadata__", None)
    return {k: (v["dtype"], v["shape"], b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]) for k, v in h.items()}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
sys.exit(0 if a and a == b else 1)
PY
}

# --- Text data: one model per candidate, in RUN/weights/<hash>-f<steps>/ ---------------
python3 -c 'import random; r = random.Random(3); print("".join(r.choice("abcdefgh \n") for _ in range(60000)))' >"$tmp/text.txt"
$star search configs/quickstart.yaml --set run.dir="$tmp/text" "${tiny[@]}" \
    --set "evaluation.data={text: $tmp/text.txt}" >"$tmp/out" 2>&1
check "trained search on text data" '[ $? -eq 0 ]'
check "the resolved config says keep_weights: all (the default)" 'grep -q "keep_weights: all" "$tmp/text/config.yaml"'
ok=$(python3 -c 'import json,sys; print(" ".join(sorted({r["hash"] for r in map(json.loads, open(sys.argv[1])) if r["status"] == "ok" and "val_loss" in r["metrics"]})))' "$tmp/text/archive.jsonl")
n_ok=$(echo $ok | wc -w)
check "some candidates trained ($n_ok)" '[ $n_ok -ge 2 ]'
missing=0
for h in $ok; do [ -f "$tmp/text/weights/$h-f3/model.safetensors" ] && [ -f "$tmp/text/weights/$h-f3/arch.yaml" ] || missing=$((missing + 1)); done
check "every trained candidate has weights/<hash>-f3/{model.safetensors,arch.yaml} ($missing missing)" '[ $missing -eq 0 ]'
n_dirs=$(ls "$tmp/text/weights" | wc -l)
check "one directory per trained candidate, nothing else ($n_dirs)" '[ $n_dirs -eq $n_ok ]'
check "no temporary directory or file left" '[ -z "$(find "$tmp/text/weights" -name ".*" -o -name "*.tmp*")" ]'
check "no optimizer state kept" '[ -z "$(find "$tmp/text/weights" -name optimizer.safetensors)" ]'
h1=$(echo $ok | cut -d" " -f1)
$star logits --ckpt "$tmp/text/weights/$h1-f3" --random 2,16 --out "$tmp/l1.safetensors" >"$tmp/err" 2>&1
check "star logits --ckpt reads a kept checkpoint" '[ $? -eq 0 ] && [ -s "$tmp/l1.safetensors" ]'
$star train "$tmp/text/weights/$h1-f3/arch.yaml" --data "$tmp/text.txt" --tokens 200 \
    --from "$tmp/text/weights/$h1-f3" >"$tmp/err" 2>&1
check "star train --from continues a kept checkpoint" '[ $? -eq 0 ]'

# Export the front's first row with its weights: module + weights, tensors as kept.
$star front "$tmp/text" --format json >"$tmp/front.json" 2>/dev/null
hp=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["front"][0]["hash"])' "$tmp/front.json")
$star export "$tmp/text" --pick 1 --weights --format pytorch --out "$tmp/pt" 2>"$tmp/err"
check "export RUN --pick 1 --weights --format pytorch" '[ $? -eq 0 ] && [ -s "$tmp/pt/model.py" ] && [ -s "$tmp/pt/model.safetensors" ]'
check "the export names the pick's weights directory" 'grep -q "weights/$hp-f3" "$tmp/err"'
check "exported tensors = the kept checkpoint's, byte for byte" 'same_tensors "$tmp/pt/model.safetensors" "$tmp/text/weights/$hp-f3/model.safetensors"'
check "the module records the run and the hash" 'grep -q "$hp" "$tmp/pt/model.py"'
$star export "$tmp/text" --best params --weights --out "$tmp/yb" 2>"$tmp/err"
check "export --best params --weights (yaml)" '[ $? -eq 0 ] && [ -f "$tmp/yb/arch.yaml" ] && [ -f "$tmp/yb/model.safetensors" ]'
$star export "$tmp/text" --pick 1 --weights --task selective_copying --out "$tmp/x" 2>"$tmp/err"
check "--task on a run without MAD tasks: clear error" '[ $? -eq 1 ] && grep -q "not MAD tasks" "$tmp/err"'

# A resume of the finished run trains nothing again: the same directories, untouched.
before=$(cd "$tmp/text/weights" && find . -type f -printf '%p %T@\n' | sort)
$star search --resume "$tmp/text" --quiet >"$tmp/out" 2>&1
check "resume of the finished run" '[ $? -eq 0 ]'
after=$(cd "$tmp/text/weights" && find . -type f -printf '%p %T@\n' | sort)
check "resume rewrote no weights" '[ "$before" = "$after" ]'

# --- MPI: each rank writes the candidates it trained; the same files as one process -----
source "$(dirname "$0")/mpi_lib.sh"
if have_mpi; then
  "${mpi[@]}" -np 2 $star search configs/quickstart.yaml --set run.dir="$tmp/textmpi" "${tiny[@]}" \
    --set "evaluation.data={text: $tmp/text.txt}" >"$tmp/out" 2>&1
  check "trained search on 2 MPI ranks" '[ $? -eq 0 ]'
  check "rank 1 trained some candidates" 'grep -q "\"rank\":1" "$tmp/textmpi/archive.jsonl"'
  check "the same weights directories as one process" '[ "$(ls "$tmp/text/weights")" = "$(ls "$tmp/textmpi/weights")" ]'
  differ=0
  for d in $(ls "$tmp/text/weights"); do
    same_tensors "$tmp/text/weights/$d/model.safetensors" "$tmp/textmpi/weights/$d/model.safetensors" || differ=$((differ + 1))
  done
  check "every kept tensor equal to one process's ($differ differ)" '[ $differ -eq 0 ]'
  # Data parallel: both ranks train each candidate, rank 0 of the pair writes it.
  "${mpi[@]}" -np 2 $star search configs/quickstart.yaml --set run.dir="$tmp/dp" "${tiny[@]}" \
    --set evaluation.budget.batch=2 --set evaluation.ranks_per_candidate=2 \
    --set 'evaluation.data={mad: [selective_copying]}' >"$tmp/out" 2>&1
  check "data-parallel search (ranks_per_candidate 2)" '[ $? -eq 0 ]' || tail -20 "$tmp/out"
  n_dp=$(grep -c '"status":"ok"' "$tmp/dp/archive.jsonl"); n_dpw=$(ls "$tmp/dp/weights" | wc -l)
  check "data parallel: one whole directory per trained candidate ($n_dpw for $n_dp)" \
      '[ $n_dp -ge 2 ] && [ $n_dpw -eq $n_dp ] && [ -z "$(find "$tmp/dp/weights" -name ".*")" ]'
  $star export "$tmp/dp" --pick 1 --weights --format pytorch --out "$tmp/dpo" 2>"$tmp/err"
  check "data parallel: export --pick 1 --weights" '[ $? -eq 0 ] && [ -s "$tmp/dpo/model.safetensors" ]'
else
  echo "SKIP (MPI part): star built without MPI, or no mpirun"
fi

# --- Two MAD tasks: one model per task; --task picks one --------------------------------
$star search configs/quickstart.yaml --set run.dir="$tmp/mad" "${tiny[@]}" \
    --set 'evaluation.data={mad: [selective_copying, in_context_recall]}' >"$tmp/out" 2>&1
check "trained search on two MAD tasks" '[ $? -eq 0 ]'
d=$(ls -d "$tmp"/mad/weights/*-f3 | head -1)
check "a candidate keeps one checkpoint per task" '[ -f "$d/selective_copying/model.safetensors" ] && [ -f "$d/in_context_recall/model.safetensors" ]'
$star export "$tmp/mad" --pick 1 --weights --format pytorch --out "$tmp/m" 2>"$tmp/err"
check "several tasks without --task: clear error naming them" '[ $? -eq 1 ] && grep -q -- "--task NAME" "$tmp/err" && grep -q "in_context_recall, selective_copying\|selective_copying, in_context_recall" "$tmp/err"'
$star export "$tmp/mad" --pick 1 --weights --format pytorch --task in_context_recall --out "$tmp/m" 2>"$tmp/err"
check "--task in_context_recall exports" '[ $? -eq 0 ] && [ -s "$tmp/m/model.safetensors" ]'
dm=$(sed -n 's/^star export: weights from \(.*\)$/\1/p' "$tmp/err")
check "the task's checkpoint is the one exported" 'case "$dm" in */in_context_recall) same_tensors "$tmp/m/model.safetensors" "$dm/model.safetensors";; *) false;; esac'
$star export "$tmp/mad" --pick 1 --weights --task nope --out "$tmp/m2" 2>"$tmp/err"
check "unknown --task: clear error" '[ $? -eq 1 ] && grep -q "no such task" "$tmp/err"'

# A kill mid-run, then a resume: no temporary directory is left, and every trained
# candidate has a whole checkpoint per task that loads.
$star search configs/quickstart.yaml --set run.dir="$tmp/kill" "${tiny[@]}" --set evaluation.budget.steps=20 \
    --set 'evaluation.data={mad: [selective_copying, in_context_recall]}' >"$tmp/out" 2>&1 &
pid=$!
sleep 1.5
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
killed_at=$(wc -l < "$tmp/kill/archive.jsonl" 2>/dev/null || echo 0)
$star search --resume "$tmp/kill" --quiet >"$tmp/out" 2>&1
check "resume after a kill (killed with $killed_at evaluations archived)" '[ $? -eq 0 ]'
check "no temporary directory left after the resume" '[ -z "$(find "$tmp/kill/weights" -name ".*")" ]'
bad=0
for h in $(python3 -c 'import json,sys; print(" ".join(sorted({r["hash"] for r in map(json.loads, open(sys.argv[1])) if r["status"] == "ok"})))' "$tmp/kill/archive.jsonl"); do
  for t in selective_copying in_context_recall; do
    $star logits --ckpt "$tmp/kill/weights/$h-f20/$t" --random 1,8 --out "$tmp/lk.safetensors" >/dev/null 2>&1 || bad=$((bad + 1))
  done
done
check "every trained candidate's checkpoints load after kill and resume ($bad fail)" '[ $bad -eq 0 ]'

# --- Fidelity rungs: a candidate that reached rung 3 keeps f2 and f3; export takes f3 ----
$star search configs/quickstart.yaml --set run.dir="$tmp/fid" "${tiny[@]}" --set algorithm.population=6 \
    --set 'evaluation.data={mad: [selective_copying]}' --set 'evaluation.fidelity={rungs: [2, 3], keep: 0.5}' \
    --set 'objectives=[{name: quality}, {name: params, max: 12000}]' >"$tmp/out" 2>&1
check "trained search with fidelity rungs and a params limit" '[ $? -eq 0 ]'
untrained=$(python3 -c 'import json,sys; print(" ".join(sorted({r["hash"] for r in map(json.loads, open(sys.argv[1])) if "not trained" in r["reason"]})))' "$tmp/fid/archive.jsonl")
kept_untrained=0
for h in $untrained; do ls "$tmp/fid/weights" | grep -q "^$h-" && kept_untrained=$((kept_untrained + 1)); done
check "candidates over the params limit ($(echo $untrained | wc -w)) are not trained and keep no weights ($kept_untrained do)" \
    '[ -n "$untrained" ] && [ $kept_untrained -eq 0 ]'
n2=$(ls "$tmp/fid/weights" | grep -c -- '-f2$'); n3=$(ls "$tmp/fid/weights" | grep -c -- '-f3$')
both=$(ls "$tmp/fid/weights" | sed -n 's/-f3$//p' | while read -r h; do [ -d "$tmp/fid/weights/$h-f2" ] && echo $h; done | wc -l)
check "rung directories: $n2 at f2, $n3 at f3, each f3 candidate also at f2 ($both)" '[ $n3 -ge 1 ] && [ $n2 -ge $n3 ] && [ $both -eq $n3 ]'
$star front "$tmp/fid" --format json >"$tmp/ffront.json" 2>/dev/null
hf=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["front"][0]["hash"])' "$tmp/ffront.json")
top=$(ls "$tmp/fid/weights" | sed -n "s/^$hf-f//p" | sort -n | tail -1)
$star export "$tmp/fid" --pick 1 --weights --out "$tmp/f" 2>"$tmp/err"
check "export with one MAD task needs no --task, takes the highest rung (f$top)" '[ $? -eq 0 ] && grep -q "weights/$hf-f$top/selective_copying$" "$tmp/err"'

# --- run.keep_weights none: no weights, and export says why ----------------------------
$star search configs/quickstart.yaml --set run.dir="$tmp/none" "${tiny[@]}" --set run.keep_weights=none \
    --set 'evaluation.data={mad: [selective_copying]}' >"$tmp/out" 2>&1
check "trained search with keep_weights none" '[ $? -eq 0 ] && grep -q "keep_weights: none" "$tmp/none/config.yaml"'
check "no weights directory" '[ ! -e "$tmp/none/weights" ]'
$star export "$tmp/none" --pick 1 --weights --out "$tmp/n" 2>"$tmp/err"
check "export --weights: clear error" '[ $? -eq 1 ] && grep -q "keeps no weights (run.keep_weights: none)" "$tmp/err"'
$star search configs/quickstart.yaml --set run.dir="$tmp/bad" --set run.keep_weights=some --quiet >"$tmp/out" 2>&1
check "a bad run.keep_weights names the key" '[ $? -ne 0 ] && grep -q "run.keep_weights" "$tmp/out"'

finish
