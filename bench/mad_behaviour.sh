#!/usr/bin/env bash
# MAD behaviour check: trains small 2-block models on MAD tasks at MAD's default task
# sizes (vocab 16; recall seq_len 128, selective copying seq_len 256) and checks that
#   1. attention solves in-context recall (accuracy > 0.9),
#   2. a SwiGLU-only stack (no token mixing) does not (accuracy < 0.5),
#   3. gated long convolution (GConv-2, Hyena-like) beats SwiGLU on selective copying.
# Two more runs are reported without a check: plain attention without the short-conv
# featurization (it needs far more steps on recall at this budget, see
# docs/results_cpu.md) and gated short convolution (GConv-1, kernel 3) on selective
# copying, whose receptive field is far shorter than the 256-token sequences.
#
#   bench/mad_behaviour.sh [STAR]        (STAR: the star binary, default build/star)
#
# Writes bench/results/mad_behaviour.json (the runs, their commands and numbers) and
# exits 1 when a check fails. Env: STAR_THREADS (default 2), STAR_MAD_STEPS (default 400);
# STAR_MAD_PLAIN_STEPS=N adds plain attention on recall for N steps at lr 1e-3 without
# weight decay (the longer budget it needs; 3000 steps take about 5 minutes more).
# About 3 minutes on 2 cores without it.
set -euo pipefail

STAR=${1:-build/star}
THREADS=${STAR_THREADS:-2}
STEPS=${STAR_MAD_STEPS:-400}
PLAIN_STEPS=${STAR_MAD_PLAIN_STEPS:-0}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_JSON="$HERE/results/mad_behaviour.json"
[ -x "$STAR" ] || { echo "mad_behaviour: error: no star binary at '$STAR' (pass its path as \$1)" >&2; exit 2; }
mkdir -p "$HERE/results"

# Shared budget: width 64, 2 blocks, batch 32, lr 3e-3 (warm-up steps/10, cosine decay).
BUDGET=(--vocab 16 --width 64 --batch 32 --steps "$STEPS" --lr 3e-3 --seed 1 --threads "$THREADS")
ATTN_CONV='11111-91111-11111-91111;o1=21211'  # SA-1 with reparameterized featurization (short conv on Q, K, V)
ATTN='11111-91111-11111-91111'                # SA-1, projections only
SWIGLU='91111-91111-91111-91111'
GCONV2='81111-91111-81111-91111'
GCONV1='71111-91111-71111-91111'

# name | genome | task | options after the shared budget (later options win)
RUNS=(
    "attention_conv_recall|$ATTN_CONV|in_context_recall|"
    "attention_recall|$ATTN|in_context_recall|"
    "swiglu_recall|$SWIGLU|in_context_recall|"
    "gconv2_selective_copying|$GCONV2|selective_copying|"
    "gconv1_selective_copying|$GCONV1|selective_copying|"
    "swiglu_selective_copying|$SWIGLU|selective_copying|"
)
if [ "$PLAIN_STEPS" -gt 0 ]; then RUNS+=("attention_recall_long|$ATTN|in_context_recall|--steps $PLAIN_STEPS --lr 1e-3 --weight-decay 0"); fi

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
# The value of a numeric key in star's one-line JSON.
json_num() { printf '%s' "$1" | sed -n "s/.*\"$2\":\([-0-9.eE+a-z]*\).*/\1/p"; }

declare -A ACC
runs_json=""
for r in "${RUNS[@]}"; do
    IFS='|' read -r name genome task extra <<<"$r"
    read -r -a EXTRA <<<"$extra"
    cmd_text="$STAR train '$genome' --mad $task ${BUDGET[*]}${extra:+ $extra} --log-every 50 --json"
    echo "== $name: $cmd_text" >&2
    log=$(mktemp)
    t0=$(date +%s.%N)
    result=$("$STAR" train "$genome" --mad "$task" "${BUDGET[@]}" ${EXTRA[@]+"${EXTRA[@]}"} --log-every 50 --json 2>"$log")
    t1=$(date +%s.%N)
    # Training loss every 50 steps: [[step, loss], ...]
    curve=$(awk '/^step/ { split($2, s, "/"); printf "%s[%d,%s]", (n++ ? "," : ""), s[1], $4 }' "$log")
    rm -f "$log"
    ACC[$name]=$(json_num "$result" accuracy)
    echo "   accuracy ${ACC[$name]}, val_loss $(json_num "$result" val_loss), wall $(json_num "$result" wall_s) s" >&2
    total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    runs_json+="${runs_json:+,}{\"name\":$(json_str "$name"),\"task\":$(json_str "$task"),\"command\":$(json_str "$cmd_text"),"
    runs_json+="\"process_wall_s\":$total,\"result\":$result,\"train_loss_curve\":[$curve]}"
done

# check NAME CLAIM AWK-CONDITION (over the accuracies a, b)
checks_json=""
failed=0
check() {
    local name=$1 claim=$2 a=$3 b=$4 cond=$5 pass
    pass=$(awk -v a="$a" -v b="$b" "BEGIN { print ($cond) ? \"true\" : \"false\" }")
    [ "$pass" = true ] || failed=1
    echo "check $name: $claim: $pass" >&2
    checks_json+="${checks_json:+,}{\"name\":$(json_str "$name"),\"claim\":$(json_str "$claim"),\"pass\":$pass}"
}
check attention_solves_recall "attention (SA-1, short-conv featurization) accuracy on in_context_recall > 0.9" \
    "${ACC[attention_conv_recall]}" 0 "a > 0.9"
check swiglu_fails_recall "SwiGLU-only accuracy on in_context_recall < 0.5" "${ACC[swiglu_recall]}" 0 "a < 0.5"
check gconv_beats_swiglu_selective_copying "GConv-2 accuracy on selective_copying > SwiGLU-only accuracy" \
    "${ACC[gconv2_selective_copying]}" "${ACC[swiglu_selective_copying]}" "a > b"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
commit=$(git -C "$HERE/.." rev-parse HEAD 2>/dev/null || echo unknown)
{
    printf '{"bench":"mad_behaviour","date":"%s","cpu":%s,"cores":%s,"threads":%s,"commit":"%s",' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(json_str "${cpu:-unknown}")" "$(nproc)" "$THREADS" "$commit"
    printf '"budget":{"width":64,"blocks":2,"batch":32,"steps":%s,"lr":3e-3,"vocab":16,"seed":1},' "$STEPS"
    printf '"runs":[%s],"checks":[%s],"all_pass":%s}\n' "$runs_json" "$checks_json" "$([ $failed = 0 ] && echo true || echo false)"
} >"$OUT_JSON"
echo "wrote $OUT_JSON" >&2
exit $failed
