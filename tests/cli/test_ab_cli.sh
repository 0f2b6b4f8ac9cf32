#!/usr/bin/env bash
# bench/ab.sh without building (--base-star / --star, the CPU backend, tiny shapes): each
# bench runs the rounds on both sides and prints the ratio, one JSON line per bench with
# both sides' tokens/s; bad usage exits 2 naming the option, a failing star bench exits 1;
# --tests runs test programs first (a skip passes, a failure stops before any timing);
# each round compares the last step's loss, and --same-loss fails on a difference.
# $1 is the star binary; run from the source root.
source "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
ab="bash bench/ab.sh"
tiny="--width 32 --vocab 64 --batch 2 --seq-len 16 --steps 2 --warmup-steps 1 --threads 1"
out=$($ab label --base-star "$star" --star "$star" --backend cpu --rounds 2 --out "$tmp/ab.jsonl" \
    --bench "11111-91111 $tiny" --bench "71111-91111 $tiny" 2>"$tmp/err"); rc=$?
check "two benches of two rounds exit 0" "[ $rc = 0 ]"
check "a line per bench and round with the ratio" "[ \$(grep -c 'round [12]: base [0-9]*, this [0-9]* tokens/s, this / base [0-9.]*' <<<\"\$out\") = 4 ]"
check "one JSON line per bench with both sides and the ratio" "python3 - '$tmp/ab.jsonl' <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = len(rows) == 2 and [r['arch'] for r in rows] == ['11111-91111', '71111-91111']
for r in rows:
    ok &= r['base'] == 'label' and r['backend'] == 'cpu' and r['options'].startswith('--width 32')
    ok &= len(r['base_tokens_per_s']) == 2 and len(r['this_tokens_per_s']) == 2 and r['ratio'] > 0
    ok &= min(r['base_tokens_per_s'] + r['this_tokens_per_s']) > 0 and r['date'].endswith('Z')
sys.exit(0 if ok else 1)
PY"
check "each round: the same binary gives the same loss bits" "[ \$(grep -c 'loss the same bits' <<<\"\$out\") = 4 ]"
check "the JSON lines hold both sides' losses" "python3 -c \"
import json, sys
rows = [json.loads(l) for l in open('$tmp/ab.jsonl')]
sys.exit(0 if all(r['same_loss'] and len(r['base_loss']) == 2 and r['base_loss'] == r['this_loss'] and r['this_loss'][0] > 0 for r in rows) else 1)\""
# Another seed on one side: other weights, another loss.
mkdir -p "$tmp/seed2" && printf '#!/bin/sh\nexec "%s" "$@" --seed 2\n' "$(cd "$(dirname "$star")" && pwd)/$(basename "$star")" >"$tmp/seed2/star" && chmod +x "$tmp/seed2/star"
out=$($ab label --base-star "$star" --star "$tmp/seed2/star" --backend cpu --rounds 1 --out "$tmp/s.jsonl" \
    --bench "11111-91111 $tiny" 2>"$tmp/err"); rc=$?
check "a loss that differs is printed, and without --same-loss passes" "[ $rc = 0 ] && grep -q 'loss differs: base ' <<<\"\$out\""
$ab label --base-star "$star" --star "$tmp/seed2/star" --backend cpu --rounds 1 --out "$tmp/s2.jsonl" --same-loss \
    --bench "11111-91111 $tiny" >/dev/null 2>"$tmp/err"; rc=$?
check "--same-loss: a difference exits 1 naming the arch, its line written" \
    "[ $rc = 1 ] && grep -q 'same-loss: the last step.s loss differs between base and this for: 11111-91111' '$tmp/err' && [ -s '$tmp/s2.jsonl' ]"
$ab label --base-star "$star" --star "$star" --backend cpu --rounds 1 --out "$tmp/s3.jsonl" --same-loss \
    --bench "11111-91111 $tiny" >/dev/null 2>"$tmp/err"; rc=$?
check "--same-loss: equal losses pass" "[ $rc = 0 ]"
$ab label --base-star "$star" --star "$star" --backend cpu --rounds 1 --out "$tmp/x.jsonl" \
    --bench "11111-91111-zz $tiny" >/dev/null 2>"$tmp/err"; rc=$?
check "a star bench that fails exits 1 naming the arch" "[ $rc = 1 ] && grep -q 'star bench failed (base, 11111-91111-zz)' '$tmp/err'"
check "and writes no line" "[ ! -e '$tmp/x.jsonl' ]"
# --tests: the named programs beside --star run first; a failing one stops everything.
out=$($ab label --base-star "$star" --star "$star" --backend cpu --rounds 1 --out "$tmp/t.jsonl" \
    --tests "test_pcg32" --bench "11111-91111 $tiny" 2>"$tmp/err"); rc=$?
check "--tests: the test runs, then the timing" "[ $rc = 0 ] && grep -q '^ab: test_pcg32: ' '$tmp/err' && [ -s '$tmp/t.jsonl' ]"
mkdir -p "$tmp/bin" && ln -s "$(cd "$(dirname "$star")" && pwd)/$(basename "$star")" "$tmp/bin/star"
printf '#!/bin/sh\necho "FAIL: something"; exit 1\n' >"$tmp/bin/test_bad" && chmod +x "$tmp/bin/test_bad"
printf '#!/bin/sh\necho "SKIP: no GPU"; exit 77\n' >"$tmp/bin/test_skip" && chmod +x "$tmp/bin/test_skip"
$ab label --base-star "$tmp/bin/star" --star "$tmp/bin/star" --backend cpu --rounds 1 --out "$tmp/f.jsonl" \
    --tests "test_skip test_bad" --bench "11111-91111 $tiny" >/dev/null 2>"$tmp/err"; rc=$?
check "--tests: a skip passes over, a failure exits 1 before any timing" \
    "[ $rc = 1 ] && grep -q 'test_skip skipped: SKIP: no GPU' '$tmp/err' && grep -q 'FAIL: something' '$tmp/err' && grep -q 'test test_bad failed (exit 1): nothing timed' '$tmp/err' && [ ! -e '$tmp/f.jsonl' ]"
$ab label --base-star "$star" --star "$star" --backend cpu --tests "test_nothing" >/dev/null 2>"$tmp/err"; rc=$?
check "--tests: a program that is not there exits 1 naming it" "[ $rc = 1 ] && grep -q \"no test program 'test_nothing'\" '$tmp/err'"
$ab >/dev/null 2>&1; rc=$?
check "no arguments exit 2" "[ $rc = 2 ]"
$ab label --rounds 0 2>"$tmp/err"; rc=$?
check "--rounds 0 exits 2 naming it" "[ $rc = 2 ] && grep -q -- '--rounds: expected' '$tmp/err'"
$ab label --backend tpu 2>"$tmp/err"; rc=$?
check "an unknown backend exits 2 naming it" "[ $rc = 2 ] && grep -q -- \"--backend: expected cuda or cpu, got 'tpu'\" '$tmp/err'"
$ab label --base-star "$star" 2>"$tmp/err"; rc=$?
check "--base-star without --star exits 2" "[ $rc = 2 ] && grep -q 'two executable star binaries' '$tmp/err'"
$ab "$tmp/nothing" --backend cpu 2>"$tmp/err"; rc=$?
check "a BASE that is no source tree exits 2 naming it" "[ $rc = 2 ] && grep -q 'is neither a source tree nor a .tgz' '$tmp/err'"
$ab label --frobnicate 2>"$tmp/err"; rc=$?
check "an unknown option exits 2 naming it" "[ $rc = 2 ] && grep -q \"unknown option '--frobnicate'\" '$tmp/err'"
finish
