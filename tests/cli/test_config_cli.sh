#!/usr/bin/env bash
# Bad configs stop `star search` before it starts, with the file, line, column and key.
set -u
source "$(dirname "$0")/lib.sh"

printf 'run: {dir: %s/r}\nalgorithm:\n  populaton: 8\n' "$tmp" > $tmp/typo.yaml
out=$("$star" search $tmp/typo.yaml 2>&1); rc=$?
check "unknown key exits 1" "[ $rc -eq 1 ]"
check "unknown key named with file:line:col" "echo \"\$out\" | grep -q \"$tmp/typo.yaml:3:3: algorithm.populaton: unknown key\""
check "no run directory made" "[ ! -e $tmp/r ]"

printf 'run: {dir: %s/r}\nspace:\n  width: wide\n' "$tmp" > $tmp/type.yaml
out=$("$star" search $tmp/type.yaml 2>&1); rc=$?
check "wrong type exits 1 naming the key" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'type.yaml:3:10: space.width'"

out=$("$star" search configs/quickstart.yaml --set algorithm.population=1 2>&1); rc=$?
check "out-of-range override exits 1 naming it" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q -- '--set algorithm.population'"

out=$("$star" search $tmp/missing.yaml 2>&1); rc=$?
check "missing config names the file" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'missing.yaml: cannot open'"

printf 'run: {dir: ../escape}\n' > $tmp/escape.yaml
out=$("$star" search $tmp/escape.yaml 2>&1); rc=$?
check "a run.dir with .. is refused" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'run.dir'"

printf 'run: {dir: %s/r2}\nevaluation:\n  data: {text: %s/nothing.txt}\n' "$tmp" "$tmp" > $tmp/nodata.yaml
out=$("$star" search $tmp/nodata.yaml --set algorithm.seed_with=[] --quiet 2>&1); rc=$?
check "missing data file named before the run starts" "[ $rc -eq 1 ] && echo \"\$out\" | grep -q 'nothing.txt' && [ ! -e $tmp/r2 ]"

out=$("$star" search 2>&1); rc=$?
check "no argument is a usage error (2)" "[ $rc -eq 2 ]"

finish
