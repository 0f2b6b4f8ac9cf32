#!/usr/bin/env bash
# star generate: from a checkpoint trained here, --tokens N prints exactly N tokens
# (escapes undone), a seed gives the same text and another seed other text, temperature 0
# does not depend on the seed, the cache size on stderr equals `star genome stats` at
# the same context, and a missing or corrupt checkpoint and bad options fail with a
# message. $1 is the star binary; run from the source root.
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
# Number of bytes in generate's output: \xNN, \t and \\ are one byte each, the
# final newline is not part of the sample.
count_tokens() {
    python3 -c '
import re, sys
s = open(sys.argv[1], encoding="latin-1").read()
assert s.endswith("\n"), "no final newline"
print(len(re.findall(r"\\x[0-9a-f]{2}|\\t|\\\\|[\x20-\x7e\n]", s[:-1], re.S)))' "$1"
}

cat README.md docs/*.md >"$tmp/text.txt"
# Attention, a recurrence and a short convolution: every kind of cache.
G="11111-61111-71111-91111"
"$STAR" train "$G" --data "$tmp/text.txt" --width 32 --steps 10 --batch 4 --seq-len 32 --threads 2 --save "$tmp/ck" \
    --json >"$tmp/out" 2>&1
check "train" 0 $?

"$STAR" generate "$tmp/ck" --prompt "The " --tokens 40 --seed 7 --threads 2 >"$tmp/a" 2>"$tmp/a.err"; check "generate" 0 $?
[ "$(count_tokens "$tmp/a")" = 40 ] || { echo "FAIL: --tokens 40 printed $(count_tokens "$tmp/a") tokens:"; cat "$tmp/a"; fails=$((fails + 1)); }
"$STAR" generate "$tmp/ck" --prompt "The " --tokens 40 --seed 7 --threads 2 >"$tmp/b" 2>/dev/null; check "same seed" 0 $?
cmp -s "$tmp/a" "$tmp/b" || { echo "FAIL: the same seed gave different text"; fails=$((fails + 1)); }
"$STAR" generate "$tmp/ck" --prompt "The " --tokens 40 --seed 8 --threads 2 >"$tmp/c" 2>/dev/null; check "other seed" 0 $?
cmp -s "$tmp/a" "$tmp/c" && { echo "FAIL: seeds 7 and 8 gave the same 40 tokens"; fails=$((fails + 1)); }
"$STAR" generate "$tmp/ck" --prompt "The " --tokens 40 --temperature 0 --seed 1 >"$tmp/g1" 2>/dev/null
"$STAR" generate "$tmp/ck" --prompt "The " --tokens 40 --temperature 0 --seed 2 >"$tmp/g2" 2>/dev/null
cmp -s "$tmp/g1" "$tmp/g2" || { echo "FAIL: temperature 0 depends on the seed"; fails=$((fails + 1)); }
[ "$(count_tokens "$tmp/g1")" = 40 ] || { echo "FAIL: temperature 0 token count"; fails=$((fails + 1)); }

# The cache held while decoding 4 + 40 positions is genome_stats' cache at that context.
want=$("$STAR" genome stats "$G" --width 32 --vocab 256 --context 44 --dtype fp32 --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["cache_bytes"])')
contains "cache bytes" "$tmp/a.err" "decode cache: $want bytes (fp32, as held) at context 44"
[ "$want" -gt 0 ] 2>/dev/null || { echo "FAIL: genome stats cache_bytes '$want'"; fails=$((fails + 1)); }

# Errors.
"$STAR" generate "$tmp/missing" >"$tmp/out" 2>&1; check "missing checkpoint" 1 $?
contains "missing checkpoint" "$tmp/out" "star: error: $tmp/missing: no such checkpoint directory"
mkdir "$tmp/corrupt"
printf 'not a safetensors file' >"$tmp/corrupt/model.safetensors"
"$STAR" generate "$tmp/corrupt" >"$tmp/out" 2>&1; check "corrupt checkpoint" 1 $?
contains "corrupt checkpoint" "$tmp/out" "corrupt/model.safetensors"
"$STAR" generate >"$tmp/out" 2>&1; check "no checkpoint" 2 $?
"$STAR" generate "$tmp/ck" --temperature hot >"$tmp/out" 2>&1; check "bad temperature" 2 $?
contains "bad temperature" "$tmp/out" "--temperature: expected a number"
"$STAR" generate "$tmp/ck" --prompt "" >"$tmp/out" 2>&1; check "empty prompt" 2 $?
"$STAR" generate "$tmp/ck" --frobnicate >"$tmp/out" 2>&1; check "unknown option" 2 $?
"$STAR" generate --help >"$tmp/out" 2>&1; check "--help" 0 $?
contains "--help" "$tmp/out" "usage: star generate CKPT_DIR"

if [ "$fails" -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
