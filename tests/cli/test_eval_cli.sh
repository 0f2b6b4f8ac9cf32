#!/usr/bin/env bash
# star eval: --suite mad (every task named in the JSON with accuracy and val_loss, the
# mean equal to the mean of the tasks, all six tasks by default), --suite text (the
# same validation loss as `star train` with the same budget and seed, bits per byte =
# loss / ln 2), --ckpt (scores a saved checkpoint to the loss train reported, without
# training), --val-sequences on train and eval (the same part of the split), and usage
# and failure errors. $1 is the star binary; run from the source root.
set -u
STAR="$1"
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
pycheck() {  # pycheck "what" file 'python expression on j (the parsed JSON)'
    if ! python3 -c 'import json,sys,math; j=json.load(open(sys.argv[1])); sys.exit(0 if ('"$3"') else 1)' "$2"; then
        echo "FAIL: $1: $3 does not hold for:"; cat "$2"; fails=$((fails + 1))
    fi
}
TINY="--width 32 --batch 4 --seq-len 64 --threads 2"

# MAD: two tasks, JSON.
"$STAR" eval 11111-91111 --suite mad --tasks in_context_recall,selective_copying --steps 8 $TINY \
    --val-sequences 32 --json >"$tmp/mad.json" 2>"$tmp/err"
check "mad json" 0 $?
pycheck "mad json keys" "$tmp/mad.json" \
    'all(0 <= j[t]["accuracy"] <= 1 and 0 < j[t]["val_loss"] < 20 for t in ("in_context_recall", "selective_copying"))'
pycheck "mad mean" "$tmp/mad.json" \
    'abs(j["mean_accuracy"] - (j["in_context_recall"]["accuracy"] + j["selective_copying"]["accuracy"]) / 2) < 1e-12'
pycheck "mad only the named tasks" "$tmp/mad.json" '"compression" not in j and j["suite"] == "mad" and j["params"] > 0'

# MAD: all six by default, as text.
"$STAR" eval 11111-91111 --suite mad --steps 3 $TINY --val-sequences 8 >"$tmp/mad6" 2>&1
check "mad all tasks" 0 $?
for t in in_context_recall fuzzy_in_context_recall noisy_in_context_recall selective_copying compression memorization; do
    contains "mad all tasks" "$tmp/mad6" "$t"
done
contains "mad all tasks" "$tmp/mad6" "mean accuracy"
[ "$(grep -c '^  [a-z_]* *accuracy [0-9.]*  val_loss' "$tmp/mad6")" = 6 ] || { echo "FAIL: mad: expected 6 task lines"; cat "$tmp/mad6"; fails=$((fails + 1)); }

# Text: train with a checkpoint, evaluate the same budget, then the checkpoint.
cat README.md docs/*.md >"$tmp/text.txt"
BUDGET="11111-91111 --data $tmp/text.txt --steps 15 $TINY --seed 3"
"$STAR" train $BUDGET --save "$tmp/ck" --json >"$tmp/train.json" 2>"$tmp/err"; check "train" 0 $?
"$STAR" eval $BUDGET --suite text --val-sequences 0 --json >"$tmp/text.json" 2>"$tmp/err"; check "text json" 0 $?
pycheck "text keys" "$tmp/text.json" 'j["suite"] == "text" and j["val_loss"] > 0 and abs(j["bits_per_byte"] - j["val_loss"] / math.log(2)) < 1e-9'
python3 - "$tmp/train.json" "$tmp/text.json" <<'EOF' || { echo "FAIL: eval --suite text differs from train"; fails=$((fails + 1)); }
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ok = abs(a["val_loss"] - b["val_loss"]) <= 1e-5 * a["val_loss"] and a["params"] == b["params"]
if not ok: print("train val_loss %r params %r, eval %r %r" % (a["val_loss"], a["params"], b["val_loss"], b["params"]))
sys.exit(0 if ok else 1)
EOF
"$STAR" eval --ckpt "$tmp/ck" --suite text --data "$tmp/text.txt" --batch 4 --seq-len 64 --threads 2 \
    --val-sequences 0 --json >"$tmp/ck.json" 2>"$tmp/err"
check "ckpt json" 0 $?
python3 - "$tmp/train.json" "$tmp/ck.json" <<'EOF' || { echo "FAIL: eval --ckpt differs from the trained model"; fails=$((fails + 1)); }
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ok = abs(a["val_loss"] - b["val_loss"]) <= 1e-6 * a["val_loss"] and b["checkpoint_step"] == 15 and "steps" not in b \
    and b["genome"] == "11111-91111" and b["width"] == 32
if not ok: print("train %r, ckpt %r" % (a, b))
sys.exit(0 if ok else 1)
EOF
"$STAR" eval --ckpt "$tmp/ck" --suite text --data "$tmp/text.txt" --batch 4 --seq-len 64 --threads 2 >"$tmp/out" 2>&1
check "ckpt text" 0 $?
contains "ckpt text" "$tmp/out" "bits_per_byte"

# A part of the validation split: train and eval score the same spread batches.
"$STAR" train $BUDGET --val-sequences 8 --json >"$tmp/train8.json" 2>"$tmp/err"; check "train --val-sequences 8" 0 $?
"$STAR" eval $BUDGET --suite text --val-sequences 8 --json >"$tmp/text8.json" 2>"$tmp/err"; check "eval --val-sequences 8" 0 $?
python3 - "$tmp/train8.json" "$tmp/text8.json" "$tmp/train.json" <<'EOF' || { echo "FAIL: --val-sequences 8: train and eval differ"; fails=$((fails + 1)); }
import json, sys
a, b, full = (json.load(open(p)) for p in sys.argv[1:4])
ok = a["val_sequences"] == 8 and full["val_sequences"] == 0
ok &= abs(a["val_loss"] - b["val_loss"]) <= 1e-5 * a["val_loss"] and a["val_loss"] != full["val_loss"]
if not ok: print("train %r, eval %r, whole split %r" % (a["val_loss"], b["val_loss"], full["val_loss"]))
sys.exit(0 if ok else 1)
EOF
"$STAR" train $BUDGET --val-sequences many >"$tmp/out" 2>&1; check "train bad --val-sequences" 2 $?
contains "train bad --val-sequences" "$tmp/out" "--val-sequences: expected an integer in [0, 1073741824], got 'many'"

# Errors.
"$STAR" eval 11111 --suite glue >"$tmp/out" 2>&1; check "bad suite" 2 $?
contains "bad suite" "$tmp/out" "--suite: expected mad or text, got 'glue'"
"$STAR" eval 11111 >"$tmp/out" 2>&1; check "no suite" 2 $?
"$STAR" eval 11111 --suite mad --tasks recall_everything >"$tmp/out" 2>&1; check "unknown task" 2 $?
contains "unknown task" "$tmp/out" "unknown MAD task 'recall_everything'"
"$STAR" eval 11111 --suite text >"$tmp/out" 2>&1; check "text without data" 2 $?
"$STAR" eval --ckpt "$tmp/missing" --suite text --data "$tmp/text.txt" >"$tmp/out" 2>&1; check "missing ckpt" 1 $?
contains "missing ckpt" "$tmp/out" "star: error: $tmp/missing: no such checkpoint directory"
mkdir "$tmp/empty"
"$STAR" eval --ckpt "$tmp/empty" --suite text --data "$tmp/text.txt" >"$tmp/out" 2>&1; check "empty ckpt dir" 1 $?
contains "empty ckpt dir" "$tmp/out" "model.safetensors"
"$STAR" eval --ckpt "$tmp/ck" --suite mad >"$tmp/out" 2>&1; check "ckpt with mad" 2 $?
"$STAR" eval 11111 --ckpt "$tmp/ck" --suite text --data "$tmp/text.txt" >"$tmp/out" 2>&1; check "ckpt and arch" 2 $?
"$STAR" eval 11111-x1111 --suite mad >"$tmp/out" 2>&1; check "bad genome" 1 $?
contains "bad genome" "$tmp/out" "genome string position 7"
"$STAR" eval 11111 --suite text --data "$tmp/none.txt" $TINY >"$tmp/out" 2>&1; check "missing data" 1 $?
contains "missing data" "$tmp/out" "none.txt"
"$STAR" eval --help >"$tmp/out" 2>&1; check "--help" 0 $?
contains "--help" "$tmp/out" "usage: star eval ARCH --suite mad"

if [ "$fails" -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
