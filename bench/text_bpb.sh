#!/usr/bin/env bash
# Byte-level language modelling check: a 2-block attention + SwiGLU model trained for
# about 2 minutes on 2 CPU cores on Debian's fortunes corpus must reach below 3.0 bits
# per byte on held-out text (the last 10% of the corpus, star's split rule).
#
#   bench/text_bpb.sh [STAR]        (STAR: the star binary, default build/star)
#
# The corpus is every plain fortunes file in /usr/share/games/fortunes (not the .dat
# indexes, not the .u8 links), concatenated in byte order of their names into a
# temporary file. Writes bench/results/text_bpb.json and exits 1 when the model does not
# get below 3.0 bits per byte. The number of steps is calibrated on the machine at hand:
# `star bench` times 10 steps of the same model and shape, and the run gets as many steps
# as fit in STAR_TEXT_SECONDS (default 120) of training. Env: STAR_THREADS (default 2),
# STAR_TEXT_STEPS (a fixed step count instead of the calibration), FORTUNES_DIR (default
# /usr/share/games/fortunes; Debian package 'fortunes').
set -euo pipefail

STAR=${1:-build/star}
THREADS=${STAR_THREADS:-2}
SECONDS_BUDGET=${STAR_TEXT_SECONDS:-120}
DIR=${FORTUNES_DIR:-/usr/share/games/fortunes}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT_JSON="$HERE/results/text_bpb.json"
TARGET=3.0
[ -x "$STAR" ] || { echo "text_bpb: error: no star binary at '$STAR' (pass its path as \$1)" >&2; exit 2; }
[ -d "$DIR" ] || { echo "text_bpb: error: no fortunes in '$DIR' (apt-get install fortunes)" >&2; exit 2; }
mkdir -p "$HERE/results"

corpus=$(mktemp --suffix=.fortunes.txt)
trap 'rm -f "$corpus" "$corpus.bench"' EXIT
mapfile -t files < <(find "$DIR" -maxdepth 1 -type f ! -name '*.dat' ! -name '*.u8' | LC_ALL=C sort)
[ ${#files[@]} -gt 0 ] || { echo "text_bpb: error: no plain fortunes files in '$DIR'" >&2; exit 2; }
cat "${files[@]}" >"$corpus"
bytes=$(stat -c %s "$corpus")
sha=$(sha256sum "$corpus" | cut -d' ' -f1)

GENOME='11111-91111-11111-91111'
SHAPE=(--width 128 --seq-len 128 --batch 16)
ms_per_step=""
if [ -n "${STAR_TEXT_STEPS:-}" ]; then
    STEPS=$STAR_TEXT_STEPS
else
    bench=$("$STAR" bench "$GENOME" "${SHAPE[@]}" --steps 10 --threads "$THREADS" --results "$corpus.bench" --json)
    rm -f "$corpus.bench"
    ms_per_step=$(printf '%s' "$bench" | sed -n 's/.*"ms_per_step":\([-0-9.eE+]*\).*/\1/p')
    STEPS=$(awk -v s="$SECONDS_BUDGET" -v ms="$ms_per_step" 'BEGIN { printf "%d", s * 1000 / ms }')
    echo "== calibration: $ms_per_step ms/step, $STEPS steps fit in $SECONDS_BUDGET s" >&2
fi
ARGS=(--width 128 --seq-len 128 --batch 16 --steps "$STEPS" --lr 3e-3 --seed 1 --threads "$THREADS")
cmd_text="$STAR train '$GENOME' --data FORTUNES_CORPUS ${ARGS[*]} --log-every 50 --json"
echo "== corpus: ${#files[@]} files, $bytes bytes; $cmd_text" >&2
log=$(mktemp)
t0=$(date +%s.%N)
result=$("$STAR" train "$GENOME" --data "$corpus" "${ARGS[@]}" --log-every 50 --json 2>"$log")
t1=$(date +%s.%N)
curve=$(awk '/^step/ { split($2, s, "/"); printf "%s[%d,%s]", (n++ ? "," : ""), s[1], $4 }' "$log")
rm -f "$log"

bpb=$(printf '%s' "$result" | sed -n 's/.*"bits_per_byte":\([-0-9.eE+a-z]*\).*/\1/p')
train_s=$(printf '%s' "$result" | sed -n 's/.*"wall_s":\([-0-9.eE+a-z]*\).*/\1/p')
total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
pass=$(awk -v x="$bpb" -v t="$TARGET" 'BEGIN { print (x < t) ? "true" : "false" }')
echo "   bits/byte $bpb (target < $TARGET: $pass), training $train_s s, process $total s" >&2

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1 | sed 's/\\/\\\\/g; s/"/\\"/g')
commit=$(git -C "$HERE/.." rev-parse HEAD 2>/dev/null || echo unknown)
names=$(for f in "${files[@]}"; do printf '"%s",' "$(basename "$f")"; done)
{
    printf '{"bench":"text_bpb","date":"%s","cpu":"%s","cores":%s,"threads":%s,"commit":"%s",' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${cpu:-unknown}" "$(nproc)" "$THREADS" "$commit"
    printf '"corpus":{"dir":"%s","files":[%s],"bytes":%s,"sha256":"%s","validation":"last 10%%"},' \
        "$DIR" "${names%,}" "$bytes" "$sha"
    printf '"command":"%s","process_wall_s":%s,"result":%s,"train_loss_curve":[%s],' \
        "$(printf '%s' "$cmd_text" | sed 's/\\/\\\\/g; s/"/\\"/g')" "$total" "$result" "$curve"
    printf '"calibration_ms_per_step":%s,"seconds_budget":%s,' "${ms_per_step:-null}" "$SECONDS_BUDGET"
    printf '"target_bits_per_byte":%s,"pass":%s}\n' "$TARGET" "$pass"
} >"$OUT_JSON"
echo "wrote $OUT_JSON" >&2
[ "$pass" = true ]
