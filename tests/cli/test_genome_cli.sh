#!/usr/bin/env bash
# star genome: subcommands, exit codes (0 ok, 1 bad genome, 2 usage), error positions,
# --json keys, determinism of a seed. $1 is the star binary; run from the source root.
set -u
STAR="$1"
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() {  # check "what" expected_rc actual_rc
    if [ "$2" != "$3" ]; then echo "FAIL: $1: exit $3, expected $2"; fails=$((fails + 1)); fi
}
contains() {  # contains "what" file needle
    if ! grep -qF -- "$3" "$2"; then echo "FAIL: $1: '$3' not in output:"; cat "$2"; fails=$((fails + 1)); fi
}

"$STAR" genome check 11111-91111 >"$tmp/out" 2>&1; check "check ok" 0 $?
contains "check ok" "$tmp/out" "ok"

"$STAR" genome check 11111-x1111 >"$tmp/out" 2>&1; check "check bad syntax" 1 $?
contains "check bad syntax" "$tmp/out" "genome string position 7 (LIV 2, gene 'class'): expected a digit 1-9, got 'x'"

"$STAR" genome check 11111-91112 >"$tmp/out" 2>&1; check "check broken rule" 1 $?
contains "check broken rule" "$tmp/out" "LIV 2 (position 6-10) gene 'feature_group_strategy'"

"$STAR" genome check configs/baselines/transformer.yaml >"$tmp/out" 2>&1; check "check yaml" 0 $?
printf 'gene_table_version: 9\nstring: "11111"\n' >"$tmp/old.yaml"
"$STAR" genome check "$tmp/old.yaml" >"$tmp/out" 2>&1; check "check other table version" 1 $?
contains "check other table version" "$tmp/out" "old.yaml:1:21: gene_table_version: this genome was written with gene table version 9"

"$STAR" genome stats 11111-91111 --width 64 --vocab 256 --context 128 --json >"$tmp/out" 2>&1
check "stats json" 0 $?
for key in '"params":69824' '"cache_bytes":32768' '"flops_per_token":172032' '"train_flops_per_token":516096'; do
    contains "stats json" "$tmp/out" "$key"
done
"$STAR" genome stats 11111 --width 768 --vocab 256 --context 4096 --dtype fp32 >"$tmp/out" 2>&1
check "stats text" 0 $?
contains "stats text" "$tmp/out" "cache_bytes            25165824"   # 2 * 4096 * 768 * 4
"$STAR" genome stats 11111 --width 64 --vocab 256 >"$tmp/out" 2>&1; check "stats without context" 2 $?
"$STAR" genome stats 11111 --width 64 --vocab 256 --context 8 --dtype fp8 >"$tmp/out" 2>&1; check "stats bad dtype" 2 $?

"$STAR" genome random --seed 5 --count 20 --depth-min 3 --depth-max 4 --classes SA-1,GMemless >"$tmp/r1" 2>&1
check "random" 0 $?
"$STAR" genome random --seed 5 --count 20 --depth-min 3 --depth-max 4 --classes SA-1,GMemless >"$tmp/r2" 2>&1
cmp -s "$tmp/r1" "$tmp/r2" || { echo "FAIL: random is not deterministic for a seed"; fails=$((fails + 1)); }
[ "$(wc -l <"$tmp/r1")" = 20 ] || { echo "FAIL: random --count 20"; fails=$((fails + 1)); }
while read -r g; do
    n=$(echo "${g%%;*}" | tr '-' '\n' | wc -l)
    [ "$n" -ge 3 ] && [ "$n" -le 4 ] || { echo "FAIL: random depth $n: $g"; fails=$((fails + 1)); }
    case "$(echo "${g%%;*}" | tr '-' '\n' | cut -c1 | sort -u | tr -d '\n')" in
        1 | 9 | 19) ;;
        *) echo "FAIL: random class outside SA-1,GMemless: $g"; fails=$((fails + 1)) ;;
    esac
    "$STAR" genome check "$g" >/dev/null 2>&1 || { echo "FAIL: random genome invalid: $g"; fails=$((fails + 1)); }
done <"$tmp/r1"

"$STAR" genome mutate 11111-91111-11111 --seed 3 --rate 0.5 >"$tmp/m" 2>&1; check "mutate" 0 $?
"$STAR" genome check "$(cat "$tmp/m")" >/dev/null 2>&1; check "mutated genome valid" 0 $?
"$STAR" genome cross 11111-11111-11111 91111-91111-91111 --seed 2 --points 1 >"$tmp/c" 2>&1; check "cross" 0 $?
"$STAR" genome check "$(cat "$tmp/c")" >/dev/null 2>&1; check "child valid" 0 $?
"$STAR" genome mutate 11111 >"$tmp/out" 2>&1; check "mutate without seed" 2 $?

"$STAR" genome decode 11111-11211-91111 --width 128 >"$tmp/out" 2>&1; check "decode" 0 $?
contains "decode" "$tmp/out" "tie>1"
contains "decode" "$tmp/out" "2x64"
contains "decode" "$tmp/out" "SwiGLU"

for sub in random check decode mutate cross stats; do
    "$STAR" genome "$sub" --help >"$tmp/out" 2>&1; check "$sub --help" 0 $?
    contains "$sub --help" "$tmp/out" "usage: star genome $sub"
done
"$STAR" genome frobnicate >"$tmp/out" 2>&1; check "unknown subcommand" 2 $?
"$STAR" genome check 11111 --bogus >"$tmp/out" 2>&1; check "unknown option" 2 $?
"$STAR" genome check >"$tmp/out" 2>&1; check "missing genome" 2 $?

if [ "$fails" -ne 0 ]; then echo "$fails failed"; exit 1; fi
echo "all passed"
