#!/usr/bin/env bash
# --backend cuda on star search and star eval (and evaluation.backend: cuda in a config):
# where the build has no CUDA backend, or the machine no device, each fails at once with
# a clear message and a non-zero exit, and star search makes no run directory; where a
# device is present a tiny run completes (tests/kernels/test_model_search_cuda.c checks
# the search on the device in detail). Bad values are usage errors. $1 is the star binary.
set -u
source "$(dirname "$0")/lib.sh"
export OMP_WAIT_POLICY=passive
small=(--set space.width=64 --set algorithm.population=2 --set algorithm.generations=1 --set algorithm.seed_with=[]
       --set 'space.classes=[SA-1,GMemless]' --set evaluation.budget.batch=2 --set evaluation.budget.seq_len=64
       --set evaluation.budget.steps=3 --set evaluation.threads=1)
unavailable='evaluation.backend: cuda is not available in this build|evaluation.backend: cuda: the CUDA backend needs a CUDA device and none was found'

# One search by the option, one by the config key: either fails before the run directory
# exists, or (a CUDA build on a machine with a device) completes.
for how in option key; do
  dir=$tmp/search_$how
  if [ $how = option ]; then extra=(--backend cuda); else extra=(--set evaluation.backend=cuda); fi
  "$star" search configs/quickstart.yaml --set run.dir=$dir "${small[@]}" "${extra[@]}" --quiet >$tmp/out 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then
    check "search ($how) on the device completes" "grep -q '\"complete\":true' $dir/checkpoint.json"
    check "search ($how) records backend cuda" "grep -q 'backend: cuda' $dir/config.yaml"
  else
    check "search ($how) exits 1 without CUDA (got $rc)" "[ $rc -eq 1 ]"
    check "search ($how) says why" "grep -qE '$unavailable' $tmp/out || { cat $tmp/out; false; }"
    check "search ($how) made no run directory" "[ ! -e $dir ]"
  fi
done

# --backend cpu is the default's override and runs as before.
"$star" search configs/quickstart.yaml --set run.dir=$tmp/cpu "${small[@]}" --backend cpu --quiet >$tmp/out 2>&1
check "search --backend cpu completes" "[ $? -eq 0 ] && grep -q 'backend: cpu' $tmp/cpu/config.yaml"

"$star" search configs/quickstart.yaml --set run.dir=$tmp/bad "${small[@]}" --backend tpu >$tmp/out 2>&1
check "search --backend tpu is a usage error" "[ $? -eq 2 ] && grep -q 'expected cpu or cuda, got tpu' $tmp/out"
check "search --backend tpu made no run directory" "[ ! -e $tmp/bad ]"
"$star" search configs/quickstart.yaml --backend >$tmp/out 2>&1
check "search --backend without a value is a usage error" "[ $? -eq 2 ]"
"$star" search --resume $tmp/cpu --backend cuda >$tmp/out 2>&1
check "search --resume with --backend is refused" "[ $? -eq 2 ] && grep -q 'cannot change a run being resumed' $tmp/out"

# star eval: text and MAD.
tiny=(--width 64 --batch 2 --seq-len 64 --steps 2 --threads 1 --val-sequences 4)
printf 'the quick brown fox jumps over the lazy dog. %.0s' $(seq 1 200) >$tmp/text.txt
for suite in text mad; do
  if [ $suite = text ]; then data=(--data $tmp/text.txt); else data=(--tasks in_context_recall); fi
  "$star" eval 11111-91111 --suite $suite "${data[@]}" "${tiny[@]}" --backend cuda --json >$tmp/out 2>$tmp/err
  rc=$?
  if [ $rc -eq 0 ]; then
    check "eval --suite $suite on the device gives a finite loss" \
      "python3 -c 'import json,sys,math; j=json.load(open(sys.argv[1])); v=j.get(\"val_loss\", j.get(\"mean_val_loss\")); sys.exit(0 if math.isfinite(v) else 1)' $tmp/out"
  else
    check "eval --suite $suite exits 1 without CUDA (got $rc)" "[ $rc -eq 1 ]"
    check "eval --suite $suite says why" \
      "grep -qE -- '--backend cuda: (this build has no CUDA backend|the CUDA backend needs a CUDA device)' $tmp/err || { cat $tmp/err; false; }"
    check "eval --suite $suite trained nothing" "[ ! -s $tmp/out ]"
  fi
done
"$star" eval 11111-91111 --suite text --data $tmp/text.txt "${tiny[@]}" --backend gpu >$tmp/out 2>&1
check "eval --backend gpu is a usage error" "[ $? -eq 2 ] && grep -q \"expected cpu or cuda, got 'gpu'\" $tmp/out"
"$star" eval --ckpt $tmp/none --suite text --data $tmp/text.txt --backend cuda >$tmp/out 2>&1
check "eval --ckpt with --backend cuda is a usage error" "[ $? -eq 2 ] && grep -q 'ckpt scores on the CPU' $tmp/out"

finish
