#!/usr/bin/env bash
# Crash safety: `star search` SIGKILLed at twenty random moments in a row (seeded), resumed
# each time. After every kill each complete archive line is a whole record and a resume
# works; in the end no evaluation is lost or repeated and the archive and last generation
# equal an uninterrupted run's (apart from wall times). Then a full disk: a file-size
# limit (ulimit -f, SIGXFSZ ignored, so writes fail with EFBIG) stops the search with a
# clear error and a non-zero exit, and the run resumes to the same end once space is back.
#   STAR_CRASH_KILLS=N (default 20), STAR_CRASH_SEED=S (default 1)
# tests/cli/test_search_crash_trained.sh does the same with trained candidates.
set -u
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/crash_lib.sh"

# 1. Closed-form objectives (no training): 1,200 evaluations, each appended and fsync'd.
closed=(configs/quickstart.yaml --set 'objectives=[{name: params, max: 50000}, {name: cache_bytes, context: 1024}]'
        --set algorithm.population=40 --set algorithm.generations=30 --set algorithm.seed_with=[])
crash_rounds closed "${closed[@]}"

# 2. Full disk: the archive may not grow past 64 KiB (ulimit -f counts 1 KiB blocks).
full=$tmp/full
(trap '' XFSZ; ulimit -f 64; exec "$star" search "${closed[@]}" --set run.dir=$full --quiet) >/dev/null 2>$tmp/full.err
rc=$?
check "full disk: non-zero exit" "[ $rc -ne 0 ] && [ $rc -lt 128 ]"
check "full disk: the error names the file and the cause" "grep -q 'archive.jsonl.*File too large' $tmp/full.err"
check "full disk: the run stopped short" "[ \$(wc -c < $full/archive.jsonl) -le 65536 ] && ! grep -q '\"complete\":true' $full/checkpoint.json 2>/dev/null"
(trap '' XFSZ; ulimit -f 64; exec "$star" search --resume $full --quiet) >/dev/null 2>$tmp/full2.err
rc=$?
check "full disk: a resume while still full fails cleanly too" "[ $rc -ne 0 ] && [ $rc -lt 128 ] && grep -q 'File too large' $tmp/full2.err"
"$star" search --resume $full --quiet >/dev/null 2>$tmp/full3.err
check "full disk: the resume succeeds once space is back" "[ $? -eq 0 ]"
compare_runs "full disk" $tmp/closed-whole $full
echo "full disk: stopped with: $(head -1 $tmp/full.err)"

finish
