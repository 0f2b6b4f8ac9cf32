#!/usr/bin/env bash
# Prove the search (docs/results.md): NSGA-II against random search on byte-level text,
# with Transformer++ and the striped hybrid seeded into generation 0, then the final
# front and the baselines retrained from scratch with a new seed and a longer budget,
# summed up in search_summary.json.
#
#   bench/prove_search.sh [STAR] [--scale full|tiny] [--out DIR] [--budget-s N]
#                         [--plan three|pairs] [--backend cpu|cuda] [--threads N]
#                         [--retrain-seeds N] [--retrain-steps N] [--corpus gcide|fortunes]
#                         [--rungs N,N,...] [--jobs N]
#
# STAR: the star binary (default build/star). --scale full (default) runs the committed
# configs/prove/*.yaml as they are (width 256, 12 to 16 LIVs, population 16, 10
# generations, rungs of 60 and 360 steps of 32 x 256 bytes, backend cuda); --scale tiny
# runs the same configs shrunk by --set (width 32, 2 to 4 LIVs, population 4, 2
# generations, rungs of 4 and 8 steps of 4 x 32 bytes, backend cpu, the tiny baselines,
# the first 100,000 bytes of the corpus): a check of the whole pipeline on a CPU in
# seconds. The retraining runs twice the search's last rung (720 steps; tiny 16).
# --retrain-seeds N (default 3): every retrained genome is trained N times from scratch,
# with seeds 2, 3, ..., N + 1; the summary compares the mean validation losses and
# reports each seed's (docs/results.md). Raising N on a finished --out trains only the
# new seeds.
# --retrain-steps N: retrain for N steps instead of twice the last rung (a control: N =
# the last rung separates what the longer budget changes from what the new seeds do).
# Its results go to retrain-N/, plan-retrain-N.json and search_summary-retrain-N.json
# beside the default ones, which stay as they are.
# --rungs N,N,...: the searches' successive-halving rungs instead of the configs' (60,360;
# tiny 4,8), for instance 60,360,1440: every candidate trains 60 steps, the better half
# 360, the better half of those 1,440 (the search's budget is the last rung, the
# retraining twice it). A directory keeps the rungs it was started with.
# --corpus gcide (default): the text of Debian's dict-gcide dictionary (GNU Collaborative
# International Dictionary of English, /usr/share/dictd/gcide.dict.dz, 40 MB); fortunes:
# every plain file of Debian's fortunes (2.6 MB). Training reads the first 90%, validation
# the last 10%. The retraining's 5.9M bytes are 0.16 passes over gcide's training text
# but 2.5 over fortunes', where the models that learn fastest start to memorize and the
# retraining ranks them below where the search did (docs/results.md).
# --plan three (default): one NSGA-II search on (quality, params, cache_bytes) and its
# random twin; --plan pairs: NSGA-II and random on (quality, params) and on (quality,
# cache_bytes), four searches (docs/results.md says why three is the default).
# --out DIR (default runs/prove, runs/prove-tiny at --scale tiny): everything goes there:
# corpus/, one run directory per search, retrain/ (one JSON per retrained genome and
# seed: HASH.json for seed 2, HASH.seedS.json for the others),
# plan.json, devices.jsonl, search_summary.json; a directory keeps the scale, plan,
# backend and corpus it was started with (others are refused). Keep it a relative path under the repository root when the work
# is spread over several machines: the runs' config.yaml files name the corpus by it.
# At --scale full with the default --out, search_summary.json is also copied to
# results/search_summary.json.
#
# Resumable: a second invocation with the same --out continues every search with
# `star search --resume`, skips every finished retraining and rewrites the summary; a
# kill at any moment loses at most the candidate or retraining in progress.
# --jobs N (default 1): up to N trainings at once: the plan's searches side by side (up
# to N of them) and N retrainings at a time. Each training gives the same result as
# alone (the same bits); only wall times change. Worth it where one small training
# leaves the GPU mostly idle (docs/results.md, "Cost, measured").
# --budget-s N stops before N seconds have passed (a search is stopped with SIGTERM, a
# retraining is not started when the longest so far took longer than what is left), leaving
# everything resumable, and exits 3.
#
# Exit status: 0 the summary is written; 3 stopped at --budget-s (run again to go on);
# 1 a failure (the message says which step); 2 bad usage.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
STAR=build/star
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then STAR=$1; shift; fi
SCALE=full OUT="" BUDGET_S="" PLAN=three BACKEND="" THREADS="" RETRAIN_SEEDS=3 RETRAIN_STEPS_OPT="" CORPUS_NAME=gcide RUNGS="" JOBS=1
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE=${2:-}; shift 2 || usage ;;
        --out) OUT=${2:-}; shift 2 || usage ;;
        --budget-s) BUDGET_S=${2:-}; shift 2 || usage ;;
        --plan) PLAN=${2:-}; shift 2 || usage ;;
        --backend) BACKEND=${2:-}; shift 2 || usage ;;
        --threads) THREADS=${2:-}; shift 2 || usage ;;
        --retrain-seeds) RETRAIN_SEEDS=${2:-}; shift 2 || usage ;;
        --retrain-steps) RETRAIN_STEPS_OPT=${2:-}; shift 2 || usage ;;
        --corpus) CORPUS_NAME=${2:-}; shift 2 || usage ;;
        --rungs) RUNGS=${2:-}; shift 2 || usage ;;
        --jobs) JOBS=${2:-}; shift 2 || usage ;;
        -h|--help) usage ;;
        *) echo "prove_search: error: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
die() { echo "prove_search: error: $*" >&2; exit 1; }
bad() { echo "prove_search: error: $*" >&2; exit 2; }
case "$SCALE" in full|tiny) ;; *) bad "--scale: expected full or tiny, got '$SCALE'" ;; esac
case "$PLAN" in three|pairs) ;; *) bad "--plan: expected three or pairs, got '$PLAN'" ;; esac
case "$CORPUS_NAME" in gcide|fortunes) ;; *) bad "--corpus: expected gcide or fortunes, got '$CORPUS_NAME'" ;; esac
[ -z "$BACKEND" ] && { [ "$SCALE" = full ] && BACKEND=cuda || BACKEND=cpu; }
case "$BACKEND" in cpu|cuda) ;; *) bad "--backend: expected cpu or cuda, got '$BACKEND'" ;; esac
[ -z "$THREADS" ] && { [ "$SCALE" = full ] && THREADS=0 || THREADS=2; }
[[ "$THREADS" =~ ^[0-9]+$ ]] || bad "--threads: expected a whole number, got '$THREADS'"
[ -z "$BUDGET_S" ] || [[ "$BUDGET_S" =~ ^[0-9]+$ ]] || bad "--budget-s: expected whole seconds, got '$BUDGET_S'"
{ [[ "$JOBS" =~ ^[0-9]{1,2}$ ]] && [ "$JOBS" -ge 1 ] && [ "$JOBS" -le 32 ]; } || bad "--jobs: expected a whole number from 1 to 32, got '$JOBS'"
{ [[ "$RETRAIN_SEEDS" =~ ^[0-9]+$ ]] && [ "$RETRAIN_SEEDS" -ge 1 ] && [ "$RETRAIN_SEEDS" -le 16 ]; } ||
    bad "--retrain-seeds: expected a whole number from 1 to 16, got '$RETRAIN_SEEDS'"
[ -z "$RETRAIN_STEPS_OPT" ] || { [[ "$RETRAIN_STEPS_OPT" =~ ^[0-9]+$ ]] && [ "$RETRAIN_STEPS_OPT" -ge 1 ] && [ "$RETRAIN_STEPS_OPT" -le 1000000 ]; } ||
    bad "--retrain-steps: expected a whole number from 1 to 1000000, got '$RETRAIN_STEPS_OPT'"
if [ -n "$RUNGS" ]; then
    [[ "$RUNGS" =~ ^[0-9]{1,7}(,[0-9]{1,7}){0,7}$ ]] || bad "--rungs: expected 1 to 8 step counts separated by commas (60,360,1440), got '$RUNGS'"
    prev=0 norm=""
    for r in ${RUNGS//,/ }; do
        r=$((10#$r))
        { [ "$r" -gt "$prev" ] && [ "$r" -le 1000000 ]; } || bad "--rungs: expected strictly increasing step counts from 1 to 1000000, got '$RUNGS'"
        prev=$r norm+="$r,"
    done
    RUNGS=${norm%,}
fi
[ -n "$OUT" ] || { [ "$SCALE" = full ] && OUT=runs/prove || OUT=runs/prove-tiny; }
case "/$OUT/" in */../*) bad "--out: '$OUT' must not contain '..'" ;; esac
[ -x "$STAR" ] || die "no star binary at '$STAR' (pass its path first)"
command -v python3 >/dev/null || die "python3 is needed (standard library only)"
cd "$ROOT"
t_start=$(date +%s)
deadline=""
[ -n "$BUDGET_S" ] && deadline=$((t_start + BUDGET_S))
left() { echo $((deadline - $(date +%s))); }
stop_at_budget() {
    echo "prove_search: stopped at --budget-s $BUDGET_S ($*); everything is kept: run the same command again to continue" >&2
    exit 3
}
mkdir -p "$OUT/retrain"
# One --out holds one scale, plan, backend, corpus and set of rungs: resuming it with
# others would mix protocols. (A directory from before --corpus existed names no corpus:
# it is fortunes; one without rungs has the configs'.)
protocol="scale $SCALE plan $PLAN backend $BACKEND corpus $CORPUS_NAME"
[ -z "$RUNGS" ] || protocol="$protocol rungs $RUNGS"
if [ -f "$OUT/protocol" ]; then
    had=$(cat "$OUT/protocol")
    case "$had" in *" corpus "*) ;; *) had="$had corpus fortunes" ;; esac
    [ "$had" = "$protocol" ] || bad "--out $OUT holds a run with $had, not $protocol: use another --out"
else
    echo "$protocol" >"$OUT/protocol"
fi

# ---- scale ---------------------------------------------------------------------------
if [ "$SCALE" = full ]; then
    WIDTH=256 T_BASE=configs/prove/baselines/transformer.yaml S_BASE=configs/prove/baselines/striped.yaml
    CORPUS_BYTES=0  # all of it
else
    WIDTH=32 T_BASE=configs/prove/baselines/transformer_tiny.yaml S_BASE=configs/prove/baselines/striped_tiny.yaml
    CORPUS_BYTES=100000
fi
RETRAIN_SEED=2 CONTEXT=4096  # the first retraining seed; the others follow it
# A retraining scores at most this many validation sequences, spread over the split (1 MB
# at 256 bytes: all of fortunes' 1,006, a quarter of gcide's 15,606).
RETRAIN_VAL_SEQUENCES=4096
seeds=()
for ((i = 0; i < RETRAIN_SEEDS; i++)); do seeds+=($((RETRAIN_SEED + i))); done
seeds_json=$(printf '%s,' "${seeds[@]}")
CORPUS="$OUT/corpus/$CORPUS_NAME.txt"

# ---- the corpus ------------------------------------------------------------------------
# gcide: the dictionary's text as the package ships it, decompressed (dictzip is gzip);
# fortunes: every plain fortunes file, in byte order of their names. A corpus made
# earlier (on another machine: a GPU machine has neither package) is kept with the list
# of the files it came from.
if [ "$CORPUS_NAME" = gcide ]; then
    FDIR=${GCIDE_DIR:-/usr/share/dictd} want="$FDIR/gcide.dict.dz" pkg=dict-gcide
else
    FDIR=${FORTUNES_DIR:-/usr/share/games/fortunes} want="plain files of $FDIR" pkg=fortunes
fi
if [ ! -s "$CORPUS" ]; then
    if [ "$CORPUS_NAME" = gcide ]; then
        ffiles=()
        [ -f "$FDIR/gcide.dict.dz" ] && ffiles=("$FDIR/gcide.dict.dz")
    else
        mapfile -t ffiles < <(find "$FDIR" -maxdepth 1 -type f ! -name '*.dat' ! -name '*.u8' 2>/dev/null | LC_ALL=C sort)
    fi
    [ ${#ffiles[@]} -gt 0 ] || die "no $want (apt-get install $pkg; setup.sh does)"
    mkdir -p "$OUT/corpus"
    emit() { if [ "$CORPUS_NAME" = gcide ]; then gzip -dc "${ffiles[@]}"; else cat "${ffiles[@]}"; fi; }
    if [ "$CORPUS_BYTES" -gt 0 ]; then emit | head -c "$CORPUS_BYTES" >"$CORPUS.tmp" || true
    else emit >"$CORPUS.tmp" || die "cannot read ${ffiles[*]}"; fi
    printf '%s\n' "${ffiles[@]}" >"$OUT/corpus/files.txt"
    mv "$CORPUS.tmp" "$CORPUS"
fi
[ -s "$OUT/corpus/files.txt" ] || die "$OUT/corpus/files.txt is missing: remove $CORPUS to make the corpus again"
mapfile -t ffiles <"$OUT/corpus/files.txt"
corpus_bytes=$(stat -c %s "$CORPUS")
corpus_sha=$(sha256sum "$CORPUS" | cut -d' ' -f1)

# ---- the device, recorded once by every invocation that trains something ----------------
if [ "$BACKEND" = cuda ]; then
    dev=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
    DEVICE="${dev:-a CUDA device (nvidia-smi gave no name)} (cuda)"
else
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)
    DEVICE="${cpu:-unknown CPU}, $(nproc) cores (cpu)"
fi
DEVICE=$(printf '%s' "$DEVICE" | tr -d '"\\')
now_utc() { date -u +%Y-%m-%dT%H:%M:%SZ; }
device_noted=0
note_device() {
    [ "$device_noted" = 1 ] && return 0
    printf '{"date":"%s","device":"%s","scale":"%s","plan":"%s"}\n' "$(now_utc)" "$DEVICE" "$SCALE" "$PLAN" >>"$OUT/devices.jsonl"
    device_noted=1
}

# ---- the searches -------------------------------------------------------------------------
if [ "$PLAN" = three ]; then PAIRS=(3obj); else PAIRS=(params cache); fi
tiny_sets=()
if [ "$SCALE" = tiny ]; then
    tiny_sets=(--set space.width=32 --set 'space.depth={min: 2, max: 4}' --set algorithm.population=4
               --set algorithm.generations=1 --set "algorithm.seed_with=[$T_BASE, $S_BASE]"
               --set 'evaluation.budget={steps: 8, batch: 4, seq_len: 32, lr: 3.0e-3, warmup: 1}'
               --set 'evaluation.fidelity={rungs: [4, 8], keep: 0.5}' --set evaluation.time_limit_s=60)
fi
rung_sets=()
if [ -n "$RUNGS" ]; then
    rung_sets=(--set "evaluation.fidelity={rungs: [${RUNGS//,/, }], keep: 0.5}" --set "evaluation.budget.steps=${RUNGS##*,}")
fi
archive_lines() { if [ -f "$1/archive.jsonl" ]; then wc -l <"$1/archive.jsonl"; else echo 0; fi; }
is_complete() { [ -f "$1/checkpoint.json" ] && grep -q '"complete":true' "$1/checkpoint.json"; }
run_search() {  # run_search NAME
    local name=$1 dir="$OUT/$1" rc
    local -a cmd
    if is_complete "$dir"; then echo "== $name: complete" >&2; return 0; fi
    if [ -f "$dir/config.yaml" ]; then
        cmd=("$STAR" search --resume "$dir" --quiet)
        echo "== $name: resuming ($(archive_lines "$dir") archive lines)" >&2
    else
        cmd=("$STAR" search "configs/prove/$name.yaml" --set "run.dir=$dir" --set "evaluation.data.text=$CORPUS"
             --set "evaluation.backend=$BACKEND" --set "evaluation.threads=$THREADS" "${tiny_sets[@]}" "${rung_sets[@]}" --quiet)
        echo "== $name: starting (configs/prove/$name.yaml)" >&2
    fi
    rc=0
    if [ -n "$deadline" ]; then
        local l
        l=$(left)
        [ "$l" -gt 0 ] || stop_at_budget "before $name"
        timeout -s TERM -k 10 "$l" "${cmd[@]}" >"$OUT/$name.front.txt" || rc=$?
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then stop_at_budget "during $name"; fi
    else
        "${cmd[@]}" >"$OUT/$name.front.txt" || rc=$?
    fi
    [ "$rc" -eq 0 ] || die "star search for $name failed (exit $rc; $dir/log.txt)"
    is_complete "$dir" || die "$name: star search ended but $dir/checkpoint.json is not complete"
}

# ---- up to --jobs N at once ----------------------------------------------------------------
# pool_start NAME FUNCTION ARGS... runs the function in the background once fewer than N
# jobs run; its exit status lands in $jobdir/NAME.rc. A job that stops at the budget (3)
# or fails (1) ends the invocation with its status once the jobs in flight have ended:
# each of them writes its result atomically or not at all.
jobdir=$(mktemp -d)
trap 'rm -rf "$jobdir"' EXIT
pool_check() {
    local f rc=0
    for f in "$jobdir"/*.rc; do
        [ -e "$f" ] || continue
        case $(cat "$f") in 0) ;; 3) [ "$rc" = 1 ] || rc=3 ;; *) rc=1 ;; esac
    done
    if [ "$rc" != 0 ]; then wait || true; exit "$rc"; fi
}
# The running jobs are counted by jobs -r each time: wait -n can return at once for a job
# an earlier wait reaped, so counting its returns would run more than N.
pool_start() {
    local name=$1; shift
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
        wait -n || sleep 0.1
        pool_check
    done
    # The job runs under set -e of its own (a || would switch it off) and reads no stdin.
    ( set +e; ( set -e; "$@" ); echo $? >"$jobdir/$name.rc" ) </dev/null &
}
pool_wait() { wait || true; pool_check; }

searches=()
for p in "${PAIRS[@]}"; do searches+=("nsga2_$p" "random_$p"); done
lines_before=0
for s in "${searches[@]}"; do lines_before=$((lines_before + $(archive_lines "$OUT/$s"))); done
for s in "${searches[@]}"; do
    is_complete "$OUT/$s" || note_device
    pool_start "search.$s" run_search "$s"
done
pool_wait
evals_added=$((-lines_before))
for s in "${searches[@]}"; do evals_added=$((evals_added + $(archive_lines "$OUT/$s"))); done

# ---- plan.json: what the reading half (bench/prove_search.py) needs ---------------------
hash_of() { "$STAR" genome decode "$1" --width "$WIDTH" | awk '$1 == "hash" { print $2 }'; }
t_hash=$(hash_of "$T_BASE") s_hash=$(hash_of "$S_BASE")
[ -n "$t_hash" ] && [ -n "$s_hash" ] || die "star genome decode gave no hash for the baselines"
budget_of() { sed -n "s/^  budget: .*$1: \([^,}]*\).*/\1/p" "$OUT/nsga2_${PAIRS[0]}/config.yaml" | head -1; }
BATCH=$(budget_of batch) SEQ=$(budget_of seq_len) LR=$(budget_of lr) SEARCH_STEPS=$(budget_of steps)
[ -n "$BATCH" ] && [ -n "$SEQ" ] && [ -n "$LR" ] && [ -n "$SEARCH_STEPS" ] ||
    die "cannot read evaluation.budget from $OUT/nsga2_${PAIRS[0]}/config.yaml"
RETRAIN_STEPS=$((2 * SEARCH_STEPS))  # twice the search's last rung
# The protocol's retraining in retrain/; another length (--retrain-steps) beside it.
RDIR="$OUT/retrain" PLANF="$OUT/plan.json" SUMF="$OUT/search_summary.json"
if [ -n "$RETRAIN_STEPS_OPT" ] && [ "$RETRAIN_STEPS_OPT" != "$RETRAIN_STEPS" ]; then
    RETRAIN_STEPS=$RETRAIN_STEPS_OPT
    RDIR="$OUT/retrain-$RETRAIN_STEPS" PLANF="$OUT/plan-retrain-$RETRAIN_STEPS.json"
    SUMF="$OUT/search_summary-retrain-$RETRAIN_STEPS.json"
    mkdir -p "$RDIR"
fi
files_json=$(for f in "${ffiles[@]}"; do printf '"%s",' "$(basename "$f")"; done)
pairs_json=""
for p in "${PAIRS[@]}"; do
    case $p in
        3obj) o='["quality","params","cache_bytes"]' ;;
        params) o='["quality","params"]' ;;
        cache) o='["quality","cache_bytes"]' ;;
    esac
    pairs_json+=$(printf '{"name":"%s","objectives":%s,"nsga2":"%s","random":"%s"},' "$p" "$o" "$OUT/nsga2_$p" "$OUT/random_$p")
done
write_plan() {  # write_plan RETRAININGS_RUN
    local devices date commit
    devices=$(sed -n 's/.*"device":"\([^"]*\)".*/\1/p' "$OUT/devices.jsonl" 2>/dev/null | sort -u | paste -sd ';' - | sed 's/;/; /g')
    # The date of the measurements: the newest result file, not this invocation.
    date=$(find "$OUT" -name archive.jsonl -o -path "$RDIR/*.json" | xargs -r stat -c %Y | sort -n | tail -1)
    date=$(date -u -d "@${date:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
    commit=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
    {
        printf '{"out":"%s","scale":"%s","plan":"%s","device":"%s","date":"%s","commit":"%s",' \
            "$OUT" "$SCALE" "$PLAN" "$devices" "$date" "$commit"
        printf '"corpus":{"name":"%s","package":"%s","path":"%s","dir":"%s","files":[%s],"bytes":%s,"sha256":"%s","validation":"last 10%%"},' \
            "$CORPUS_NAME" "$pkg" "$CORPUS" "$FDIR" "${files_json%,}" "$corpus_bytes" "$corpus_sha"
        printf '"baselines":{"transformer":{"file":"%s","hash":"%s"},"striped":{"file":"%s","hash":"%s"}},' \
            "$T_BASE" "$t_hash" "$S_BASE" "$s_hash"
        printf '"pairs":[%s],' "${pairs_json%,}"
        printf '"retrain":{"dir":"%s","seed":%s,"seeds":[%s],"steps":%s,"batch":%s,"seq_len":%s,"lr":%s,"width":%s,"backend":"%s","cache_context":%s,"val_sequences":%s},' \
            "$(basename "$RDIR")" "$RETRAIN_SEED" "${seeds_json%,}" "$RETRAIN_STEPS" "$BATCH" "$SEQ" "$LR" "$WIDTH" "$BACKEND" "$CONTEXT" "$RETRAIN_VAL_SEQUENCES"
        printf '"invocation":{"search_evaluations_added":%s,"retrainings_run":%s,"wall_s":%s}}\n' \
            "$evals_added" "$1" "$(( $(date +%s) - t_start ))"
    } >"$PLANF"
}
write_plan 0

# ---- retraining: the NSGA-II fronts and the baselines, new seed, longer budget -----------
python3 "$HERE/prove_search.py" front "$PLANF" >"$RDIR/list.tsv.tmp" || die "cannot read the fronts"
mv "$RDIR/list.tsv.tmp" "$RDIR/list.tsv"
retrain_one() {  # retrain_one HASH KIND SOURCE SEED ARCH RESULT LOG
    local h=$1 kind=$2 src=$3 seed=$4 arch=$5 res=$6 log=$7 stats train rc t0 l took
    local -a cmd
    stats=$("$STAR" genome stats "$arch" --width "$WIDTH" --vocab 256 --context "$CONTEXT" --json) || die "star genome stats $arch failed"
    cmd=("$STAR" train "$arch" --width "$WIDTH" --vocab 256 --data "$CORPUS" --steps "$RETRAIN_STEPS" --batch "$BATCH"
         --seq-len "$SEQ" --lr "$LR" --seed "$seed" --threads "$THREADS" --backend "$BACKEND"
         --val-sequences "$RETRAIN_VAL_SEQUENCES" --json)
    t0=$(date +%s)
    rc=0
    if [ -n "$deadline" ]; then
        l=$(left)
        [ "$l" -gt 0 ] || stop_at_budget "before retraining $h ($kind, seed $seed)"
        train=$(timeout -s TERM -k 10 "$l" "${cmd[@]}" 2>"$log") || rc=$?
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then stop_at_budget "during the retraining of $h (seed $seed)"; fi
    else
        train=$("${cmd[@]}" 2>"$log") || rc=$?
    fi
    # A training that fails (diverged, out of memory or time) is a result: star train
    # prints its JSON with "ok":false and exits 1. Anything else is an error.
    if [ "$rc" -ne 0 ] && ! printf '%s' "$train" | grep -q '^{.*"ok":false'; then
        die "star train $arch --seed $seed failed (exit $rc; $log)"
    fi
    printf '{"hash":"%s","kind":"%s","source":"%s","seed":%s,"device":"%s","date":"%s","train":%s,"stats":%s}\n' \
        "$h" "$kind" "$src" "$seed" "$DEVICE" "$(now_utc)" "$train" "$stats" >"$res.tmp"
    mv "$res.tmp" "$res"
    took=$(( $(date +%s) - t0 ))
    echo "$took" >"$jobdir/retrain.$h.$seed.s"
    echo "== retrained $h ($kind, seed $seed) in ${took}s" >&2
}
longest_s() { { cat "$jobdir"/retrain.*.s 2>/dev/null || true; } | sort -n | tail -1; }
# Seed by seed, so that a budget stop leaves whole seeds done rather than some genomes of each.
for seed in "${seeds[@]}"; do
while IFS=$'\t' read -r h kind src; do
    res="$RDIR/$h.json" log="$RDIR/$h.log"
    [ "$seed" = "$RETRAIN_SEED" ] || res="$RDIR/$h.seed$seed.json" log="$RDIR/$h.seed$seed.log"
    [ -f "$res" ] && continue
    arch=$src
    if [ "$kind" = evolved ]; then
        arch="$OUT/retrain/$h/arch.yaml"  # written atomically: once for every seed
        if [ ! -f "$arch" ]; then
            mkdir -p "$OUT/retrain/$h"
            "$STAR" export "$src" --pick "$h" --out "$OUT/retrain/$h" >/dev/null 2>&1 || die "star export $src --pick $h failed"
        fi
    fi
    note_device
    if [ -n "$deadline" ]; then
        last_s=$(longest_s)
        last_s=${last_s:-0}
        l=$(left)
        { [ "$l" -gt 0 ] && [ "$l" -gt $((last_s + last_s / 2)) ]; } || { pool_wait; stop_at_budget "before retraining $h ($kind, seed $seed)"; }
    fi
    pool_start "retrain.$h.$seed" retrain_one "$h" "$kind" "$src" "$seed" "$arch" "$res" "$log"
done <"$RDIR/list.tsv"
done
pool_wait
retrained=$(ls "$jobdir" | grep -c '^retrain\..*\.s$' || true)

# ---- the summary --------------------------------------------------------------------------
write_plan "$retrained"
python3 "$HERE/prove_search.py" summary "$PLANF" "$SUMF" || die "cannot write the summary"
if [ "$SCALE" = full ] && [ "$OUT" = runs/prove ] && [ "$SUMF" = "$OUT/search_summary.json" ]; then
    mkdir -p results && cp "$OUT/search_summary.json" results/search_summary.json
fi
echo "== $SUMF ($evals_added new search evaluations, $retrained retrainings in this invocation)" >&2
python3 - "$SUMF" <<'PY' >&2
import json, sys
s = json.load(open(sys.argv[1]))
for k in ("cache_reduction_at_equal_loss", "param_reduction_at_equal_loss", "hv_nsga2", "hv_random", "ranking_confirmed"):
    print("   %-32s %s" % (k, s[k]))
PY
