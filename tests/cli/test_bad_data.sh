#!/usr/bin/env bash
# Bad data stops `star search` and `star train` with a clear error naming the file, a
# non-zero exit, and (for a search) no run directory: an empty file, a file shorter than
# one sequence, a .bin shard with the wrong magic, a truncated body or no header, a
# pattern matching nothing, a directory where a file is expected, and a config naming a
# missing data or seed genome file.
set -u
source "$(dirname "$0")/lib.sh"
small=(--set space.width=32 --set algorithm.population=2 --set algorithm.generations=1 --set algorithm.seed_with=[]
       --set evaluation.budget.steps=1 --set evaluation.budget.batch=1 --set evaluation.budget.seq_len=16
       --set evaluation.budget.warmup=0 --set space.vocab=256 --quiet)

# A .bin shard: magic, version 1 and a token count in a 256-int little-endian header,
# then `body` zero tokens.
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
shard() {  # path magic count body
  { printf "$(le32 "$2")$(le32 1)$(le32 "$3")"; head -c $((1024 - 12)) /dev/zero; head -c $((2 * $4)) /dev/zero; } > "$1"
}

# search_fails NAME DATA_YAML PATTERN: a search on that data exits 1, its message names
# PATTERN (the file) and no run directory is made.
search_fails() {
  local dir=$tmp/run-${1// /-}
  out=$("$star" search configs/quickstart.yaml --set run.dir=$dir --set "evaluation.data=$2" "${small[@]}" 2>&1)
  local rc=$?
  check "search, $1: exit 1" "[ $rc -eq 1 ]"
  check "search, $1: the error names the file" "echo \"\$out\" | grep -q -- '$3'"
  check "search, $1: no run directory made" "[ ! -e $dir ]"
}

: > $tmp/empty.txt
search_fails "empty text file" "{text: $tmp/empty.txt}" "$tmp/empty.txt.*empty"
printf 'short text' > $tmp/short.txt
search_fails "text shorter than one sequence" "{text: $tmp/short.txt}" "$tmp/short.txt"
search_fails "missing text file" "{text: $tmp/none.txt}" "$tmp/none.txt"

shard $tmp/magic.bin 20240521 4000 4000
search_fails "wrong magic" "{bin: $tmp/magic.bin}" "$tmp/magic.bin: wrong magic 20240521"
shard $tmp/trunc.bin 20240520 4000 3000
search_fails "truncated body" "{bin: $tmp/trunc.bin}" "$tmp/trunc.bin: truncated"
: > $tmp/empty.bin
search_fails "empty shard" "{bin: $tmp/empty.bin}" "$tmp/empty.bin: 0 bytes is shorter than the 1024-byte header"
shard $tmp/tiny.bin 20240520 10 10
search_fails "shard shorter than one sequence" "{bin: $tmp/tiny.bin}" "$tmp/tiny.bin: 10 tokens is too short"
search_fails "missing shard" "{bin: $tmp/none.bin}" "$tmp/none.bin: cannot open"
search_fails "pattern matching nothing" "{bin: $tmp/nothing_*.bin}" "$tmp/nothing_\*.bin: no file matches"

mkdir $tmp/adir
search_fails "text path is a directory" "{text: $tmp/adir}" "$tmp/adir: is a directory"
search_fails "shard path is a directory" "{bin: $tmp/adir}" "$tmp/adir: not a regular file"
out=$("$star" search $tmp/adir 2>&1); rc=$?
check "search, config path is a directory: exit 1 naming it" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q '$tmp/adir: is a directory'"

out=$("$star" search configs/quickstart.yaml --set run.dir=$tmp/run-seed "${small[@]}" \
      --set "algorithm.seed_with=[$tmp/gone.yaml]" 2>&1); rc=$?
check "search, missing seed genome: exit 1 naming it" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q '$tmp/gone.yaml'"
check "search, missing seed genome: no run directory made" "[ ! -e $tmp/run-seed ]"

# star train on the same files.
train_fails() {  # name flag path pattern
  out=$("$star" train 11111-91111 --width 32 --steps 1 "$2" "$3" 2>&1)
  local rc=$?
  check "train, $1: exit 1 naming the file" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q -- '$4'"
}
train_fails "empty text file" --data $tmp/empty.txt "$tmp/empty.txt"
train_fails "short text file" --data $tmp/short.txt "$tmp/short.txt"
train_fails "wrong magic" --bin $tmp/magic.bin "$tmp/magic.bin: wrong magic"
train_fails "truncated body" --bin $tmp/trunc.bin "$tmp/trunc.bin: truncated"
train_fails "missing shard" --bin $tmp/none.bin "$tmp/none.bin"

finish
